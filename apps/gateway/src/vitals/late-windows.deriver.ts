import { Alarm, ImplausibleStep, lateAlarms, ParkVitals, silenceLimitMs, windowStartMs } from '@park/metrics';
import { ParkIndex } from '@park/telemetry';
import { Clock, sleep, TimerHandle } from '../core/clock';
import { alarmLine } from '../influx/line-protocol';
import { InfluxQuery } from '../influx/influx.ports';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PointSink } from '../sink/point-sink';
import { DirtySpans, DirtyWork, spansOf, WindowSpan } from './dirty-spans';
import { isWindowStored, queryActiveAlarms, queryAlarmTransitions, queryChainNeighbours } from './stored-readings';
import { deriveRange } from './vitals-recompute';

/** How the deriver paces itself. */
export interface LateWindowsOptions {
  windowMs: number;
  /**
   * Work waits until no late reading of the park arrived for this long (ms),
   * so that a burst is coalesced and its windows are derived once it is in.
   */
  settleMs: number;
  /**
   * While late readings keep arriving, work waits at most this long after
   * the first dirty span (ms); such a run writes the windows' vitals only,
   * and leaves their alarms to a run once the readings stop (see
   * {@link LateWindowsDeriver}).
   */
  maxWaitMs: number;
  /**
   * Alarms left to a later run are settled at the latest this long after
   * (ms), readings still arriving or not: then only up to the earliest of
   * the still-active spans' sensors' latest readings.
   */
  maxAlarmWaitMs: number;
  /** Parks re-derived at the same time, at most. */
  maxConcurrent: number;
  /** Chunk length: the longest the event loop is held by one derivation step is about one chunk's computation. */
  chunkMs: number;
  /** How far back (and ahead) a late reading's register neighbours are looked for; as the recompute's context (1 h). */
  neighbourLookMs: number;
  /** Oldest window re-derived, relative to the frontier: the acceptance horizon (contract §3: 7 days). */
  horizonMs: number;
  /** Delay before a failed re-derivation is tried again (ms). */
  retryMs: number;
}

export const DEFAULT_LATE_WINDOWS_OPTIONS: Omit<LateWindowsOptions, 'windowMs'> = {
  settleMs: 1000,
  maxWaitMs: 10_000,
  maxAlarmWaitMs: 120_000,
  maxConcurrent: 2,
  chunkMs: 2 * 3_600_000,
  neighbourLookMs: 3_600_000,
  horizonMs: 7 * 86_400_000,
  retryMs: 5000,
};

/** What the deriver needs from the live derivation of the parks (the vitals service). */
export interface LateWindowsHost {
  /**
   * Start of the first window the park's live engine has not closed, or
   * undefined when this gateway does not derive the park (the work is then
   * dropped: its owner derives it).
   */
  frontierMs(parkId: string): number | undefined;
  /** Hands an alarm found late and still holding to the live engine; false when it does not take it. */
  adoptAlarm(parkId: string, alarm: Alarm): boolean;
  /** Tells the live engine that an alarm it may hold was found ended (a late clear, written); false when it holds no such alarm. */
  dropAlarm(parkId: string, cleared: Alarm): boolean;
  /** A window derived again and written. */
  rederived(vitals: ParkVitals): void;
  /** An alarm transition found late and written. */
  lateAlarm(alarm: Alarm): void;
  /** An implausible register step found in re-derived windows (contract §8). */
  implausible(parkId: string, building: string, sensor: string, step: ImplausibleStep): void;
}

interface ParkWork {
  park: ParkIndex;
  dirty: DirtySpans;
  /** Clock time of the first span gathered since the last run; undefined when clean. */
  dirtySinceMs?: number;
  /** Clock time of the park's latest late reading. */
  lastLateMs: number;
  /** Windows whose vitals were derived while late readings still arrived: their alarms are still to settle. */
  alarmsPending: DirtySpans;
  /** Clock time windows were first left in `alarmsPending`; undefined when none are. */
  alarmsPendingSinceMs?: number;
  /** Derive all that is gathered, alarms included, without waiting for readings still arriving (a hand-over). */
  force: boolean;
  notBeforeMs: number;
  running: boolean;
  /** The spans the run under way derives. */
  runningSpans?: WindowSpan[];
}

