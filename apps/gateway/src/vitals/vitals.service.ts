import { Alarm, NowSnapshot, ParkVitals, ParkVitalsEngine, readingsRangeFor, VitalsEvent, windowStartMs } from '@park/metrics';
import { ParkIndex, Reading } from '@park/telemetry';
import { ParkOwnership } from '../cluster/park-ownership';
import { Clock, sleep, TimerHandle } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { alarmLine, vitalsLines } from '../influx/line-protocol';
import { InfluxQuery } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { LogThrottle } from '../observability/log.throttle';
import { Logger } from '../observability/logger';
import { ParkRegistry } from '../park/park.registry';
import { PointSink } from '../sink/point-sink';
import { DEFAULT_LATE_WINDOWS_OPTIONS, LateWindowsDeriver } from './late-windows.deriver';
import { queryActiveAlarms, queryReadings } from './stored-readings';
import { VitalsReadModel } from './vitals.read-model';

/** How often the clock advances the engines (closes windows) and `now` may go out. */
export const TICK_MS = 250;
/** The longest gap derived when a park is taken up (acceptance horizon); older gaps need `npm run recompute`. */
export const CATCH_UP_MAX_MS = 7 * 86_400_000;
/** `now` goes out at least this often (contract §7: at least once a second). */
export const NOW_MAX_INTERVAL_MS = 1000;
/** How far back the context of a park's first windows is read (a register's previous value, a held count). */
export const SEED_LOOKBACK_MS = 15 * 60_000;
/**
 * When gateways share the parks, a new owner waits this long before it reads
 * the park's recent readings from InfluxDB: the other gateways' sinks flush
 * every INFLUX_FLUSH_MS (200 ms), so what they ingested before this gateway
 * took the park is stored by then.
 */
export const TAKE_OVER_SETTLE_MS = 1500;
/** Readings held while a park's derivation starts (its context is being read), at most. */
export const MAX_STARTING_BUFFER = 200_000;
/**
 * A gap of missed windows up to this long is derived by the engine itself,
 * which starts at the first missed window: devices that buffered while no
 * gateway took their readings deliver them into open windows, not late.
 * Older missed windows are derived from storage first.
 */
export const LIVE_GAP_MS = 15 * 60_000;


interface ParkState {
  index: ParkIndex;
  /** Undefined while starting: readings wait in `buffer`. */
  engine?: ParkVitalsEngine;
  buffer: Reading[];
  latest?: ParkVitals;
  lastNowAt: number;
  dirty: boolean;
  /** Clock time of the last late reading: until a revision horizon later, revisions are derived from storage. */
  lastLateAtMs: number;
  /** Set when this gateway stops deriving the park (it is handed over): no more windows are closed. */
  stopping: boolean;
  /** Clock time before which no window closes (START_HOLD_MS after the start). */
  holdUntilMs: number;
}

/**
 * Runs the live derivation (libs/metrics) of the parks this gateway owns
 * (all of them, unless gateways share them: {@link ParkOwnership}):
 * `readings` (and `forwarded-readings` from other gateways) feed the engines;
 * a clock tick closes windows; each closed window becomes `vitals` points and
 * a `vitals` event, each alarm transition an `alarms` point and an `alarm`
 * event; `now` is published when readings changed it (at most every TICK_MS)
 * and at least once a second, while anyone subscribes.
 *
 * Closed windows that readings arrive for late, and windows missed while no
 * gateway derived the park, are derived again from the stored readings by
 * the {@link LateWindowsDeriver} (contract §8). It never calls another
 * feature: what it makes goes to the sink and the bus; what others read of
 * it goes through {@link VitalsReadModel}.
 */
export class VitalsService implements VitalsReadModel {
  private readonly parks = new Map<string, ParkState>();
  private readonly subscriptions: Unsubscribe[] = [];
  /** A glitching fleet (or a replay of one) must not become a flood of log lines: each step is counted and listed in /api/health anyway. */
  private readonly implausibleLog: LogThrottle;
  private timer?: TimerHandle;
  readonly late: LateWindowsDeriver;

