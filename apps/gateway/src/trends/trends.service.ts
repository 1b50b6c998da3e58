import { Alarm, FORECAST_EVERY_MS, ForecastEvery, ParkTrendsEngine, PARK_SCOPE, QUARTER_MS, ScopeForecast, SeriesPoint, TREND_RULES } from '@park/metrics';
import { ParkIndex } from '@park/telemetry';
import { Clock, TimerHandle } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { alarmLine, encodeLine } from '../influx/line-protocol';
import { InfluxQuery } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';
import { Logger } from '../observability/logger';
import { ParkRegistry } from '../park/park.registry';
import { PointSink } from '../sink/point-sink';
import { VitalsReadModel } from '../vitals/vitals.read-model';

/** The `forecast` measurement (docs/contract.md §5 addition), written at each refit for Grafana. */
export const FORECAST_MEASUREMENT = 'forecast';

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** What a forecast request can get from the trends feature. */
export type ForecastAnswer =
  | { kind: 'ok'; generatedMs: number; points: Array<{ tMs: number; value: number; lo: number; hi: number }> }
  | { kind: 'too_little_history'; haveDays: number; needDays: number }
  | { kind: 'not_ready' };

/**
 * The trends feature's I/O (contract §8): one {@link ParkTrendsEngine} per
 * park (libs/metrics, pure) fed from the bus (`readings` for stuck meters,
 * closed `vitals` windows for the quarter-hour loads) and refitted on the
 * injected clock, at start and every `TRENDS_REFIT_MS` (default an hour),
 * never per request: a refit reads the 15-minute `load_kw` roll-up of the
 * last `TRENDS_HISTORY_DAYS` (default 28) from InfluxDB, one query per park.
 * Alarm transitions go to the sink (`alarms` points) and the bus (`alarm`),
 * like the vitals rules'. Only `vitals` windows decide alarms, and only the
 * gateway that derives a park publishes them, so with several gateways one
 * alarm is raised once.
 */
export class TrendsService {
  private readonly engines = new Map<string, ParkTrendsEngine>();
  private readonly unsubscribe: Unsubscribe[] = [];
  private timer?: TimerHandle;
  private first?: TimerHandle;
  private refitting?: Promise<void>;
  /** Parks fitted since their last closed window: `demand_forecast` is decided on the next one. */
  private readonly fitted = new Set<string>();

  constructor(
    private readonly registry: ParkRegistry,
    private readonly bus: GatewayBus,
    private readonly sink: PointSink,
    private readonly influx: InfluxQuery,
    private readonly vitals: VitalsReadModel,
    private readonly log: Logger,
    private readonly config: GatewayConfig,
    private readonly clock: Clock,
  ) {}

  start(): void {
    for (const index of this.registry.all()) {
      // Trends alarms still active from before a restart (the vitals engine read them back).
      const active = this.vitals.activeAlarms(index.model.id).filter((a) => (TREND_RULES as readonly string[]).includes(a.rule));
      this.engines.set(index.model.id, new ParkTrendsEngine(index, { historyDays: this.config.trends.historyDays, activeAlarms: active }));
    }
    this.unsubscribe.push(
      this.bus.subscribe('readings', (readings) => {
        for (const r of readings) this.engines.get(r.park)?.observeReading(r);
      }),
      // With several gateways (contract §8, scale-out), the readings of a
      // park that other gateways ingested reach its owner forwarded.
      this.bus.subscribe('forwarded-readings', (readings) => {
        for (const r of readings) this.engines.get(r.park)?.observeReading(r);
      }),
      this.bus.subscribe('vitals', ({ vitals, revision }) => {
        if (revision) return;
        const e = this.engines.get(vitals.parkId);
        if (!e) return;
        const transitions = e.observeVitals(vitals, this.clock.now());
        // A new fit is judged on the first window after it: only the gateway
        // that derives the park gets its windows, so one gateway decides.
        if (this.fitted.delete(vitals.parkId)) transitions.push(...e.evaluateDemandForecast(this.clock.now()));
        // After every subscriber has had the window: a live client gets the
        // `vitals` message first, then the alarms it decided (contract §7).
        if (transitions.length > 0) queueMicrotask(() => this.emit(transitions));
      }),
    );
    this.first = this.clock.setTimeout(() => void this.refit(), 0);
    this.timer = this.clock.setInterval(() => void this.refit(), this.config.trends.refitMs);
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.clock.clearTimeout(this.first);
    this.clock.clearInterval(this.timer);
  }

