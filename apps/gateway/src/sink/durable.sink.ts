import { Clock, sleep, TimerHandle } from '../core/clock';
import { LineWriter } from '../influx/influx.ports';
import { RetryPolicy } from '../influx/retry.policy';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PointSink, SinkBacklog } from './point-sink';
import { WalBlock, WalPosition, WriteAheadLog } from './write-ahead.log';

export interface DurableSinkOptions {
  /** Lines per write request (`INFLUX_BATCH_SIZE`). */
  batchLines: number;
  /** Longest a committed line waits before a partial batch leaves (`INFLUX_FLUSH_MS`). */
  flushIntervalMs: number;
  /** Committed lines kept in memory for the sender; beyond this they are read back from the log. */
  cacheBytes: number;
  /** How long `close()` goes on sending before it leaves the rest in the log for the next start. */
  closeTimeoutMs: number;
}

/**
 * Where every point goes (contract §5, §8 durability): into the write-ahead
 * log first, then to InfluxDB from there.
 *
 * The log is the queue. Committed blocks are handed to this sink and kept in
 * memory up to `cacheBytes`; one request at a time takes the oldest lines, a
 * full batch at once or a partial one when its first line has waited the
 * flush interval, so batches land in order. A write that fails in a way a
 * retry can fix (network, timeout, 429, 5xx, auth) is retried, for as long
 * as it takes, after the retry policy's delay: nothing is dropped, the log
 * holds it. When memory is full (InfluxDB away or slow), the sink stops
 * caching and reads the blocks back from the log when it gets there, so
 * memory stays bounded whatever the outage. A 400 is bisected so that only
 * the lines InfluxDB refuses are dead-lettered (logged and counted). Each
 * confirmed position lets the log trim itself.
 */
export class DurableSink implements PointSink {
  private cache: WalBlock[] = [];
  private cacheBytes = 0;
  private cacheLines = 0;
  private mode: 'live' | 'catch-up';
  private sentPos: WalPosition;
  private wake?: () => void;
  private wakeTimer?: TimerHandle;
  private pumping?: Promise<void>;
  private flushWaiters: Array<{ pos: WalPosition; resolve: () => void }> = [];
  private stopping = false;
  private stopped = false;
  private deadline = Infinity;
  private reachable = true;
  private failures = 0;
  private lastError?: string;
  private lastWriteOkAt?: number;

  constructor(
    private readonly wal: WriteAheadLog,
    private readonly writer: LineWriter,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly opts: DurableSinkOptions,
    private readonly retry: RetryPolicy,
    private readonly clock: Clock,
  ) {
    this.sentPos = wal.confirmedPos;
    this.mode = wal.endPos > this.sentPos ? 'catch-up' : 'live';
    wal.onCommit = (b) => this.onCommit(b);
    this.pumping = this.pump().catch((e) => this.log.fatal({ err: (e as Error).stack }, 'the InfluxDB sender stopped; lines stay in the write-ahead log for the next start'));
  }

  append(text: string, lines: number, onDurable: (err?: Error) => void): void {
    this.wal.append(text, lines, onDurable);
  }

  write(lines: string[]): void {
    if (lines.length > 0) this.wal.append(lines.join('\n'), lines.length);
  }

  /** Resolves when what was written before the call is in InfluxDB, or InfluxDB is unreachable (it is on disk then). */
  async flush(): Promise<void> {
    await this.wal.flush();
    const pos = this.wal.endPos;
    if (this.wal.confirmedPos >= pos) return;
    await new Promise<void>((resolve) => {
      this.flushWaiters.push({ pos, resolve });
      this.signal();
    });
  }

