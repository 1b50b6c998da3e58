/**
 * Drives park simulators against the clock and hands their messages to
 * publishers. Time is injected (`now`, `sleep`), so the pacing rules below are
 * tested without waiting:
 *
 * - with `speed`: simulated time = start + wall time elapsed × speed;
 * - without: simulated time follows the wall clock, and whatever lies in the
 *   past (a `--from` before now) is sent first, as fast as the publishers
 *   accept it (backfill);
 * - either way, when the simulation is behind by more than one chunk it
 *   catches up chunk by chunk without sleeping.
 */
import { batchMessages, ParkSimulator, SimStats, TruthTotals, TruthWindow } from '@park/park-sim';

/** Where a park's messages go (an MqttPublisher, or a fake in tests). */
export interface MessageSink {
  /** Resolves once the message is accepted (waits while the publish window is full). */
  publish(topic: string, payload: string): Promise<void>;
  readonly acked: number;
  readonly inFlight: number;
}

export interface RunPlan {
  startMs: number;
  /** Simulated end (inclusive); Infinity: until stopped. */
  endMs: number;
  speed?: number;
  /** Readings of one sensor per message. */
  batch: number;
}

export interface RunnerDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Receives one progress line every `progressEveryMs` of wall time. */
  progress?(line: string): void;
  /** Receives ground-truth windows as they become final. */
  truth?(windows: TruthWindow[]): void;
  progressEveryMs?: number;
}

/** What a run did, per park and in total. */
export interface RunResult {
  startMs: number;
  /** Simulated time reached. */
  endMs: number;
  /** MQTT publishes made (an array counts once). */
  messages: number;
  parks: Array<{ park: string; stats: SimStats; totals: TruthTotals }>;
  /** Wall time of the run, ms. */
  wallMs: number;
}

/** Real-time tick; a reading is at most this late on the wire (plus the broker). */
const TICK_MS = 100;

export class SimRunner {
  private stopped = false;
  private wake: (() => void) | undefined;
  private messages = 0;
  private readonly chunkMs: number;

  constructor(
    private readonly parks: ReadonlyArray<{ sim: ParkSimulator; sink: MessageSink }>,
    private readonly plan: RunPlan,
    private readonly deps: RunnerDeps,
  ) {
    // Big enough to fill batches of 10 s readings, small enough to stay responsive.
    this.chunkMs = Math.min(6 * 3_600_000, Math.max(60_000, plan.batch * 10_000));
  }

