import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { Clock, ManualClock, TimerHandle } from '../core/clock';
import { LineWriter, WriteOutcome } from '../influx/influx.ports';
import { ExponentialBackoff } from '../influx/retry.policy';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { DiskSpool } from './disk-spool';
import { InfluxSink, InfluxSinkOptions } from './influx.sink';

const silent = pino({ level: 'silent' });
const tick = () => new Promise<void>((r) => setImmediate(r));

/** Waits (by event-loop turns, not by time) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * InfluxDB replaced at the HTTP edge: stores what it accepts, fails while
 * `down`, answers 400 for batches holding a `refused` line, and can hold
 * every answer until released.
 */
class FakeInflux implements LineWriter {
  readonly requests: string[][] = [];
  readonly stored: string[] = [];
  readonly refused = new Set<string>();
  readonly script: WriteOutcome[] = [];
  down = false;
  private gate?: Promise<void>;
  private release?: () => void;

  async write(body: string): Promise<WriteOutcome> {
    const lines = body.split('\n');
    this.requests.push(lines);
    await (this.gate ?? Promise.resolve());
    const scripted = this.script.shift();
    const outcome: WriteOutcome = scripted ??
      (this.down
        ? { ok: false, retryable: true, message: 'connect ECONNREFUSED 127.0.0.1:8086' }
        : lines.some((l) => this.refused.has(l))
          ? { ok: false, retryable: false, status: 400, message: 'HTTP 400: {"error":"unable to parse"}' }
          : { ok: true });
    if (outcome.ok) this.stored.push(...lines);
    return outcome;
  }

  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }

  open(): void {
    this.gate = undefined;
    this.release?.();
  }
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `m,src=${prefix} v=${i} ${1_000 + i}`);

let dir: string;
const open: InfluxSink[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-sink-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The sink's clock in these specs: the flush timer (`flushMs`) waits for the
 * test to move `flushTimers`; every other timer is a retry back-off, recorded
 * in `sleeps` and run at the next event-loop turn instead of waited for.
 */
class SpecClock implements Clock {
  readonly sleeps: number[] = [];
  readonly flushTimers = new ManualClock();
  constructor(private readonly flushMs: number) {}
  now = () => Date.now();
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (ms === this.flushMs) return this.flushTimers.setTimeout(fn, ms);
    this.sleeps.push(ms);
    const t = { cancelled: false };
    setImmediate(() => t.cancelled || fn());
    return { timer: t };
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h && 'cancelled' in (h.timer as object)) (h.timer as { cancelled: boolean }).cancelled = true;
    else this.flushTimers.clearTimeout(h);
  }
  setInterval(): TimerHandle {
    throw new Error('the sink uses no interval');
  }
  clearInterval(): void {}
}

function setup(opts: Partial<InfluxSinkOptions> = {}, influx = new FakeInflux()) {
  const metrics = new GatewayMetrics();
  const dropped: number[] = [];
  const spool = new DiskSpool(dir, 1e9, (n) => dropped.push(n));
  const options = { batchSize: 1000, flushIntervalMs: 60_000, attempts: 3, maxMemoryLines: 100_000, ...opts };
  const clock = new SpecClock(options.flushIntervalMs);
  // No jitter and ×4 per attempt, so the delays are the figures asserted below.
  const retry = new ExponentialBackoff({ baseMs: 250, maxMs: 5000, factor: 4, jitter: 0 });
  const sink = new InfluxSink(influx, spool, metrics, silent, options, retry, clock);
  open.push(sink);
  return { sink, influx, spool, metrics, sleeps: clock.sleeps, dropped, clock };
}