  constructor(
    private readonly registry: ParkRegistry,
    private readonly bus: GatewayBus,
    private readonly sink: PointSink,
    private readonly influx: InfluxQuery,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly config: GatewayConfig,
    private readonly clock: Clock,
    private readonly ownership: ParkOwnership,
  ) {
    this.implausibleLog = new LogThrottle(20, 10_000, clock, (n) =>
      this.log.warn({ suppressed: n, periodS: 10 }, `${n} more implausible register steps were not logged one by one (see gateway_readings_implausible_total and /api/health)`),
    );
    this.late = new LateWindowsDeriver(
      influx,
      sink,
      {
        frontierMs: (parkId) => this.parks.get(parkId)?.engine?.openWindowStartMs,
        adoptAlarm: (parkId, alarm) => this.parks.get(parkId)?.engine?.adoptAlarm(alarm) ?? false,
        dropAlarm: (parkId, cleared) => this.parks.get(parkId)?.engine?.dropAlarm(cleared) ?? false,
        rederived: (vitals) => {
          const p = this.parks.get(vitals.parkId);
          if (p?.latest && p.latest.window.startMs === vitals.window.startMs) p.latest = vitals;
          this.bus.publish('vitals', { vitals, revision: true });
        },
        lateAlarm: (alarm) => this.alarm(alarm),
        implausible: (parkId, building, sensor, step) => this.implausible(parkId, building, sensor, step),
      },
      metrics,
      log,
      clock,
      { ...DEFAULT_LATE_WINDOWS_OPTIONS, windowMs: config.vitals.windowMs },
    );
  }

  /** Starts deriving the parks this gateway owns (all of them when it is alone) and follows ownership on each tick. */
  async start(): Promise<void> {
    this.subscriptions.push(
      this.bus.subscribe('readings', (readings) => this.onReadings(readings)),
      this.bus.subscribe('forwarded-readings', (readings) => this.onReadings(readings)),
      // Alarms of the trends rules (contract §8) count in `status` (contract
      // §6: the worst active alarm in scope) and in the active alarms.
      this.bus.subscribe('alarm', ({ alarm }) => this.parks.get(alarm.parkId)?.engine?.noteAlarm(alarm)),
    );
    this.late.start();
    await Promise.all(this.registry.all().filter((p) => this.ownership.owns(p.model.id)).map((p) => this.startPark(p)));
    this.timer = this.clock.setInterval(() => this.tick(), TICK_MS);
    this.metrics.gauges.gateway_vitals_engine_samples = { help: 'Readings held by the vitals engines (bounded state).', read: () => [...this.parks.values()].reduce((n, p) => n + (p.engine?.stats().samples ?? 0), 0) };
    this.metrics.gauges.gateway_vitals_parks_derived = { help: 'Parks whose vitals this gateway derives now.', read: () => [...this.parks.values()].filter((p) => p.engine).length };
  }

