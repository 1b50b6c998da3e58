import { Clock, sleep, TimerHandle } from '../core/clock';
import { LineWriter } from '../influx/influx.ports';
import { RetryPolicy } from '../influx/retry.policy';
import { Logger } from '../observability/logger';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { DiskSpool } from './disk-spool';
import { PointSink, SinkBacklog } from './point-sink';

export interface InfluxSinkOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Attempts per batch before it goes to the spool. */
  attempts: number;
  /** Lines held in memory before everything waiting goes to the spool. */
  maxMemoryLines: number;
}

/**
 * Batches lines to InfluxDB: a batch leaves when it is full or when its first
 * line has waited `flushIntervalMs`. One request in flight, so batches land in
 * order. A failed batch is retried after the retry policy's delay (network
 * errors, 429, 5xx; `Retry-After` honoured);
 * if it still fails it goes to the on-disk spool, and so does everything after
 * it until the spool has been replayed: order is kept and nothing is lost
 * while InfluxDB is away. A 400 for a batch is bisected so that the good
 * lines are written and only the refused ones are dead-lettered (logged and
 * counted).
 */
export class InfluxSink implements PointSink {
  private pending: string[] = [];
  private readonly queue: string[][] = [];
  private queuedLines = 0;
  private timer?: TimerHandle;
  private pumping?: Promise<void>;
  private replaying?: Promise<void>;
  private closed = false;
  private reachable = true;
  private lastError?: string;
  private lastWriteOkAt?: number;

  constructor(
    private readonly writer: LineWriter,
    private readonly spool: DiskSpool,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly opts: InfluxSinkOptions,
    private readonly retry: RetryPolicy,
    private readonly clock: Clock,
  ) {
    if (!spool.isEmpty) {
      const s = spool.size;
      log.warn({ spooledLines: s.lines, segments: s.segments }, 'spool holds points from an earlier run; replaying them');
      this.startReplay();
    }
  }

  write(lines: string[]): void {
    if (lines.length === 0) return;
    for (const l of lines) this.pending.push(l);
    if (this.pending.length >= this.opts.batchSize) this.cut();
    else if (!this.timer && !this.closed) this.timer = this.clock.setTimeout(() => this.cut(), this.opts.flushIntervalMs);
  }

  async flush(): Promise<void> {
    this.cut();
    while (this.pumping) await this.pumping;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    // Whatever is still waiting (InfluxDB away) is kept on disk for next start.
    this.spoolQueue();
    if (this.replaying) await this.replaying;
  }

  backlog(): SinkBacklog {
    const s = this.spool.size;
    return {
      memoryLines: this.pending.length + this.queuedLines,
      spooledLines: s.lines,
      spooledBytes: s.bytes,
      reachable: this.reachable,
      lastError: this.lastError,
      lastWriteOkAt: this.lastWriteOkAt ? new Date(this.lastWriteOkAt).toISOString() : undefined,
    };
  }