describe('InfluxSink batching', () => {
  it('sends a batch as soon as it is full', async () => {
    const { sink, influx, metrics } = setup({ batchSize: 3 });
    for (const l of lines('a', 7)) sink.write([l]);
    await until(() => influx.requests.length === 2, 'two full batches');
    expect(influx.requests).toEqual([lines('a', 7).slice(0, 3), lines('a', 7).slice(3, 6)]);
    expect(sink.backlog().memoryLines).toBe(1);
    await sink.flush();
    expect(influx.requests[2]).toEqual([lines('a', 7)[6]]);
    expect(influx.stored).toEqual(lines('a', 7));
    expect(metrics).toMatchObject({ writeRequests: 3, pointsWritten: 7, writeFailures: 0 });
    expect(sink.backlog()).toMatchObject({ memoryLines: 0, spooledLines: 0, reachable: true });
  });

  it('cuts a large write into batches of batchSize', async () => {
    const { sink, influx } = setup({ batchSize: 4 });
    sink.write(lines('a', 10));
    await sink.flush();
    expect(influx.requests.map((r) => r.length)).toEqual([4, 4, 2]);
    expect(influx.stored).toEqual(lines('a', 10));
  });

  it('sends a partial batch when its first line has waited flushIntervalMs', async () => {
    const { sink, influx, clock } = setup({ batchSize: 100, flushIntervalMs: 200 });
    sink.write(lines('a', 2));
    clock.flushTimers.advance(150);
    sink.write(lines('b', 1)); // does not restart the clock of the first line
    clock.flushTimers.advance(49);
    await tick();
    expect(influx.requests).toEqual([]);
    clock.flushTimers.advance(1);
    await until(() => influx.stored.length === 3, 'the timed batch');
    expect(influx.requests).toEqual([[...lines('a', 2), ...lines('b', 1)]]);
  });

  it('waits what the server asks for in Retry-After', async () => {
    const influx = new FakeInflux();
    influx.script.push({ ok: false, retryable: true, status: 429, message: 'HTTP 429', retryAfterMs: 3000 });
    const { sink, sleeps } = setup({}, influx);
    sink.write(lines('a', 1));
    await sink.flush();
    expect(sleeps).toEqual([3000]);
    expect(influx.stored).toEqual(lines('a', 1));
  });

  it('ignores empty writes', async () => {
    const { sink, influx } = setup();
    sink.write([]);
    await sink.flush();
    expect(influx.requests).toEqual([]);
  });
});

