/**
 * InfluxDB line protocol for everything the gateway writes (contract §5):
 * readings, `vitals` and `alarms`, in one place. The output is byte for byte
 * what the client library's `Point.toLineProtocol()` gives (tags and fields
 * sorted by key, the same escaping, floats as JavaScript prints them,
 * integers with `i`), checked by the spec against `Point` itself; written by
 * hand because it runs once per reading on the hot path.
 *
 * Nothing non-finite is ever written: a NaN or ±Infinity field is left out
 * (InfluxDB would refuse the whole line), and a point left without fields is
 * no line at all.
 */
import { KIND_FIELDS, Reading, SensorModel } from '@park/telemetry';
import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';

/** Contract §5: every point is written with millisecond precision. */
export const WRITE_PRECISION = 'ms' as const;

/** `,` and space; newlines and tabs as `\n`, `\r`, `\t` (InfluxDB line protocol reference). */
export function escapeMeasurement(s: string): string {
  return /[, \n\r\t]/.test(s) ? s.replace(/[, \n\r\t]/g, escapeChar) : s;
}

/** Tag keys, tag values and field keys: `,`, `=` and space; newlines and tabs. */
export function escapeTag(s: string): string {
  return /[, =\n\r\t]/.test(s) ? s.replace(/[, =\n\r\t]/g, escapeChar) : s;
}

/** A string field value: double-quoted, with `"` and `\` escaped. */
export function quoteString(s: string): string {
  return `"${/["\\]/.test(s) ? s.replace(/["\\]/g, (c) => `\\${c}`) : s}"`;
}

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\${c}`;
}

/** A field value: a float, an integer (`{ int: n }`), a string or a boolean. */
export type FieldValue = number | string | boolean | { int: number };

/**
 * One point as a line: tags with empty or absent values are left out, tags
 * and fields are sorted by key. Undefined when no field can be written.
 */
export function encodeLine(measurement: string, tags: Record<string, string | undefined>, fields: Record<string, FieldValue | undefined>, tsMs: number): string | undefined {
  let f = '';
  for (const key of Object.keys(fields).sort()) {
    const text = fieldText(fields[key]);
    if (text === undefined || key === '') continue;
    f += `${f ? ',' : ''}${escapeTag(key)}=${text}`;
  }
  if (!f) return undefined;
  let t = '';
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    if (value) t += `,${escapeTag(key)}=${escapeTag(value)}`;
  }
  return `${escapeMeasurement(measurement)}${t} ${f} ${Math.floor(tsMs)}`;
}

function fieldText(v: FieldValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return Number.isFinite(v.int) ? `${Math.floor(v.int)}i` : undefined;
}

/** The contract's integer fields (written with `i`); every other numeric field is a float. */
const INT_FIELDS = new Set(['count']);

/** Each kind's fields in line order (sorted by their contract name). */
const SORTED_FIELDS = Object.fromEntries(
  Object.entries(KIND_FIELDS).map(([kind, fields]) => [kind, [...fields].sort((a, b) => (a.json < b.json ? -1 : 1))]),
) as unknown as typeof KIND_FIELDS;

/**
 * A reading's point (contract §5). Tags come from the topic and the park
 * model, never from the payload, so the same reading delivered twice has the
 * same identity (measurement + tags + ts) and ends as one point. `sensor` is
 * the model's entry, absent for unregistered sensors (energy: source grid).
 * The tags of a reading are ids (`[a-z0-9_-]`, contract §2) and need no
 * escaping; the model's free-text `zone` is escaped.
 */
export function readingLine(r: Reading, sensor?: SensorModel): string | undefined {
  let fields = '';
  for (const { json, prop } of SORTED_FIELDS[r.kind]) {
    const v = r[prop] as number | undefined;
    if (v === undefined || !Number.isFinite(v)) continue;
    fields += `${fields ? ',' : ''}${json}=${INT_FIELDS.has(json) ? `${Math.floor(v)}i` : String(v)}`;
  }
  if (!fields) return undefined;
  let tags = `,building=${r.building},park=${r.park},sensor=${r.sensor}`;
  if (r.kind === 'energy') tags += `,source=${sensor?.source ?? 'grid'}`;
  else if (r.kind === 'occupancy' && sensor?.zone) tags += `,zone=${escapeTag(sensor.zone)}`;
  return `${r.kind}${tags} ${fields} ${Math.floor(r.tsMs)}`;
}

/** The `window` tag of contract §5: `1m` for the contract's one-minute windows. */
export function windowLabel(windowMs: number): string {
  if (windowMs % 60_000 === 0) return `${windowMs / 60_000}m`;
  return `${windowMs / 1000}s`;
}

function vitalsLine(parkId: string, scope: 'park' | 'building', building: string | undefined, v: VitalSigns, startMs: number, window: string): string | undefined {
  // Every numeric vital is a float field, always, so that InfluxDB never sees
  // one field with two types (occupancy is a sum of counts, but a float keeps
  // the schema uniform across windows).
  return encodeLine('vitals', { park: parkId, scope, building, window }, v as unknown as Record<string, number | string | undefined>, startMs);
}

/**
 * The `vitals` points of one window (contract §5): one per building and one
 * for the park, at the window start, tagged with the scope. Writing the same
 * window again overwrites it (same measurement, tags and time).
 */
export function vitalsLines(v: ParkVitals, windowMs: number): string[] {
  const window = windowLabel(windowMs);
  const out: string[] = [];
  const park = vitalsLine(v.parkId, 'park', undefined, v.park, v.window.startMs, window);
  if (park) out.push(park);
  for (const [id, b] of Object.entries(v.buildings)) {
    const line = vitalsLine(v.parkId, 'building', id, b, v.window.startMs, window);
    if (line) out.push(line);
  }
  return out;
}

/** The `alarms` point of one transition (contract §5). */
export function alarmLine(a: Alarm): string | undefined {
  return encodeLine(
    'alarms',
    { park: a.parkId, building: a.building, rule: a.rule, severity: a.severity },
    // `late` only on transitions found by re-deriving windows (contract §8).
    { value: a.value, threshold: a.threshold, state: a.state, message: a.message, late: a.late ? true : undefined },
    a.tsMs,
  );
}
