import { computeVitalsDetailed, readingsRangeFor, windowStartMs } from '@park/metrics';
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

/**
 * Derives the vital signs of the windows of `[fromMs, toMs)` from the raw
 * readings stored in InfluxDB, chunk by chunk, and hands each chunk's
 * `vitals` lines to `write` (which overwrites the stored points: same
 * measurement, tags and time). Used by the recompute command and by the
 * gateway's catch-up of the windows it missed while it was down.
 */
export async function recomputeRange(
  influx: InfluxQuery,
  park: ParkIndex,
  range: { fromMs: number; toMs: number },
  windowMs: number,
  write: (lines: string[]) => Promise<void> | void,
  onChunk: (c: RecomputeChunk) => void = () => undefined,
): Promise<{ windows: number; readings: number }> {
  // Chunks start on window boundaries, so that no window straddles two
  // chunks (it would be derived, written and counted twice).
  const firstMs = windowStartMs(range.fromMs, windowMs);
  const chunkMs = Math.ceil(RECOMPUTE_CHUNK_MS / windowMs) * windowMs;
  // The alarm state the first window starts from. A transition is stamped
  // with the end of the window that decided it, so those stamped at the
  // first window's start count: query up to and including it.
  let active = await queryActiveAlarms(influx, park, firstMs + 1);
  let windows = 0;
  let readingsUsed = 0;
  for (let chunkFrom = firstMs; chunkFrom < range.toMs; chunkFrom += chunkMs) {
    const chunk = { fromMs: chunkFrom, toMs: Math.min(range.toMs, chunkFrom + chunkMs) };
    const span = readingsRangeFor(park, chunk);
    const readings = await queryReadings(influx, park, span.fromMs, span.toMs);
    const res = computeVitalsDetailed(park, readings, chunk, { windowMs, activeAlarms: active });
    active = res.active;
    readingsUsed += readings.length;
    await write(res.vitals.flatMap((v) => vitalsLines(v, windowMs)));
    windows += res.vitals.length;
    onChunk({ ...chunk, windows: res.vitals.length, readings: readings.length });
  }
  return { windows, readings: readingsUsed };
}