  /**
   * Takes no more lines, sends what it can within `closeTimeoutMs` and stops;
   * the rest waits in the log for the next start. Never waits on a hanging
   * InfluxDB past the timeout.
   */
  async close(): Promise<void> {
    if (this.stopping) return this.pumping;
    this.stopping = true;
    this.deadline = this.clock.now() + this.opts.closeTimeoutMs;
    await this.wal.flush();
    const timeout = this.clock.setTimeout(() => this.stop(), this.opts.closeTimeoutMs);
    await this.flush();
    this.clock.clearTimeout(timeout);
    this.stop();
    // A request InfluxDB hangs on is not waited for past a second: its lines
    // are in the log, and the next start sends them again.
    await Promise.race([this.pumping, sleep(this.clock, 1000)]);
    await this.wal.close();
  }

  backlog(): SinkBacklog {
    return {
      memoryLines: this.cacheLines,
      walLines: this.wal.unconfirmedLines,
      walBytes: this.wal.bytes,
      reachable: this.reachable,
      lastError: this.lastError,
      lastWriteOkAt: this.lastWriteOkAt ? new Date(this.lastWriteOkAt).toISOString() : undefined,
    };
  }

  private stop(): void {
    this.stopped = true;
    this.resolveFlushes(true);
    this.signal();
  }

  private onCommit(b: WalBlock): void {
    if (this.mode === 'live' && !this.stopped) {
      this.cache.push(b);
      this.cacheBytes += b.text.length;
      this.cacheLines += b.lines;
      if (this.cacheBytes > this.opts.cacheBytes) {
        // InfluxDB is slower than the stream, or away: let go of memory; the
        // log has every line, and the sender reads them back in order.
        this.log.warn({ cachedLines: this.cacheLines, cacheBytes: this.cacheBytes }, 'InfluxDB is behind; the sender reads the backlog from the write-ahead log');
        this.cache = [];
        this.cacheBytes = 0;
        this.cacheLines = 0;
        this.mode = 'catch-up';
      }
    }
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    w?.();
  }

