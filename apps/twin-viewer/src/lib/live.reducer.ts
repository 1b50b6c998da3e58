/**
 * The viewer's live state and the one function that changes it:
 * `reduceTwin(state, event, clockMs) → state`. Events are the live-stream
 * messages of contract §7 plus what the page learns elsewhere (REST loads,
 * socket open/close). Time is injected (`clockMs`) so stale detection is
 * tested without sleeping.
 *
 * Pure and DOM-free. The state is replaced, never mutated, so views can tell
 * what changed by identity.
 */
import { TREND_RULES, worstStatus, type Alarm, type AlarmRule, type LiveMessage, type NowState, type ParkVitals, type Severity, type VitalStatus } from '@park/metrics';

/** The live stream's socket, as the page sees it. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

/** No `now` for longer than this and the data on screen is called stale (issue: > 3 s). */
export const STALE_AFTER_MS = 3000;

/** How many alarm transitions the panel keeps. */
export const ALARM_LOG_LIMIT = 200;

/** One line of the alarm panel: a raise and, once it ends, when. */
export interface AlarmEntry {
  /** Unique and stable: building/rule/raise time. */
  key: string;
  alarm: Alarm;
  /** Epoch ms when it was cleared (or replaced by a raise of another severity). */
  endedAtMs?: number;
  /** How it ended: cleared by the gateway, or superseded by a raise of another severity. */
  ended?: 'cleared' | 'superseded';
}

/** Everything live the viewer shows. */
export interface TwinState {
  parkId: string;
  connection: ConnectionState;
  /** Client clock (epoch ms) when the last `now` (or snapshot) arrived; null before the first. */
  nowAtMs: number | null;
  /** Server time of that message (ISO), shown as "as of". */
  nowT: string | null;
  park: NowState | null;
  buildings: Readonly<Record<string, NowState>>;
  /** The latest closed window. */
  vitals: ParkVitals | null;
  /** Whether the set of active alarms is known (snapshot or REST seen). */
  alarmsKnown: boolean;
  /** Active alarms by `building/rule`. */
  active: Readonly<Record<string, Alarm>>;
  /** Alarm transitions, newest first, at most {@link ALARM_LOG_LIMIT}. */
  log: readonly AlarmEntry[];
  /** Messages applied, for the test hook and the bench. */
  updates: number;
}

/** What can happen to the state. */
export type TwinEvent =
  | LiveMessage
  | { type: 'connection'; state: ConnectionState }
  /** GET /api/parks/{park}/vitals at start-up (normalised to ParkVitals). */
  | { type: 'vitals-loaded'; vitals: ParkVitals | null }
  /** GET /api/parks/{park}/alarms at start-up. */
  | { type: 'alarms-loaded'; alarms: Alarm[]; atMs: number };

/** The state before anything is known. */
export function initialTwinState(parkId: string): TwinState {
  return {
    parkId,
    connection: 'connecting',
    nowAtMs: null,
    nowT: null,
    park: null,
    buildings: {},
    vitals: null,
    alarmsKnown: false,
    active: {},
    log: [],
    updates: 0,
  };
}

/** `building/rule`: an alarm's identity (contract §6: one alarm per rule per scope). */
export function alarmKey(a: Pick<Alarm, 'building' | 'rule'>): string {
  return `${a.building}/${a.rule}`;
}

function entryKey(a: Alarm): string {
  return `${a.building}/${a.rule}/${a.tsMs}/${a.severity}`;
}

function isNewer(next: ParkVitals, current: ParkVitals | null): boolean {
  return !current || next.window.startMs >= current.window.startMs;
}

/**
 * Replaces the active set (a snapshot on (re)connect, or the REST list):
 * log entries still open whose alarm is no longer active ended while we were
 * not listening; active alarms missing from the log are added.
 */
