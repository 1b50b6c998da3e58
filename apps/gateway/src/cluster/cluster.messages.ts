import { Reading, SensorKind, SENSOR_KINDS } from '@park/telemetry';

/**
 * The gateways' own MQTT topic tree (contract §8, scale-out): on the
 * external broker, beside the devices' `park/...` tree and out of their
 * reach (a device may publish under its own `park/<park>/<building>/` only;
 * see docs/operations.md for the broker's ACL). `group` is MQTT_SHARE_GROUP:
 * gateways sharing a stream share one tree.
 */
export interface ClusterTopics {
  /** Retained: one member record per gateway (cleared by its will when it dies). */
  member(id: string): string;
  members: string;
  /** Retained: the lease of one park (claims, renewals, releases, in one broker order). */
  lease(park: string): string;
  leases: string;
  /** Readings of a park ingested by a gateway that does not derive it, for the one that does. */
  readings(park: string): string;
}

export function clusterTopics(group: string): ClusterTopics {
  const root = `gateway/${group}`;
  return {
    member: (id) => `${root}/members/${id}`,
    members: `${root}/members/+`,
    lease: (park) => `${root}/leases/${park}`,
    leases: `${root}/leases/+`,
    readings: (park) => `${root}/readings/${park}`,
  };
}

/** The last level of a topic (a member id or a park id). */
export function lastLevel(topic: string): string {
  return topic.slice(topic.lastIndexOf('/') + 1);
}

/** A gateway's member record: alive while it is refreshed. */
export interface MemberRecord {
  id: string;
  /** Where its API is (for operators: the live stream of a park is served by its owner). */
  http?: string;
  /** The parks it serves (its park models). */
  parks: string[];
  /** Its clock when it sent this. */
  sentAt: number;
}

/**
 * One message on a park's lease topic. `claim` takes the lease with the
 * next epoch; `renew` is the holder's heartbeat; `release` hands it back
 * (the holder stopped deriving before `untilMs`).
 */
export interface LeaseMessage {
  op: 'claim' | 'renew' | 'release';
  park: string;
  owner: string;
  epoch: number;
  /** The sender's clock when it sent this (its own lease confirmation uses it). */
  sentAt: number;
  untilMs?: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseJson(payload: Uint8Array): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(payload)) };
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function encodeMember(m: MemberRecord): string {
  return JSON.stringify({ v: 1, ...m });
}

/** A member record, or why not (an empty payload is a cleared record: the member left). */
export function parseMember(payload: Uint8Array): Parsed<MemberRecord | null> {
  if (payload.length === 0) return { ok: true, value: null };
  const j = parseJson(payload);
  if (!j.ok) return j;
  const o = j.value as Record<string, unknown>;
  if (!o || !isString(o.id) || !Array.isArray(o.parks) || !o.parks.every(isString) || !isNumber(o.sentAt)) return { ok: false, reason: 'not a member record' };
  return { ok: true, value: { id: o.id, http: isString(o.http) ? o.http : undefined, parks: o.parks as string[], sentAt: o.sentAt } };
}

export function encodeLease(m: LeaseMessage): string {
  return JSON.stringify({ v: 1, ...m });
}

export function parseLease(payload: Uint8Array): Parsed<LeaseMessage | null> {
  if (payload.length === 0) return { ok: true, value: null };
  const j = parseJson(payload);
  if (!j.ok) return j;
  const o = j.value as Record<string, unknown>;
  if (!o || !['claim', 'renew', 'release'].includes(o.op as string) || !isString(o.park) || !isString(o.owner) || !Number.isInteger(o.epoch) || (o.epoch as number) < 1 || !isNumber(o.sentAt)) {
    return { ok: false, reason: 'not a lease message' };
  }
  return { ok: true, value: { op: o.op as LeaseMessage['op'], park: o.park, owner: o.owner, epoch: o.epoch as number, sentAt: o.sentAt, untilMs: isNumber(o.untilMs) ? o.untilMs : undefined } };
}

const FIELDS = ['powerKw', 'energyKwh', 'co2Ppm', 'emissionKgco2e', 'count'] as const;

/** Readings of one park, compact: `[building, kind, sensor, tsMs, power, energy, co2, emission, count]` each (null: absent). */
export function encodeReadings(readings: readonly Reading[]): string {
  return JSON.stringify(readings.map((r) => [r.building, r.kind, r.sensor, r.tsMs, ...FIELDS.map((f) => r[f] ?? null)]));
}

export function parseReadings(park: string, payload: Uint8Array): Parsed<Reading[]> {
  const j = parseJson(payload);
  if (!j.ok) return j;
  if (!Array.isArray(j.value)) return { ok: false, reason: 'not an array of readings' };
  const out: Reading[] = [];
  for (const row of j.value) {
    if (!Array.isArray(row) || row.length !== 4 + FIELDS.length || !isString(row[0]) || !SENSOR_KINDS.includes(row[1]) || !isString(row[2]) || !isNumber(row[3])) {
      return { ok: false, reason: 'not a forwarded reading' };
    }
    const r: Reading = { park, building: row[0], kind: row[1] as SensorKind, sensor: row[2], tsMs: row[3] };
    FIELDS.forEach((f, i) => {
      const v = row[4 + i];
      if (isNumber(v)) r[f] = v;
    });
    out.push(r);
  }
  return { ok: true, value: out };
}
