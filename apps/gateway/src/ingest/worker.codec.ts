import { KIND_FIELDS, Reading, Rejection, SENSOR_KINDS, SensorKind } from '@park/telemetry';
import { ProcessedMessage } from './message.processor';

/**
 * How batches cross between the main thread and the ingest workers. A
 * structured clone of one object per message, and per reading, cost the main
 * thread more than the work the workers took off it; so batches travel as a
 * few flat arrays: payloads in one transferred buffer, readings as numbers,
 * all lines of a batch in one string. Rejections and unregistered sensors,
 * rare, stay objects.
 */

/** Messages handed to a worker. */
export interface WorkerBatch {
  id: number;
  topics: string[];
  /** Every payload, one after the other (transferred, not copied). */
  payloads: Uint8Array;
  /** End offset of each payload in `payloads`. */
  ends: Int32Array;
  nowMs: Float64Array;
}

/** What a worker found, per message in order. */
export interface WorkerResult {
  id: number;
  /** The lines of every message, in order, joined by `\n`. */
  lines: string;
  /** Per message: lines, readings, readings received, kind index (or -1). */
  counts: Int32Array;
  /** Per reading: ts, then the numeric fields in {@link FIELD_ORDER}; NaN where absent. */
  values: Float64Array;
  /** Per message with readings: [park, building, sensor] (the kind is in `counts`). */
  addresses: string[];
  rejections: Array<{ message: number; rejection: Rejection }>;
  unregistered: number[];
}

const FIELD_ORDER = ['powerKw', 'energyKwh', 'co2Ppm', 'emissionKgco2e', 'count'] as const;
/** Where each field of a kind sits in a reading's numbers. */
const SLOTS = Object.fromEntries(SENSOR_KINDS.map((k) => [k, KIND_FIELDS[k].map(({ prop }) => [prop, 1 + FIELD_ORDER.indexOf(prop as (typeof FIELD_ORDER)[number])] as const)])) as unknown as Record<SensorKind, ReadonlyArray<readonly [keyof Reading, number]>>;
const STRIDE = 1 + FIELD_ORDER.length;
const PER_MESSAGE = 4;

/** Packs messages for a worker (main thread). */
export function encodeBatch(id: number, topics: string[], payloads: Uint8Array[], nowMs: number[]): { batch: WorkerBatch; transfer: ArrayBuffer[] } {
  let bytes = 0;
  for (const p of payloads) bytes += p.length;
  const all = new Uint8Array(bytes);
  const ends = new Int32Array(payloads.length);
  let at = 0;
  for (let i = 0; i < payloads.length; i++) {
    all.set(payloads[i], at);
    at += payloads[i].length;
    ends[i] = at;
  }
  return { batch: { id, topics, payloads: all, ends, nowMs: Float64Array.from(nowMs) }, transfer: [all.buffer] };
}

/** The payload of message `i` (worker). */
export function payloadOf(b: WorkerBatch, i: number): Uint8Array {
  return b.payloads.subarray(i === 0 ? 0 : b.ends[i - 1], b.ends[i]);
}

/** Packs a worker's results (worker). */
export function encodeResults(id: number, results: ProcessedMessage[]): { result: WorkerResult; transfer: ArrayBuffer[] } {
  let readings = 0;
  for (const r of results) readings += r.readings.length;
  const counts = new Int32Array(results.length * PER_MESSAGE);
  const values = new Float64Array(readings * STRIDE);
  const addresses: string[] = [];
  const rejections: WorkerResult['rejections'] = [];
  const unregistered: number[] = [];
  const lines: string[] = [];
  let v = 0;
  results.forEach((r, m) => {
    counts[m * PER_MESSAGE] = r.lineCount;
    counts[m * PER_MESSAGE + 1] = r.readings.length;
    counts[m * PER_MESSAGE + 2] = r.received;
    counts[m * PER_MESSAGE + 3] = r.readings.length > 0 ? SENSOR_KINDS.indexOf(r.readings[0].kind) : -1;
    if (r.lineCount > 0) lines.push(r.lines);
    if (r.readings.length > 0) addresses.push(r.readings[0].park, r.readings[0].building, r.readings[0].sensor);
    for (const reading of r.readings) {
      values[v++] = reading.tsMs;
      for (const f of FIELD_ORDER) values[v++] = reading[f] ?? NaN;
    }
    for (const rejection of r.rejections) rejections.push({ message: m, rejection });
    if (r.unregistered) unregistered.push(m);
  });
  return { result: { id, lines: lines.join('\n'), counts, values, addresses, rejections, unregistered }, transfer: [counts.buffer, values.buffer] };
}

/** Unpacks a worker's results into ProcessedMessage objects (main thread). */
export function decodeResults(r: WorkerResult): ProcessedMessage[] {
  const n = r.counts.length / PER_MESSAGE;
  const out = new Array<ProcessedMessage>(n);
  let lineAt = 0;
  let v = 0;
  let a = 0;
  let rej = 0;
  let unr = 0;
  for (let m = 0; m < n; m++) {
    const lineCount = r.counts[m * PER_MESSAGE];
    const readingCount = r.counts[m * PER_MESSAGE + 1];
    let lines = '';
    if (lineCount > 0) {
      let end = lineAt;
      for (let k = 0; k < lineCount; k++) {
        end = r.lines.indexOf('\n', end);
        if (end < 0) end = r.lines.length;
        if (k < lineCount - 1) end++;
      }
      lines = r.lines.slice(lineAt, end);
      lineAt = end + 1;
    }
    const readings: Reading[] = [];
    let address: [string, string, string] | undefined;
    if (readingCount > 0) {
      address = [r.addresses[a], r.addresses[a + 1], r.addresses[a + 2]];
      a += 3;
      const kind = SENSOR_KINDS[r.counts[m * PER_MESSAGE + 3]] as SensorKind;
      for (let k = 0; k < readingCount; k++) readings.push(readingAt(r.values, v + k * STRIDE, address, kind));
      v += readingCount * STRIDE;
    }
    const rejections: Rejection[] = [];
    while (rej < r.rejections.length && r.rejections[rej].message === m) rejections.push(r.rejections[rej++].rejection);
    const msg: ProcessedMessage = { lines, lineCount, readings, rejections, received: r.counts[m * PER_MESSAGE + 2] };
    if (unr < r.unregistered.length && r.unregistered[unr] === m) {
      unr++;
      const kind = SENSOR_KINDS[r.counts[m * PER_MESSAGE + 3]] as SensorKind;
      if (address) msg.unregistered = { park: address[0], building: address[1], kind, sensor: address[2] };
    }
    out[m] = msg;
  }
  return out;
}

function readingAt(values: Float64Array, at: number, address: [string, string, string], kind: SensorKind): Reading {
  const r: Reading = { park: address[0], building: address[1], kind, sensor: address[2], tsMs: values[at] };
  for (const [prop, slot] of SLOTS[kind]) {
    const x = values[at + slot];
    if (!Number.isNaN(x)) (r as unknown as Record<string, number>)[prop] = x;
  }
  return r;
}
