/**
 * The alarm rules of contract §8 (trends): `demand_forecast`, `stuck_meter`
 * and `baseload`. Pure decisions over forecasts, readings and night-time
 * loads; the gateway's trends feature only feeds them and writes what they
 * decide. Each rule has a hysteresis band so that a value hovering at a
 * threshold raises once and clears once (no flapping), and every change of
 * severity is a `cleared` of the old alarm and a `raised` of the new one,
 * as for the rules of §6 ({@link evaluateAlarms}).
 */
import { BuildingModel, localTime, localToUtcMs, ParkIndex, Reading } from '@park/telemetry';
import { RuleThresholds, severityOf } from './alarm-rules';
import { ForecastPoint, SeriesPoint } from './load-forecast';
import { Alarm, Severity, TrendAlarmRule } from './vital-signs';

/** The trends rules, in the order a gateway evaluates them. */
export const TREND_RULES: readonly TrendAlarmRule[] = ['demand_forecast', 'stuck_meter', 'baseload'];

/**
 * Contract §8 thresholds. `demand_forecast`: shares of `contractedKw`;
 * `baseload`: the night's load over its 14-day median (1.2 = 20 % above).
 */
export const TREND_THRESHOLDS: Readonly<Record<'demand_forecast' | 'baseload', Readonly<RuleThresholds>>> = {
  demand_forecast: { direction: 'above', warn: 0.9, critical: 1.0 },
  baseload: { direction: 'above', warn: 1.2, critical: 1.5 },
};

/**
 * Hysteresis: an alarm eases or clears only once its value is this share
 * below the level that raised it (e.g. a `baseload` warn raised above
 * 1.20 × median clears below 1.14 ×).
 */
export const TREND_HYSTERESIS = 0.05;

/** Night hours of the `baseload` rule, park time (contract §8): 22:00–06:00. */
export const NIGHT_START_HOUR = 22;
export const NIGHT_HOURS = 8;
/** Nights the `baseload` median looks back over, and the fewest it needs. */
export const BASELOAD_NIGHTS = 14;
export const BASELOAD_MIN_NIGHTS = 7;
/** The least of a night seen before `baseload` judges it. */
export const BASELOAD_MIN_ELAPSED_MS = 3_600_000;

const RANK: Record<Severity, number> = { warn: 1, critical: 2 };

/**
 * The severity of an `above` rule with hysteresis: escalates as soon as a
 * level is passed, but keeps the `current` severity until the value falls
 * below that level × (1 − band). With no current alarm it is
 * {@link severityOf}.
 */
export function severityWithHysteresis(value: number, t: RuleThresholds, current: Severity | undefined, band = TREND_HYSTERESIS): Severity | undefined {
  const raw = severityOf(value, t);
  if (!current || (raw && RANK[raw] >= RANK[current])) return raw;
  if (value > t[current] * (1 - band)) return current;
  if (current === 'critical' && value > t.warn * (1 - band)) return 'warn';
  return raw;
}

/** What a rule decided for one building: the condition (or none), the value watched and its level. */
export interface TrendDecision {
  severity: Severity | undefined;
  value: number;
  /** The level of `severity`, or of the cleared alarm's severity. */
  threshold: (s: Severity) => number;
  /** The operator's sentence for a raise, or for a clear of `s`. */
  message: (state: 'raised' | 'cleared', s: Severity) => string;
}

/**
 * The active trends alarms of a park and their transitions: one alarm per
 * building and rule, raised once, cleared once.
 */
export class TrendAlarmState {
  private readonly active = new Map<string, Alarm>();

  constructor(
    private readonly parkId: string,
    initial: Iterable<Alarm> = [],
  ) {
    for (const a of initial) if (a.state === 'raised' && (TREND_RULES as readonly string[]).includes(a.rule)) this.active.set(`${a.building}/${a.rule}`, a);
  }

  /** The active alarm of a building and rule. */
  get(building: string, rule: TrendAlarmRule): Alarm | undefined {
    return this.active.get(`${building}/${rule}`);
  }

  /** Every active trends alarm. */
  all(): Alarm[] {
    return [...this.active.values()];
  }

