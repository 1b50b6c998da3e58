import { alarmKey } from './alarm-rules';
import { Alarm } from './vital-signs';

/**
 * One alarm of one severity from its raise to its clear: the unit in which
 * transitions found late are compared with those already stored.
 */
export interface AlarmEpisode {
  raised: Alarm;
  /** Undefined while it still holds at the end of what was evaluated. */
  cleared?: Alarm;
  /** It was active before the first transition (an evaluator's start state). */
  initial?: boolean;
}

/**
 * The episodes of a transition list, per building, rule and severity, in
 * the order they start. `initial` are the alarms active before the first
 * transition (an evaluator's start state): their episodes start at their
 * own raise time. A clear without a raise (its raise older than `initial`
 * knows) is ignored.
 */
export function alarmEpisodes(initial: Iterable<Alarm>, transitions: readonly Alarm[]): AlarmEpisode[] {
  const open = new Map<string, AlarmEpisode>();
  const all: AlarmEpisode[] = [];
  const keyOf = (a: Alarm) => `${alarmKey(a)}/${a.severity}`;
  const start = (a: Alarm, isInitial = false) => {
    const e: AlarmEpisode = isInitial ? { raised: a, initial: true } : { raised: a };
    open.set(keyOf(a), e);
    all.push(e);
  };
  for (const a of initial) if (a.state === 'raised') start(a, true);
  for (const a of transitions) {
    if (a.state === 'raised') {
      if (!open.has(keyOf(a))) start(a);
      continue;
    }
    const e = open.get(keyOf(a));
    if (!e) continue;
    e.cleared = a;
    open.delete(keyOf(a));
  }
  return all;
}

/**
 * Whether two episodes of the same building, rule and severity share a
 * window (an open one lasts for ever). An episode holds over the windows
 * ending in `[raised, cleared)`: a raise is stamped with the end of the first
 * window in alarm, a clear with the end of the first window out of it; one
 * that ends where the other begins shares no window with it.
 */
function overlap(a: AlarmEpisode, b: AlarmEpisode): boolean {
  const aEnd = a.cleared?.tsMs ?? Infinity;
  const bEnd = b.cleared?.tsMs ?? Infinity;
  return a.raised.tsMs < bEnd && b.raised.tsMs < aEnd;
}

/** What re-deriving windows found about alarms, against what is stored (see {@link lateAlarms}). */
export interface LateAlarms {
  /** Transitions of episodes found late that also ended within the range: write and push them. */
  closed: Alarm[];
  /**
   * Raises of episodes found late that still hold at the end of the range:
   * the live derivation should take them over (and will clear them); write
   * and push a raise only if it does.
   */
  open: Alarm[];
  /**
   * Clears of alarms that were active at the range start and that storage
   * has not cleared since, found ending in the range: write and push them;
   * the live derivation, which may still hold such an alarm, should drop it
   * (its end is now recorded).
   */
  ended: Alarm[];
}

/**
 * Contract §8, late readings: which alarm transitions found by re-deriving
 * a range of closed windows are new. Both sides start from the same alarms
 * (`initial`, active at the range start: those stored). `recomputed` are the
 * transitions the evaluator found over the range; `stored` those already in
 * storage from the range start on (live ones, and those found late before),
 * possibly past the range end.
 *
 * An episode found late is new when no stored episode of the same building,
 * rule and severity overlaps it: the live derivation may have raised the
 * same condition earlier or later (with less data), and a second raise of it
 * would be a duplicate. An alarm active at the start whose end the
 * re-derivation finds, and that storage has not cleared since, gets its
 * clear. Stored transitions the re-derivation does not find are left alone:
 * an alarm is a fact of the moment it was raised. New transitions are marked
 * `late: true`, in time order.
 */
export function lateAlarms(initial: readonly Alarm[], stored: readonly Alarm[], recomputed: readonly Alarm[]): LateAlarms {
  const keyOf = (e: AlarmEpisode) => `${alarmKey(e.raised)}/${e.raised.severity}`;
  const storedByKey = new Map<string, AlarmEpisode[]>();
  for (const e of alarmEpisodes(initial, stored)) storedByKey.set(keyOf(e), [...(storedByKey.get(keyOf(e)) ?? []), e]);
  const closed: Alarm[] = [];
  const open: Alarm[] = [];
  const ended: Alarm[] = [];
  const episodes = alarmEpisodes(initial, recomputed);
  for (const e of episodes) {
    if (!e.initial || !e.cleared) continue;
    // Stored already; only its end may be new: then storage has it end there too.
    const storedOne = (storedByKey.get(keyOf(e)) ?? []).find((s) => s.initial);
    if (!storedOne || storedOne.cleared) continue;
    storedOne.cleared = e.cleared;
    ended.push({ ...e.cleared, late: true });
  }
  for (const e of episodes) {
    if (e.initial || (storedByKey.get(keyOf(e)) ?? []).some((s) => overlap(s, e))) continue;
    if (e.cleared) closed.push({ ...e.raised, late: true }, { ...e.cleared, late: true });
    else open.push({ ...e.raised, late: true });
  }
  closed.sort((a, b) => a.tsMs - b.tsMs);
  return { closed, open, ended };
}
