import { ParkIndex, Reading } from '@park/telemetry';
import { activeAlarmsOf, alarmKey, AlarmState, alarmStateOf, applyForeignTransition, applyStatus, evaluateAlarms, NO_ALARMS } from './alarm-rules';
import { IntervalRule, spreadInterval } from './energy';
import { nowState, NowSnapshot } from './now-state';
import { ParkLayout, parkLayout, SensorSlot, slotOf } from './park-layout';
import { firstIndexAtOrAfter, insertSample, lastIndexBefore, Sample, sampleOf, Series, trimSeries } from './reading-series';
import { assembleVitals, offlineAlarmRatio, WindowSnapshot, windowSnapshotter } from './scope-vitals';
import { Alarm, ParkVitals, VitalSigns, Window } from './vital-signs';
import { VitalsEvent } from './vitals-event';
import { DEFAULT_WINDOW_MS, windowStartMs } from './window';

/** Default allowed lateness: readings up to 30 s behind the newest time seen still count live. */
export const DEFAULT_ALLOWED_LATENESS_MS = 30_000;
/** Default revision horizon: closed windows of the last hour can still be revised. */
export const DEFAULT_REVISION_HORIZON_MS = 3_600_000;

export interface VitalsEngineOptions {
  /** Window length, ms (contract §6: one minute). */
  windowMs?: number;
  /** How far behind the newest event time a reading may arrive and still be derived live. */
  allowedLatenessMs?: number;
  /**
   * How long closed windows are kept so that an interval completed later
   * (a meter back after a gap) can revise them. 0 keeps none.
   */
  revisionHorizonMs?: number;
  /**
   * Start of the first window the engine produces (rounded down to a window
   * start). Default: the window of the first time seen (reading or clock)
   * minus the allowed lateness.
   */
  startMs?: number;
  /** Alarms active when the engine starts (e.g. read back after a restart). */
  activeAlarms?: Iterable<Alarm>;
  /**
   * How long (clock time) no reading at all may arrive before the park
   * counts as silent: the watermark then follows the clock alone, so that
   * windows close and `offline` is raised (contract §6) although no reading
   * time moves it. Default: the allowed lateness.
   */
  idleMs?: number;
}

/**
 * What `ingest` did with a reading:
 * - `accepted`: it counts (a same-timestamp reading with new field values is merged, later value winning);
 * - `duplicate`: the same sensor, timestamp and values were already there; nothing changed;
 * - `late`: older than the oldest open window. Its windows are closed: the
 *   engine does not derive them again (the gateway re-derives them from the
 *   stored readings, contract §8 "late readings"); it keeps the reading only
 *   as context of the open windows (a register's previous value, a held count);
 * - `unregistered`: the park model does not list this sensor (or lists it under another kind); ignored.
 */
export type IngestResult = 'accepted' | 'duplicate' | 'late' | 'unregistered';

/** A window closed and kept for revision: what it was derived from and what was published. */
interface ClosedWindow {
  window: Window;
  snapshot: WindowSnapshot;
  /** Per sensor: shares of the intervals that ended before the open windows, summed in time order. */
  settled: Float64Array;
  /** As last published (closing or revision), status included. */
  vitals: ParkVitals;
}

function chainBefore(s: Series, rule: IntervalRule, tsMs: number): Sample | undefined {
  for (let i = lastIndexBefore(s, tsMs); i >= 0; i--) if (rule.inChain(s[i])) return s[i];
  return undefined;
}

function chainAtOrAfter(s: Series, rule: IntervalRule, tsMs: number): Sample | undefined {
  for (let i = firstIndexAtOrAfter(s, tsMs); i < s.length; i++) if (rule.inChain(s[i])) return s[i];
  return undefined;
}

