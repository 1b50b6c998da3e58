import { SensorModel } from '@park/telemetry';
import { lastIndexBefore, latestWith, Series } from './reading-series';
import { Window } from './vital-signs';

/**
 * Contract §6: a sensor silent for more than 3 × `intervalS` is offline, and
 * an offline occupancy sensor counts 0.
 */
export const SILENCE_INTERVALS = 3;

/** How long a sensor may stay silent and still be online, ms. */
export function silenceLimitMs(sensor: SensorModel): number {
  return SILENCE_INTERVALS * sensor.intervalS * 1000;
}

/**
 * Whether a sensor is online at `atMs` (a window end): it has a reading at
 * most `limitMs` before, strictly before `atMs` (a reading at the window end
 * belongs to the next window).
 */
export function onlineAt(series: Series, atMs: number, limitMs: number): boolean {
  const i = lastIndexBefore(series, atMs);
  return i >= 0 && atMs - series[i].tsMs <= limitMs;
}

/** The latest `count` of an occupancy sensor before `atMs`, or 0 when silent for longer than `limitMs`. */
export function countAt(series: Series, atMs: number, limitMs: number): number {
  return latestWith(series, 'count', atMs, atMs - limitMs)?.count ?? 0;
}

/** Running CO2 statistics of a scope's `co2Ppm` readings in a window. */
export interface Co2Stats {
  sumPpm: number;
  n: number;
  maxPpm: number;
}

export function emptyCo2Stats(): Co2Stats {
  return { sumPpm: 0, n: 0, maxPpm: -Infinity };
}

/** Adds one sensor's `co2Ppm` readings in `w` (every reading counts once, contract §6). */
export function addCo2Readings(acc: Co2Stats, series: Series, w: Window): void {
  for (let i = lastIndexBefore(series, w.startMs) + 1; i < series.length; i++) {
    const s = series[i];
    if (s.tsMs >= w.endMs) break;
    if (s.co2Ppm === undefined) continue;
    acc.sumPpm += s.co2Ppm;
    acc.n += 1;
    if (s.co2Ppm > acc.maxPpm) acc.maxPpm = s.co2Ppm;
  }
}
