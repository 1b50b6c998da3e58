/**
 * The trends of one park (contract §8), as a pure engine like
 * {@link ParkVitalsEngine}: it keeps each scope's quarter-hour `load_kw`
 * history, fits the forecasts when told (the gateway refits on a schedule,
 * never per request), follows the closed windows and the readings, and
 * returns the `demand_forecast`, `stuck_meter` and `baseload` transitions.
 * No I/O and no clock: time comes from the windows, the readings and the
 * caller's `nowMs`. The gateway and the accuracy bench drive the same code.
 */
import { BuildingModel, ParkIndex, Reading } from '@park/telemetry';
import { coarsenSeries, fitLoadForecast, FitResult, forecastLoad, ForecastPoint, LoadForecastModel, observeLoad, ParkCalendar, SeriesPoint } from './load-forecast';
import { baseloadDecision, baseloadRatio, demandForecastDecision, stuckMeterDecision, StuckMeterTracker, TrendAlarmState, TrendDecision } from './trend-rules';
import { Alarm, ParkVitals, TrendAlarmRule } from './vital-signs';

/** The quarter hour: the step the history is kept and the `15m` forecast made at. */
export const QUARTER_MS = 900_000;
export const HOUR_MS = 3_600_000;
/** The `every` values of the forecast (contract §8). */
export type ForecastEvery = '15m' | '1h';
export const FORECAST_EVERY_MS: Readonly<Record<ForecastEvery, number>> = { '15m': QUARTER_MS, '1h': HOUR_MS };
/** The scope key of the whole park (building ids can never be empty). */
export const PARK_SCOPE = '';
/** The day-ahead horizon (contract §8), ms. */
export const DAY_AHEAD_MS = 86_400_000;
/** One-minute windows of a building kept as evidence for `stuck_meter`. */
const RECENT_WINDOWS = 90;

/** The fitted models of one scope, or why there are none. */
export interface ScopeForecast {
  models: Partial<Record<ForecastEvery, LoadForecastModel>>;
  /** Set when the history was too short: days of data there are and needed. */
  tooLittle?: { haveDays: number; needDays: number };
}

interface Bucket {
  startMs: number;
  sum: number;
  n: number;
}

export interface TrendsEngineOptions {
  /** Days of quarter-hour history kept (and fitted on). */
  historyDays?: number;
  /** Trends alarms active at start (read back from storage). */
  activeAlarms?: Iterable<Alarm>;
}

export class ParkTrendsEngine {
  readonly calendar: ParkCalendar;
  private readonly historyMs: number;
  private readonly history = new Map<string, SeriesPoint[]>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly recent = new Map<string, Array<{ startMs: number; kw: number }>>();
  private readonly forecasts = new Map<string, ScopeForecast>();
  private readonly stuck: StuckMeterTracker;
  private readonly alarms: TrendAlarmState;
  private fittedMs: number | undefined;
  private readonly parkContractedKw: number;

  constructor(
    readonly index: ParkIndex,
    opts: TrendsEngineOptions = {},
  ) {
    this.calendar = { timeZone: index.timeZone, holidays: new Set(index.model.holidays ?? []) };
    this.historyMs = (opts.historyDays ?? 28) * DAY_AHEAD_MS;
    this.stuck = new StuckMeterTracker(index);
    this.alarms = new TrendAlarmState(index.model.id, opts.activeAlarms);
    this.parkContractedKw = index.model.buildings.reduce((a, b) => a + Math.max(0, b.contractedKw), 0);
  }

  /** The scopes of the park: the park itself, then each building. */
  scopes(): string[] {
    return [PARK_SCOPE, ...this.index.model.buildings.map((b) => b.id)];
  }

  /**
   * Replaces a scope's quarter-hour history (e.g. read back from InfluxDB
   * before a refit, which then holds revisions and recomputes the live path
   * missed). Quarter hours the live path finished later are kept.
   */
  setHistory(scope: string, points: readonly SeriesPoint[]): void {
    const sorted = points.filter((p) => Number.isFinite(p.value)).slice().sort((a, b) => a.tMs - b.tMs);
    const last = sorted.length > 0 ? sorted[sorted.length - 1].tMs : -Infinity;
    const newer = (this.history.get(scope) ?? []).filter((p) => p.tMs > last);
    this.history.set(scope, [...sorted, ...newer]);
  }