  /** Moves the pending lines into batches of at most batchSize and starts sending. */
  private cut(): void {
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.pending.length > 0) {
      const batch = this.pending.length <= this.opts.batchSize ? this.pending : this.pending.slice(0, this.opts.batchSize);
      this.pending = batch === this.pending ? [] : this.pending.slice(this.opts.batchSize);
      this.queue.push(batch);
      this.queuedLines += batch.length;
    }
    if (this.queuedLines > this.opts.maxMemoryLines) {
      this.log.warn({ lines: this.queuedLines }, 'InfluxDB is slower than the incoming stream; moving the backlog to the spool');
      this.spoolQueue();
      this.startReplay();
    }
    this.startPump();
  }

  private startPump(): void {
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // A batch cut after this pump's last look at the queue (e.g. while it
      // spooled without awaiting) would otherwise wait for the next write,
      // and flush() would resolve with it neither written nor spooled.
      if (this.queue.length > 0 && !this.closed) this.startPump();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      // While older points wait in the spool, newer ones queue behind them.
      if (!this.spool.isEmpty || this.replaying) {
        this.spoolQueue();
        this.startReplay();
        return;
      }
      const batch = this.queue[0];
      const ok = await this.send(batch, this.opts.attempts);
      // cut() may have moved the whole queue, this batch included, to the
      // spool while it was in flight: then the replay owns it (written
      // twice at worst, the same points), and shifting here would drop a
      // newer batch that was never sent.
      const i = this.queue.indexOf(batch);
      if (i < 0) continue;
      this.queue.splice(i, 1);
      this.queuedLines -= batch.length;
      if (!ok) {
        this.spoolBatch(batch);
        this.startReplay();
      }
    }
  }

  /** Sends one batch, retrying up to `attempts` times; false when it should be spooled. */
  private async send(batch: string[], attempts: number): Promise<boolean> {
    let retryAfterMs: number | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(this.clock, this.retry.delayMs(attempt - 1, retryAfterMs));
      const started = performance.now();
      this.metrics.writeRequests++;
      const outcome = await this.writer.write(batch.join('\n'));
      if (outcome.ok) {
        this.metrics.writeLatency.observe((performance.now() - started) / 1000);
        this.metrics.pointsWritten += batch.length;
        this.markReachable();
        return true;
      }
      this.metrics.writeFailures++;
      this.lastError = outcome.message;
      if (outcome.retryable) retryAfterMs = outcome.retryAfterMs;
      else {
        await this.bisect(batch, outcome.message);
        this.markReachable();
        return true;
      }
    }
    if (this.reachable) this.log.error({ err: this.lastError, lines: batch.length }, 'InfluxDB write failed; spooling to disk until it is back');
    this.reachable = false;
    return false;
  }

  /** A refused batch: write its halves separately until the refused lines are isolated. */
  private async bisect(batch: string[], message: string): Promise<void> {
    if (batch.length === 1) {
      this.metrics.pointsDeadLettered++;
      this.log.error({ line: batch[0].slice(0, 500), reason: message }, 'InfluxDB refused a point; it is dropped (dead-lettered)');
      return;
    }
    const mid = batch.length >> 1;
    // send() bisects a refused half again and retries a half that meets an outage.
    for (const half of [batch.slice(0, mid), batch.slice(mid)]) {
      if (!(await this.send(half, this.opts.attempts))) this.spoolBatch(half);
    }
  }

  private markReachable(): void {
    if (!this.reachable) this.log.info('InfluxDB is taking writes again');
    this.reachable = true;
    this.lastWriteOkAt = this.clock.now();
  }

  private spoolBatch(batch: string[]): void {
    try {
      this.spool.append(batch);
      this.metrics.pointsSpooled += batch.length;
    } catch (e) {
      // Disk full or unwritable: nothing left to keep these points in. Say so
      // loudly and count them; the process goes on.
      this.metrics.spoolDroppedPoints += batch.length;
      this.log.fatal({ err: (e as Error).message, lines: batch.length, dir: this.spool.dir }, 'SPOOL WRITE FAILED: points DROPPED');
    }
  }

  private spoolQueue(): void {
    if (this.pending.length > 0) {
      this.queue.push(this.pending);
      this.queuedLines += this.pending.length;
      this.pending = [];
    }
    for (const batch of this.queue.splice(0)) this.spoolBatch(batch);
    this.queuedLines = 0;
  }

  /** Replays the spool oldest first, backing off (the same retry policy) while InfluxDB stays away. */
  private startReplay(): void {
    if (this.replaying || this.closed) return;
    this.replaying = (async () => {
      let failures = 0;
      while (!this.closed) {
        const head = this.spool.peek();
        if (!head) break;
        let ok = true;
        for (let i = 0; i < head.lines.length && ok; i += this.opts.batchSize) {
          ok = await this.send(head.lines.slice(i, i + this.opts.batchSize), 1);
        }
        if (ok) {
          this.spool.ack(head.segment);
          this.metrics.pointsReplayed += head.segment.lines;
          failures = 0;
          if (this.spool.isEmpty) this.log.info('spool replayed; InfluxDB is up to date');
        } else {
          await sleep(this.clock, this.retry.delayMs(1 + failures++));
        }
      }
    })().finally(() => {
      this.replaying = undefined;
      if (this.queue.length > 0 && !this.closed) this.startPump();
    });
  }
}