  private sleepUntilSignal(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) this.wakeTimer = this.clock.setTimeout(() => this.signal(), Math.max(0, ms));
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      this.resolveFlushes();
      if (this.mode === 'catch-up') {
        await this.catchUp();
        continue;
      }
      if (this.cache.length === 0) {
        await this.sleepUntilSignal();
        continue;
      }
      const waited = this.clock.now() - this.cache[0].committedAtMs;
      const hurry = this.flushWaiters.length > 0 || this.stopping;
      if (this.cacheLines < this.opts.batchLines && !hurry && waited < this.opts.flushIntervalMs) {
        await this.sleepUntilSignal(this.opts.flushIntervalMs - waited);
        continue;
      }
      const blocks: WalBlock[] = [];
      let lines = 0;
      while (this.cache.length > 0 && (blocks.length === 0 || lines + this.cache[0].lines <= this.opts.batchLines)) {
        const b = this.cache.shift() as WalBlock;
        this.cacheBytes -= b.text.length;
        this.cacheLines -= b.lines;
        blocks.push(b);
        lines += b.lines;
      }
      await this.deliverBlocks(blocks);
    }
    this.resolveFlushes(true);
  }

  /** Sends what the log holds beyond `sentPos`, read back from disk, until it has caught up with the commits. */
  private async catchUp(): Promise<void> {
    let blocks: WalBlock[] = [];
    let lines = 0;
    for await (const b of this.wal.readFrom(this.sentPos, this.wal.endPos)) {
      if (this.stopped) return;
      blocks.push(b);
      lines += b.lines;
      if (lines >= this.opts.batchLines) {
        if (!(await this.deliverBlocks(blocks, true))) return;
        blocks = [];
        lines = 0;
      }
    }
    if (blocks.length > 0 && !(await this.deliverBlocks(blocks, true))) return;
    // Nothing awaited between this check and the switch: no commit can slip in.
    if (this.sentPos >= this.wal.endPos && !this.stopped) {
      this.mode = 'live';
      this.log.info('the InfluxDB sender has caught up with the write-ahead log');
    }
  }

  /**
   * Sends blocks as one request (a block far larger than a batch in parts)
   * and confirms them to the log; false when stopped first.
   */
  private async deliverBlocks(blocks: WalBlock[], replayed = false): Promise<boolean> {
    let texts: string[] = [];
    let lines = 0;
    let endPos: WalPosition = this.sentPos;
    const send = async (): Promise<boolean> => {
      if (texts.length === 0) return true;
      if (!(await this.deliver(texts.join('\n'), lines))) return false;
      this.confirm(endPos, lines, replayed);
      texts = [];
      lines = 0;
      return true;
    };
    for (const b of blocks) {
      if (b.lines <= this.opts.batchLines * 2) {
        texts.push(b.text);
        lines += b.lines;
        endPos = b.endPos;
        continue;
      }
      if (!(await send())) return false;
      const all = b.text.split('\n');
      for (let i = 0; i < all.length; i += this.opts.batchLines) {
        const part = all.slice(i, i + this.opts.batchLines);
        if (!(await this.deliver(part.join('\n'), part.length))) return false;
      }
      this.confirm(b.endPos, b.lines, replayed);
    }
    return send();
  }

  private confirm(endPos: WalPosition, lines: number, replayed: boolean): void {
    this.sentPos = endPos;
    this.wal.confirm(endPos, lines);
    if (replayed) this.metrics.pointsReplayed += lines;
    this.resolveFlushes();
  }

  /** One request's lines into InfluxDB, retried until they are in (or dead-lettered line by line); false if stopped first. */
  private async deliver(body: string, lines: number): Promise<boolean> {
    let retryAfterMs: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return false;
      const started = performance.now();
      this.metrics.writeRequests++;
      const outcome = await this.writer.write(body);
      if (outcome.ok) {
        this.metrics.writeLatency.observe((performance.now() - started) / 1000);
        this.metrics.pointsWritten += lines;
        this.markReachable();
        return true;
      }
      this.metrics.writeFailures++;
      this.lastError = outcome.message;
      if (!outcome.retryable) {
        const ok = await this.bisect(body.split('\n'), outcome.message);
        if (ok) this.markReachable();
        return ok;
      }
      retryAfterMs = outcome.retryAfterMs;
      if (++this.failures >= 3 && this.reachable) {
        this.reachable = false;
        this.log.error({ err: outcome.message, lines }, 'InfluxDB is not taking writes; readings wait in the write-ahead log until it does');
        this.resolveFlushes();
      }
      const delay = this.retry.delayMs(Math.min(attempt, 16), retryAfterMs);
      if (this.clock.now() + delay > this.deadline) {
        await this.sleepUntilSignal(Math.max(0, this.deadline - this.clock.now()));
        return false;
      }
      await sleep(this.clock, delay);
    }
  }

  /** A refused batch: its halves separately, until the refused lines are alone and dead-lettered. */
  private async bisect(lines: string[], message: string): Promise<boolean> {
    if (lines.length === 1) {
      this.metrics.pointsDeadLettered++;
      this.log.error({ line: lines[0].slice(0, 500), reason: message }, 'InfluxDB refused a point; it is dropped (dead-lettered)');
      return true;
    }
    const mid = lines.length >> 1;
    for (const half of [lines.slice(0, mid), lines.slice(mid)]) {
      if (!(await this.deliver(half.join('\n'), half.length))) return false;
    }
    return true;
  }

  private markReachable(): void {
    if (!this.reachable) this.log.info('InfluxDB is taking writes again');
    this.reachable = true;
    this.failures = 0;
    this.lastWriteOkAt = this.clock.now();
  }

  private resolveFlushes(all = false): void {
    if (this.flushWaiters.length === 0) return;
    const confirmed = this.wal.confirmedPos;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      const done = all || w.pos <= confirmed || !this.reachable;
      if (done) w.resolve();
      return !done;
    });
  }
}
