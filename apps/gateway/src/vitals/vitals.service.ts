import { Alarm, NowSnapshot, ParkVitals, ParkVitalsEngine, readingsRangeFor, VitalsEvent } from '@park/metrics';
import { ParkIndex, Reading } from '@park/telemetry';
import { Clock, TimerHandle } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { alarmLine, vitalsLines } from '../influx/line-protocol';
import { InfluxQuery } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { ParkRegistry } from '../park/park-registry';
import { PointSink } from '../sink/point-sink';
import { queryActiveAlarms, queryReadings } from './stored-readings';
import { recomputeRange } from './vitals-recompute';
import { VitalsReadModel } from './vitals.read-model';

/** How often the clock advances the engines (closes windows) and `now` may go out. */
export const TICK_MS = 250;
/** The longest gap the start-up catch-up derives; older gaps need `npm run recompute`. */
export const CATCH_UP_MAX_MS = 7 * 86_400_000;
/** `now` goes out at least this often (contract §7: at least once a second). */
export const NOW_MAX_INTERVAL_MS = 1000;

interface ParkState {
  index: ParkIndex;
  engine: ParkVitalsEngine;
  latest?: ParkVitals;
  lastNowAt: number;
  dirty: boolean;
}

/**
 * Runs the live derivation (libs/metrics) for every park served: `readings`
 * from the bus feed the engines; a clock tick closes windows; each closed
 * window becomes `vitals` points and a `vitals` event, each alarm transition
 * an `alarms` point and an `alarm` event; `now` is published when readings
 * changed it (at most every TICK_MS) and at least once a second, while
 * anyone subscribes. It never calls another feature: what it makes goes to
 * the sink and the bus; what others read of it goes through
 * {@link VitalsReadModel}.
 */
export class VitalsService implements VitalsReadModel {
  private readonly parks = new Map<string, ParkState>();
  private unsubscribe?: Unsubscribe;
  private timer?: TimerHandle;

  constructor(
    private readonly registry: ParkRegistry,
    private readonly bus: GatewayBus,
    private readonly sink: PointSink,
    private readonly influx: InfluxQuery,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly config: GatewayConfig,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    const nowMs = this.clock.now();
    for (const index of this.registry.all()) {
      const { windowMs, allowedLatenessMs } = this.config.vitals;
      let activeAlarms: Alarm[] = [];
      let context: Reading[] = [];
      try {
        activeAlarms = await queryActiveAlarms(this.influx, index);
        // Context from before the first live window: previous register
        // values, held power and counts, so the first windows are exact and
        // sensors that reported recently are not taken for offline.
        const range = readingsRangeFor(index, { fromMs: nowMs - allowedLatenessMs - windowMs, toMs: nowMs }, 15 * 60_000);
        context = await queryReadings(this.influx, index, range.fromMs, nowMs + 1);
      } catch (e) {
        this.log.warn({ park: index.model.id, err: (e as Error).message }, 'cannot read recent readings and alarms from InfluxDB; vitals start without history');
      }
      const engine = new ParkVitalsEngine(index, { windowMs, allowedLatenessMs, activeAlarms, startMs: nowMs - allowedLatenessMs });
      engine.seed(context);
      this.parks.set(index.model.id, { index, engine, lastNowAt: 0, dirty: true });
      void this.catchUp(index, engine.openWindowStartMs ?? nowMs);
      this.log.info({ park: index.model.id, windowMs, allowedLatenessMs, seededReadings: context.length, activeAlarms: activeAlarms.length }, 'vitals derivation started');
    }
    const readings = this.bus.subscribe('readings', (r) => this.onReadings(r));
    // Alarms of the trends rules (contract §8) count in `status` (contract
    // §6: the worst active alarm in scope) and in the active alarms.
    const alarms = this.bus.subscribe('alarm', ({ alarm }) => this.parks.get(alarm.parkId)?.engine.noteAlarm(alarm));
    this.unsubscribe = () => {
      readings();
      alarms();
    };
    this.timer = this.clock.setInterval(() => this.tick(), TICK_MS);
    this.metrics.gauges.gateway_vitals_engine_samples = { help: 'Readings held by the vitals engines (bounded state).', read: () => [...this.parks.values()].reduce((n, p) => n + p.engine.stats().samples, 0) };
  }

