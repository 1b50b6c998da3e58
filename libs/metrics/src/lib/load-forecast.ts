/**
 * Day-ahead load forecasting (contract §8, trends): pure, small, no ML
 * runtime, nothing leaves the machine.
 *
 * The method is a **day-type seasonal profile with an AR(1) correction of
 * the relative residual** and a **conformal 80 % interval**:
 *
 * 1. *Profile.* Each step of the day (15 min or 1 h of park wall-clock
 *    time) has one expected load per day type: weekday, Saturday, and
 *    Sunday-or-holiday (public holidays behave like Sundays). It is the
 *    exponentially weighted mean of that step on the past days of the same
 *    type, the most recent weighing most (weight `decay`^k for the k-th
 *    most recent). This is the intraday cycle "by day type" of exponential
 *    smoothing for load (J. W. Taylor, "Short-term electricity demand
 *    forecasting using double seasonal exponential smoothing", JORS 54(8),
 *    2003; S. Arora & J. W. Taylor, "Short-term forecasting of anomalous
 *    load using rule-based triple seasonal methods", IEEE Trans. Power
 *    Systems 28(3), 2013, which map special days onto a day type as we do
 *    with holidays), with the seasonal indices smoothed across days.
 * 2. *Level correction.* What the profile misses today (a cloudy day, a
 *    busier week) persists for a while: the relative residual
 *    `y / profile − 1` is modelled as AR(1), its coefficient φ the lag-one
 *    autocorrelation of the in-sample residuals (Yule–Walker). The forecast
 *    `h` steps after the last observed one is `profile × (1 + φ^h · r)`,
 *    Taylor's (2003) first-order residual autocorrelation adjustment.
 * 3. *Interval.* Split-conformal from rolling-origin day-ahead errors (V. Vovk,
 *    A. Gammerman & G. Shafer, "Algorithmic Learning in a Random World",
 *    2005; J. Lei et al., "Distribution-free predictive inference for
 *    regression", JASA 113, 2018): forecasts issued every 6 h over the last
 *    week of history, each from the data before it, give relative errors;
 *    their empirical 10 % and 90 % quantiles (with the finite-sample
 *    correction, per horizon band) bound the 80 % interval. So coverage is
 *    measured, not assumed Gaussian.
 *
 * Times are park time (contract §8): step of the day and day type come
 * from the park's time zone and holiday list.
 */
import { localDate, localTime } from '@park/telemetry';

/** Day types of the profile; `sunday` stands for Sundays and public holidays. */
export type DayType = 'weekday' | 'saturday' | 'sunday';
export const DAY_TYPES: readonly DayType[] = ['weekday', 'saturday', 'sunday'];

/** Where the forecast's days are: the park's zone and its days off. */
export interface ParkCalendar {
  timeZone: string;
  /** Public holidays, local dates `YYYY-MM-DD` (the park model's `holidays`). */
  holidays: ReadonlySet<string>;
}

/** One point of a regular series: the mean of a step starting at `tMs`. */
export interface SeriesPoint {
  tMs: number;
  value: number;
}

/** One forecast step (contract §8): point value and the 80 % interval. */
export interface ForecastPoint {
  tMs: number;
  value: number;
  lo: number;
  hi: number;
}

export interface ForecastOptions {
  /** Step of the series and of the forecast, ms (900 000 or 3 600 000). */
  stepMs: number;
  /** Weight ratio of each older same-type day in the profile (0 < decay ≤ 1). */
  decay?: number;
  /** Central coverage of the interval (contract §8: 0.8). */
  coverage?: number;
  /** Least history to fit, days of data (contract §8: the 409 says so). */
  minHistoryDays?: number;
}

/** Defaults: the figures in docs/trends.md were measured with these. */
export const FORECAST_DEFAULTS = { decay: 0.8, coverage: 0.8, minHistoryDays: 8 } as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Rolling origins for the conformal errors: every 6 h over the last 7 days. */
const ORIGIN_EVERY_MS = 6 * HOUR_MS;
const CALIBRATION_DAYS = 7;
/** Days of history a profile needs before a calibration origin (every day type seen). */
const PROFILE_MIN_DAYS = 7;
/** Horizon bands of the interval, hours after the last observed step: [0,1), [1,4), [4,∞). */
const BAND_EDGES_H = [1, 4];

