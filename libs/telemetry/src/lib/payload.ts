import { excerptOf } from './excerpt';
import { KIND_FIELDS, Reading, Rejection, RejectReason, SensorAddress } from './reading';

/** Contract §3: a payload is at most 64 KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Contract §3: an array carries at most 1000 readings. */
export const MAX_READINGS_PER_MESSAGE = 1000;

/** Bounds of contract §3 that are configurable. */
export interface PayloadLimits {
  /** Readings further than this in the future are `future_ts` (default 5 min). */
  maxFutureMs: number;
  /** Readings older than this are `stale_ts` (default 7 days). */
  maxAgeMs: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = {
  maxFutureMs: 5 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
};

/** What one MQTT message yielded: the good readings and the refused ones. */
export interface ParseResult {
  readings: Reading[];
  rejections: Rejection[];
}

// RFC 3339 date-time (section 5.6), e.g. 2026-11-27T08:00:00.123Z or +08:00.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

type FieldCheck = (v: number) => boolean;
const FIELD_RULES: Record<string, { check: FieldCheck; rule: string }> = {
  power_kw: { check: (v) => Math.abs(v) <= 1e6, rule: 'a finite number with abs <= 1e6' },
  energy_kwh: { check: (v) => v >= 0, rule: 'a finite number >= 0' },
  co2_ppm: { check: (v) => v >= 0 && v <= 50_000, rule: 'a finite number in 0..50000' },
  emission_kgco2e: { check: (v) => v >= 0, rule: 'a finite number >= 0' },
  count: { check: (v) => Number.isInteger(v) && v >= 0 && v <= 100_000, rule: 'an integer in 0..100000' },
};

// The contract's payloads are UTF-8 (§3). `fatal`: a payload that is not
// UTF-8 is refused as bad_json instead of being read with U+FFFD in it.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes of `s` in UTF-8, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * Parses a timestamp per contract §3: epoch ms (number) or RFC 3339 string.
 * Returns NaN for anything else.
 */
export function parseTimestamp(ts: unknown): number {
  if (typeof ts === 'number') return Number.isFinite(ts) && ts >= 0 ? Math.round(ts) : NaN;
  if (typeof ts === 'string') {
    const m = RFC3339.exec(ts);
    if (!m) return NaN;
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
    // RFC 3339 §5.7: the day must exist in its month (Date.parse rolls
    // 2026-02-30 over to 2 March instead of refusing it).
    const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 60) return NaN;
    const ms = Date.parse(ts.replace(' ', 'T'));
    return Number.isFinite(ms) ? ms : NaN;
  }
  return NaN;
}

/**
 * Judges one reading object alone (contract §3). Returns the reading or the
 * reason it is refused; never throws.
 */
export function validateReading(
  raw: unknown,
  address: SensorAddress,
  nowMs: number,
  limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS,
): { ok: true; reading: Reading } | { ok: false; reason: RejectReason; detail: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, reason: 'bad_json', detail: 'a reading must be a JSON object' };
  }
  const obj = raw as Record<string, unknown>;
  const reading: Reading = { ...address, tsMs: nowMs };
  let fields = 0;
  for (const { json, prop } of KIND_FIELDS[address.kind]) {
    // Own keys only: `__proto__` or `constructor` in a payload is a key like any other.
    if (!Object.prototype.hasOwnProperty.call(obj, json)) continue;
    const v = obj[json];
    const rule = FIELD_RULES[json];
    if (typeof v !== 'number' || !Number.isFinite(v) || !rule.check(v)) {
      return { ok: false, reason: 'bad_field', detail: `${json} must be ${rule.rule}, got ${excerptOf(v).slice(0, 40)}` };
    }
    (reading as unknown as Record<string, number>)[prop] = v;
    fields++;
  }
  if (fields === 0) {
    const names = KIND_FIELDS[address.kind].map((f) => f.json).join(' or ');
    return { ok: false, reason: 'no_fields', detail: `an ${address.kind} reading needs ${names}` };
  }
  if (Object.prototype.hasOwnProperty.call(obj, 'ts') && obj.ts !== undefined) {
    const tsMs = parseTimestamp(obj.ts);
    if (Number.isNaN(tsMs)) {
      return { ok: false, reason: 'bad_field', detail: `ts must be epoch milliseconds or an RFC 3339 string, got ${excerptOf(obj.ts).slice(0, 40)}` };
    }
    reading.tsMs = tsMs;
  }
  if (reading.tsMs > nowMs + limits.maxFutureMs) {
    return { ok: false, reason: 'future_ts', detail: `ts ${isoOrNumber(reading.tsMs)} is more than ${limits.maxFutureMs / 1000} s ahead of the gateway clock` };
  }
  if (reading.tsMs < nowMs - limits.maxAgeMs) {
    return { ok: false, reason: 'stale_ts', detail: `ts ${isoOrNumber(reading.tsMs)} is older than ${limits.maxAgeMs / 3_600_000} h` };
  }
  return { ok: true, reading };
}

/** An epoch-ms time as ISO 8601, or as the number when Date cannot show it (beyond ±8.64e15 ms: toISOString throws). */
function isoOrNumber(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/**
 * Parses one MQTT payload (contract §3) for a sensor whose topic has already
 * been parsed. Each reading of an array is judged alone. Never throws.
 */
export function parsePayload(
  payload: Uint8Array | string,
  address: SensorAddress,
  topic: string,
  nowMs: number,
  limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS,
): ParseResult {
  const bytes = typeof payload === 'string' ? utf8Length(payload) : payload.length;
  const reject = (reason: RejectReason, detail: string, excerpt: unknown): ParseResult => ({
    readings: [],
    rejections: [{ reason, detail, topic, excerpt: excerptOf(excerpt) }],
  });
  if (bytes > MAX_PAYLOAD_BYTES) {
    return reject('too_large', `payload is ${bytes} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, payload);
  }
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : UTF8.decode(payload);
  } catch {
    return reject('bad_json', 'payload is not JSON: it is not valid UTF-8 (contract §3)', payload);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text around the error: kept short.
    return reject('bad_json', `payload is not JSON: ${excerptOf((e as Error).message, 160)}`, payload);
  }
  const items = Array.isArray(doc) ? doc : [doc];
  // An empty array carries no reading; refused so that every message is
  // counted somewhere (accepted or rejected), never silently dropped.
  if (items.length === 0) return reject('no_fields', 'an empty array carries no reading', payload);
  if (items.length > MAX_READINGS_PER_MESSAGE) {
    return reject('too_large', `array of ${items.length} readings; the limit is ${MAX_READINGS_PER_MESSAGE}`, payload);
  }
  const result: ParseResult = { readings: [], rejections: [] };
  for (const item of items) {
    const r = validateReading(item, address, nowMs, limits);
    if (r.ok) result.readings.push(r.reading);
    else result.rejections.push({ reason: r.reason, detail: r.detail, topic, excerpt: excerptOf(item) });
  }
  return result;
}
