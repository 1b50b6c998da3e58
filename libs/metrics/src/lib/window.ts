import { Window } from './vital-signs';

/** Contract §6: vital signs are computed over tumbling one-minute windows. */
export const DEFAULT_WINDOW_MS = 60_000;

const MS_PER_HOUR = 3_600_000;

/** A span of event time, epoch ms, `[fromMs, toMs)`. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** Start of the tumbling window that contains `tsMs` (windows are aligned to the epoch). */
export function windowStartMs(tsMs: number, windowMs = DEFAULT_WINDOW_MS): number {
  return Math.floor(tsMs / windowMs) * windowMs;
}

/**
 * Every window that starts in `[windowStart(fromMs), toMs)`: the window holding
 * `fromMs` is included even when `fromMs` is not aligned, `toMs` is exclusive.
 */
export function windowsInRange(range: TimeRange, windowMs = DEFAULT_WINDOW_MS): Window[] {
  const out: Window[] = [];
  for (let s = windowStartMs(range.fromMs, windowMs); s < range.toMs; s += windowMs) {
    out.push({ startMs: s, endMs: s + windowMs });
  }
  return out;
}

/** Length of the window, hours (load_kw = energy_kwh / window hours, contract §6). */
export function windowHours(w: Window): number {
  return (w.endMs - w.startMs) / MS_PER_HOUR;
}

/**
 * Milliseconds the open interval `(aMs, bMs)` between two consecutive readings
 * shares with `w`. An interval ending exactly at a window start does not reach
 * into that window.
 */
export function overlapMs(aMs: number, bMs: number, w: Window): number {
  const lo = aMs > w.startMs ? aMs : w.startMs;
  const hi = bMs < w.endMs ? bMs : w.endMs;
  return hi > lo ? hi - lo : 0;
}

/**
 * Indexes (relative to the window starting at `firstStartMs`) of the first and
 * last windows the interval `(aMs, bMs)` overlaps. The caller clamps them.
 */
export function windowSpan(aMs: number, bMs: number, firstStartMs: number, windowMs: number): [number, number] {
  const first = (windowStartMs(aMs, windowMs) - firstStartMs) / windowMs;
  const last = (Math.ceil(bMs / windowMs) * windowMs - windowMs - firstStartMs) / windowMs;
  return [first, last];
}