/** The fitted model of one scope: everything a forecast needs, nothing of the history. */
export interface LoadForecastModel {
  stepMs: number;
  calendar: { timeZone: string; holidays: string[] };
  /** Expected value per day type and step of the day (NaN: never seen). */
  profiles: Record<DayType, number[]>;
  /** AR(1) coefficient of the relative residual, per step, in [0, 0.98]. */
  phi: number;
  /** Start of the first step after the last observed one. */
  originMs: number;
  /** Relative residual of the last observed step (0 when it was missing). */
  residual: number;
  /** Relative error quantiles per horizon band: [lo, hi] (e.g. [−0.06, 0.05]). */
  bands: Array<[number, number]>;
  /** Errors are relative to max(forecast, floor): the floor keeps near-zero loads from exploding them. */
  floor: number;
  /** Days of data the model was fitted on. */
  historyDays: number;
  /** Errors behind the interval. */
  calibrationErrors: number;
}

export type FitResult =
  | { ok: true; model: LoadForecastModel }
  | { ok: false; reason: 'too_little_history'; haveDays: number; needDays: number };

/** The day type of the local day holding `tMs`. */
export function dayTypeOf(calendar: ParkCalendar, tMs: number): DayType {
  if (calendar.holidays.size > 0 && calendar.holidays.has(localDate(calendar.timeZone, tMs))) return 'sunday';
  const w = localTime(calendar.timeZone, tMs).weekday;
  return w === 0 ? 'sunday' : w === 6 ? 'saturday' : 'weekday';
}

/** Position of `tMs` in the park's calendar: day type, step of the day, and a local day number. */
interface Slot {
  type: DayType;
  step: number;
  day: number;
}

function slotOf(calendar: ParkCalendar, stepMs: number, tMs: number): Slot {
  const t = localTime(calendar.timeZone, tMs);
  const minute = t.hour * 60 + t.minute;
  const type: DayType = calendar.holidays.size > 0 && calendar.holidays.has(localDate(calendar.timeZone, tMs)) ? 'sunday' : t.weekday === 0 ? 'sunday' : t.weekday === 6 ? 'saturday' : 'weekday';
  return { type, step: Math.floor((minute * 60_000) / stepMs), day: Date.UTC(t.year, t.month - 1, t.day) / DAY_MS };
}

function stepsPerDay(stepMs: number): number {
  return Math.ceil(DAY_MS / stepMs);
}

/**
 * Profiles from the points `[0, end)` of `pts` (chronological): for each
 * day type and step, the exponentially weighted mean over the days of that
 * type, the newest first.
 */
function buildProfiles(pts: readonly SeriesPoint[], slots: readonly Slot[], end: number, perDay: number, decay: number): Record<DayType, number[]> {
  const sum = { weekday: new Float64Array(perDay), saturday: new Float64Array(perDay), sunday: new Float64Array(perDay) };
  const wsum = { weekday: new Float64Array(perDay), saturday: new Float64Array(perDay), sunday: new Float64Array(perDay) };
  // Rank of each local day among the days of its type, newest = 0.
  const rank = new Map<number, number>();
  const seen = { weekday: 0, saturday: 0, sunday: 0 };
  for (let i = end - 1; i >= 0; i--) {
    const s = slots[i];
    let k = rank.get(s.day);
    if (k === undefined) {
      k = seen[s.type]++;
      rank.set(s.day, k);
    }
    const w = decay ** k;
    sum[s.type][s.step] += w * pts[i].value;
    wsum[s.type][s.step] += w;
  }
  const out = {} as Record<DayType, number[]>;
  for (const type of DAY_TYPES) out[type] = Array.from(sum[type], (v, j) => (wsum[type][j] > 0 ? v / wsum[type][j] : NaN));
  return out;
}

/**
 * The profile value for a slot, falling back to the nearest day type when
 * that type was never seen at that step (Saturday ↔ Sunday, then weekdays),
 * and to the neighbouring steps of the day when a step was never seen.
 */
function profileAt(profiles: Record<DayType, number[]>, type: DayType, step: number): number {
  const order: DayType[] = type === 'weekday' ? ['weekday', 'saturday', 'sunday'] : type === 'saturday' ? ['saturday', 'sunday', 'weekday'] : ['sunday', 'saturday', 'weekday'];
  for (const t of order) {
    const v = profiles[t][step];
    if (Number.isFinite(v)) return v;
  }
  const n = profiles[type].length;
  for (let d = 1; d < n; d++) {
    for (const t of order) {
      const a = profiles[t][(step + d) % n];
      if (Number.isFinite(a)) return a;
      const b = profiles[t][(step - d + n) % n];
      if (Number.isFinite(b)) return b;
    }
  }
  return NaN;
}

function relative(y: number, f: number, floor: number): number {
  return (y - f) / Math.max(Math.abs(f), floor);
}

