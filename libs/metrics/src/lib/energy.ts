import { SensorKind } from '@park/telemetry';
import { Sample } from './reading-series';
import { Window } from './vital-signs';
import { overlapMs, windowSpan } from './window';

const KW_MS_PER_KWH = 3_600_000;

/**
 * Increase of a cumulative register between two consecutive readings.
 * Contract §6: a decrease is a meter reset, and the new value counts as the
 * increase from 0.
 */
export function registerIncrease(prevValue: number, nextValue: number): number {
  return nextValue >= prevValue ? nextValue - prevValue : nextValue;
}

/**
 * Import energy, kWh, of a power that ramps linearly from `p0Kw` at `t0Ms` to
 * `p1Kw` at `t1Ms`, integrated over `[loMs, hiMs]` (inside `[t0Ms, t1Ms]`).
 * This is the trapezoidal rule of contract §6 applied to the part of the
 * interval inside a window, so the parts of an interval add up to its
 * trapezoid. Only positive power (import) counts: a meter's `energy_kwh` is an
 * import register, and a power-only meter stands in for one.
 */
export function importKwhOfRamp(t0Ms: number, p0Kw: number, t1Ms: number, p1Kw: number, loMs: number, hiMs: number): number {
  const slope = (p1Kw - p0Kw) / (t1Ms - t0Ms);
  const pLo = loMs === t0Ms ? p0Kw : p0Kw + slope * (loMs - t0Ms);
  const pHi = hiMs === t1Ms ? p1Kw : p0Kw + slope * (hiMs - t0Ms);
  let kwMs: number;
  if (pLo >= 0 && pHi >= 0) kwMs = ((pLo + pHi) / 2) * (hiMs - loMs);
  else if (pLo <= 0 && pHi <= 0) kwMs = 0;
  else {
    // The ramp crosses zero inside [lo, hi]: only the positive triangle counts.
    const zeroMs = loMs + ((hiMs - loMs) * pLo) / (pLo - pHi);
    kwMs = pLo > 0 ? (pLo / 2) * (zeroMs - loMs) : (pHi / 2) * (hiMs - zeroMs);
  }
  return kwMs / KW_MS_PER_KWH;
}

/**
 * The part of an increase between two readings that falls in `w`: the
 * increase is spread linearly over the time between the readings (contract §6).
 */
function spreadIncrease(increase: number, a: Sample, b: Sample, w: Window): number {
  const ms = overlapMs(a.tsMs, b.tsMs, w);
  if (ms === 0) return 0;
  const spanMs = b.tsMs - a.tsMs;
  return ms === spanMs ? increase : increase * (ms / spanMs);
}

/**
 * kWh of one meter in window `w` from the interval between two consecutive
 * readings `a` and `b` (contract §6, `energy_kwh` / `pv_kwh`):
 * - both carry `energyKwh`: the register increase, spread linearly (the
 *   register wins whenever it is on both ends, even if power is sent too);
 * - else both carry `powerKw`: the trapezoidal integral of import power;
 * - else (a register-only reading next to a power-only one): 0, since neither
 *   rule has both ends. Meters should send the same fields every time.
 */
export function energyShareKwh(a: Sample, b: Sample, w: Window): number {
  if (a.energyKwh !== undefined && b.energyKwh !== undefined) {
    return spreadIncrease(registerIncrease(a.energyKwh, b.energyKwh), a, b, w);
  }
  if (a.powerKw !== undefined && b.powerKw !== undefined) {
    const loMs = a.tsMs > w.startMs ? a.tsMs : w.startMs;
    const hiMs = b.tsMs < w.endMs ? b.tsMs : w.endMs;
    return hiMs > loMs ? importKwhOfRamp(a.tsMs, a.powerKw, b.tsMs, b.powerKw, loMs, hiMs) : 0;
  }
  return 0;
}

/**
 * kg CO2e in window `w` from two consecutive `emissionKgco2e` register
 * readings (contract §6, `carbon_kgco2e`: same spreading and reset rule).
 */
export function emissionShareKg(a: Sample, b: Sample, w: Window): number {
  if (a.emissionKgco2e === undefined || b.emissionKgco2e === undefined) return 0;
  return spreadIncrease(registerIncrease(a.emissionKgco2e, b.emissionKgco2e), a, b, w);
}

/**
 * How a sensor's cumulative quantity is derived from its readings: which
 * readings form the chain of consecutive intervals, and what each interval
 * puts in a window.
 */
export interface IntervalRule {
  inChain(s: Sample): boolean;
  share(a: Sample, b: Sample, w: Window): number;
}

/** Energy meters: every reading is in the chain (each has a register value or a power). */
export const ENERGY_INTERVALS: IntervalRule = { inChain: () => true, share: energyShareKwh };

/**
 * Carbon sensors: the chain is the readings that carry the emission register;
 * CO2-only readings in between neither break nor end an interval.
 */
export const EMISSION_INTERVALS: IntervalRule = {
  inChain: (s) => s.emissionKgco2e !== undefined,
  share: emissionShareKg,
};

/** The interval rule of a sensor kind; occupancy sensors have none. */
export function intervalRuleOf(kind: SensorKind): IntervalRule | undefined {
  return kind === 'energy' ? ENERGY_INTERVALS : kind === 'carbon' ? EMISSION_INTERVALS : undefined;
}

/**
 * Adds the shares of the interval `(a, b)` to the contiguous run of windows
 * `firstStartMs + k·windowMs`, `0 <= k < count`, that it overlaps; windows
 * outside the run are skipped. `add` is called in window order.
 */
export function spreadInterval(
  rule: IntervalRule,
  a: Sample,
  b: Sample,
  firstStartMs: number,
  windowMs: number,
  count: number,
  add: (k: number, share: number) => void,
): void {
  const [first, last] = windowSpan(a.tsMs, b.tsMs, firstStartMs, windowMs);
  const from = first > 0 ? first : 0;
  const to = last < count - 1 ? last : count - 1;
  for (let k = from; k <= to; k++) {
    const startMs = firstStartMs + k * windowMs;
    add(k, rule.share(a, b, { startMs, endMs: startMs + windowMs }));
  }
}

/** Spreads every interval of a series' chain, in time order (see {@link spreadInterval}). */
export function spreadSeries(
  rule: IntervalRule,
  series: readonly Sample[],
  firstStartMs: number,
  windowMs: number,
  count: number,
  add: (k: number, share: number) => void,
): void {
  let prev: Sample | undefined;
  for (const s of series) {
    if (!rule.inChain(s)) continue;
    if (prev) spreadInterval(rule, prev, s, firstStartMs, windowMs, count, add);
    prev = s;
  }
}