  /**
   * Takes a park up (at start, or from another gateway). The windows since
   * the last stored one were derived by no gateway (this one was down, or
   * the park's previous owner stopped): up to LIVE_GAP_MS of them the engine
   * derives itself, starting at the first missed window; older ones are
   * derived from storage first, their alarms included (marked late), and the
   * engine starts from the alarms active after them. Its context (previous
   * register values, held counts, the readings of the windows it derives)
   * is read from InfluxDB: the first windows match a recompute, sensors that
   * reported just before are not taken for offline, and alarms go on as if
   * one gateway had derived everything. Readings that arrive meanwhile wait,
   * then are ingested in order of arrival; no window closes during
   * VITALS_START_HOLD_MS.
   */
  private async startPark(index: ParkIndex): Promise<void> {
    const parkId = index.model.id;
    const state: ParkState = { index, buffer: [], lastNowAt: 0, dirty: true, lastLateAtMs: -Infinity, stopping: false, holdUntilMs: Infinity };
    this.parks.set(parkId, state);
    const { windowMs, allowedLatenessMs, idleMs } = this.config.vitals;
    if (this.ownership.shared) await sleep(this.clock, TAKE_OVER_SETTLE_MS);
    const nowMs = this.clock.now();
    let startMs = windowStartMs(nowMs - allowedLatenessMs, windowMs);
    let activeAlarms: Alarm[] = [];
    let context: Reading[] = [];
    try {
      activeAlarms = await queryActiveAlarms(this.influx, index);
      const missedFromMs = await this.firstMissedWindow(index);
      if (missedFromMs !== undefined && missedFromMs < startMs) {
        const liveFromMs = Math.max(missedFromMs, startMs - Math.ceil(LIVE_GAP_MS / windowMs) * windowMs);
        if (missedFromMs < liveFromMs) activeAlarms = await this.catchUp(index, missedFromMs, liveFromMs);
        startMs = liveFromMs;
        this.log.info({ park: parkId, from: new Date(liveFromMs).toISOString() }, 'vitals windows were missed while no gateway derived the park; the engine derives them from the first missed one');
      }
      const range = readingsRangeFor(index, { fromMs: startMs - windowMs, toMs: nowMs }, SEED_LOOKBACK_MS);
      context = await queryReadings(this.influx, index, range.fromMs, nowMs + 1);
    } catch (e) {
      this.log.warn({ park: parkId, err: (e as Error).message }, 'cannot read recent readings and alarms from InfluxDB; vitals start without history (run `npm run recompute` over any gap)');
    }
    if (state.stopping) return;
    const engine = new ParkVitalsEngine(index, { windowMs, allowedLatenessMs, idleMs, activeAlarms, startMs });
    engine.seed(context);
    state.engine = engine;
    // Time for devices to reconnect and send what they buffered while no
    // gateway took their readings (MQTT.js reconnects every second): the
    // first windows are not closed without it (a false offline on restart).
    state.holdUntilMs = this.clock.now() + this.config.vitals.startHoldMs;
    const waiting = state.buffer;
    state.buffer = [];
    this.ingest(state, waiting);
    this.log.info({ park: parkId, windowMs, allowedLatenessMs, firstWindow: new Date(startMs).toISOString(), seededReadings: context.length, activeAlarms: activeAlarms.length, heldReadings: waiting.length }, 'vitals derivation started');
  }

  /** Start of the first window after the last stored `vitals` window; undefined on a database without any. */
  private async firstMissedWindow(index: ParkIndex): Promise<number | undefined> {
    const series = await this.influx.query(`SELECT last("energy_kwh") FROM "vitals" WHERE "park" = ${influxString(index.model.id)} AND "scope" = 'park'`);
    const lastMs = series[0]?.values[0]?.[0] as number | undefined;
    return lastMs === undefined ? undefined : lastMs + this.config.vitals.windowMs;
  }

  /**
   * Derives the missed windows `[fromMs, untilMs)` from storage (at most the
   * 7 days before `untilMs`); returns the alarms active after them.
   */
  private async catchUp(index: ParkIndex, fromMs: number, untilMs: number): Promise<Alarm[]> {
    if (untilMs - fromMs > CATCH_UP_MAX_MS) {
      this.log.warn({ park: index.model.id, from: new Date(fromMs).toISOString() }, 'vitals are missing for more than 7 days; deriving the last 7 days only: run `npm run recompute` for the rest');
      fromMs = untilMs - CATCH_UP_MAX_MS;
    }
    this.log.info({ park: index.model.id, from: new Date(fromMs).toISOString(), to: new Date(untilMs).toISOString() }, 'deriving missed vitals windows from the stored readings');
    return this.late.deriveGap(index, fromMs, untilMs);
  }