describe('InfluxSink failures', () => {
  it('retries a retryable failure with backoff, then succeeds', async () => {
    const influx = new FakeInflux();
    influx.script.push({ ok: false, retryable: true, status: 503, message: 'HTTP 503' }, { ok: false, retryable: true, status: 429, message: 'HTTP 429' });
    const { sink, metrics, sleeps, spool } = setup({}, influx);
    sink.write(lines('a', 5));
    await sink.flush();
    expect(influx.requests).toHaveLength(3);
    expect(influx.stored).toEqual(lines('a', 5));
    expect(sleeps).toEqual([250, 1000]);
    expect(metrics).toMatchObject({ writeRequests: 3, writeFailures: 2, pointsWritten: 5, pointsSpooled: 0 });
    expect(metrics.writeLatency.count).toBe(1);
    expect(spool.isEmpty).toBe(true);
    expect(sink.backlog()).toMatchObject({ reachable: true, lastError: 'HTTP 429' });
    expect(sink.backlog().lastWriteOkAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('spools a batch after its attempts, and replays it when InfluxDB is back', async () => {
    const influx = new FakeInflux();
    influx.down = true;
    const { sink, metrics, spool } = setup({ attempts: 2 }, influx);
    sink.write(lines('a', 5));
    await sink.flush();
    expect(influx.stored).toEqual([]);
    expect(spool.size).toMatchObject({ segments: 1, lines: 5 });
    expect(metrics.pointsSpooled).toBe(5);
    expect(sink.backlog()).toMatchObject({ memoryLines: 0, spooledLines: 5, reachable: false, lastError: 'connect ECONNREFUSED 127.0.0.1:8086' });

    influx.down = false;
    await until(() => spool.isEmpty, 'the spool to be replayed');
    expect(influx.stored).toEqual(lines('a', 5));
    expect(metrics.pointsReplayed).toBe(5);
    expect(metrics.pointsWritten).toBe(5);
    expect(sink.backlog()).toMatchObject({ spooledLines: 0, reachable: true });
  });

  it('queues new writes behind the spool: order is kept end to end', async () => {
    const influx = new FakeInflux();
    influx.down = true;
    const { sink, spool } = setup({ batchSize: 3, attempts: 1 }, influx);
    sink.write(lines('a', 3));
    await sink.flush();
    expect(spool.size.lines).toBe(3);
    // InfluxDB is still away: these go to the spool too, behind the first batch
    sink.write(lines('b', 3));
    sink.write(lines('c', 2));
    await sink.flush();
    expect(spool.size.lines).toBe(8);
    expect(influx.stored).toEqual([]);

    influx.down = false;
    // and these arrive while the spool is being replayed
    sink.write(lines('d', 3));
    await sink.flush();
    sink.write(lines('e', 1));
    await sink.flush();
    await until(() => influx.stored.length === 12 && spool.isEmpty, 'everything written');
    expect(influx.stored).toEqual([...lines('a', 3), ...lines('b', 3), ...lines('c', 2), ...lines('d', 3), ...lines('e', 1)]);
    expect(sink.backlog()).toMatchObject({ memoryLines: 0, spooledLines: 0 });
  });

  it('replays what an earlier run left in the spool at start-up', async () => {
    const earlier = new DiskSpool(dir, 1e9, () => undefined);
    earlier.append(lines('old', 4));
    earlier.append(lines('older', 2));
    const { influx, spool, metrics } = setup();
    await until(() => spool.isEmpty, 'the start-up replay');
    expect(influx.stored).toEqual([...lines('old', 4), ...lines('older', 2)]);
    expect(metrics.pointsReplayed).toBe(6);
  });

  it('isolates lines refused with 400 by bisection and writes all the good ones', async () => {
    const influx = new FakeInflux();
    const batch = lines('a', 8);
    influx.refused.add(batch[2]).add(batch[5]);
    const { sink, metrics, spool } = setup({}, influx);
    sink.write(batch);
    await sink.flush();
    expect(influx.stored.sort()).toEqual(batch.filter((_, i) => i !== 2 && i !== 5).sort());
    expect(metrics.pointsDeadLettered).toBe(2);
    expect(metrics.pointsWritten).toBe(6);
    expect(metrics.pointsSpooled).toBe(0);
    expect(spool.isEmpty).toBe(true);
    expect(sink.backlog().reachable).toBe(true);
    // no request ever carried more than one refused line after the first
    expect(influx.requests.slice(1).every((r) => r.filter((l) => influx.refused.has(l)).length <= 1)).toBe(true);
  });

  it('dead-letters a single refused line without retrying it', async () => {
    const influx = new FakeInflux();
    influx.refused.add(lines('a', 1)[0]);
    const { sink, metrics, sleeps } = setup({}, influx);
    sink.write(lines('a', 1));
    await sink.flush();
    expect(influx.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(metrics).toMatchObject({ pointsDeadLettered: 1, pointsWritten: 0, writeFailures: 1 });
  });

  it('spools the half of a bisected batch that then meets a retryable failure', async () => {
    const influx = new FakeInflux();
    const batch = lines('a', 4);
    influx.refused.add(batch[0]);
    // InfluxDB refuses the batch and its first half (400), then goes away
    // while the bisection is still writing the pieces
    const { sink, metrics, spool } = setup({ attempts: 1 }, influx);
    const realWrite = influx.write.bind(influx);
    influx.write = async (body: string) => {
      if (influx.requests.length >= 2) influx.down = true;
      return realWrite(body);
    };
    sink.write(batch);
    await sink.flush();
    // nothing lost: everything is written, dead-lettered or spooled
    expect(influx.stored.length + metrics.pointsDeadLettered + spool.size.lines).toBe(4);
    expect(spool.size.lines).toBeGreaterThan(0);
  });

  it('moves everything to the spool when the memory backlog is over its bound, losing nothing in flight', async () => {
    const influx = new FakeInflux();
    const { sink, spool, metrics } = setup({ batchSize: 2, maxMemoryLines: 4 }, influx);
    influx.hold(); // InfluxDB is slow: the first request hangs
    sink.write(lines('a', 2));
    await until(() => influx.requests.length === 1, 'the first request');
    sink.write(lines('b', 2));
    sink.write(lines('c', 2)); // 6 lines waiting > 4: to the spool
    expect(spool.size.lines).toBe(6);
    sink.write(lines('d', 2)); // queued while the first request is still in flight
    influx.open();
    await until(() => spool.isEmpty && sink.backlog().memoryLines === 0, 'the backlog to drain');
    await sink.flush();
    const all = [...lines('a', 2), ...lines('b', 2), ...lines('c', 2), ...lines('d', 2)];
    // the in-flight batch may be written twice (same points: one in InfluxDB); none is lost
    expect([...new Set(influx.stored)].sort()).toEqual(all.sort());
    expect(sink.backlog()).toMatchObject({ memoryLines: 0, spooledLines: 0 });
    expect(metrics.pointsSpooled).toBeGreaterThanOrEqual(6);
  });

  it('close() spools what could not be written', async () => {
    const influx = new FakeInflux();
    influx.down = true;
    const { sink, metrics } = setup({ batchSize: 3, attempts: 2 }, influx);
    sink.write(lines('a', 4)); // one full batch sent now, one line pending
    await sink.close();
    expect(metrics.pointsSpooled).toBe(4);
    // the next run finds them on disk, in order
    const next = new DiskSpool(dir, 1e9, () => undefined);
    const found: string[] = [];
    for (let head = next.peek(); head; head = next.peek()) {
      found.push(...head.lines);
      next.ack(head.segment);
    }
    expect(found).toEqual(lines('a', 4));
  });

  it('close() with InfluxDB up writes everything first', async () => {
    const { sink, influx, spool } = setup({ batchSize: 100 });
    sink.write(lines('a', 5));
    await sink.close();
    expect(influx.stored).toEqual(lines('a', 5));
    expect(spool.isEmpty).toBe(true);
  });
});
