import { excerptOf, KIND_FIELDS, PayloadLimits, Reading, Rejection } from '@park/telemetry';
import { GatewayBus } from '../core/gateway.events';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { untrustedOptional, untrustedText } from '../observability/untrusted-text';
import { ParkRegistry } from '../park/park.registry';
import { PointSink } from '../sink/point-sink';
import { IngestPool } from './ingest.pool';
import { MessageProcessor, ProcessedMessage, refuse } from './message.processor';
import { RejectionLog } from './rejection.log';

/** Who sent a message, as far as the broker knows. */
export interface MessageContext {
  clientId?: string;
  username?: string;
}

/** Called once a message is dealt with: its readings durable (then it may be acknowledged), or why not. */
export type Done = (err?: Error) => void;

interface Queued {
  /** undefined: a barrier (a message that is not telemetry, acknowledged in its turn). */
  topic?: string;
  payload: Uint8Array;
  ctx: MessageContext;
  nowMs: number;
  done: Done;
}

interface InFlightBatch {
  items: Queued[];
  results?: ProcessedMessage[];
  failed?: Error;
}

/** Messages per worker batch: large enough to amortise the hand-over, small enough to keep latency low. */
const MAX_BATCH = 256;

/**
 * The ingest pipeline of MQTT messages (contract §2–§4, §8 durability):
 * topic, park model, payload and line protocol (MessageProcessor, on the
 * main thread or on the worker threads of GATEWAY_WORKERS), then the lines
 * into the write-ahead log; once they are on disk the message's `done` is
 * called (the broker acknowledges it then) and its readings go onto the bus.
 *
 * Order is kept end to end: messages are handed out in batches, but results
 * are taken back, appended and acknowledged in arrival order, so PUBACKs go
 * out in the order the PUBLISHes came [MQTT-4.6.0-2] and the vitals see
 * readings in arrival order. Never throws: whatever a device sends ends as
 * stored readings and counted rejections.
 */
export class IngestService {
  private readonly processor: MessageProcessor;
  private queue: Queued[] = [];
  private dispatchScheduled = false;
  private readonly inFlight: InFlightBatch[] = [];

  constructor(
    private readonly registry: ParkRegistry,
    private readonly sink: PointSink,
    private readonly metrics: GatewayMetrics,
    private readonly rejections: RejectionLog,
    private readonly bus: GatewayBus,
    limits: PayloadLimits,
    private readonly clock: () => number = Date.now,
    private readonly pool?: IngestPool,
    private readonly log?: Logger,
  ) {
    this.processor = new MessageProcessor(registry.all(), limits);
  }

  /** One telemetry message (a `park/...` topic). `done` is called once, in arrival order. */
  handle(topic: string, payload: Uint8Array, ctx: MessageContext, done: Done): void {
    this.metrics.messagesReceived++;
    const nowMs = this.clock();
    if (!this.pool) {
      this.apply(this.processSafely(topic, payload, nowMs), ctx, nowMs, done);
      return;
    }
    this.enqueue({ topic, payload, ctx, nowMs, done });
  }

  /** A message that is not telemetry: `done` is called in its turn, after every message before it. */
  barrier(done: Done): void {
    if (!this.pool || (this.queue.length === 0 && this.inFlight.length === 0)) {
      this.sink.append('', 0, done);
      return;
    }
    this.enqueue({ payload: EMPTY, ctx: {}, nowMs: 0, done });
  }

  /** A publish the broker refused (contract: `unauthorized`), recorded like any rejection. */
  rejectUnauthorized(topic: string, payload: Uint8Array, detail: string, ctx: MessageContext): void {
    this.metrics.messagesReceived++;
    this.account(refuse('unauthorized', detail, topic, payload), ctx, this.clock());
  }

  /** A packet so large the broker closed the connection before reading it. */
  rejectOversizePacket(remote: string, declaredBytes: number): void {
    this.metrics.messagesReceived++;
    this.account(refuse('too_large', `MQTT packet of ${declaredBytes} bytes from ${remote}; the connection was closed`, '', EMPTY), {}, this.clock());
  }

