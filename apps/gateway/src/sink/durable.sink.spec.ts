import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { LineWriter, WriteOutcome } from '../influx/influx.ports';
import { RetryPolicy } from '../influx/retry.policy';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { DurableSink, DurableSinkOptions } from './durable.sink';
import { WriteAheadLog } from './write-ahead.log';

const silent = pino({ level: 'silent' });
const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * InfluxDB replaced at the HTTP edge: stores what it accepts, fails while
 * `down`, answers 400 for requests holding a `refused` line, can hang every
 * answer until released, and can play a script of outcomes first.
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
    const outcome: WriteOutcome =
      scripted ??
      (this.down
        ? { ok: false, retryable: true, message: 'connect ECONNREFUSED 127.0.0.1:8086' }
        : lines.some((l) => this.refused.has(l))
          ? { ok: false, retryable: false, status: 400, message: 'HTTP 400: {"error":"unable to parse"}' }
          : { ok: true });
    if (outcome.ok) this.stored.push(...lines);
    return outcome;
  }

  hang(): void {
    this.gate = new Promise((r) => (this.release = r));
  }

  answer(): void {
    this.gate = undefined;
    this.release?.();
  }
}

/** A retry policy that records what it was asked and waits a fixed 100 ms. */
class RecordingRetry implements RetryPolicy {
  readonly asked: Array<[number, number | undefined]> = [];
  delayMs(attempt: number, retryAfterMs?: number): number {
    this.asked.push([attempt, retryAfterMs]);
    return retryAfterMs ?? 100;
  }
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `m,src=${prefix} v=${i} ${1_000 + i}`);