  /**
   * Applies a decision at `tsMs`; returns the transitions (none while the
   * condition holds at the same severity, or stays absent).
   */
  decide(building: string, rule: TrendAlarmRule, d: TrendDecision, tsMs: number): Alarm[] {
    const key = `${building}/${rule}`;
    const current = this.active.get(key);
    if (current?.severity === d.severity) return [];
    const out: Alarm[] = [];
    const make = (severity: Severity, state: 'raised' | 'cleared'): Alarm => ({
      parkId: this.parkId,
      building,
      rule,
      severity,
      state,
      value: d.value,
      threshold: d.threshold(severity),
      message: d.message(state, severity),
      tsMs,
    });
    if (current) {
      const cleared = make(current.severity, 'cleared');
      if (d.severity) cleared.message = `${TREND_LABEL[rule]} alarm ${RANK[d.severity] > RANK[current.severity] ? 'escalated' : 'eased'} from ${current.severity} to ${d.severity}`;
      out.push(cleared);
      this.active.delete(key);
    }
    if (d.severity) {
      const raised = make(d.severity, 'raised');
      out.push(raised);
      this.active.set(key, raised);
    }
    return out;
  }
}

const TREND_LABEL: Record<TrendAlarmRule, string> = { demand_forecast: 'Demand forecast', stuck_meter: 'Stuck meter', baseload: 'Base load' };

