import { ParkIndex, Reading } from '@park/telemetry';
import { activeAlarmsOf, alarmStateOf, applyStatus, evaluateAlarms, NO_ALARMS } from './alarm-rules';
import { ImplausibleStep, spreadSeries } from './energy';
import { silenceLimitMs } from './occupancy';
import { parkLayout, slotOf } from './park-layout';
import { Sample, sampleOf, SAMPLE_FIELDS, Series } from './reading-series';
import { assembleVitals, offlineAlarmRatio, windowSnapshotter } from './scope-vitals';
import { Alarm, ParkVitals } from './vital-signs';
import { DEFAULT_WINDOW_MS, TimeRange, windowsInRange } from './window';

export interface ComputeVitalsOptions {
  /** Window length, ms (contract §6: one minute). */
  windowMs?: number;
  /** Alarms active at the start of the range (e.g. from the `alarms` measurement); default none. */
  activeAlarms?: Iterable<Alarm>;
}

/** The windows of a range with the alarm transitions they decide. */
export interface ComputedVitals {
  vitals: ParkVitals[];
  /** Alarm transitions, in window order. */
  alarms: Alarm[];
  /** Alarms still active after the last window. */
  active: Alarm[];
  /**
   * Register steps that count 0 because they are implausible (contract §8),
   * of the intervals that reach into the range, in sensor then time order.
   */
  implausible: Array<{ building: string; sensor: string; step: ImplausibleStep }>;
}

/**
 * Sorts one sensor's samples by time (stable) and merges samples with the
 * same timestamp field by field, the later one winning: the same rule as the
 * live engine's `ingest`, and what InfluxDB keeps for one point.
 */
function toSeries(samples: Sample[]): Series {
  samples.sort((a, b) => a.tsMs - b.tsMs);
  const out: Series = [];
  for (const s of samples) {
    const last = out[out.length - 1];
    if (last && last.tsMs === s.tsMs) {
      for (const f of SAMPLE_FIELDS) if (s[f] !== undefined) last[f] = s[f];
    } else out.push(s);
  }
  return out;
}

/**
 * Batch derivation of the vital signs of every window in `range` (see
 * {@link windowsInRange}) from stored readings, for the recompute command.
 *
 * `readings` may come in any order and hold duplicates; readings of sensors
 * the model does not list are ignored. Readings outside the range are
 * context: the register value before the range, the held power and counts,
 * the register value after it (the interval that straddles the range end is
 * spread too). Query them with {@link readingsRangeFor}.
 *
 * The alarm evaluator runs over the windows in order, from `activeAlarms`.
 * For data the live engine received in order, the result equals what it
 * published (its revisions included), value for value.
 */
export function computeVitalsDetailed(
  index: ParkIndex,
  readings: Iterable<Reading>,
  range: TimeRange,
  opts: ComputeVitalsOptions = {},
): ComputedVitals {
  const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
  const layout = parkLayout(index);
  const samples: Sample[][] = layout.sensors.map(() => []);
  for (const r of readings) {
    const slot = slotOf(layout, r);
    if (slot) samples[slot.index].push(sampleOf(r, slot.fields));
  }
  const series = samples.map(toSeries);
  const windows = windowsInRange(range, windowMs);
  if (windows.length === 0) return { vitals: [], alarms: [], active: activeAlarmsOf(alarmStateOf(opts.activeAlarms ?? [])), implausible: [] };

  const shares = windows.map(() => new Float64Array(layout.sensors.length));
  const implausible: ComputedVitals['implausible'] = [];
  const fromMs = windows[0].startMs;
  const toMs = windows[windows.length - 1].endMs;
  for (const slot of layout.sensors) {
    const rule = slot.rule;
    if (!rule) continue;
    spreadSeries(rule, series[slot.index], fromMs, windowMs, windows.length, (k, v) => {
      shares[k][slot.index] += v;
    });
    let prev: Sample | undefined;
    for (const s of series[slot.index]) {
      if (!rule.inChain(s)) continue;
      const step = prev && s.tsMs > fromMs && prev.tsMs < toMs ? rule.implausible(prev, s) : undefined;
      if (step) implausible.push({ building: slot.building, sensor: slot.model.id, step });
      prev = s;
    }
  }

  // When the park's data began, as far as these readings tell (the
  // recompute's context reaches an hour back): as the live engine judges it.
  let firstDataMs = Infinity;
  for (const s of series) if (s.length > 0 && s[0].tsMs < firstDataMs) firstDataMs = s[0].tsMs;
  const snapshot = windowSnapshotter(layout, series, () => firstDataMs);
  let state = opts.activeAlarms ? alarmStateOf(opts.activeAlarms) : NO_ALARMS;
  const alarms: Alarm[] = [];
  const vitals = windows.map((w, k) => {
    const snap = snapshot(w);
    const v = assembleVitals(layout, w, shares[k], snap);
    const step = evaluateAlarms(index, state, v, { offlineRatio: offlineAlarmRatio(layout, snap) });
    state = step.state;
    alarms.push(...step.transitions);
    return applyStatus(v, state);
  });
  return { vitals, alarms, active: activeAlarmsOf(state), implausible };
}

/** {@link computeVitalsDetailed}, the vital signs only. */
export function computeVitals(
  index: ParkIndex,
  readings: Iterable<Reading>,
  range: TimeRange,
  opts: ComputeVitalsOptions = {},
): ParkVitals[] {
  return computeVitalsDetailed(index, readings, range, opts).vitals;
}

/**
 * The span of readings a recompute of `range` needs: before it, the longer of
 * `maxGapMs` (how far back a previous register reading is looked for) and
 * the longest silence limit (held power, counts, online); after it,
 * `maxGapMs` (the register reading that closes the last interval). An
 * interval longer than `maxGapMs` that straddles a range edge is not
 * spread into the range. Default `maxGapMs`: one hour, the live engine's
 * default revision horizon.
 */
export function readingsRangeFor(index: ParkIndex, range: TimeRange, maxGapMs = 3_600_000): TimeRange {
  let silenceMs = 0;
  for (const b of index.model.buildings) for (const s of b.sensors) silenceMs = Math.max(silenceMs, silenceLimitMs(s));
  return { fromMs: range.fromMs - Math.max(maxGapMs, silenceMs), toMs: range.toMs + maxGapMs };
}