/**
 * Contract §8, late readings: closed windows that readings arrived for (up
 * to the 7-day acceptance horizon), windows of a gap, and windows a live
 * revision would have to correct after late readings, are derived again from
 * the readings stored in InfluxDB, without any command, so that their
 * `vitals` points equal a recompute of the stored readings.
 *
 * Batched and bounded: per park, what arrives is gathered as a few merged
 * spans ({@link DirtySpans}) and taken at once when no late reading arrived
 * for `settleMs`; at most `maxConcurrent` parks are derived at a time, one
 * run per park,
 * chunk by chunk, the event loop free between chunks, so live windows keep
 * closing. Before deriving, the sink is flushed: the late readings are then
 * queryable.
 *
 * An upload still under way (a device sending its buffer, sensor after
 * sensor or chunk after chunk): the windows' vitals are written every
 * `maxWaitMs` (each run derives what arrived since the last one), but
 * their alarms are settled only once the readings stop: before, a sensor
 * whose part has not come yet would look offline. After `maxAlarmWaitMs`
 * they are settled anyway, up to the earliest of the active spans'
 * sensors' latest readings.
 *
 * Alarm transitions found in re-derived windows that storage does not hold
 * yet (see `lateAlarms` in libs/metrics) are written and pushed with their
 * window time and `late: true`; one still holding at the frontier is handed
 * to the live engine (which clears it when the condition ends), or dropped
 * when the live engine has an alarm of that rule: no duplicate of what the
 * live path raised.
 */