function fmtKw(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(ratio: number): string {
  return `${Math.round(ratio * 100)} %`;
}

/** `Wed 14:15` in park time. */
export function parkClock(timeZone: string, tMs: number): string {
  const t = localTime(timeZone, tMs);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][t.weekday];
  return `${day} ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/**
 * `demand_forecast` (contract §8): the forecast `load_kw` of the next 24 h
 * against 0.9 × / 1.0 × `contractedKw`. The value is the forecast peak;
 * the message names when the load is first forecast over the level, in
 * park time. Undefined for a building without a contracted capacity or
 * without forecast points.
 */
export function demandForecastDecision(building: BuildingModel, timeZone: string, forecast: readonly ForecastPoint[], current: Severity | undefined): TrendDecision | undefined {
  if (!(building.contractedKw > 0) || forecast.length === 0) return undefined;
  const c = building.contractedKw;
  const t = TREND_THRESHOLDS.demand_forecast;
  const levels: RuleThresholds = { direction: 'above', warn: t.warn * c, critical: t.critical * c };
  const peak = forecast.reduce((a, p) => (p.value > a.value ? p : a), forecast[0]);
  const severity = severityWithHysteresis(peak.value, levels, current);
  const firstOver = (s: Severity) => forecast.find((p) => p.value > levels[s]) ?? peak;
  return {
    severity,
    value: peak.value,
    threshold: (s) => levels[s],
    message: (state, s) => {
      if (state === 'cleared') return `${building.name}: forecast load for the next 24 h back below ${s === 'critical' ? 'contracted' : '90 % of contracted'} ${fmtKw(c)} kW (peak ${fmtKw(peak.value)} kW at ${parkClock(timeZone, peak.tMs)})`;
      const p = firstOver(s);
      return `${building.name}: load forecast to reach ${fmtKw(p.value)} kW at ${parkClock(timeZone, p.tMs)} (park time), ${s === 'critical' ? 'above contracted' : 'above 90 % of contracted'} ${fmtKw(c)} kW`;
    },
  };
}

/** The night (22:00–06:00 park time) that holds `tMs`, or undefined in daytime. */
export function nightOf(timeZone: string, tMs: number): { startMs: number; endMs: number } | undefined {
  const t = localTime(timeZone, tMs);
  const dayShift = t.hour >= NIGHT_START_HOUR ? 0 : t.hour < NIGHT_START_HOUR + NIGHT_HOURS - 24 ? -1 : undefined;
  if (dayShift === undefined) return undefined;
  const startMs = localToUtcMs(timeZone, t.year, t.month, t.day + dayShift, NIGHT_START_HOUR);
  const endMs = localToUtcMs(timeZone, t.year, t.month, t.day + dayShift + 1, NIGHT_START_HOUR + NIGHT_HOURS - 24);
  return { startMs, endMs };
}

/** A night's load so far against the same hours of its past nights. */
export interface BaseloadRatio {
  /** Mean load of this night from 22:00 up to `uptoMs`, kW. */
  nightKw: number;
  /** Median over past nights of their mean load over the same hours, kW. */
  medianKw: number;
  ratio: number;
  nights: number;
  uptoMs: number;
}

function meanOver(series: readonly SeriesPoint[], fromMs: number, toMs: number, stepMs: number): number | undefined {
  let sum = 0;
  let n = 0;
  for (const p of series) {
    if (p.tMs >= fromMs && p.tMs + stepMs <= toMs && Number.isFinite(p.value)) {
      sum += p.value;
      n++;
    }
  }
  // A night counts when three quarters of its steps so far are there.
  return n > 0 && n * stepMs >= 0.75 * (toMs - fromMs) ? sum / n : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * `baseload` (contract §8): the mean load of the current night, from 22:00
 * park time up to the last full step before `nowMs`, over the median of
 * the same hours' mean on the previous 14 nights. Same hours, so a factory
 * whose evening shift runs to midnight is compared with its own evenings.
 * Undefined in daytime, in the first hour of a night, or with fewer than
 * 7 comparable nights. `series`: step means of the building's `load_kw`.
 */
export function baseloadRatio(series: readonly SeriesPoint[], timeZone: string, stepMs: number, nowMs: number): BaseloadRatio | undefined {
  const night = nightOf(timeZone, nowMs);
  if (!night) return undefined;
  const uptoMs = Math.floor(nowMs / stepMs) * stepMs;
  const elapsed = uptoMs - night.startMs;
  if (elapsed < BASELOAD_MIN_ELAPSED_MS) return undefined;
  const nightKw = meanOver(series, night.startMs, uptoMs, stepMs);
  if (nightKw === undefined) return undefined;
  const past: number[] = [];
  const d = localTime(timeZone, night.startMs);
  for (let k = 1; k <= BASELOAD_NIGHTS; k++) {
    const start = localToUtcMs(timeZone, d.year, d.month, d.day - k, NIGHT_START_HOUR);
    const m = meanOver(series, start, start + elapsed, stepMs);
    if (m !== undefined) past.push(m);
  }
  if (past.length < BASELOAD_MIN_NIGHTS) return undefined;
  const medianKw = median(past);
  if (!(medianKw > 0)) return undefined;
  return { nightKw, medianKw, ratio: nightKw / medianKw, nights: past.length, uptoMs };
}

/** The `baseload` decision of a building from its {@link baseloadRatio}. */
export function baseloadDecision(building: BuildingModel, r: BaseloadRatio, current: Severity | undefined): TrendDecision {
  const t = TREND_THRESHOLDS.baseload;
  const severity = severityWithHysteresis(r.ratio, t, current);
  const above = r.ratio - 1;
  return {
    severity,
    value: r.ratio,
    threshold: (s) => t[s],
    message: (state) =>
      state === 'raised'
        ? `${building.name} night-time load ${pct(above)} above its ${r.nights}-day median (${fmtKw(r.nightKw)} kW against ${fmtKw(r.medianKw)} kW)`
        : `${building.name} night-time load back to ${above >= 0 ? `${pct(above)} above` : `${pct(-above)} below`} its ${r.nights}-day median (${fmtKw(r.nightKw)} kW against ${fmtKw(r.medianKw)} kW)`,
  };
}

/** How long a value must stand still, and over how many readings, before a meter counts as stuck. */
export const STUCK_MIN_MS = 15 * 60_000;
export const STUCK_MIN_READINGS = 3;
/** A building's load "changes" when its range over the span exceeds this share of its mean. */
export const STUCK_LOAD_CHANGE = 0.01;
/** …or when it is expected (forecast) to draw more than this share of its contracted capacity. */
export const STUCK_EXPECTED_SHARE = 0.05;

interface FieldTrack {
  value: number;
  sinceMs: number;
  lastMs: number;
  count: number;
}

/** One grid meter whose values stand still. */
export interface StuckMeter {
  building: string;
  sensor: string;
  /** The fields that stand still and their value. */
  fields: Array<{ field: 'power_kw' | 'energy_kwh'; value: number }>;
  /** Since when (the first reading with the value), epoch ms. */
  sinceMs: number;
  /** The meter's own power says it is drawing (its register must move). */
  inconsistent: boolean;
  /** Every unchanged value is 0: consistent with a switched-off circuit. */
  zero: boolean;
}

/**
 * Tracks, per grid energy meter of a park, how long each field it reports
 * has kept exactly the same value (`stuck_meter`, contract §8). A real
 * meter on a live load never repeats its power to the last digit, and its
 * import register moves with every reading; PV meters (dark at night) and
 * other kinds (empty rooms, idle generators) legitimately stand still and
 * are not tracked. Bounded: one entry per field of each registered meter.
 */
export class StuckMeterTracker {
  private readonly tracks = new Map<string, { building: string; sensor: string; intervalMs: number; fields: Map<'power_kw' | 'energy_kwh', FieldTrack>; lastPowerKw?: number }>();

  constructor(private readonly index: ParkIndex) {
    for (const b of index.model.buildings) {
      for (const s of b.sensors) {
        if (s.kind === 'energy' && (s.source ?? 'grid') === 'grid') this.tracks.set(`${b.id}/${s.id}`, { building: b.id, sensor: s.id, intervalMs: s.intervalS * 1000, fields: new Map() });
      }
    }
  }

  /** Takes one accepted reading; anything but a registered grid meter's is ignored. */
  observe(r: Reading): void {
    if (r.park !== this.index.model.id || r.kind !== 'energy') return;
    const t = this.tracks.get(`${r.building}/${r.sensor}`);
    if (!t) return;
    const fields: Array<['power_kw' | 'energy_kwh', number | undefined]> = [
      ['power_kw', r.powerKw],
      ['energy_kwh', r.energyKwh],
    ];
    for (const [field, v] of fields) {
      if (v === undefined) continue;
      const f = t.fields.get(field);
      if (f && r.tsMs < f.lastMs) continue; // out of order: judged on the stream's newest values
      if (!f || f.value !== v) t.fields.set(field, { value: v, sinceMs: r.tsMs, lastMs: r.tsMs, count: 1 });
      else if (r.tsMs > f.lastMs) {
        f.lastMs = r.tsMs;
        f.count++;
      }
    }
    if (r.powerKw !== undefined) t.lastPowerKw = r.powerKw;
  }

  /**
   * The meters of a building that still report (a reading within 3 ×
   * `intervalS` of `nowMs`) with a field unchanged for at least
   * {@link STUCK_MIN_MS} over {@link STUCK_MIN_READINGS} readings.
   */
  candidates(building: string, nowMs: number): StuckMeter[] {
    const out: StuckMeter[] = [];
    for (const t of this.tracks.values()) {
      if (t.building !== building) continue;
      const still: StuckMeter['fields'] = [];
      let since = Infinity;
      for (const [field, f] of t.fields) {
        const reporting = nowMs - f.lastMs <= 3 * t.intervalMs;
        if (reporting && f.count >= STUCK_MIN_READINGS && f.lastMs - f.sinceMs >= STUCK_MIN_MS) {
          still.push({ field, value: f.value });
          since = Math.min(since, f.sinceMs);
        }
      }
      if (still.length === 0) continue;
      const registerStill = still.some((s) => s.field === 'energy_kwh');
      const inconsistent = registerStill && (t.lastPowerKw ?? 0) > 0;
      const zero = still.every((s) => s.field === 'energy_kwh' || s.value === 0) && !inconsistent;
      out.push({ building, sensor: t.sensor, fields: still, sinceMs: since, inconsistent, zero });
    }
    return out;
  }

  /** Grid meters of a building. */
  meters(building: string): number {
    let n = 0;
    for (const t of this.tracks.values()) if (t.building === building) n++;
    return n;
  }
}

/** What says a building's load is changing, from evidence other than a suspect meter. */
export interface LoadEvidence {
  /** The building's `load_kw` of the windows since the meter stood still. */
  recentLoadKw: readonly number[];
  /** The building's forecast load now, kW, when a forecast exists. */
  expectedLoadKw?: number;
}

/** Whether the evidence says the building's load changes. */
export function loadChanges(building: BuildingModel, e: LoadEvidence, allowExpected: boolean): boolean {
  const xs = e.recentLoadKw.filter(Number.isFinite);
  if (xs.length >= 2) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    if (mean > 0 && (Math.max(...xs) - Math.min(...xs)) / mean > STUCK_LOAD_CHANGE) return true;
  }
  return allowExpected && e.expectedLoadKw !== undefined && e.expectedLoadKw > STUCK_EXPECTED_SHARE * building.contractedKw;
}

/**
 * `stuck_meter` (contract §8): a grid meter reports but its values do not
 * change while its building's load does. The load's change is judged
 * without the suspect meter: its own power contradicting a still register,
 * the building's windows moving, or, for a building the meter alone
 * measures, its forecast expecting a real load (which never holds still to
 * the last digit). A meter standing still at 0 kW needs the windows to
 * move (a circuit switched off is not a fault). Warn when some of the
 * building's grid meters are stuck, critical when all are (its energy is
 * then unmeasured). The value is the number of stuck meters.
 */
export function stuckMeterDecision(building: BuildingModel, stuck: readonly StuckMeter[], meters: number, evidence: LoadEvidence, nowMs: number): TrendDecision {
  const confirmed = stuck.filter((m) => m.inconsistent || loadChanges(building, evidence, !m.zero));
  const severity: Severity | undefined = confirmed.length === 0 ? undefined : confirmed.length >= meters ? 'critical' : 'warn';
  const describe = (m: StuckMeter) => `${m.sensor} (${m.fields.map((f) => `${f.field} ${f.value}`).join(', ')}) for ${Math.round((nowMs - m.sinceMs) / 60_000)} min`;
  return {
    severity,
    value: confirmed.length,
    threshold: (s) => (s === 'critical' ? meters : 1),
    message: (state) =>
      state === 'cleared'
        ? `${building.name}: meter readings moving again`
        : `${building.name}: meter ${confirmed.map(describe).join('; ')} unchanged while the building's load changes`,
  };
}