  /**
   * Stops deriving a park (ownership moved away): no more windows are
   * closed (the last tick closed what the clock allowed); late windows
   * gathered for it are derived first; the sink is flushed, and
   * `derivation-stopped` tells from which window on this gateway derived
   * nothing.
   */
  private async stopPark(p: ParkState): Promise<void> {
    const parkId = p.index.model.id;
    p.stopping = true;
    await this.late.flushPark(parkId, 10_000);
    this.late.forget(parkId);
    if (this.parks.get(parkId) === p) this.parks.delete(parkId);
    const untilMs = p.engine?.openWindowStartMs;
    await this.sink.flush();
    this.log.info({ park: parkId, until: untilMs === undefined ? undefined : new Date(untilMs).toISOString() }, 'vitals derivation stopped: the park is derived by another gateway');
    this.bus.publish('derivation-stopped', { parkId, untilMs: untilMs ?? this.clock.now() });
  }

  /** Closes what the clock allows, stops taking readings, and waits (up to `waitMs`) for late windows being derived. */
  async stop(waitMs = 5_000): Promise<void> {
    for (const u of this.subscriptions.splice(0)) u();
    this.clock.clearInterval(this.timer);
    this.tick();
    this.late.pump();
    // Bounded: a stop never waits on InfluxDB past `waitMs` (the sink's close
    // leaves what it cannot send in the write-ahead log).
    const deadlineMs = this.clock.now() + waitMs;
    if (!this.late.isIdle) await this.within(this.late.whenIdle(), deadlineMs);
    // Late windows not derived by now are named, for `npm run recompute`; the raw readings are stored.
    for (const left of this.late.stop()) {
      const from = new Date(left.fromMs).toISOString();
      const to = new Date(left.toMs).toISOString();
      this.log.warn({ park: left.park, from, to }, `late windows not derived again before the stop; derive them with: npm run recompute -- --park ${left.park} --from ${from} --to ${to}`);
    }
    // What this gateway stored is in InfluxDB before its parks are handed over, if InfluxDB takes it in time.
    await this.within(this.sink.flush(), deadlineMs);
  }