  /** Ends the run at the next step (SIGINT/SIGTERM). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  async run(): Promise<RunResult> {
    const { startMs, endMs, speed } = this.plan;
    const wallStart = this.deps.now();
    const every = this.deps.progressEveryMs ?? 5000;
    let lastProgress = wallStart;
    let lastMessages = 0;
    let sim = startMs;
    while (!this.stopped && sim < endMs) {
      const wall = this.deps.now();
      const paced = speed ? startMs + (wall - wallStart) * speed : wall;
      const behind = paced - sim > this.chunkMs;
      const target = Math.min(endMs, behind ? sim + this.chunkMs : paced);
      if (target > sim) {
        await this.step(target);
        sim = target;
      }
      const after = this.deps.now();
      if (this.deps.progress && after - lastProgress >= every) {
        this.deps.progress(this.progressLine(sim, ((this.messages - lastMessages) * 1000) / (after - lastProgress)));
        lastProgress = after;
        lastMessages = this.messages;
      }
      if (!behind && sim < endMs && !this.stopped) await this.pause(TICK_MS);
    }
    // Late readings still held back go out now, with their original ts.
    for (const { sim: s, sink } of this.parks) await this.send(s.flushLate(), sink);
    for (const { sim: s } of this.parks) this.deps.truth?.(s.drainTruth(true));
    const wallMs = this.deps.now() - wallStart;
    if (this.deps.progress) this.deps.progress(this.progressLine(sim, wallMs > 0 ? (this.messages * 1000) / wallMs : 0) + ' (end)');
    return {
      startMs,
      endMs: sim,
      messages: this.messages,
      parks: this.parks.map(({ sim: s }) => ({ park: s.park.id, stats: { ...s.stats }, totals: s.truthTotals() })),
      wallMs,
    };
  }

  private async step(target: number): Promise<void> {
    for (const { sim, sink } of this.parks) {
      await this.send(sim.stepUntil(target), sink);
      this.deps.truth?.(sim.drainTruth());
    }
  }

  private async send(messages: ReturnType<ParkSimulator['stepUntil']>, sink: MessageSink): Promise<void> {
    for (const m of batchMessages(messages, this.plan.batch)) {
      await sink.publish(m.topic, m.payload);
      this.messages++;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      void this.deps.sleep(ms).then(resolve);
    }).finally(() => (this.wake = undefined));
  }

  private progressLine(simMs: number, perS: number): string {
    const t = this.totals();
    const acked = this.parks.reduce((a, p) => a + p.sink.acked, 0);
    const inFlight = this.parks.reduce((a, p) => a + p.sink.inFlight, 0);
    const faults = [
      ['dropout', t.dropouts],
      ['spike', t.spikes],
      ['reset', t.resets],
      ['glitch', t.glitches],
      ['late', t.late],
      ['duplicate', t.duplicates],
      ['malformed', t.malformed],
      ['silenced', t.silenced],
    ]
      .filter(([, n]) => (n as number) > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return (
      `sim ${new Date(simMs).toISOString()}  +${Math.round((simMs - this.plan.startMs) / 1000)} s  ` +
      `published ${this.messages} (${Math.round(perS)}/s)  readings ${t.sent}  acked ${acked}  in flight ${inFlight}` +
      (faults ? `  faults: ${faults}` : '')
    );
  }

  private totals(): SimStats {
    const sum: SimStats = { sampled: 0, sent: 0, malformed: 0, duplicates: 0, late: 0, dropouts: 0, silenced: 0, spikes: 0, resets: 0, glitches: 0 };
    for (const { sim } of this.parks) {
      for (const k of Object.keys(sum) as Array<keyof SimStats>) sum[k] += sim.stats[k];
    }
    return sum;
  }
}

/** The end-of-run summary printed by the command. */
export function formatSummary(result: RunResult, sinks: ReadonlyArray<{ acked: number; failed: number; firstError?: string }>): string {
  const lines: string[] = [];
  const seconds = (result.endMs - result.startMs) / 1000;
  lines.push(
    `simulated ${new Date(result.startMs).toISOString()} .. ${new Date(result.endMs).toISOString()} (${seconds} s) in ${(result.wallMs / 1000).toFixed(1)} s wall`,
  );
  const acked = sinks.reduce((a, s) => a + s.acked, 0);
  const failed = sinks.reduce((a, s) => a + s.failed, 0);
  const perS = (n: number) => (result.wallMs > 0 ? Math.round((n * 1000) / result.wallMs) : 0);
  const readings = result.parks.reduce((a, p) => a + p.stats.sent + p.stats.malformed, 0);
  lines.push(
    `publishes ${result.messages} (${perS(result.messages)}/s) carrying ${readings} readings (${perS(readings)}/s), acknowledged ${acked}` +
      (failed ? `, FAILED ${failed}: ${sinks.find((s) => s.firstError)?.firstError}` : ''),
  );
  for (const p of result.parks) {
    const s = p.stats;
    lines.push(
      `park ${p.park}: readings sampled ${s.sampled}, sent ${s.sent} (of which duplicate copies ${s.duplicates}, late ${s.late}); ` +
        `malformed ${s.malformed} (rejected by design); not sent: dropout ${s.dropouts}, silent ${s.silenced}; spikes ${s.spikes}; resets ${s.resets}; glitches ${s.glitches}`,
    );
    lines.push(`  building   grid kWh        pv kWh          direct kgCO2e`);
    let e = 0;
    let pv = 0;
    let em = 0;
    for (const [b, t] of Object.entries(p.totals)) {
      lines.push(`  ${b.padEnd(10)} ${t.energy_kwh.toFixed(3).padStart(14)}  ${t.pv_kwh.toFixed(3).padStart(14)}  ${t.emission_kgco2e.toFixed(3).padStart(14)}`);
      e += t.energy_kwh;
      pv += t.pv_kwh;
      em += t.emission_kgco2e;
    }
    lines.push(`  ${'total'.padEnd(10)} ${e.toFixed(3).padStart(14)}  ${pv.toFixed(3).padStart(14)}  ${em.toFixed(3).padStart(14)}`);
  }
  return lines.join('\n') + '\n';
}
