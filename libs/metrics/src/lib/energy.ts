import { BuildingModel, DEFAULT_MAX_KG_PER_H, SensorModel } from '@park/telemetry';
import { Sample } from './reading-series';
import { Window } from './vital-signs';
import { overlapMs, windowSpan } from './window';

const KW_MS_PER_KWH = 3_600_000;
const MS_PER_HOUR = 3_600_000;

/**
 * Contract §8: an energy register may rise at most as fast as this many
 * times its building's `contractedKw` (average kW between two readings).
 */
export const PLAUSIBLE_CONTRACT_MULTIPLE = 2;

/**
 * Increase of a cumulative register between two consecutive readings.
 * Contract §6: a decrease is a meter reset, and the new value counts as the
 * increase from 0.
 */
export function registerIncrease(prevValue: number, nextValue: number): number {
  return nextValue >= prevValue ? nextValue - prevValue : nextValue;
}

/** One step of a cumulative register between two consecutive readings, judged (contract §8). */
export interface RegisterStep {
  /** What counts: the increase ({@link registerIncrease}), or 0 when implausible. */
  increase: number;
  /** The increase as the readings say it, plausible or not. */
  rawIncrease: number;
  plausible: boolean;
}

/**
 * Contract §6 and §8, the one rule live and recompute share: the increase of
 * a register from `prevValue` at `prevTsMs` to `nextValue` at `nextTsMs`
 * (a decrease is a reset: the new value counted from 0) counts only if it
 * implies at most `maxPerHour` (kWh or kg per hour) on average over the time
 * between the two readings. An implausible step (a glitch, a register
 * swapped or read wrong, a device that restarted from another starting point)
 * counts 0, and the register continues from the new value: the next step is
 * measured from it. `maxPerHour` may be Infinity (no bound).
 */
export function registerStep(prevValue: number, prevTsMs: number, nextValue: number, nextTsMs: number, maxPerHour: number): RegisterStep {
  const rawIncrease = registerIncrease(prevValue, nextValue);
  // Written so that NaN or an overflow to Infinity can only fail the test.
  const plausible = rawIncrease <= maxPerHour * ((nextTsMs - prevTsMs) / MS_PER_HOUR);
  return { increase: plausible ? rawIncrease : 0, rawIncrease, plausible };
}

/** The bound of an energy meter's register: 2 × its building's `contractedKw`, kWh per hour (contract §8). */
export function energyRegisterLimitKwhPerH(building: BuildingModel): number {
  return PLAUSIBLE_CONTRACT_MULTIPLE * building.contractedKw;
}

/** The bound of a carbon sensor's emission register: its `maxKgPerH`, default 10 000 kg per hour (contract §8). */
export function emissionRegisterLimitKgPerH(sensor: SensorModel): number {
  return sensor.maxKgPerH ?? DEFAULT_MAX_KG_PER_H;
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
 *   register wins whenever it is on both ends, even if power is sent too),
 *   0 when it implies more than `maxKwhPerH` (contract §8, {@link registerStep});
 * - else both carry `powerKw`: the trapezoidal integral of import power;
 * - else (a register-only reading next to a power-only one): 0, since neither
 *   rule has both ends. Meters should send the same fields every time.
 */
export function energyShareKwh(a: Sample, b: Sample, w: Window, maxKwhPerH = Infinity): number {
  if (a.energyKwh !== undefined && b.energyKwh !== undefined) {
    return spreadIncrease(registerStep(a.energyKwh, a.tsMs, b.energyKwh, b.tsMs, maxKwhPerH).increase, a, b, w);
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
 * readings (contract §6, `carbon_kgco2e`: same spreading, reset and
 * plausibility rule, bounded by `maxKgPerH`).
 */
export function emissionShareKg(a: Sample, b: Sample, w: Window, maxKgPerH = DEFAULT_MAX_KG_PER_H): number {
  if (a.emissionKgco2e === undefined || b.emissionKgco2e === undefined) return 0;
  return spreadIncrease(registerStep(a.emissionKgco2e, a.tsMs, b.emissionKgco2e, b.tsMs, maxKgPerH).increase, a, b, w);
}

/** The register reading fields (contract §3), as a register step names them. */
export type RegisterField = 'energy_kwh' | 'emission_kgco2e';

/** A register step that implies more than its bound (contract §8): counted 0. */
export interface ImplausibleStep {
  field: RegisterField;
  fromTsMs: number;
  toTsMs: number;
  /** The increase the readings imply (a reset: the new value). */
  increase: number;
  /** The most that could count over the time between the readings. */
  limit: number;
}

/**
 * How a sensor's cumulative quantity is derived from its readings: which
 * readings form the chain of consecutive intervals, what each interval puts
 * in a window, and whether an interval's register step is implausible.
 */
export interface IntervalRule {
  inChain(s: Sample): boolean;
  share(a: Sample, b: Sample, w: Window): number;
  /** The interval's register step when both ends carry the register and it is implausible; else undefined. */
  implausible(a: Sample, b: Sample): ImplausibleStep | undefined;
}

function implausibleOf(field: RegisterField, prev: number | undefined, next: number | undefined, a: Sample, b: Sample, maxPerHour: number): ImplausibleStep | undefined {
  if (prev === undefined || next === undefined) return undefined;
  const step = registerStep(prev, a.tsMs, next, b.tsMs, maxPerHour);
  return step.plausible ? undefined : { field, fromTsMs: a.tsMs, toTsMs: b.tsMs, increase: step.rawIncrease, limit: (maxPerHour * (b.tsMs - a.tsMs)) / MS_PER_HOUR };
}

/** Energy meters: every reading is in the chain (each has a register value or a power); register steps bounded by `maxKwhPerH`. */
export function energyIntervals(maxKwhPerH: number): IntervalRule {
  return {
    inChain: () => true,
    share: (a, b, w) => energyShareKwh(a, b, w, maxKwhPerH),
    implausible: (a, b) => implausibleOf('energy_kwh', a.energyKwh, b.energyKwh, a, b, maxKwhPerH),
  };
}

/**
 * Carbon sensors: the chain is the readings that carry the emission register;
 * CO2-only readings in between neither break nor end an interval. Steps
 * bounded by `maxKgPerH`.
 */
export function emissionIntervals(maxKgPerH: number): IntervalRule {
  return {
    inChain: (s) => s.emissionKgco2e !== undefined,
    share: (a, b, w) => emissionShareKg(a, b, w, maxKgPerH),
    implausible: (a, b) => implausibleOf('emission_kgco2e', a.emissionKgco2e, b.emissionKgco2e, a, b, maxKgPerH),
  };
}

/** The interval rule of a sensor of `building`, with its plausibility bound (contract §8); occupancy sensors have none. */
export function intervalRuleFor(sensor: SensorModel, building: BuildingModel): IntervalRule | undefined {
  if (sensor.kind === 'energy') return energyIntervals(energyRegisterLimitKwhPerH(building));
  if (sensor.kind === 'carbon') return emissionIntervals(emissionRegisterLimitKgPerH(sensor));
  return undefined;
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