export class LateWindowsDeriver {
  private readonly parks = new Map<string, ParkWork>();
  private timer?: TimerHandle;
  private running = 0;
  private stopped = false;
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly influx: InfluxQuery,
    private readonly sink: PointSink,
    private readonly host: LateWindowsHost,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly opts: LateWindowsOptions,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => this.pump(), Math.max(50, Math.min(500, this.opts.settleMs)));
  }

  /**
   * Starts no more runs; a run under way stops after its current chunk
   * (what it wrote is kept). Returns the spans left underived, per park, so
   * the stop can name them: `npm run recompute` derives them.
   */
  stop(): Array<{ park: string; fromMs: number; toMs: number }> {
    this.stopped = true;
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
    const left: Array<{ park: string; fromMs: number; toMs: number }> = [];
    for (const [park, w] of this.parks) {
      const spans = [...w.dirty.peek(), ...w.alarmsPending.peek()];
      if (w.running) spans.push(...(w.runningSpans ?? []));
      if (spans.length === 0) continue;
      left.push({ park, fromMs: Math.min(...spans.map((x) => x.fromMs)), toMs: Math.max(...spans.map((x) => x.toMs)) });
    }
    return left;
  }

  /** A reading that arrived after its window closed. */
  noteLateReading(park: ParkIndex, building: string, sensor: string, tsMs: number): void {
    const w = this.work(park);
    const nowMs = this.clock.now();
    w.dirty.addReading(`${building}/${sensor}`, tsMs, nowMs);
    w.dirtySinceMs ??= nowMs;
    w.lastLateMs = nowMs;
  }

  /** Windows `[fromMs, toMs)` to derive again as they are (a gap, a revision after late readings). */
  markWindows(park: ParkIndex, fromMs: number, toMs: number): void {
    if (toMs <= fromMs) return;
    const w = this.work(park);
    w.dirty.addWindows(fromMs, toMs);
    w.dirtySinceMs ??= this.clock.now();
  }

  /** Drops what was gathered for a park (this gateway no longer derives it). */
  forget(parkId: string): void {
    const w = this.parks.get(parkId);
    if (!w) return;
    w.dirty.take();
    w.dirtySinceMs = undefined;
    w.alarmsPending.take();
    w.alarmsPendingSinceMs = undefined;
  }

  /**
   * Derives what is gathered for a park now (not waiting for the settle
   * time) and resolves when it is done, or after `maxMs`: a park handed over
   * leaves no late windows behind.
   */
  async flushPark(parkId: string, maxMs: number): Promise<void> {
    const w = this.parks.get(parkId);
    if (!w) return;
    const deadline = this.clock.now() + maxMs;
    w.force = true;
    try {
      while ((w.running || !w.dirty.isEmpty || !w.alarmsPending.isEmpty) && this.clock.now() < deadline) {
        this.pump();
        await sleep(this.clock, 50);
      }
    } finally {
      w.force = false;
    }
  }

  /** Whether nothing is gathered or running. */
  get isIdle(): boolean {
    return this.running === 0 && [...this.parks.values()].every((w) => w.dirty.isEmpty && w.alarmsPending.isEmpty);
  }

  /** Resolves once nothing is gathered or running (for shutdown and tests). */
  whenIdle(): Promise<void> {
    return this.isIdle ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  private work(park: ParkIndex): ParkWork {
    let w = this.parks.get(park.model.id);
    if (!w) {
      w = {
        park,
        dirty: new DirtySpans(this.opts.windowMs * 60),
        alarmsPending: new DirtySpans(this.opts.windowMs * 60),
        notBeforeMs: 0,
        running: false,
        lastLateMs: -Infinity,
        force: false,
      };
      this.parks.set(park.model.id, w);
    }
    return w;
  }

  /** Starts the runs that are due, within the concurrency bound. */
  pump(): void {
    if (this.stopped) return;
    const nowMs = this.clock.now();
    for (const w of this.parks.values()) {
      if (this.running >= this.opts.maxConcurrent) break;
      const mode = this.due(w, nowMs);
      if (!mode) continue;
      const work = w.dirty.take();
      w.dirtySinceMs = undefined;
      if (mode === 'all') {
        work.windows.push(...w.alarmsPending.take().windows);
        w.alarmsPendingSinceMs = undefined;
      }
      w.running = true;
      w.runningSpans = spansOf(work);
      this.running++;
      void this.run(w, work, mode).finally(() => {
        w.running = false;
        w.runningSpans = undefined;
        this.running--;
        if (this.isIdle) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  /**
   * Whether a park's run is due, and what it settles: `all` (vitals and
   * alarms: the late readings stopped, or a hand-over, or alarms waited
   * `maxAlarmWaitMs`) or `vitals` (late readings still arriving, the first
   * of them waiting for `maxWaitMs`).
   */
  private due(w: ParkWork, nowMs: number): 'all' | 'vitals' | undefined {
    if (w.running || nowMs < w.notBeforeMs) return undefined;
    if (w.dirtySinceMs === undefined && w.alarmsPendingSinceMs === undefined) return undefined;
    if (w.force) return 'all';
    const quiet = nowMs - w.lastLateMs >= this.opts.settleMs && (w.dirtySinceMs === undefined || nowMs - w.dirtySinceMs >= this.opts.settleMs);
    if (quiet || (w.alarmsPendingSinceMs !== undefined && nowMs - w.alarmsPendingSinceMs >= this.opts.maxAlarmWaitMs)) return 'all';
    return w.dirtySinceMs !== undefined && nowMs - w.dirtySinceMs >= this.opts.maxWaitMs ? 'vitals' : undefined;
  }

  private async run(w: ParkWork, work: DirtyWork, mode: 'all' | 'vitals'): Promise<void> {
    const parkId = w.park.model.id;
    try {
      // The late readings (and the live points before them) must be in InfluxDB before it is asked.
      await this.sink.flush();
      const frontierMs = this.host.frontierMs(parkId);
      if (frontierMs === undefined) return;
      const ranges = await this.rangesOf(w.park, work, frontierMs, w.force ? Infinity : this.clock.now() - this.opts.settleMs);
      if (mode === 'vitals') {
        for (const r of ranges) await this.deriveVitals(w, r);
        return;
      }
      for (const r of ranges) {
        await this.rederive(
          w.park,
          r,
          frontierMs,
          { adopt: (a) => this.host.adoptAlarm(parkId, a), drop: (a) => this.host.dropAlarm(parkId, a) },
          r.alarmsToMs,
        );
      }
    } catch (e) {
      if (this.stopped) return;
      this.log.warn({ park: parkId, err: (e as Error).message }, `could not derive late windows again; trying again in ${this.opts.retryMs / 1000} s`);
      w.dirty.restore(work);
      w.dirtySinceMs ??= this.clock.now();
      w.notBeforeMs = this.clock.now() + this.opts.retryMs;
    }
  }

  /**
   * Derives a range for its vitals only, while late readings still arrive;
   * its alarms are left to a later run ({@link ParkWork.alarmsPending}).
   */
  private async deriveVitals(w: ParkWork, range: WindowSpan): Promise<void> {
    await deriveRange(this.influx, w.park, range, this.opts.windowMs, (lines) => this.sink.write(lines), {
      chunkMs: this.opts.chunkMs,
      onChunk: (c, res) => this.chunkDone(w.park.model.id, res),
    });
    w.alarmsPending.addWindows(range.fromMs, range.toMs);
    w.alarmsPendingSinceMs ??= this.clock.now();
    this.log.info(
      { park: w.park.model.id, from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString(), windows: (range.toMs - range.fromMs) / this.opts.windowMs },
      'derived closed windows again from the stored readings, their vitals only: late readings still arriving',
    );
  }

  /** After each chunk of a derivation: counts, tells the host, lets live windows close. */
  private async chunkDone(parkId: string, res: { vitals: ParkVitals[]; implausible: Array<{ building: string; sensor: string; step: ImplausibleStep }> }): Promise<void> {
    if (this.stopped) throw new Error('the gateway is stopping');
    this.metrics.rederivedWindows += res.vitals.length;
    for (const v of res.vitals) this.host.rederived(v);
    for (const x of res.implausible) this.host.implausible(parkId, x.building, x.sensor, x.step);
    await sleep(this.clock, 0);
  }

  /**
   * The windows to derive: each span of late readings widened to the
   * windows their intervals reach (back to each sensor's previous register
   * reading, on to its next one) and those whose held values they change
   * (the silence limit on); merged with the window spans; clamped below the
   * frontier (the live engine's windows) and to the acceptance horizon.
   *
   * A span that received readings after `activeSinceMs` may still be
   * receiving them (a device uploading its buffer, sensor after sensor):
   * its windows after the earliest of its sensors' latest readings may lack
   * readings on their way, so their alarms are not settled in this run
   * (`alarmsToMs`): a sensor not uploaded yet would look offline.
   */
  private async rangesOf(park: ParkIndex, work: DirtyWork, frontierMs: number, activeSinceMs: number): Promise<Array<WindowSpan & { alarmsToMs: number }>> {
    const windowMs = this.opts.windowMs;
    const limitOf = new Map<string, number>();
    for (const b of park.model.buildings) for (const s of b.sensors) limitOf.set(`${b.id}/${s.id}`, silenceLimitMs(s));
    const spans: Array<WindowSpan & { alarmsToMs: number }> = work.windows.map((s) => ({ ...s, alarmsToMs: Infinity }));
    for (const r of work.readings) {
      const neighbours = await queryChainNeighbours(this.influx, park, r.fromMs, r.toMs, this.opts.neighbourLookMs);
      let fromMs = windowStartMs(r.fromMs, windowMs);
      let toMs = windowStartMs(r.toMs, windowMs) + windowMs;
      for (const sensor of r.sensors.keys()) {
        const n = neighbours.get(sensor);
        if (n?.beforeMs !== undefined) fromMs = Math.min(fromMs, windowStartMs(n.beforeMs, windowMs));
        if (n?.afterMs !== undefined) toMs = Math.max(toMs, windowStartMs(n.afterMs, windowMs) + windowMs);
        toMs = Math.max(toMs, windowStartMs(r.toMs + (limitOf.get(sensor) ?? 0), windowMs) + windowMs);
      }
      let earliestLatestMs = Infinity;
      for (const latestMs of r.sensors.values()) earliestLatestMs = Math.min(earliestLatestMs, latestMs);
      const alarmsToMs = r.lastAddedMs > activeSinceMs ? windowStartMs(earliestLatestMs, windowMs) : Infinity;
      spans.push({ fromMs, toMs, alarmsToMs });
    }
    const oldestMs = windowStartMs(frontierMs - this.opts.horizonMs, windowMs);
    const merged: Array<WindowSpan & { alarmsToMs: number }> = [];
    for (const s of spans.sort((a, b) => a.fromMs - b.fromMs)) {
      const span = { fromMs: Math.max(windowStartMs(s.fromMs, windowMs), oldestMs), toMs: Math.min(s.toMs, frontierMs), alarmsToMs: s.alarmsToMs };
      if (span.toMs <= span.fromMs) continue;
      const last = merged[merged.length - 1];
      if (last && span.fromMs <= last.toMs) {
        last.toMs = Math.max(last.toMs, span.toMs);
        last.alarmsToMs = Math.min(last.alarmsToMs, span.alarmsToMs);
      } else merged.push(span);
    }
    return merged;
  }

  /**
   * Derives the windows `[fromMs, toMs)` that no gateway derived (this one
   * was down, or the park's previous owner stopped), before the live engine
   * takes the park up at `toMs`: their vitals and alarms are written (the
   * alarms marked late), and the alarms active after them are returned, for
   * the engine to start from, so that it goes on as if it had derived them.
   */
  async deriveGap(park: ParkIndex, fromMs: number, toMs: number): Promise<Alarm[]> {
    return this.rederive(park, { fromMs, toMs }, toMs, undefined);
  }

  /**
   * Derives one range again, writes it, and reconciles its alarms with those
   * stored. `live`: the park's live engine, which adopts alarms found late
   * that still hold at the frontier and drops those found ended; without
   * one, the alarms active at the range end are returned for an engine to
   * start from. Returns the alarms the re-derivation has active at its end.
   *
   * `alarmsToMs`: the alarms are settled only up to there (the windows after
   * it may still get readings); the windows after it are derived for their
   * vitals and marked to be derived again, alarms and all, in a later run,
   * from the raise of any alarm found late and still holding there.
   */
  private async rederive(
    park: ParkIndex,
    range: WindowSpan,
    frontierMs: number,
    live: { adopt(a: Alarm): boolean; drop(a: Alarm): boolean } | undefined,
    alarmsToMs = Infinity,
  ): Promise<Alarm[]> {
    const parkId = park.model.id;
    const windowMs = this.opts.windowMs;
    const firstMs = windowStartMs(range.fromMs, windowMs);
    const settledToMs = Math.max(firstMs, Math.min(range.toMs, alarmsToMs));
    const followToMs = Math.min(frontierMs, alarmsToMs);
    await this.sink.flush();
    const initial = await queryActiveAlarms(this.influx, park, range.fromMs + 1);
    const stored = await queryAlarmTransitions(this.influx, park, range.fromMs, frontierMs);
    const write = (lines: string[]) => this.sink.write(lines);
    const onChunk = (_c: unknown, res: { vitals: ParkVitals[]; implausible: Array<{ building: string; sensor: string; step: ImplausibleStep }> }) => this.chunkDone(parkId, res);
    let toMs = settledToMs;
    let res = settledToMs > firstMs
      ? await deriveRange(this.influx, park, { fromMs: firstMs, toMs: settledToMs }, windowMs, write, { chunkMs: this.opts.chunkMs, activeAlarms: initial, onChunk })
      : { alarms: [] as Alarm[], active: initial };
    const transitions = [...res.alarms];
    let late = lateAlarms(initial, stored, transitions);
    // An alarm found late that still holds at the range end, or a stored one
    // found ended: follow it over the stored windows after the range (their
    // status changes with it) until the states agree again or the live
    // engine's frontier is reached. Not over windows that were never derived
    // (the park was not served then): there the alarm would only say that
    // nothing was there.
    while ((late.open.length > 0 || late.ended.length > 0) && toMs < followToMs && (await isWindowStored(this.influx, park, toMs))) {
      const next = { fromMs: toMs, toMs: Math.min(followToMs, toMs + this.opts.chunkMs) };
      res = await deriveRange(this.influx, park, next, windowMs, write, { chunkMs: this.opts.chunkMs, activeAlarms: res.active, onChunk });
      transitions.push(...res.alarms);
      toMs = next.toMs;
      late = lateAlarms(initial, stored, transitions);
    }
    const atFrontier = toMs >= frontierMs;
    const taken = late.open.filter((a) => atFrontier && (live ? live.adopt(a) : true));
    if (live && atFrontier) for (const a of late.ended) live.drop(a);
    if (toMs < range.toMs && alarmsToMs < range.toMs) {
      // Readings may still be on their way for what follows: its vitals now,
      // its alarms (and those of an alarm found holding at the cut) later.
      await deriveRange(this.influx, park, { fromMs: toMs, toMs: range.toMs }, windowMs, write, { chunkMs: this.opts.chunkMs, activeAlarms: res.active, onChunk });
      const againMs = Math.min(toMs, ...late.open.map((a) => windowStartMs(a.tsMs - windowMs, windowMs)));
      this.markWindows(park, againMs, range.toMs);
      toMs = range.toMs;
    }
    for (const a of [...late.closed, ...late.ended, ...taken].sort((x, y) => x.tsMs - y.tsMs)) {
      const line = alarmLine(a);
      if (line) this.sink.write([line]);
      this.metrics.lateAlarms++;
      this.host.lateAlarm(a);
    }
    this.log.info(
      { park: parkId, from: new Date(range.fromMs).toISOString(), to: new Date(toMs).toISOString(), windows: (toMs - windowStartMs(range.fromMs, windowMs)) / windowMs, lateAlarms: late.closed.length + late.ended.length + taken.length },
      'derived closed windows again from the stored readings (late readings or a gap)',
    );
    return res.active;
  }
}