  /** A scope's quarter-hour history (oldest first). */
  historyOf(scope: string): readonly SeriesPoint[] {
    return this.history.get(scope) ?? [];
  }

  /**
   * Fits every scope's 15-min and hourly forecasts on its history up to
   * `nowMs`. The only costly call: a few thousand points per scope.
   */
  refit(nowMs: number): Map<string, ScopeForecast> {
    for (const scope of this.scopes()) {
      const h = this.trim(scope, nowMs).filter((p) => p.tMs + QUARTER_MS <= nowMs);
      const q = fitLoadForecast(h, this.calendar, { stepMs: QUARTER_MS });
      const sf: ScopeForecast = { models: {} };
      if (q.ok) {
        sf.models['15m'] = q.model;
        const hr = fitLoadForecast(coarsenSeries(h, HOUR_MS).filter((p) => p.tMs + HOUR_MS <= nowMs), this.calendar, { stepMs: HOUR_MS });
        if (hr.ok) sf.models['1h'] = hr.model;
      } else sf.tooLittle = tooLittle(q);
      this.forecasts.set(scope, sf);
    }
    this.fittedMs = nowMs;
    return this.forecasts;
  }

  /** When the models were last fitted; undefined before the first fit. */
  get fittedAtMs(): number | undefined {
    return this.fittedMs;
  }

  /** The fitted state of a scope; undefined before the first fit. */
  forecastState(scope: string): ScopeForecast | undefined {
    return this.forecasts.get(scope);
  }

  /** Forecast points of a scope from the step holding `fromMs`; undefined without a model. */
  forecast(scope: string, every: ForecastEvery, fromMs: number, steps: number): ForecastPoint[] | undefined {
    const m = this.forecasts.get(scope)?.models[every];
    return m ? forecastLoad(m, fromMs, steps) : undefined;
  }

  /** Trends alarms active now. */
  activeAlarms(): Alarm[] {
    return this.alarms.all();
  }

  /** Takes an accepted reading (for `stuck_meter`). */
  observeReading(r: Reading): void {
    this.stuck.observe(r);
  }

  /**
   * Takes a closed window (not a revision). Returns the transitions it
   * decided: `stuck_meter` on every window, `demand_forecast` and
   * `baseload` each time a quarter hour of the building is complete.
   * `nowMs`: the time the window closed (readings up to then were observed).
   */
  observeVitals(v: ParkVitals, nowMs: number): Alarm[] {
    const out: Alarm[] = [];
    const done = plausible(v.park.load_kw, this.parkContractedKw) ? this.accumulate(PARK_SCOPE, v.window.startMs, v.park.load_kw) : undefined;
    if (done) this.advanceModels(PARK_SCOPE, done);
    for (const b of this.index.model.buildings) {
      const s = v.buildings[b.id];
      if (!s || !plausible(s.load_kw, b.contractedKw)) {
        out.push(...this.stuckRule(b, v.window.endMs, nowMs));
        continue;
      }
      const r = this.recent.get(b.id) ?? [];
      r.push({ startMs: v.window.startMs, kw: s.load_kw });
      if (r.length > RECENT_WINDOWS) r.splice(0, r.length - RECENT_WINDOWS);
      this.recent.set(b.id, r);
      const quarter = this.accumulate(b.id, v.window.startMs, s.load_kw);
      if (quarter) {
        this.advanceModels(b.id, quarter);
        out.push(...this.quarterRules(b, quarter.tMs + QUARTER_MS));
      }
      out.push(...this.stuckRule(b, v.window.endMs, nowMs));
    }
    return out;
  }

  /** `demand_forecast` of every building from the current models (e.g. right after a refit). */
  evaluateDemandForecast(nowMs: number): Alarm[] {
    return this.index.model.buildings.flatMap((b) => this.demandForecastRule(b, nowMs, nowMs));
  }

  private trim(scope: string, nowMs: number): SeriesPoint[] {
    const h = (this.history.get(scope) ?? []).filter((p) => p.tMs >= nowMs - this.historyMs);
    this.history.set(scope, h);
    return h;
  }