function sameSigns(a: VitalSigns, b: VitalSigns): boolean {
  const ka = Object.keys(a) as Array<keyof VitalSigns>;
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function sameVitals(a: ParkVitals, b: ParkVitals): boolean {
  return sameSigns(a.park, b.park) && Object.keys(a.buildings).every((id) => sameSigns(a.buildings[id], b.buildings[id]));
}

/**
 * Live derivation of a park's vital signs (contract §6) over tumbling
 * event-time windows.
 *
 * Readings may arrive in any order within the allowed lateness. The
 * watermark is `min(newest reading time, clock) − allowedLatenessMs`
 * (contract §8 "time": a reading stamped ahead of the gateway clock never
 * moves it past the clock, and windows wait for readings that are slow to
 * arrive); a window closes once the watermark reaches its end. When no
 * reading has arrived for `idleMs` of clock time the park is silent, and the
 * clock alone moves the watermark (`clock − allowedLatenessMs`): windows
 * still close, and `offline` is raised, when every sensor is silent.
 *
 * State is bounded: per sensor, the readings of the open windows plus the
 * latest earlier reading carrying each field; the closed windows of the
 * revision horizon; the active alarms. Open windows hold no state of their
 * own: a window is derived when it closes, by the same functions as
 * {@link computeVitals}, so in-order data gives the same values bit for bit.
 *
 * An interval between two readings of a meter is spread over the windows it
 * overlaps. When its later reading arrives after some of those windows have
 * closed, the engine emits a `revision` of each such window still within the
 * revision horizon (older ones: a `recompute-needed`). Revisions never
 * re-decide alarms: an alarm is a fact of the moment it was raised.
 */
export class ParkVitalsEngine {
  readonly parkId: string;
  readonly windowMs: number;
  readonly allowedLatenessMs: number;
  readonly revisionHorizonMs: number;

  private readonly layout: ParkLayout;
  private readonly series: Series[];
  private readonly snapshot: (w: Window) => WindowSnapshot;
  private readonly ruled: SensorSlot[];
  private openStart: number | undefined;
  readonly idleMs: number;
  private maxTsMs = -Infinity;
  private clockMs = -Infinity;
  /** Clock time of the last `advance` after which a reading had arrived (or of the first `advance`). */
  private lastArrivalMs = -Infinity;
  private arrived = false;
  /** Time of the oldest reading the engine ever had (ingested, seeded or as context); windows that end before it are not derived. */
  private firstDataMs = Infinity;
  private readonly closed: ClosedWindow[] = [];
  private dirtyFromMs = Infinity;
  private pending: VitalsEvent[] = [];
  private alarms: AlarmState;

  constructor(
    readonly index: ParkIndex,
    opts: VitalsEngineOptions = {},
  ) {
    this.parkId = index.model.id;
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.allowedLatenessMs = opts.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
    this.revisionHorizonMs = opts.revisionHorizonMs ?? DEFAULT_REVISION_HORIZON_MS;
    this.idleMs = opts.idleMs ?? this.allowedLatenessMs;
    this.layout = parkLayout(index);
    this.series = this.layout.sensors.map(() => []);
    this.snapshot = windowSnapshotter(this.layout, this.series, () => this.firstDataMs);
    this.ruled = this.layout.sensors.filter((s) => s.rule);
    this.alarms = opts.activeAlarms ? alarmStateOf(opts.activeAlarms) : NO_ALARMS;
    if (opts.startMs !== undefined) this.open(windowStartMs(opts.startMs, this.windowMs));
  }

  /** Start of the oldest open window; readings before it are late. Undefined until the first reading or clock tick. */
  get openWindowStartMs(): number | undefined {
    return this.openStart;
  }

  /**
   * `min(newest reading time, clock) − allowed lateness` (contract §8), or
   * `clock − allowed lateness` once the park is silent (see `idleMs`);
   * -Infinity before a reading and a clock time were both seen.
   */
  get watermarkMs(): number {
    const eventMs = Math.min(this.maxTsMs, this.clockMs);
    const silent = this.clockMs - this.lastArrivalMs >= this.idleMs;
    return (silent ? Math.max(eventMs, this.clockMs) : eventMs) - this.allowedLatenessMs;
  }

  /** Size of the engine's state, for health reporting and the bounded-state tests. */
  stats(): { samples: number; closedWindows: number; activeAlarms: number } {
    return {
      samples: this.series.reduce((n, s) => n + s.length, 0),
      closedWindows: this.closed.length,
      activeAlarms: this.alarms.size,
    };
  }

  /** The alarms active after the last closed window. */
  activeAlarms(): Alarm[] {
    return activeAlarmsOf(this.alarms);
  }

  /**
   * Takes a transition of a rule this engine does not decide (the trends
   * rules of contract §8), so that it counts in the `status` of the next
   * windows (contract §6: the worst active alarm in scope) and is listed
   * with the active alarms. Transitions of the engine's own rules are
   * ignored: only the engine decides those.
   */
  noteAlarm(alarm: Alarm): void {
    this.alarms = applyForeignTransition(this.alarms, alarm);
  }

  /**
   * Makes an alarm active that the engine's own windows did not raise: one
   * found while re-deriving closed windows from late readings (contract §8)
   * and still holding at the first open window. The engine then clears it
   * like its own when the condition ends. Refused (false) when the building
   * already has an alarm of that rule: the live one stands.
   */
  adoptAlarm(alarm: Alarm): boolean {
    const key = alarmKey(alarm);
    if (alarm.state !== 'raised' || alarm.parkId !== this.parkId || this.alarms.has(key)) return false;
    const next = new Map(this.alarms);
    next.set(key, alarm);
    this.alarms = next;
    return true;
  }

  /**
   * Drops an active alarm whose end was found while re-deriving closed
   * windows (contract §8) and written there: the alarm of the clear's
   * building and rule, if it has the clear's severity and was raised before
   * it. No transition is emitted (the clear is recorded already).
   */
  dropAlarm(cleared: Alarm): boolean {
    const key = alarmKey(cleared);
    const active = this.alarms.get(key);
    if (!active || active.severity !== cleared.severity || active.tsMs >= cleared.tsMs) return false;
    const next = new Map(this.alarms);
    next.delete(key);
    this.alarms = next;
    return true;
  }

  /** Takes one validated reading (contract §3). Never throws. */
  ingest(reading: Reading): IngestResult {
    if (reading.park === this.parkId) this.arrived = true;
    const slot = slotOf(this.layout, reading);
    if (!slot) return 'unregistered';
    if (this.openStart === undefined) this.open(windowStartMs(reading.tsMs - this.allowedLatenessMs, this.windowMs));
    const openStart = this.openStart as number;
    if (reading.tsMs < openStart) {
      this.keepAsContext(slot, reading, openStart);
      return 'late';
    }
    const s = this.series[slot.index];
    const rule = slot.rule;
    const succBefore = rule ? chainAtOrAfter(s, rule, openStart) : undefined;
    const outcome = insertSample(s, sampleOf(reading, slot.fields));
    if (outcome === 'duplicate') return 'duplicate';
    if (reading.tsMs > this.maxTsMs) this.maxTsMs = reading.tsMs;
    if (reading.tsMs < this.firstDataMs) this.firstDataMs = reading.tsMs;
    if (rule) {
      const at = firstIndexAtOrAfter(s, reading.tsMs);
      const stored = s[at];
      if (rule.inChain(stored)) {
        if (!succBefore || reading.tsMs <= succBefore.tsMs) this.openIntervalChanged(slot, succBefore !== undefined);
        this.checkSteps(slot, rule, at);
      }
    }
    return 'accepted';
  }

  /**
   * A late reading: stored by the gateway and derived again from storage for
   * its closed windows; here it only serves the open windows as context (the
   * interval from it to a sensor's first reading in the open windows, the
   * count or power it holds), exactly as a recompute would use it. The
   * series keeps only what the open windows need.
   */
  private keepAsContext(slot: SensorSlot, reading: Reading, openStart: number): void {
    const s = this.series[slot.index];
    if (insertSample(s, sampleOf(reading, slot.fields)) === 'duplicate') return;
    if (reading.tsMs < this.firstDataMs) this.firstDataMs = reading.tsMs;
    trimSeries(s, openStart, slot.fields);
  }

  /** Contract §8: reports the register steps into and out of the chain sample at `at` that are implausible. */
  private checkSteps(slot: SensorSlot, rule: IntervalRule, at: number): void {
    const s = this.series[slot.index];
    const b = s[at];
    let a: Sample | undefined;
    for (let i = at - 1; i >= 0 && !a; i--) if (rule.inChain(s[i])) a = s[i];
    let c: Sample | undefined;
    for (let i = at + 1; i < s.length && !c; i++) if (rule.inChain(s[i])) c = s[i];
    for (const step of [a && rule.implausible(a, b), c && rule.implausible(b, c)]) {
      if (step) this.pending.push({ type: 'implausible', parkId: this.parkId, building: slot.building, sensor: slot.model.id, step });
    }
  }

  /**
   * Gives the engine readings from before its first window as context (the
   * previous register value, the held power, the last count), e.g. queried
   * from InfluxDB at start-up, so that the first windows match a recompute
   * and sensors that reported recently are not taken for offline. Readings
   * inside the open windows are ingested as usual.
   */
  seed(readings: Iterable<Reading>): void {
    for (const r of readings) {
      const slot = slotOf(this.layout, r);
      if (!slot) continue;
      if (this.openStart !== undefined && r.tsMs >= this.openStart) this.ingest(r);
      else insertSample(this.series[slot.index], sampleOf(r, slot.fields));
      if (r.tsMs < this.firstDataMs) this.firstDataMs = r.tsMs;
    }
    if (this.openStart !== undefined) this.trimAll(this.openStart);
  }

  /**
   * Moves the clock to `nowMs` and closes every window the watermark has
   * passed. Returns, in order: pending `recompute-needed` and `implausible`
   * notices, revisions of earlier windows, then for each closed window its
   * `vitals` followed by its `alarm` transitions. Windows without any reading still close
   * (energy 0, `online_ratio` by the silence rule).
   */
  advance(nowMs: number): VitalsEvent[] {
    if (nowMs > this.clockMs) this.clockMs = nowMs;
    if (this.arrived || this.lastArrivalMs === -Infinity) {
      this.lastArrivalMs = this.clockMs;
      this.arrived = false;
    }
    if (this.openStart === undefined) this.open(windowStartMs(nowMs - this.allowedLatenessMs, this.windowMs));
    return this.drain(this.watermarkMs);
  }

  /** Closes every window up to the one holding the newest reading (end of a finite stream). */
  flush(): VitalsEvent[] {
    const end = this.maxTsMs > -Infinity ? windowStartMs(this.maxTsMs, this.windowMs) + this.windowMs : -Infinity;
    return this.drain(Math.max(end, this.watermarkMs));
  }

  /** The instantaneous state at `nowMs` (contract §7 `now`). */
  now(nowMs: number): NowSnapshot {
    return nowState(this.layout, this.series, nowMs);
  }

  private open(startMs: number): void {
    this.openStart = startMs;
    this.trimAll(startMs);
  }

  private trimAll(keepFromMs: number): void {
    for (const slot of this.layout.sensors) trimSeries(this.series[slot.index], keepFromMs, slot.fields);
  }

  private drain(untilMs: number): VitalsEvent[] {
    const events = this.pending;
    this.pending = [];
    events.push(...this.revisions());
    const silent = this.clockMs - this.lastArrivalMs >= this.idleMs;
    while (this.openStart !== undefined && this.openStart + this.windowMs <= untilMs) {
      // A window that ended before the first reading the engine ever had
      // (it started before its devices, on an empty database) holds nothing
      // to derive: every sensor would be "offline" in it, falsely. Skipped,
      // unless the park is silent (then offline is the truth).
      if (!silent && this.openStart + this.windowMs <= this.firstDataMs) {
        // Windows closed before it (silent ones) are before the first data
        // too: nothing can revise them, and the kept run must stay contiguous.
        this.closed.length = 0;
        this.open(this.openStart + this.windowMs);
      } else events.push(...this.closeOldest());
    }
    return events;
  }

  /** The interval from a sensor's last reading before the open windows to its first one in them changed. */
  private openIntervalChanged(slot: SensorSlot, hadSuccessor: boolean): void {
    const openStart = this.openStart as number;
    const s = this.series[slot.index];
    const rule = slot.rule as IntervalRule;
    const anchor = chainBefore(s, rule, openStart);
    if (!anchor) return;
    const fromMs = windowStartMs(anchor.tsMs, this.windowMs);
    const keptFromMs = this.closed.length ? this.closed[0].window.startMs : openStart;
    if (fromMs < keptFromMs) {
      const succ = chainAtOrAfter(s, rule, openStart) as Sample;
      const lost = rule.share(anchor, succ, { startMs: anchor.tsMs, endMs: keptFromMs });
      if (lost > 0 || hadSuccessor) {
        this.pending.push({
          type: 'recompute-needed', parkId: this.parkId, building: slot.building, sensor: slot.model.id,
          fromMs, toMs: keptFromMs,
        });
      }
    }
    const dirtyMs = Math.max(fromMs, keptFromMs);
    if (dirtyMs < openStart && dirtyMs < this.dirtyFromMs) this.dirtyFromMs = dirtyMs;
  }

  /** Per-sensor shares of closed window `k`: settled intervals, then the interval still open across `openStart`. */
  private sharesOf(k: number): Float64Array {
    const e = this.closed[k];
    const shares = Float64Array.from(e.settled);
    const openStart = this.openStart as number;
    for (const slot of this.ruled) {
      const s = this.series[slot.index];
      const rule = slot.rule as IntervalRule;
      const a = chainBefore(s, rule, openStart);
      const b = a && chainAtOrAfter(s, rule, openStart);
      if (a && b && a.tsMs < e.window.endMs && b.tsMs > e.window.startMs) shares[slot.index] += rule.share(a, b, e.window);
    }
    return shares;
  }

  /** Folds the intervals of a sensor that end inside `w` (the window being closed) into the closed windows they overlap. */
  private settleIntervals(slot: SensorSlot, w: Window): void {
    const s = this.series[slot.index];
    const rule = slot.rule as IntervalRule;
    const first = this.closed[0].window.startMs;
    const count = this.closed.length;
    const settled = this.closed.map((c) => c.settled);
    const add = (k: number, v: number): void => {
      settled[k][slot.index] += v;
    };
    let j = lastIndexBefore(s, w.startMs);
    while (j >= 0 && !rule.inChain(s[j])) j--;
    let a = j >= 0 ? s[j] : undefined;
    for (j++; j < s.length; j++) {
      const b = s[j];
      if (b.tsMs >= w.endMs) break;
      if (!rule.inChain(b)) continue;
      if (a) spreadInterval(rule, a, b, first, this.windowMs, count, add);
      a = b;
    }
  }

  private closeOldest(): VitalsEvent[] {
    const startMs = this.openStart as number;
    const w: Window = { startMs, endMs: startMs + this.windowMs };
    const entry: ClosedWindow = {
      window: w,
      snapshot: this.snapshot(w),
      settled: new Float64Array(this.layout.sensors.length),
      vitals: undefined as unknown as ParkVitals,
    };
    this.closed.push(entry);
    for (const slot of this.ruled) this.settleIntervals(slot, w);
    this.openStart = w.endMs;
    const vitals = assembleVitals(this.layout, w, this.sharesOf(this.closed.length - 1), entry.snapshot);
    const step = evaluateAlarms(this.index, this.alarms, vitals, { offlineRatio: offlineAlarmRatio(this.layout, entry.snapshot) });
    this.alarms = step.state;
    entry.vitals = applyStatus(vitals, this.alarms);
    this.trimAll(w.endMs);
    while (this.closed.length && this.closed[0].window.endMs <= w.endMs - this.revisionHorizonMs) this.closed.shift();
    return [
      { type: 'vitals', vitals: structuredClone(vitals) },
      ...step.transitions.map((alarm): VitalsEvent => ({ type: 'alarm', alarm })),
    ];
  }

  private revisions(): VitalsEvent[] {
    const fromMs = this.dirtyFromMs;
    this.dirtyFromMs = Infinity;
    if (fromMs === Infinity || this.closed.length === 0) return [];
    const events: VitalsEvent[] = [];
    const first = Math.max(0, (fromMs - this.closed[0].window.startMs) / this.windowMs);
    for (let k = first; k < this.closed.length; k++) {
      const e = this.closed[k];
      const v = assembleVitals(this.layout, e.window, this.sharesOf(k), e.snapshot);
      v.park.status = e.vitals.park.status;
      for (const id of Object.keys(v.buildings)) v.buildings[id].status = e.vitals.buildings[id].status;
      if (sameVitals(v, e.vitals)) continue;
      e.vitals = v;
      events.push({ type: 'revision', vitals: structuredClone(v) });
    }
    return events;
  }
}