  /**
   * Waits until every message taken so far is processed and durable (its
   * `done` called): on shutdown, nothing taken is left behind.
   */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.length > 0) {
      this.dispatch();
      await new Promise((r) => setImmediate(r));
    }
    await new Promise<void>((resolve) => this.sink.append('', 0, () => resolve()));
  }

  private enqueue(item: Queued): void {
    this.queue.push(item);
    if (this.queue.length >= MAX_BATCH) this.dispatch();
    else if (!this.dispatchScheduled) {
      this.dispatchScheduled = true;
      setImmediate(() => this.dispatch());
    }
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    while (this.queue.length > 0) {
      const items = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
      this.queue = items === this.queue ? [] : this.queue.slice(MAX_BATCH);
      const batch: InFlightBatch = { items };
      this.inFlight.push(batch);
      const work = items.filter((i) => i.topic !== undefined);
      if (work.length === 0) {
        batch.results = [];
        this.takeResults();
        continue;
      }
      (this.pool as IngestPool)
        .run(
          work.map((i) => i.topic as string),
          work.map((i) => i.payload),
          work.map((i) => i.nowMs),
        )
        .then(
          (results) => (batch.results = results),
          (e: Error) => (batch.failed = e),
        )
        .finally(() => this.takeResults());
    }
  }

  /** Applies finished batches from the oldest, stopping at the first still out. */
  private takeResults(): void {
    while (this.inFlight.length > 0 && (this.inFlight[0].results || this.inFlight[0].failed)) {
      const batch = this.inFlight.shift() as InFlightBatch;
      let k = 0;
      for (const item of batch.items) {
        if (item.topic === undefined) {
          this.sink.append('', 0, item.done);
          continue;
        }
        const r = batch.results ? batch.results[k++] : this.processSafely(item.topic, item.payload, item.nowMs);
        this.apply(r, item.ctx, item.nowMs, item.done);
      }
      if (batch.failed) this.log?.warn({ messages: batch.items.length, err: batch.failed.message }, 'processed a batch on the main thread after its worker stopped');
    }
  }

  private processSafely(topic: string, payload: Uint8Array, nowMs: number): ProcessedMessage {
    try {
      return this.processor.process(topic, payload, nowMs);
    } catch (e) {
      return refuse('bad_json', `payload could not be processed: ${(e as Error).message}`.slice(0, 200), topic, payload);
    }
  }

  /** Counts what a message came to, and makes its readings durable before `done`. */
  private apply(processed: ProcessedMessage, ctx: MessageContext, nowMs: number, done: Done): void {
    const r = this.account(processed, ctx, nowMs);
    this.sink.append(r.lines, r.lineCount, (err) => {
      if (err) return done(err);
      if (r.readings.length > 0) {
        this.metrics.readingsAccepted += r.readings.length;
        if (r.unregistered) this.metrics.unregisteredReadings += r.readings.length;
        this.bus.publish('readings', r.readings);
      }
      done();
    });
  }

  /**
   * Counts what a message came to. The unregistered-sensor bookkeeping is
   * here, on the main thread, in arrival order (the workers keep no state):
   * readings of a new unregistered sensor beyond UNREGISTERED_MAX per park
   * are turned into one rejection (issue 8 finding 9) and not stored.
   */
  private account(r: ProcessedMessage, ctx: MessageContext, nowMs: number): ProcessedMessage {
    this.metrics.readingsReceived += r.received;
    for (const rej of r.rejections) this.record(rej, ctx, nowMs);
    const u = r.unregistered;
    if (!u || r.readings.length === 0 || this.registry.noteUnregistered(u.park, u.building, u.kind, u.sensor, r.readings.length, nowMs)) return r;
    const first = r.readings[0];
    const max = this.registry.maxUnregisteredPerPark;
    const rejection: Rejection = {
      reason: 'unregistered_limit',
      detail: `sensor "${u.sensor}" (${u.kind}) is not in park model "${u.park}", which already has ${max} unregistered sensors stored (UNREGISTERED_MAX); add the sensor to the model or raise the limit`,
      topic: `park/${u.park}/${u.building}/${u.kind}/${u.sensor}`,
      excerpt: excerptOf(r.readings.length === 1 ? contractFields(first) : [contractFields(first), `… ${r.readings.length} readings`]),
    };
    this.record(rejection, ctx, nowMs, r.readings.length);
    return { ...r, lines: '', lineCount: 0, readings: [], rejections: [...r.rejections, rejection], unregistered: undefined };
  }

  /** One entry in the ring (bounded: peers choose client ids, usernames and topics), `n` readings counted. */
  private record(r: Rejection, ctx: MessageContext, nowMs: number, n = 1): void {
    this.metrics.reject(r.reason, n);
    this.rejections.add({
      ...r,
      topic: untrustedText(r.topic, MAX_TOPIC_CHARS),
      detail: untrustedText(r.detail, MAX_DETAIL_CHARS),
      at: new Date(nowMs).toISOString(),
      clientId: untrustedOptional(ctx.clientId),
      username: untrustedOptional(ctx.username),
    });
  }
}

/** A reading in the payload's own names (contract §3), for an excerpt. */
function contractFields(r: Reading): Record<string, number> {
  const out: Record<string, number> = { ts: r.tsMs };
  for (const { json, prop } of KIND_FIELDS[r.kind]) {
    const v = r[prop];
    if (typeof v === 'number') out[json] = v;
  }
  return out;
}

/** Bounds of a rejection entry's free texts (a valid topic is at most ~220 characters, contract §2). */
const MAX_TOPIC_CHARS = 300;
const MAX_DETAIL_CHARS = 400;

const EMPTY = new Uint8Array(0);
