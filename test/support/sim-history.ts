/**
 * Days of simulated park history in process, fast: the simulator's
 * messages are parsed as the gateway parses them (libs/telemetry) and
 * derived by the gateway's own engine (libs/metrics `ParkVitalsEngine`,
 * one-minute windows), with no broker and no database in between. The
 * backfill command, the trends accuracy bench and the trends tests use it.
 */
import { ParkVitals, ParkVitalsEngine, QUARTER_MS, SeriesPoint } from '@park/metrics';
import { ParkSimulator, Scenario, TruthWindow } from '@park/park-sim';
import { ParkIndex, parsePayload, parseTopic, Reading } from '@park/telemetry';

export interface SimHistoryOptions {
  seed: number;
  fromMs: number;
  toMs: number;
  scenarios?: readonly Scenario[];
  /** Simulated time per step of the loop (default 10 min). */
  stepMs?: number;
  /** Accepted readings of each step, in sending order. */
  onReadings?: (readings: Reading[]) => void;
  /** Each closed window (revisions included, flagged), in order. */
  onVitals?: (v: ParkVitals, revision: boolean) => void;
  /** Ground-truth windows as they become final. */
  onTruth?: (w: TruthWindow[]) => void;
  /** The simulated time reached, after each step. */
  onStep?: (tMs: number) => void;
}

/**
 * The simulator and the engine over a range, stepped by the caller
 * (`advanceTo`), so a caller can do asynchronous work (writes) between steps.
 */
export class HistorySimulator {
  readonly sim: ParkSimulator;
  private readonly engine: ParkVitalsEngine;
  private t: number;
  /** Accepted readings so far. */
  readings = 0;

  constructor(
    readonly index: ParkIndex,
    private readonly o: SimHistoryOptions,
  ) {
    this.sim = new ParkSimulator(index.model, { seed: o.seed, startMs: o.fromMs, scenarios: o.scenarios });
    // Lateness as the gateway's default; the clock is the simulated time.
    this.engine = new ParkVitalsEngine(index, { windowMs: 60_000, allowedLatenessMs: 30_000, startMs: o.fromMs });
    this.t = o.fromMs;
  }

  /** Whether the range is done. */
  get done(): boolean {
    return this.t >= this.o.toMs;
  }

  /** Simulates and derives up to `tMs` (at most `toMs`), in steps of `stepMs`. */
  advanceTo(tMs: number): void {
    const step = this.o.stepMs ?? 600_000;
    while (this.t < Math.min(tMs, this.o.toMs)) {
      const until = Math.min(this.t + step, tMs, this.o.toMs);
      const readings: Reading[] = [];
      for (const m of this.sim.stepUntil(until - 1)) {
        if (m.kind === 'malformed') continue;
        const topic = parseTopic(m.topic);
        if (!topic.ok) continue;
        const parsed = parsePayload(m.payload, topic.address, m.topic, m.sendAtMs, { maxFutureMs: Infinity, maxAgeMs: Infinity });
        for (const r of parsed.readings) {
          readings.push(r);
          this.engine.ingest(r);
        }
      }
      this.readings += readings.length;
      this.o.onReadings?.(readings);
      for (const ev of this.engine.advance(until)) {
        if (ev.type === 'vitals') this.o.onVitals?.(ev.vitals, false);
        else if (ev.type === 'revision') this.o.onVitals?.(ev.vitals, true);
      }
      this.o.onTruth?.(this.sim.drainTruth(until >= this.o.toMs));
      this.t = until;
      this.o.onStep?.(until);
    }
  }
}

/** Runs the simulator over `[fromMs, toMs)` and derives its vitals; returns the reading count. */
export function simulateHistory(index: ParkIndex, o: SimHistoryOptions): number {
  const h = new HistorySimulator(index, o);
  h.advanceTo(o.toMs);
  return h.readings;
}

/**
 * Quarter-hour mean `load_kw` per scope (`''` = park) from one-minute
 * windows, as the gateway's `GROUP BY time(15m)` roll-up gives it.
 */
export class QuarterLoads {
  private readonly sums = new Map<string, Map<number, [number, number]>>();

  add(scope: string, windowStartMs: number, loadKw: number): void {
    const q = Math.floor(windowStartMs / QUARTER_MS) * QUARTER_MS;
    let m = this.sums.get(scope);
    if (!m) this.sums.set(scope, (m = new Map()));
    const a = m.get(q) ?? [0, 0];
    a[0] += loadKw;
    a[1]++;
    m.set(q, a);
  }

  /** The windows of a closed vitals window, every scope. */
  addVitals(v: ParkVitals): void {
    this.add('', v.window.startMs, v.park.load_kw);
    for (const [b, s] of Object.entries(v.buildings)) this.add(b, v.window.startMs, s.load_kw);
  }

  series(scope: string, fromMs = -Infinity, toMs = Infinity): SeriesPoint[] {
    return [...(this.sums.get(scope) ?? new Map<number, [number, number]>()).entries()]
      .filter(([t]) => t >= fromMs && t < toMs)
      .sort((a, b) => a[0] - b[0])
      .map(([tMs, [s, n]]) => ({ tMs, value: s / n }));
  }
}

/**
 * Quarter-hour ground-truth load per scope from the simulator's truth
 * windows: the grid energy that physically flowed, over the quarter's hours.
 */
export class QuarterTruth {
  private readonly kwh = new Map<string, Map<number, number>>();

  add(windows: readonly TruthWindow[]): void {
    for (const w of windows) {
      const q = Math.floor(Date.parse(w.windowStart) / QUARTER_MS) * QUARTER_MS;
      for (const scope of ['', w.building]) {
        let m = this.kwh.get(scope);
        if (!m) this.kwh.set(scope, (m = new Map()));
        m.set(q, (m.get(q) ?? 0) + w.energy_kwh);
      }
    }
  }

  series(scope: string, fromMs: number, toMs: number): SeriesPoint[] {
    return [...(this.kwh.get(scope) ?? new Map<number, number>()).entries()]
      .filter(([t]) => t >= fromMs && t < toMs)
      .sort((a, b) => a[0] - b[0])
      .map(([tMs, e]) => ({ tMs, value: e / (QUARTER_MS / 3_600_000) }));
  }
}