  /**
   * Derives the windows between the last stored `vitals` window and the
   * engine's first one: those the gateway missed while it was down. Runs in
   * the background; its points go through the sink like live ones.
   */
  private async catchUp(index: ParkIndex, untilMs: number): Promise<void> {
    const windowMs = this.config.vitals.windowMs;
    try {
      const series = await this.influx.query(`SELECT last("energy_kwh") FROM "vitals" WHERE "park" = ${influxString(index.model.id)} AND "scope" = 'park'`);
      const lastMs = series[0]?.values[0]?.[0] as number | undefined;
      if (lastMs === undefined) return; // nothing derived yet: a new database
      let fromMs = lastMs + windowMs;
      if (fromMs >= untilMs) return;
      if (untilMs - fromMs > CATCH_UP_MAX_MS) {
        this.log.warn({ park: index.model.id, from: new Date(fromMs).toISOString() }, 'vitals are missing for more than 7 days; catching up the last 7 days only: run `npm run recompute` for the rest');
        fromMs = untilMs - CATCH_UP_MAX_MS;
      }
      const res = await recomputeRange(this.influx, index, { fromMs, toMs: untilMs }, windowMs, (lines) => this.sink.write(lines));
      this.log.info({ park: index.model.id, from: new Date(fromMs).toISOString(), to: new Date(untilMs).toISOString(), windows: res.windows, readings: res.readings }, 'derived the vitals windows missed while the gateway was down');
    } catch (e) {
      this.log.warn({ park: index.model.id, err: (e as Error).message }, 'could not catch up the vitals missed while the gateway was down; run `npm run recompute` over the gap');
    }
  }

  /** Closes what the clock allows, then stops. */
  stop(): void {
    this.unsubscribe?.();
    this.clock.clearInterval(this.timer);
    this.tick();
  }

  private onReadings(readings: readonly Reading[]): void {
    for (const r of readings) {
      const p = this.parks.get(r.park);
      if (!p) continue;
      const res = p.engine.ingest(r);
      if (res === 'late') this.metrics.lateReadings++;
      if (res === 'accepted') p.dirty = true;
    }
  }

  /** One clock step: close windows, publish `now`. Never throws. */
  tick(): void {
    const nowMs = this.clock.now();
    for (const p of this.parks.values()) {
      try {
        this.handle(p, p.engine.advance(nowMs));
        if (p.dirty || nowMs - p.lastNowAt >= NOW_MAX_INTERVAL_MS) {
          p.dirty = false;
          p.lastNowAt = nowMs;
          // The state is derived only when someone listens.
          if (this.bus.hasSubscribers('now')) this.bus.publish('now', { parkId: p.index.model.id, atMs: nowMs, state: p.engine.now(nowMs) });
        }
      } catch (e) {
        this.log.error({ park: p.index.model.id, err: (e as Error).stack }, 'vitals derivation failed for this tick');
      }
    }
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
          // Same window, corrected totals: overwrite the stored point.
          this.sink.write(vitalsLines(ev.vitals, windowMs));
          if (p.latest && p.latest.window.startMs === ev.vitals.window.startMs) p.latest = ev.vitals;
          this.bus.publish('vitals', { vitals: ev.vitals, revision: true });
          break;
        case 'alarm': {
          const line = alarmLine(ev.alarm);
          if (line) this.sink.write([line]);
          this.bus.publish('alarm', { alarm: ev.alarm });
          this.log.warn({ park: ev.alarm.parkId, building: ev.alarm.building, rule: ev.alarm.rule, severity: ev.alarm.severity, state: ev.alarm.state, value: ev.alarm.value }, `alarm ${ev.alarm.state}: ${ev.alarm.message}`);
          break;
        }
        case 'recompute-needed':
          this.log.warn({ park: ev.parkId, building: ev.building, sensor: ev.sensor, from: new Date(ev.fromMs).toISOString(), to: new Date(ev.toMs).toISOString() }, 'readings completed an interval older than the revision horizon; run `npm run recompute` over this range');
          break;
      }
    }
  }

  latest(parkId: string): ParkVitals | undefined {
    return this.parks.get(parkId)?.latest;
  }

  activeAlarms(parkId: string): Alarm[] {
    return this.parks.get(parkId)?.engine.activeAlarms() ?? [];
  }

  now(parkId: string, atMs: number): NowSnapshot | undefined {
    return this.parks.get(parkId)?.engine.now(atMs);
  }
}
