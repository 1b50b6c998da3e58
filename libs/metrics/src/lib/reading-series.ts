import { Reading } from '@park/telemetry';

/**
 * The values of one reading, as the derivation keeps them per sensor. The
 * sensor's identity is the series the sample sits in, so only the time and
 * the fields are stored (a copy: the caller's reading is never mutated).
 */
export type Sample = Pick<Reading, 'tsMs' | SampleField>;

export const SAMPLE_FIELDS = ['powerKw', 'energyKwh', 'co2Ppm', 'emissionKgco2e', 'count'] as const satisfies ReadonlyArray<keyof Reading>;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** One sensor's samples, sorted by `tsMs`, at most one per timestamp. */
export type Series = Sample[];

/** Copies the time and the given numeric fields (by default all) of a reading. */
export function sampleOf(r: Reading, fields: readonly SampleField[] = SAMPLE_FIELDS): Sample {
  const s: Sample = { tsMs: r.tsMs };
  for (const f of fields) {
    const v = r[f];
    if (v !== undefined) s[f] = v;
  }
  return s;
}

/** What inserting a sample did to a series. */
export type InsertOutcome = 'inserted' | 'merged' | 'duplicate';

/** Largest index whose sample is strictly before `tsMs`; -1 when none. */
export function lastIndexBefore(series: Series, tsMs: number): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series[mid].tsMs < tsMs) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Smallest index whose sample is at or after `tsMs`; `series.length` when none. */
export function firstIndexAtOrAfter(series: Series, tsMs: number): number {
  return lastIndexBefore(series, tsMs) + 1;
}

/**
 * Inserts a sample in time order. A sample with the timestamp of one already
 * there is the same point (contract §3: identity is measurement + tags + ts):
 * its fields are merged into the stored one, the later value winning per
 * field as InfluxDB does. Returns `duplicate` when that changed nothing.
 */
export function insertSample(series: Series, sample: Sample): InsertOutcome {
  const n = series.length;
  if (n === 0 || series[n - 1].tsMs < sample.tsMs) {
    series.push(sample);
    return 'inserted';
  }
  const i = firstIndexAtOrAfter(series, sample.tsMs);
  const there = series[i];
  if (there && there.tsMs === sample.tsMs) {
    let changed = false;
    for (const f of SAMPLE_FIELDS) {
      const v = sample[f];
      if (v !== undefined && there[f] !== v) {
        there[f] = v;
        changed = true;
      }
    }
    return changed ? 'merged' : 'duplicate';
  }
  series.splice(i, 0, sample);
  return 'inserted';
}

/**
 * The latest sample strictly before `beforeMs` that carries `field`, looking
 * no further back than `notBeforeMs` (older samples are stale for every use
 * that passes it, which keeps the scan short on long series).
 */
export function latestWith(series: Series, field: SampleField, beforeMs: number, notBeforeMs = -Infinity): Sample | undefined {
  for (let i = lastIndexBefore(series, beforeMs); i >= 0; i--) {
    const s = series[i];
    if (s.tsMs < notBeforeMs) return undefined;
    if (s[field] !== undefined) return s;
  }
  return undefined;
}

/** The latest sample of all (any field), or undefined for an empty series. */
export function latestOf(series: Series): Sample | undefined {
  return series[series.length - 1];
}

/**
 * Drops the samples before `keepFromMs` that no later computation needs: of
 * those, it keeps the latest one and the latest carrying each of `fields`
 * (the previous register value, the held power, the last count...). This is
 * what keeps the live engine's state bounded.
 */
export function trimSeries(series: Series, keepFromMs: number, fields: readonly SampleField[]): void {
  const cut = firstIndexAtOrAfter(series, keepFromMs);
  if (cut <= 1) return;
  const kept: Sample[] = [];
  const missing = new Set<SampleField>(fields);
  for (let i = cut - 1; i >= 0; i--) {
    const s = series[i];
    let useful = i === cut - 1;
    for (const f of missing) {
      if (s[f] !== undefined) {
        missing.delete(f);
        useful = true;
      }
    }
    if (useful) kept.push(s);
    if (missing.size === 0) break;
  }
  kept.reverse();
  series.splice(0, cut, ...kept);
}