  private async within(p: Promise<void>, deadlineMs: number): Promise<void> {
    let timer: TimerHandle | undefined;
    await Promise.race([p, new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, Math.max(0, deadlineMs - this.clock.now()))))]);
    this.clock.clearTimeout(timer);
  }

  private onReadings(readings: readonly Reading[]): void {
    let p: ParkState | undefined;
    let batch: Reading[] | undefined;
    for (const r of readings) {
      if (p?.index.model.id !== r.park) {
        if (p && batch) this.ingest(p, batch);
        p = this.parks.get(r.park);
        batch = [];
      }
      batch?.push(r);
    }
    if (p && batch) this.ingest(p, batch);
  }

  private ingest(p: ParkState, readings: readonly Reading[]): void {
    if (p.stopping) return;
    const engine = p.engine;
    if (!engine) {
      if (p.buffer.length + readings.length <= MAX_STARTING_BUFFER) p.buffer.push(...readings);
      else this.log.warn({ park: p.index.model.id, dropped: readings.length }, 'too many readings while the park starts; they are stored, but these windows lack them until recomputed');
      return;
    }
    for (const r of readings) {
      const res = engine.ingest(r);
      if (res === 'accepted') p.dirty = true;
      else if (res === 'late') {
        this.metrics.lateReadings++;
        p.lastLateAtMs = this.clock.now();
        this.late.noteLateReading(p.index, r.building, r.sensor, r.tsMs);
      }
    }
  }

  /** One clock step: follow ownership, close windows, publish `now`. Never throws. */
  tick(): void {
    const nowMs = this.clock.now();
    for (const index of this.registry.all()) {
      const parkId = index.model.id;
      const p = this.parks.get(parkId);
      const owns = this.ownership.owns(parkId);
      if (owns && !p) void this.startPark(index);
      else if (!owns && p && !p.stopping) void this.stopPark(p);
    }
    for (const p of this.parks.values()) {
      const engine = p.engine;
      if (!engine || p.stopping) continue;
      if (nowMs < p.holdUntilMs) {
        this.publishNow(p, engine, nowMs);
        continue;
      }
      try {
        this.handle(p, engine.advance(nowMs));
        this.publishNow(p, engine, nowMs);
      } catch (e) {
        this.log.error({ park: p.index.model.id, err: (e as Error).stack }, 'vitals derivation failed for this tick');
      }
    }
  }

  /** `now` when readings changed it (at most every tick) and at least once a second, while anyone listens. */
  private publishNow(p: ParkState, engine: ParkVitalsEngine, nowMs: number): void {
    if (!p.dirty && nowMs - p.lastNowAt < NOW_MAX_INTERVAL_MS) return;
    p.dirty = false;
    p.lastNowAt = nowMs;
    if (this.bus.hasSubscribers('now')) this.bus.publish('now', { parkId: p.index.model.id, atMs: nowMs, state: engine.now(nowMs) });
  }

  private handle(p: ParkState, events: VitalsEvent[]): void {
    const windowMs = this.config.vitals.windowMs;
    for (const ev of events) {
      switch (ev.type) {
        case 'vitals':
          p.latest = ev.vitals;
          this.sink.write(vitalsLines(ev.vitals, windowMs));
          this.bus.publish('vitals', { vitals: ev.vitals, revision: false });
          break;
        case 'revision':
          // After late readings the engine's closed windows lack them: such
          // a window is derived again from storage instead (contract §8).
          if (this.clock.now() - p.lastLateAtMs < (p.engine?.revisionHorizonMs ?? 0)) {
            this.late.markWindows(p.index, ev.vitals.window.startMs, ev.vitals.window.endMs);
            break;
          }
          // Same window, corrected totals: overwrite the stored point.
          this.sink.write(vitalsLines(ev.vitals, windowMs));
          if (p.latest && p.latest.window.startMs === ev.vitals.window.startMs) p.latest = ev.vitals;
          this.bus.publish('vitals', { vitals: ev.vitals, revision: true });
          break;
        case 'alarm': {
          const line = alarmLine(ev.alarm);
          if (line) this.sink.write([line]);
          this.alarm(ev.alarm);
          break;
        }
        case 'implausible':
          this.implausible(ev.parkId, ev.building, ev.sensor, ev.step);
          break;
        case 'recompute-needed':
          // An interval reached into windows the engine no longer keeps (older
          // than its revision horizon, or closed before it took the park up):
          // they are derived again from storage.
          this.late.markWindows(p.index, ev.fromMs, ev.toMs);
          this.log.info({ park: ev.parkId, building: ev.building, sensor: ev.sensor, from: new Date(ev.fromMs).toISOString(), to: new Date(ev.toMs).toISOString() }, 'readings completed an interval reaching into windows closed earlier; deriving them again from the stored readings');
          break;
      }
    }
  }

  /** Publishes an alarm transition (already written). */
  private alarm(a: Alarm): void {
    this.bus.publish('alarm', { alarm: a });
    this.log.warn({ park: a.parkId, building: a.building, rule: a.rule, severity: a.severity, state: a.state, value: a.value, late: a.late }, `alarm ${a.state}${a.late ? ' (late)' : ''}: ${a.message}`);
  }

  /** Contract §8: an implausible register step, counted and listed once. */
  private implausible(parkId: string, building: string, sensor: string, step: { field: string; toTsMs: number; increase: number; limit: number }): void {
    if (!this.registry.noteImplausible(parkId, building, sensor, step.field, step.toTsMs, step.increase, step.limit)) return;
    this.metrics.implausibleReadings++;
    if (this.implausibleLog.take()) this.log.warn({ park: parkId, building, sensor, field: step.field, at: new Date(step.toTsMs).toISOString(), increase: step.increase, limit: step.limit }, 'implausible register step: counted 0, the register continues from the new value');
  }

  latest(parkId: string): ParkVitals | undefined {
    return this.parks.get(parkId)?.latest;
  }

  activeAlarms(parkId: string): Alarm[] {
    return this.parks.get(parkId)?.engine?.activeAlarms() ?? [];
  }

  now(parkId: string, atMs: number): NowSnapshot | undefined {
    return this.parks.get(parkId)?.engine?.now(atMs);
  }
}