/** Index of the horizon band of a forecast `h` steps after the origin. */
function bandOf(h: number, stepMs: number): number {
  const hours = (h * stepMs) / HOUR_MS;
  let b = 0;
  while (b < BAND_EDGES_H.length && hours >= BAND_EDGES_H[b]) b++;
  return b;
}

/**
 * The empirical quantile at level `q` with the split-conformal finite-sample
 * correction (the ⌈(n+1)q⌉-th smallest for an upper level, symmetric for a
 * lower one), clamped to the sample.
 */
export function conformalQuantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (q >= 0.5) return sorted[Math.min(n - 1, Math.ceil((n + 1) * q) - 1)];
  return sorted[Math.max(0, Math.floor((n + 1) * q) - 1)];
}

/**
 * Fits the forecast of one scope from its history: a regular series of
 * step means (`load_kw` averaged over 15 min or 1 h), gaps allowed, in any
 * order. Needs `minHistoryDays` days of data (default 8: a week for every
 * day type, and a day to measure the interval on); with less it says how
 * much it has and needs.
 */
export function fitLoadForecast(history: readonly SeriesPoint[], calendar: ParkCalendar, options: ForecastOptions): FitResult {
  const stepMs = options.stepMs;
  const decay = options.decay ?? FORECAST_DEFAULTS.decay;
  const coverage = options.coverage ?? FORECAST_DEFAULTS.coverage;
  const needDays = options.minHistoryDays ?? FORECAST_DEFAULTS.minHistoryDays;
  const perDay = stepsPerDay(stepMs);
  const pts = history.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.tMs)).slice().sort((a, b) => a.tMs - b.tMs);
  const haveDays = (pts.length * stepMs) / DAY_MS;
  if (pts.length === 0 || haveDays < needDays) return { ok: false, reason: 'too_little_history', haveDays: Math.floor(haveDays * 10) / 10, needDays };
  const slots = pts.map((p) => slotOf(calendar, stepMs, p.tMs));
  const meanAbs = pts.reduce((a, p) => a + Math.abs(p.value), 0) / pts.length;
  const floor = Math.max(1e-9, 0.1 * meanAbs);
  const lastMs = pts[pts.length - 1].tMs;

  // In-sample relative residuals of the full profile, for φ.
  const profiles = buildProfiles(pts, slots, pts.length, perDay, decay);
  const resid = pts.map((p, i) => relative(p.value, profileAt(profiles, slots[i].type, slots[i].step), floor));
  let num = 0;
  let den = 0;
  let pairs = 0;
  for (let i = 1; i < pts.length; i++) {
    if (pts[i].tMs - pts[i - 1].tMs !== stepMs) continue;
    num += resid[i] * resid[i - 1];
    den += resid[i - 1] * resid[i - 1];
    pairs++;
  }
  // Residuals at rounding level (a series the profile explains exactly) carry no autocorrelation.
  const phi = pairs > 0 && den / pairs > 1e-12 ? Math.min(0.98, Math.max(0, num / den)) : 0;

  // Rolling-origin day-ahead errors over the last week, each origin's
  // profile from the data before it only.
  const errors: number[][] = BAND_EDGES_H.map(() => [] as number[]).concat([[]]);
  const firstMs = pts[0].tMs;
  const calFrom = Math.max(firstMs + PROFILE_MIN_DAYS * DAY_MS, lastMs - CALIBRATION_DAYS * DAY_MS);
  let end = 0;
  for (let origin = Math.ceil(calFrom / ORIGIN_EVERY_MS) * ORIGIN_EVERY_MS; origin <= lastMs; origin += ORIGIN_EVERY_MS) {
    while (end < pts.length && pts[end].tMs < origin) end++;
    const prof = buildProfiles(pts, slots, end, perDay, decay);
    const prev = end - 1;
    const r0 = prev >= 0 && pts[prev].tMs === origin - stepMs ? relative(pts[prev].value, profileAt(prof, slots[prev].type, slots[prev].step), floor) : 0;
    for (let j = end; j < pts.length && pts[j].tMs < origin + DAY_MS; j++) {
      const h = Math.round((pts[j].tMs - origin) / stepMs);
      const f = profileAt(prof, slots[j].type, slots[j].step) * (1 + phi ** (h + 1) * r0);
      if (!Number.isFinite(f)) continue;
      errors[bandOf(h, stepMs)].push(relative(pts[j].value, f, floor));
    }
  }
  const pooled = errors.flat().sort((a, b) => a - b);
  const lo = (1 - coverage) / 2;
  const hi = 1 - lo;
  const bands = errors.map((e): [number, number] => {
    const s = e.length >= 20 ? e.sort((a, b) => a - b) : pooled;
    return [conformalQuantile(s, lo), conformalQuantile(s, hi)];
  });

  const last = pts.length - 1;
  const model: LoadForecastModel = {
    stepMs,
    calendar: { timeZone: calendar.timeZone, holidays: [...calendar.holidays] },
    profiles,
    phi,
    originMs: lastMs + stepMs,
    residual: resid[last],
    bands,
    floor,
    historyDays: Math.floor(haveDays * 10) / 10,
    calibrationErrors: pooled.length,
  };
  return { ok: true, model };
}