let dir: string;
const open: Array<{ sink: DurableSink }> = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-sink-'));
});
afterEach(async () => {
  for (const { sink } of open.splice(0)) await Promise.race([sink.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
  fs.rmSync(dir, { recursive: true, force: true });
});

function setup(opts: Partial<DurableSinkOptions> = {}, influx = new FakeInflux(), clock = new ManualClock(Date.parse('2026-11-27T08:00:00Z'))) {
  const metrics = new GatewayMetrics();
  const wal = WriteAheadLog.open({ dir, segmentBytes: 4096, maxBytes: 1e9 }, silent, clock);
  const retry = new RecordingRetry();
  const sink = new DurableSink(wal, influx, metrics, silent, { batchLines: 1000, flushIntervalMs: 200, cacheBytes: 1e6, closeTimeoutMs: 5000, ...opts }, retry, clock);
  const entry = { sink };
  open.push(entry);
  /** Turns the event loop and moves the manual clock by `stepMs` until `cond` holds. */
  const until = async (cond: () => boolean, what: string, stepMs = 50): Promise<void> => {
    for (let i = 0; i < 20_000; i++) {
      if (cond()) return;
      await tick();
      if (i % 4 === 3) clock.advance(stepMs);
    }
    throw new Error(`gave up waiting for ${what}`);
  };
  /** Appends readings' lines and resolves once they are durable. */
  const append = (ls: string[]) => new Promise<void>((resolve, reject) => sink.append(ls.join('\n'), ls.length, (e) => (e ? reject(e) : resolve())));
  const drop = () => open.splice(open.indexOf(entry), 1);
  return { sink, wal, influx, metrics, retry, clock, until, append, drop };
}

describe('DurableSink: batching', () => {
  it('sends a full batch at once, in order, and lets the log trim what InfluxDB confirmed', async () => {
    const t = setup({ batchLines: 3 });
    await t.append(lines('a', 2));
    await t.append(lines('b', 2));
    await t.until(() => t.influx.stored.length === 4, 'the full batch and the rest');
    expect(t.influx.stored).toEqual([...lines('a', 2), ...lines('b', 2)]);
    expect(t.wal.unconfirmedLines).toBe(0);
    expect(t.metrics).toMatchObject({ writeFailures: 0, pointsWritten: 4 });
    expect(t.sink.backlog()).toMatchObject({ memoryLines: 0, walLines: 0, reachable: true });
  });

  it('holds a partial batch until its first line has waited flushIntervalMs', async () => {
    const t = setup({ batchLines: 100, flushIntervalMs: 200 });
    await t.append(lines('a', 2));
    for (let i = 0; i < 20; i++) await tick();
    expect(t.influx.requests).toEqual([]);
    t.clock.advance(150);
    await t.append(lines('b', 1)); // does not restart the clock of the first line
    for (let i = 0; i < 20; i++) await tick();
    expect(t.influx.requests).toEqual([]);
    t.clock.advance(50);
    await t.until(() => t.influx.stored.length === 3, 'the timed batch', 0);
    expect(t.influx.requests).toEqual([[...lines('a', 2), ...lines('b', 1)]]);
  });

  it('flush() sends a partial batch at once and resolves when InfluxDB has it', async () => {
    const t = setup({ batchLines: 100, flushIntervalMs: 60_000 });
    t.sink.write(lines('v', 3));
    await t.sink.flush();
    expect(t.influx.stored).toEqual(lines('v', 3));
  });

  it('splits a commit far larger than a batch into batch-sized requests', async () => {
    const t = setup({ batchLines: 4 });
    await t.append(lines('big', 10));
    await t.until(() => t.influx.stored.length === 10, 'every part');
    expect(t.influx.requests.map((r) => r.length)).toEqual([4, 4, 2]);
    expect(t.wal.unconfirmedLines).toBe(0);
  });
});

describe('DurableSink: failures', () => {
  it('retries what a retry can fix, for as long as it takes, with the policy’s delays and Retry-After', async () => {
    const influx = new FakeInflux();
    influx.script.push(
      { ok: false, retryable: true, status: 503, message: 'HTTP 503' },
      { ok: false, retryable: true, status: 429, message: 'HTTP 429', retryAfterMs: 3000 },
      { ok: false, retryable: true, message: 'ETIMEDOUT' },
    );
    const t = setup({}, influx);
    await t.append(lines('a', 5));
    await t.until(() => t.influx.stored.length === 5, 'the retried batch', 500);
    expect(t.retry.asked).toEqual([[0, undefined], [1, 3000], [2, undefined]]);
    expect(t.metrics).toMatchObject({ writeFailures: 3, pointsWritten: 5 });
    expect(t.sink.backlog()).toMatchObject({ reachable: true, lastError: 'ETIMEDOUT' });
  });

  it('keeps everything in the log through an outage, with bounded memory, and sends it in order when InfluxDB is back', async () => {
    const influx = new FakeInflux();
    influx.down = true;
    const t = setup({ batchLines: 10, cacheBytes: 500 }, influx);
    const all: string[] = [];
    for (let i = 0; i < 30; i++) {
      const ls = lines(`o${i}`, 4);
      all.push(...ls);
      await t.append(ls);
    }
    await t.until(() => !t.sink.backlog().reachable, 'the outage to be noticed');
    expect(t.sink.backlog().memoryLines).toBeLessThanOrEqual(20);
    expect(t.sink.backlog().walLines).toBe(120);
    influx.down = false;
    await t.until(() => t.influx.stored.length >= 120 && t.wal.unconfirmedLines === 0, 'everything written', 500);
    expect(t.influx.stored).toEqual(all);
    expect(t.metrics.pointsReplayed).toBeGreaterThan(0);
    expect(t.sink.backlog()).toMatchObject({ reachable: true, walLines: 0 });
  });

  it('isolates lines refused with 400 by bisection, writes all the good ones, and goes on', async () => {
    const influx = new FakeInflux();
    const batch = lines('a', 8);
    influx.refused.add(batch[2]).add(batch[5]);
    const t = setup({}, influx);
    await t.append(batch);
    await t.append(lines('b', 1));
    await t.until(() => t.influx.stored.length === 7, 'the good lines');
    expect(t.influx.stored).toEqual([...batch.filter((_, i) => i !== 2 && i !== 5), ...lines('b', 1)]);
    expect(t.metrics.pointsDeadLettered).toBe(2);
    expect(t.wal.unconfirmedLines).toBe(0);
  });

  it('close() leaves what a hanging InfluxDB did not take in the log, within its timeout, and the next start sends it first', async () => {
    const influx = new FakeInflux();
    const t = setup({ closeTimeoutMs: 2000 }, influx);
    await t.append(lines('a', 3));
    await t.until(() => influx.stored.length === 3, 'the first lines');
    influx.hang();
    await t.append(lines('b', 2));
    t.clock.advance(300);
    await t.until(() => influx.requests.length === 2, 'the hanging request');
    let closed = false;
    const closing = t.sink.close().then(() => (closed = true));
    await t.until(() => closed, 'close() despite the hang', 250);
    await closing;
    t.drop();
    expect(influx.stored).toEqual(lines('a', 3));

    const next = new FakeInflux();
    const t2 = setup({}, next);
    expect(t2.sink.backlog().walLines).toBe(2);
    await t2.append(lines('c', 1));
    await t2.until(() => next.stored.length === 3, 'the replay, then the new line');
    expect(next.stored).toEqual([...lines('b', 2), ...lines('c', 1)]);
    influx.answer();
  });
});