function withActiveSet(state: TwinState, alarms: readonly Alarm[], atMs: number): Pick<TwinState, 'active' | 'log' | 'alarmsKnown'> {
  const active: Record<string, Alarm> = {};
  for (const a of alarms) if (a.state !== 'cleared') active[alarmKey(a)] = a;
  let log = state.log.map((e) => {
    if (e.ended) return e;
    const now = active[alarmKey(e.alarm)];
    if (now && now.severity === e.alarm.severity) return e;
    return { ...e, ended: now ? ('superseded' as const) : ('cleared' as const), endedAtMs: atMs };
  });
  const open = new Set(log.filter((e) => !e.ended).map((e) => alarmKey(e.alarm)));
  const added = Object.values(active)
    .filter((a) => !open.has(alarmKey(a)))
    .map((a) => ({ key: entryKey(a), alarm: a }));
  if (added.length > 0) log = mergeNewestFirst(added, log);
  return { active, log, alarmsKnown: true };
}

function mergeNewestFirst(added: AlarmEntry[], log: readonly AlarmEntry[]): AlarmEntry[] {
  const all = [...added, ...log];
  all.sort((x, y) => y.alarm.tsMs - x.alarm.tsMs);
  return all.slice(0, ALARM_LOG_LIMIT);
}

/**
 * A transition found late (contract §8: decided when closed windows were
 * derived again, stamped with its window's time). It is history: it never
 * displaces a newer live alarm. A late raise is listed, and is active when
 * nothing is active for its rule (the gateway took it over as still
 * holding); a late clear ends the late raise it closes, or the active alarm
 * of its severity raised before it (the late readings showed it ended).
 */
function applyLateAlarm(state: TwinState, a: Alarm): TwinState {
  const key = alarmKey(a);
  const current = state.active[key];
  if (a.state === 'raised') {
    const log = mergeNewestFirst([{ key: entryKey(a), alarm: a }], state.log);
    const active = current ? state.active : { ...state.active, [key]: a };
    return { ...state, active, log, updates: state.updates + 1 };
  }
  const endsCurrent = current && current.severity === a.severity && current.tsMs <= a.tsMs;
  const active = { ...state.active };
  if (endsCurrent) delete active[key];
  let found = false;
  let log: AlarmEntry[] = state.log.map((e) => {
    if (found || e.ended || alarmKey(e.alarm) !== key || e.alarm.severity !== a.severity || e.alarm.tsMs > a.tsMs) return e;
    found = true;
    return { ...e, ended: 'cleared' as const, endedAtMs: a.tsMs };
  });
  if (!found) log = mergeNewestFirst([{ key: entryKey(a), alarm: a, ended: 'cleared', endedAtMs: a.tsMs }], log);
  return { ...state, active, log, updates: state.updates + 1 };
}

function applyAlarm(state: TwinState, a: Alarm): TwinState {
  if (a.late) return applyLateAlarm(state, a);
  const key = alarmKey(a);
  if (a.state === 'raised') {
    const current = state.active[key];
    // A redelivered raise (the snapshot already had it) changes nothing.
    if (current && current.severity === a.severity && current.tsMs === a.tsMs) return state;
    const log = state.log.map((e) => (!e.ended && alarmKey(e.alarm) === key ? { ...e, ended: 'superseded' as const, endedAtMs: a.tsMs } : e));
    return {
      ...state,
      active: { ...state.active, [key]: a },
      log: mergeNewestFirst([{ key: entryKey(a), alarm: a }], log),
      updates: state.updates + 1,
    };
  }
  const active = { ...state.active };
  delete active[key];
  let found = false;
  let log: AlarmEntry[] = state.log.map((e) => {
    if (e.ended || alarmKey(e.alarm) !== key) return e;
    found = true;
    return { ...e, ended: 'cleared' as const, endedAtMs: a.tsMs };
  });
  // A clear whose raise we never saw is still news: list it, already ended.
  if (!found) log = mergeNewestFirst([{ key: entryKey(a), alarm: a, ended: 'cleared', endedAtMs: a.tsMs }], log);
  return { ...state, active, log, updates: state.updates + 1 };
}

/**
 * Applies one event. Messages of another park are ignored (a socket is per
 * park, but a stale message after switching parks must not leak in). Older
 * windows never replace newer ones (a late `vitals` after a snapshot).
 */