  /** Adds a window's load to its quarter; returns the quarter it completed, if any. */
  private accumulate(scope: string, startMs: number, kw: number): SeriesPoint | undefined {
    if (!Number.isFinite(kw)) return undefined;
    const q = Math.floor(startMs / QUARTER_MS) * QUARTER_MS;
    const b = this.buckets.get(scope);
    if (b && q === b.startMs) {
      b.sum += kw;
      b.n++;
      return undefined;
    }
    if (b && q < b.startMs) return undefined; // an older window: the quarter is gone
    this.buckets.set(scope, { startMs: q, sum: kw, n: 1 });
    if (!b) return undefined;
    const point = { tMs: b.startMs, value: b.sum / b.n };
    const h = this.history.get(scope) ?? [];
    const last = h[h.length - 1];
    if (!last || last.tMs < point.tMs) h.push(point);
    else if (last.tMs === point.tMs) h[h.length - 1] = point;
    this.history.set(scope, h);
    return point;
  }

  /** Moves the models of a scope on by a completed quarter (and hour). */
  private advanceModels(scope: string, quarter: SeriesPoint): void {
    const f = this.forecasts.get(scope);
    if (!f) return;
    const q = f.models['15m'];
    if (q) f.models['15m'] = observeLoad(q, quarter.tMs, quarter.value);
    const hr = f.models['1h'];
    const hourStart = Math.floor(quarter.tMs / HOUR_MS) * HOUR_MS;
    if (hr && quarter.tMs + QUARTER_MS === hourStart + HOUR_MS) {
      const quarters = (this.history.get(scope) ?? []).filter((p) => p.tMs >= hourStart && p.tMs < hourStart + HOUR_MS);
      if (quarters.length > 0) f.models['1h'] = observeLoad(hr, hourStart, quarters.reduce((a, p) => a + p.value, 0) / quarters.length);
    }
  }

  private quarterRules(b: BuildingModel, endMs: number): Alarm[] {
    const out = this.demandForecastRule(b, endMs, endMs);
    const ratio = baseloadRatio(this.history.get(b.id) ?? [], this.calendar.timeZone, QUARTER_MS, endMs);
    if (ratio) out.push(...this.decide(b, 'baseload', baseloadDecision(b, ratio, this.alarms.get(b.id, 'baseload')?.severity), endMs));
    return out;
  }

  private demandForecastRule(b: BuildingModel, fromMs: number, tsMs: number): Alarm[] {
    const points = this.forecast(b.id, '15m', fromMs, DAY_AHEAD_MS / QUARTER_MS);
    if (!points) return [];
    const d = demandForecastDecision(b, this.calendar.timeZone, points, this.alarms.get(b.id, 'demand_forecast')?.severity);
    return d ? this.decide(b, 'demand_forecast', d, tsMs) : [];
  }

  private stuckRule(b: BuildingModel, windowEndMs: number, nowMs: number): Alarm[] {
    const candidates = this.stuck.candidates(b.id, nowMs);
    const active = this.alarms.get(b.id, 'stuck_meter');
    if (candidates.length === 0 && !active) return [];
    const since = candidates.length > 0 ? Math.min(...candidates.map((c) => c.sinceMs)) : windowEndMs;
    const recentLoadKw = (this.recent.get(b.id) ?? []).filter((w) => w.startMs >= since - 60_000).map((w) => w.kw);
    const expectedLoadKw = this.forecast(b.id, '15m', windowEndMs, 1)?.[0]?.value;
    const d = stuckMeterDecision(b, candidates, this.stuck.meters(b.id), { recentLoadKw, expectedLoadKw }, nowMs);
    return this.decide(b, 'stuck_meter', d, windowEndMs);
  }

  private decide(b: BuildingModel, rule: TrendAlarmRule, d: TrendDecision, tsMs: number): Alarm[] {
    return this.alarms.decide(b.id, rule, d, tsMs);
  }
}

/**
 * Whether a window's load is one the trends learn from: at most 2 ×
 * the contracted capacity, the bound of contract §8's register
 * plausibility. A register that was stuck and jumps back, or a meter
 * swapped without a reset, puts hours of energy into one window; learned
 * as load, it would forecast (and alarm on) a peak that never was.
 */
function plausible(loadKw: number, contractedKw: number): boolean {
  return Number.isFinite(loadKw) && (!(contractedKw > 0) || loadKw <= 2 * contractedKw);
}

function tooLittle(r: FitResult): { haveDays: number; needDays: number } | undefined {
  return r.ok ? undefined : { haveDays: r.haveDays, needDays: r.needDays };
}
