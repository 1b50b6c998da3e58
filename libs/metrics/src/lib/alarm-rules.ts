import { BuildingModel, ParkIndex } from '@park/telemetry';
import { Alarm, AlarmRule, ParkVitals, Severity, VitalsAlarmRule, VitalSigns, VitalStatus } from './vital-signs';

/** The rules of contract §6, in the order their transitions are emitted. */
export const ALARM_RULES: readonly VitalsAlarmRule[] = ['demand', 'co2', 'crowding', 'offline'];

/** GB/T 18883-2022 indoor CO2 limit (contract §6: the `co2` warn level). */
export const CO2_LIMIT_PPM = 1000;
export const CO2_CRITICAL_PPM = 1500;

/** Thresholds of one rule for one building; `above` rules fire when value > threshold, `below` when value < threshold. */
export interface RuleThresholds {
  direction: 'above' | 'below';
  warn: number;
  critical: number;
}

/**
 * The alarm table of contract §6, written once: the alarm rules below and
 * the viewer's colour bands both read it. Values are in the unit of the
 * vital sign the rule watches ({@link ruleValue}), except `demand`, whose
 * thresholds are shares of the building's `contractedKw` (0.9 = 90 % of it).
 */
export const ALARM_THRESHOLDS: Readonly<Record<VitalsAlarmRule, Readonly<RuleThresholds>>> = {
  demand: { direction: 'above', warn: 0.9, critical: 1.0 },
  co2: { direction: 'above', warn: CO2_LIMIT_PPM, critical: CO2_CRITICAL_PPM },
  crowding: { direction: 'above', warn: 1.0, critical: 1.2 },
  offline: { direction: 'below', warn: 0.9, critical: 0.5 },
};

/**
 * Contract §6 thresholds of a rule for a building ({@link ALARM_THRESHOLDS},
 * `demand` scaled to its contracted kW). `demand` does not apply to a
 * building without a contracted capacity (contractedKw <= 0): any load would
 * be "critical" and say nothing.
 */
export function ruleThresholds(rule: VitalsAlarmRule, building: BuildingModel): RuleThresholds | undefined {
  const t = ALARM_THRESHOLDS[rule];
  if (rule !== 'demand') return { ...t };
  return building.contractedKw > 0
    ? { direction: t.direction, warn: t.warn * building.contractedKw, critical: t.critical * building.contractedKw }
    : undefined;
}

/** The vital sign a rule watches; undefined when the window has no value for it. */
export function ruleValue(rule: VitalsAlarmRule, v: VitalSigns): number | undefined {
  switch (rule) {
    case 'demand':
      return v.load_kw;
    case 'co2':
      return v.co2_ppm_avg;
    case 'crowding':
      return v.occupancy_rate;
    case 'offline':
      return v.online_ratio;
  }
}