export function reduceTwin(state: TwinState, event: TwinEvent, clockMs: number): TwinState {
  switch (event.type) {
    case 'connection':
      return event.state === state.connection ? state : { ...state, connection: event.state };
    case 'snapshot': {
      if (event.parkId !== state.parkId) return state;
      return {
        ...state,
        connection: 'open',
        nowAtMs: clockMs,
        nowT: event.t,
        park: event.now.park,
        buildings: event.now.buildings,
        vitals: event.vitals && isNewer(event.vitals, state.vitals) ? event.vitals : state.vitals,
        ...withActiveSet(state, event.alarms, clockMs),
        updates: state.updates + 1,
      };
    }
    case 'now':
      if (event.parkId !== state.parkId) return state;
      return { ...state, nowAtMs: clockMs, nowT: event.t, park: event.park, buildings: event.buildings, updates: state.updates + 1 };
    case 'vitals':
      if (event.parkId !== state.parkId || !isNewer(event, state.vitals)) return state;
      return {
        ...state,
        vitals: { parkId: event.parkId, window: event.window, park: event.park, buildings: event.buildings },
        updates: state.updates + 1,
      };
    case 'alarm':
      if (event.alarm.parkId !== state.parkId) return state;
      return applyAlarm(state, event.alarm);
    case 'vitals-loaded':
      if (!event.vitals || !isNewer(event.vitals, state.vitals)) return state;
      return { ...state, vitals: event.vitals };
    case 'alarms-loaded':
      // The socket's snapshot is fresher than a REST answer that raced it.
      if (state.alarmsKnown) return state;
      return { ...state, ...withActiveSet(state, event.alarms, event.atMs) };
    default:
      return state;
  }
}

/**
 * Whether what is on screen may no longer be true: the socket is not open,
 * or no `now` for more than {@link STALE_AFTER_MS} (contract §7 promises one
 * at least once a second).
 */
export function isStale(state: TwinState, clockMs: number, limitMs = STALE_AFTER_MS): boolean {
  if (state.connection !== 'open') return true;
  return state.nowAtMs === null || clockMs - state.nowAtMs > limitMs;
}

/**
 * A building's status (contract §6: the worst active alarm in scope): from
 * the active alarms once they are known, else from the last window's
 * `status`, else undefined.
 */
export function buildingStatus(state: TwinState, buildingId: string): VitalStatus | undefined {
  let s: VitalStatus | undefined = state.alarmsKnown ? 'ok' : state.vitals?.buildings[buildingId]?.status;
  // for-in, not Object.values: called per building per message, it must not allocate.
  for (const k in state.active) {
    const a = state.active[k];
    if (a.building === buildingId) s = worstStatus(s ?? 'ok', a.severity);
  }
  return s;
}

/** Worst severity among a building's active alarms, or undefined when none (drives the highlight). */
export function alarmSeverity(state: TwinState, buildingId: string): Severity | undefined {
  let s: Severity | undefined;
  for (const k in state.active) {
    const a = state.active[k];
    if (a.building !== buildingId) continue;
    if (!s || a.severity === 'critical') s = a.severity;
  }
  return s;
}

/** Counts of active alarms by severity. */
export function activeCounts(state: TwinState): { warn: number; critical: number; total: number } {
  let warn = 0;
  let critical = 0;
  for (const a of Object.values(state.active)) {
    if (a.severity === 'critical') critical++;
    else warn++;
  }
  return { warn, critical, total: warn + critical };
}

/**
 * The worst active trends alarm of a building (contract §8: demand
 * forecast, stuck meter, night base load): the anomaly its marker shows.
 */
export function anomalyOf(state: TwinState, buildingId: string): Alarm | undefined {
  let worst: Alarm | undefined;
  for (const a of Object.values(state.active)) {
    if (a.building !== buildingId || !(TREND_RULES as readonly string[]).includes(a.rule)) continue;
    if (!worst || (a.severity === 'critical' && worst.severity !== 'critical')) worst = a;
  }
  return worst;
}

/** Human name of an alarm rule (contract §6, and the trends rules of §8). */
export const RULE_LABEL: Readonly<Record<AlarmRule, string>> = {
  demand: 'Demand over contract',
  co2: 'Indoor CO₂',
  crowding: 'Crowding',
  offline: 'Sensors offline',
  demand_forecast: 'Demand forecast',
  stuck_meter: 'Stuck meter',
  baseload: 'Night base load',
};
