import { lastIndexBefore, latestWith, Sample, Series } from './reading-series';
import { Window } from './vital-signs';

/** A grid meter as the peak computation sees it. */
export interface PowerMeter {
  series: Series;
  /** Held power older than this (3 × intervalS) no longer counts. */
  limitMs: number;
}

/**
 * `peak_kw` (contract §6): the highest sum of the grid meters' latest
 * `power_kw` in the window, by sample and hold. The sum is taken at the window
 * start (each meter holding its last power from before the window) and at
 * every instant in the window at which a meter reads power, after all the
 * readings of that instant. A meter whose held power is older than its
 * silence limit counts 0 (it is offline; holding its last value for hours
 * would invent demand, and it keeps a recompute's look-back bounded).
 * 0 when no meter holds a value at any of those instants.
 */
export function peakKw(meters: readonly PowerMeter[], w: Window): number {
  const n = meters.length;
  const held: Array<Sample | undefined> = new Array(n);
  const instants: Array<{ tsMs: number; m: number; s: Sample }> = [];
  for (let m = 0; m < n; m++) {
    const { series, limitMs } = meters[m];
    held[m] = latestWith(series, 'powerKw', w.startMs, w.startMs - limitMs);
    for (let i = lastIndexBefore(series, w.startMs) + 1; i < series.length; i++) {
      const s = series[i];
      if (s.tsMs >= w.endMs) break;
      if (s.powerKw !== undefined) instants.push({ tsMs: s.tsMs, m, s });
    }
  }
  instants.sort((x, y) => x.tsMs - y.tsMs || x.m - y.m);

  let best = -Infinity;
  const sumAt = (tsMs: number): void => {
    let sum = 0;
    let any = false;
    for (let m = 0; m < n; m++) {
      const h = held[m];
      if (h && tsMs - h.tsMs <= meters[m].limitMs) {
        sum += h.powerKw as number;
        any = true;
      }
    }
    if (any && sum > best) best = sum;
  };
  sumAt(w.startMs);
  for (let i = 0; i < instants.length; ) {
    const tsMs = instants[i].tsMs;
    for (; i < instants.length && instants[i].tsMs === tsMs; i++) held[instants[i].m] = instants[i].s;
    sumAt(tsMs);
  }
  return best === -Infinity ? 0 : best;
}
