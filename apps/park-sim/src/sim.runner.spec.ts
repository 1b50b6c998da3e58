import { testPark } from '@park/telemetry/testing';
import { ParkSimulator, TruthWindow } from '@park/park-sim';
import { formatSummary, MessageSink, RunPlan, SimRunner } from './sim.runner';

const WALL0 = Date.parse('2025-11-26T02:00:00Z');

/** A wall clock that only moves when the runner sleeps. */
class FakeClock {
  wall = WALL0;
  sleeps = 0;
  now = () => this.wall;
  sleep = async (ms: number) => {
    this.sleeps++;
    this.wall += ms;
  };
}

/** Records what would go on the wire, and when (wall time). */
class RecordingSink implements MessageSink {
  sent: Array<{ topic: string; payload: string; wallMs: number }> = [];
  acked = 0;
  inFlight = 0;
  onPublish?: () => void;
  constructor(private readonly clock: FakeClock) {}
  async publish(topic: string, payload: string) {
    this.sent.push({ topic, payload, wallMs: this.clock.wall });
    this.acked++;
    this.onPublish?.();
  }
}

function setup(plan: Partial<RunPlan>, faults = {}) {
  const clock = new FakeClock();
  const sink = new RecordingSink(clock);
  const startMs = plan.startMs ?? WALL0;
  const sim = new ParkSimulator(testPark(), { seed: 5, startMs, faults, lateMs: 90_000 });
  const truth: TruthWindow[] = [];
  const progress: string[] = [];
  const runner = new SimRunner([{ sim, sink }], { startMs, endMs: Infinity, batch: 1, ...plan }, {
    now: clock.now,
    sleep: clock.sleep,
    truth: (w) => truth.push(...w),
    progress: (l) => progress.push(l),
    progressEveryMs: 1000,
  });
  return { clock, sink, sim, runner, truth, progress };
}

/** What a simulator alone sends over the same period, for comparison. */
function reference(startMs: number, endMs: number, faults = {}) {
  const sim = new ParkSimulator(testPark(), { seed: 5, startMs, faults, lateMs: 90_000 });
  return [...sim.stepUntil(endMs), ...sim.flushLate()].map((m) => m.payload);
}

describe('SimRunner', () => {
  it('backfills a past period without sleeping, sending exactly what the simulator generates', async () => {
    const from = WALL0 - 3_600_000;
    const faults = { late: 0.05, duplicate: 0.02 };
    const { clock, sink, runner, truth } = setup({ startMs: from, endMs: WALL0 }, faults);
    const result = await runner.run();
    expect(clock.sleeps).toBe(0);
    expect(result.endMs).toBe(WALL0);
    expect(sink.sent.map((s) => s.payload).sort()).toEqual(reference(from, WALL0, faults).sort());
    expect(result.messages).toBe(sink.sent.length);
    expect(truth).toHaveLength(2 * 60);
  });

  it('packs readings into arrays with --batch and loses none', async () => {
    const from = WALL0 - 3_600_000;
    const { sink, runner } = setup({ startMs: from, endMs: WALL0, batch: 100 });
    await runner.run();
    const readings = sink.sent.flatMap((s) => JSON.parse(s.payload) as unknown[]);
    expect(readings.length).toBe(reference(from, WALL0).length);
    expect(sink.sent.length).toBeLessThan(readings.length / 20);
  });

  it('runs in real time: never sends a reading before its time, and keeps up', async () => {
    const { clock, sink, runner } = setup({ endMs: WALL0 + 120_000 });
    await runner.run();
    expect(clock.sleeps).toBeGreaterThan(1000);
    for (const s of sink.sent) {
      const ts = JSON.parse(s.payload).ts as number;
      expect(s.wallMs).toBeGreaterThanOrEqual(ts);
      expect(s.wallMs - ts).toBeLessThanOrEqual(100);
    }
    expect(sink.sent.length).toBe(reference(WALL0, WALL0 + 120_000).length);
  });

  it('runs accelerated with --speed', async () => {
    const { clock, sink, runner } = setup({ endMs: WALL0 + 600_000, speed: 60 });
    await runner.run();
    expect(clock.wall - WALL0).toBeGreaterThanOrEqual(10_000);
    expect(clock.wall - WALL0).toBeLessThan(10_500);
    for (const s of sink.sent) expect(WALL0 + (s.wallMs - WALL0) * 60).toBeGreaterThanOrEqual(JSON.parse(s.payload).ts);
  });

  it('stops on request and still sends the late readings it held back', async () => {
    const { sink, sim, runner } = setup({ startMs: WALL0 - 3_600_000, endMs: Infinity }, { late: 0.2 });
    sink.onPublish = () => {
      if (sink.sent.length === 300) runner.stop();
    };
    const result = await runner.run();
    expect(result.endMs).toBeLessThan(WALL0);
    expect(sink.sent.length).toBeGreaterThan(300);
    expect(sim.flushLate()).toEqual([]);
    const lateSent = sink.sent.filter((s) => s.payload.includes('"ts"')).length;
    expect(lateSent).toBe(sim.stats.sent);
  });

  it('reports progress and a summary with per-building totals', async () => {
    const { sink, runner, progress } = setup({ endMs: WALL0 + 30_000 });
    const result = await runner.run();
    expect(progress.length).toBeGreaterThan(20);
    expect(progress[progress.length - 1]).toMatch(/^sim 2025-11-26T02:00:30\.000Z {2}\+30 s {2}published \d+ .* \(end\)$/);
    const summary = formatSummary(result, [{ acked: sink.acked, failed: 0 }]);
    expect(summary).toContain('park tp: readings sampled');
    expect(summary).toMatch(/\n {2}b1 +\d+\.\d{3} +\d+\.\d{3} +0\.000\n/);
    expect(summary).toMatch(/\n {2}total /);
  });
});