function calendarOf(model: LoadForecastModel): ParkCalendar {
  return { timeZone: model.calendar.timeZone, holidays: new Set(model.calendar.holidays) };
}

/**
 * The model moved on by one observed step (no refit): the step starting at
 * `tMs` had mean `value`. Steps older than the model's last one change
 * nothing. Between refits this keeps the level correction current.
 */
export function observeLoad(model: LoadForecastModel, tMs: number, value: number): LoadForecastModel {
  if (!Number.isFinite(value) || tMs < model.originMs - model.stepMs) return model;
  const s = slotOf(calendarOf(model), model.stepMs, tMs);
  const p = profileAt(model.profiles, s.type, s.step);
  if (!Number.isFinite(p)) return model;
  const originMs = Math.floor(tMs / model.stepMs) * model.stepMs + model.stepMs;
  return { ...model, originMs, residual: relative(value, p, model.floor) };
}

/**
 * `steps` forecast points from the step starting at `fromMs` (aligned down
 * to the model's step): the profile of each step's day type and time of
 * day, corrected by the decaying residual, with the conformal interval of
 * its horizon band. Intervals never go below 0 when the forecast is not
 * negative (a load does not).
 */
export function forecastLoad(model: LoadForecastModel, fromMs: number, steps: number): ForecastPoint[] {
  const cal = calendarOf(model);
  const start = Math.floor(fromMs / model.stepMs) * model.stepMs;
  const out: ForecastPoint[] = [];
  for (let k = 0; k < steps; k++) {
    const tMs = start + k * model.stepMs;
    const s = slotOf(cal, model.stepMs, tMs);
    const h = Math.max(0, Math.round((tMs - model.originMs) / model.stepMs));
    const value = profileAt(model.profiles, s.type, s.step) * (1 + model.phi ** (h + 1) * model.residual);
    if (!Number.isFinite(value)) continue;
    const [qlo, qhi] = model.bands[bandOf(h, model.stepMs)];
    const scale = Math.max(Math.abs(value), model.floor);
    let lo = value + qlo * scale;
    const hi = value + qhi * scale;
    if (value >= 0 && lo < 0) lo = 0;
    out.push({ tMs, value, lo: Math.min(lo, value), hi: Math.max(hi, value) });
  }
  return out;
}

/**
 * Means of a series over coarser steps (e.g. 15-min means → hourly means),
 * each coarse step the mean of the fine steps it holds.
 */
export function coarsenSeries(points: readonly SeriesPoint[], stepMs: number): SeriesPoint[] {
  const sums = new Map<number, [number, number]>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const t = Math.floor(p.tMs / stepMs) * stepMs;
    const a = sums.get(t) ?? [0, 0];
    a[0] += p.value;
    a[1]++;
    sums.set(t, a);
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([tMs, [s, n]]) => ({ tMs, value: s / n }));
}

/** Mean absolute percentage error of forecasts against actuals at the same times (steps with actual 0 left out). */
export function mape(forecast: readonly { tMs: number; value: number }[], actual: readonly SeriesPoint[]): number {
  const a = new Map(actual.map((p) => [p.tMs, p.value]));
  let sum = 0;
  let n = 0;
  for (const f of forecast) {
    const y = a.get(f.tMs);
    if (y === undefined || y === 0) continue;
    sum += Math.abs((y - f.value) / y);
    n++;
  }
  return n > 0 ? sum / n : NaN;
}

/** Share of actuals inside their forecast interval. */
export function intervalCoverage(forecast: readonly ForecastPoint[], actual: readonly SeriesPoint[]): number {
  const a = new Map(actual.map((p) => [p.tMs, p.value]));
  let inside = 0;
  let n = 0;
  for (const f of forecast) {
    const y = a.get(f.tMs);
    if (y === undefined) continue;
    if (y >= f.lo && y <= f.hi) inside++;
    n++;
  }
  return n > 0 ? inside / n : NaN;
}
