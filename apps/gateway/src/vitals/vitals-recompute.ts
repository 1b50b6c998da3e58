import { Alarm, ComputedVitals, computeVitalsDetailed, readingsRangeFor, windowStartMs } from '@park/metrics';
import { ParkIndex } from '@park/telemetry';
import { InfluxQuery } from '../influx/influx.ports';
import { queryActiveAlarms, queryReadings } from './stored-readings';
import { vitalsLines } from '../influx/line-protocol';

/** Ranges are recomputed in chunks so memory stays bounded for long ranges. */
export const RECOMPUTE_CHUNK_MS = 6 * 3_600_000;

export interface RecomputeChunk {
  fromMs: number;
  toMs: number;
  windows: number;
  readings: number;
}

/** How {@link deriveRange} runs. */
export interface DeriveOptions {
  /** Chunk length (rounded up to whole windows); default {@link RECOMPUTE_CHUNK_MS}. */
  chunkMs?: number;
  /** The alarms active at the first window's start; default: those stored up to it. */
  activeAlarms?: Alarm[];
  /** After each chunk is written: what it derived. May be async (e.g. to let the event loop breathe). */
  onChunk?: (chunk: RecomputeChunk, derived: ComputedVitals) => void | Promise<void>;
}

/** What {@link deriveRange} derived. */
export interface DerivedRange {
  windows: number;
  readings: number;
  /** Alarm transitions the evaluator decided, in window order (not written). */
  alarms: Alarm[];
  /** Alarms active after the last window. */
  active: Alarm[];
}

/**
 * Derives the vital signs of the windows of `[fromMs, toMs)` from the raw
 * readings stored in InfluxDB, chunk by chunk, and hands each chunk's
 * `vitals` lines to `write` (which overwrites the stored points: same
 * measurement, tags and time). The alarm evaluator runs over the windows in
 * order; its transitions are returned, not written (alarms are facts of the
 * moment: the caller decides, see the late-windows deriver).
 */
export async function deriveRange(
  influx: InfluxQuery,
  park: ParkIndex,
  range: { fromMs: number; toMs: number },
  windowMs: number,
  write: (lines: string[]) => Promise<void> | void,
  opts: DeriveOptions = {},
): Promise<DerivedRange> {
  // Chunks start on window boundaries, so that no window straddles two
  // chunks (it would be derived, written and counted twice).
  const firstMs = windowStartMs(range.fromMs, windowMs);
  const chunkMs = Math.ceil((opts.chunkMs ?? RECOMPUTE_CHUNK_MS) / windowMs) * windowMs;
  // The alarm state the first window starts from. A transition is stamped
  // with the end of the window that decided it, so those stamped at the
  // first window's start count: query up to and including it.
  let active = opts.activeAlarms ?? (await queryActiveAlarms(influx, park, firstMs + 1));
  const alarms: Alarm[] = [];
  let windows = 0;
  let readingsUsed = 0;
  for (let chunkFrom = firstMs; chunkFrom < range.toMs; chunkFrom += chunkMs) {
    const chunk = { fromMs: chunkFrom, toMs: Math.min(range.toMs, chunkFrom + chunkMs) };
    const span = readingsRangeFor(park, chunk);
    const readings = await queryReadings(influx, park, span.fromMs, span.toMs);
    const res = computeVitalsDetailed(park, readings, chunk, { windowMs, activeAlarms: active });
    active = res.active;
    alarms.push(...res.alarms);
    readingsUsed += readings.length;
    await write(res.vitals.flatMap((v) => vitalsLines(v, windowMs)));
    windows += res.vitals.length;
    await opts.onChunk?.({ ...chunk, windows: res.vitals.length, readings: readings.length }, res);
  }
  return { windows, readings: readingsUsed, alarms, active };
}

/**
 * The recompute command's derivation: {@link deriveRange} over 6-hour
 * chunks, alarms not rewritten.
 */
export async function recomputeRange(
  influx: InfluxQuery,
  park: ParkIndex,
  range: { fromMs: number; toMs: number },
  windowMs: number,
  write: (lines: string[]) => Promise<void> | void,
  onChunk: (c: RecomputeChunk) => void = () => undefined,
): Promise<{ windows: number; readings: number }> {
  const res = await deriveRange(influx, park, range, windowMs, write, { onChunk });
  return { windows: res.windows, readings: res.readings };
}