/** The severity a value reaches under a rule, or undefined when the condition does not hold. */
export function severityOf(value: number, t: RuleThresholds): Severity | undefined {
  if (t.direction === 'above') return value > t.critical ? 'critical' : value > t.warn ? 'warn' : undefined;
  return value < t.critical ? 'critical' : value < t.warn ? 'warn' : undefined;
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

function pct(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

/**
 * A human-readable sentence for an alarm transition. `next` is the severity
 * that replaces a cleared one (a change of severity), or undefined.
 */
export function alarmMessage(
  rule: VitalsAlarmRule,
  severity: Severity,
  state: 'raised' | 'cleared',
  value: number,
  building: BuildingModel,
  next?: Severity,
): string {
  if (state === 'cleared' && next) {
    const what = { demand: 'Demand', co2: 'CO2', crowding: 'Crowding', offline: 'Offline' }[rule];
    return `${what} alarm ${next === 'critical' ? 'escalated' : 'eased'} from ${severity} to ${next}`;
  }
  const raised = state === 'raised';
  switch (rule) {
    case 'demand': {
      const c = fmt(building.contractedKw);
      if (severity === 'critical') {
        return raised ? `Load ${fmt(value)} kW exceeds contracted ${c} kW` : `Load ${fmt(value)} kW back within contracted ${c} kW`;
      }
      return raised
        ? `Load ${fmt(value)} kW exceeds ${pct(ALARM_THRESHOLDS.demand.warn)} of contracted ${c} kW`
        : `Load ${fmt(value)} kW back below ${pct(ALARM_THRESHOLDS.demand.warn)} of contracted ${c} kW`;
    }
    case 'co2': {
      const limit = severity === 'critical' ? `${CO2_CRITICAL_PPM} ppm` : `${CO2_LIMIT_PPM} ppm (GB/T 18883-2022)`;
      return raised ? `Mean CO2 ${fmt(value)} ppm exceeds ${limit}` : `Mean CO2 ${fmt(value)} ppm back at or below ${limit}`;
    }
    case 'crowding': {
      const limit = pct(ALARM_THRESHOLDS.crowding[severity]);
      return raised
        ? `Occupancy ${pct(value)} of capacity ${building.capacity} exceeds ${limit}`
        : `Occupancy ${pct(value)} of capacity ${building.capacity} back at or below ${limit}`;
    }
    case 'offline': {
      const limit = pct(ALARM_THRESHOLDS.offline[severity]);
      return raised ? `Only ${pct(value)} of sensors online (below ${limit})` : `${pct(value)} of sensors online again (at least ${limit})`;
    }
  }
}

/**
 * The active alarms, keyed `building/rule`. Immutable: each evaluation
 * returns a new state, so the evaluator is a pure function.
 */
export type AlarmState = ReadonlyMap<string, Alarm>;

export const NO_ALARMS: AlarmState = new Map();

/** The key of an alarm in an {@link AlarmState}: one alarm per building and rule. */
export function alarmKey(a: Pick<Alarm, 'building' | 'rule'>): string {
  return `${a.building}/${a.rule}`;
}

/** A state from a list of active (raised) alarms, e.g. read back from storage after a restart. */
export function alarmStateOf(active: Iterable<Alarm>): AlarmState {
  const m = new Map<string, Alarm>();
  for (const a of active) if (a.state === 'raised') m.set(alarmKey(a), a);
  return m;
}

/**
 * The state after a transition of a rule {@link evaluateAlarms} does not
 * decide (contract §8 trends rules): a `raised` becomes the active alarm of
 * its building and rule, a `cleared` removes it. Transitions of the §6
 * rules leave the state as it is.
 */
export function applyForeignTransition(state: AlarmState, alarm: Alarm): AlarmState {
  if ((ALARM_RULES as readonly AlarmRule[]).includes(alarm.rule)) return state;
  const key = `${alarm.building}/${alarm.rule}`;
  const next = new Map(state);
  if (alarm.state === 'raised') next.set(key, alarm);
  else if (next.get(key)?.severity === alarm.severity) next.delete(key);
  return next;
}

/** The active alarms of a state, in building then rule order of insertion. */
export function activeAlarmsOf(state: AlarmState): Alarm[] {
  return [...state.values()];
}

/** The result of one evaluation: the new state and the transitions, in order. */
export interface AlarmStep {
  state: AlarmState;
  transitions: Alarm[];
}

/** How {@link evaluateAlarms} runs. */
export interface EvaluateOptions {
  /**
   * Per building, the value the `offline` rule judges instead of
   * `online_ratio` (undefined: nothing to judge), for sensors that are only
   * starting (see `offlineAlarmRatio`).
   */
  offlineRatio?: ReadonlyMap<string, number | undefined>;
}

/**
 * Evaluates contract §6's alarm rules for every building on one closed
 * window. A transition is emitted only when the condition starts, ends or
 * changes severity; a condition that holds emits nothing (no flapping).
 * A change of severity is a `cleared` of the old alarm followed by a
 * `raised` of the new one, so every stored alarm has one raise and one clear.
 * A rule whose value is absent in the window (no CO2 reading, no capacity,
 * no sensors) keeps its current state: missing data neither raises nor
 * clears; silence is the `offline` rule's business. There are no park-level
 * alarms: the park's status is the worst alarm of its buildings.
 */
export function evaluateAlarms(index: ParkIndex, state: AlarmState, vitals: ParkVitals, opts: EvaluateOptions = {}): AlarmStep {
  const next = new Map(state);
  const transitions: Alarm[] = [];
  const tsMs = vitals.window.endMs;
  for (const building of index.model.buildings) {
    const v = vitals.buildings[building.id];
    if (!v) continue;
    for (const rule of ALARM_RULES) {
      const t = ruleThresholds(rule, building);
      const value = rule === 'offline' && opts.offlineRatio?.has(building.id) ? opts.offlineRatio.get(building.id) : ruleValue(rule, v);
      if (!t || value === undefined) continue;
      const key = alarmKey({ building: building.id, rule });
      const active = next.get(key);
      const severity = severityOf(value, t);
      if (active?.severity === severity) continue;
      const alarm = (sev: Severity, st: 'raised' | 'cleared', replacedBy?: Severity): Alarm => ({
        parkId: index.model.id,
        building: building.id,
        rule,
        severity: sev,
        state: st,
        value,
        threshold: t[sev],
        message: alarmMessage(rule, sev, st, value, building, replacedBy),
        tsMs,
      });
      if (active) {
        transitions.push(alarm(active.severity, 'cleared', severity));
        next.delete(key);
      }
      if (severity) {
        const raised = alarm(severity, 'raised');
        transitions.push(raised);
        next.set(key, raised);
      }
    }
  }
  return { state: next, transitions };
}

const RANK: Record<VitalStatus, number> = { ok: 0, warn: 1, critical: 2 };

/** The worse of two statuses. */
export function worstStatus(a: VitalStatus, b: VitalStatus): VitalStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * Sets `status` on every scope of `vitals` from the active alarms (contract
 * §6: the worst active alarm in scope; the park's is the worst of any
 * building). Mutates and returns `vitals`.
 */
export function applyStatus(vitals: ParkVitals, state: AlarmState): ParkVitals {
  for (const v of Object.values(vitals.buildings)) v.status = 'ok';
  let park: VitalStatus = 'ok';
  for (const a of state.values()) {
    const v = vitals.buildings[a.building];
    if (v) v.status = worstStatus(v.status, a.severity);
    park = worstStatus(park, a.severity);
  }
  vitals.park.status = park;
  return vitals;
}