  /** Refits every park (one at a time; a refit still running is not started again). Resolves when done. */
  refit(): Promise<void> {
    this.refitting ??= this.refitAll().finally(() => (this.refitting = undefined));
    return this.refitting;
  }

  private async refitAll(): Promise<void> {
    for (const [parkId, engine] of this.engines) {
      const nowMs = this.clock.now();
      try {
        const toMs = Math.floor(nowMs / QUARTER_MS) * QUARTER_MS;
        const history = await this.quarterHours(engine.index, toMs - this.config.trends.historyDays * 86_400_000, toMs);
        for (const scope of engine.scopes()) engine.setHistory(scope, history.get(scope) ?? []);
        const fitted = engine.refit(nowMs);
        this.sink.write(this.forecastLines(engine, nowMs));
        this.fitted.add(parkId);
        this.log.info({ park: parkId, scopes: fitted.size, fitted: [...fitted.values()].filter((f) => f.models['15m']).length, historyDays: fitted.get(PARK_SCOPE)?.models['15m']?.historyDays ?? fitted.get(PARK_SCOPE)?.tooLittle?.haveDays }, 'trends: forecasts refitted');
      } catch (e) {
        this.log.warn({ park: parkId, err: (e as Error).message }, 'trends: could not read the load history from InfluxDB; forecasts keep their previous fit');
      }
    }
  }

  /** The mean `load_kw` per quarter hour of every scope of a park, from the stored one-minute windows. */
  private async quarterHours(index: ParkIndex, fromMs: number, toMs: number): Promise<Map<string, SeriesPoint[]>> {
    const series = await this.influx.query(
      `SELECT MEAN("load_kw") FROM "vitals" WHERE "park" = ${influxString(index.model.id)} AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(15m), "scope", "building" fill(none)`,
    );
    const out = new Map<string, SeriesPoint[]>();
    for (const s of series) {
      const scope = s.tags?.scope === 'park' ? PARK_SCOPE : (s.tags?.building ?? '');
      if (s.tags?.scope !== 'park' && !index.buildings.has(scope)) continue;
      const pts = s.values.filter((r) => typeof r[1] === 'number').map((r) => ({ tMs: r[0] as number, value: r[1] as number }));
      out.set(scope, [...(out.get(scope) ?? []), ...pts]);
    }
    return out;
  }

  /** The next 24 h of every scope's 15-min forecast, as `forecast` points (overwriting the previous fit's). */
  private forecastLines(engine: ParkTrendsEngine, nowMs: number): string[] {
    const lines: string[] = [];
    for (const scope of engine.scopes()) {
      for (const p of engine.forecast(scope, '15m', nowMs, 96) ?? []) {
        const line = encodeLine(
          FORECAST_MEASUREMENT,
          { park: engine.index.model.id, scope: scope === PARK_SCOPE ? 'park' : 'building', building: scope || undefined, every: '15m' },
          { load_kw: round3(p.value), load_kw_lo: round3(p.lo), load_kw_hi: round3(p.hi) },
          p.tMs,
        );
        if (line) lines.push(line);
      }
    }
    return lines;
  }

  private emit(transitions: Alarm[]): void {
    for (const a of transitions) {
      const line = alarmLine(a);
      if (line) this.sink.write([line]);
      this.bus.publish('alarm', { alarm: a });
      this.log.warn({ park: a.parkId, building: a.building, rule: a.rule, severity: a.severity, state: a.state, value: a.value }, `alarm ${a.state}: ${a.message}`);
    }
  }

  /**
   * The forecast of a scope (`building` undefined: the park) from the step
   * holding `fromMs`: `steps` points of `every`. Computed from the fitted
   * model; no fit happens here.
   */
  forecast(parkId: string, building: string | undefined, every: ForecastEvery, fromMs: number, steps: number): ForecastAnswer {
    const e = this.engines.get(parkId);
    const state: ScopeForecast | undefined = e?.forecastState(building ?? PARK_SCOPE);
    if (!e || !state || e.fittedAtMs === undefined) return { kind: 'not_ready' };
    if (state.tooLittle) return { kind: 'too_little_history', ...state.tooLittle };
    const points = e.forecast(building ?? PARK_SCOPE, every, Math.floor(fromMs / FORECAST_EVERY_MS[every]) * FORECAST_EVERY_MS[every], steps);
    if (!points) return { kind: 'too_little_history', haveDays: 0, needDays: 8 };
    return { kind: 'ok', generatedMs: e.fittedAtMs, points };
  }
}
