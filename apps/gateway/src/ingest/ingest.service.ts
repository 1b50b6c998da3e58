import {
  excerptOf,
  MAX_PAYLOAD_BYTES,
  parsePayload,
  parseTopic,
  PayloadLimits,
  Rejection,
  RejectReason,
} from '@park/telemetry';
import { GatewayBus } from '../core/gateway.events';
import { readingLine } from '../influx/line-protocol';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { ParkRegistry } from '../park/park-registry';
import { PointSink } from '../sink/point-sink';
import { RejectionLog } from './rejection-log';

/** Who sent a message, as far as the broker knows. */
export interface MessageContext {
  clientId?: string;
  username?: string;
}

/** What became of one message. */
export interface IngestResult {
  accepted: number;
  rejected: number;
}

/**
 * The ingest pipeline of one MQTT message (contract §2–§4): topic, park
 * model, payload, then line protocol into the sink and the readings onto
 * the bus (`readings`).
 * Runs synchronously, before the broker acknowledges a QoS 1 message, and
 * never throws: whatever a device sends ends as stored readings and counted
 * rejections.
 */
export class IngestService {
  constructor(
    private readonly registry: ParkRegistry,
    private readonly sink: PointSink,
    private readonly metrics: GatewayMetrics,
    private readonly rejections: RejectionLog,
    private readonly bus: GatewayBus,
    private readonly limits: PayloadLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  handle(topic: string, payload: Uint8Array, ctx: MessageContext = {}): IngestResult {
    const nowMs = this.clock();
    this.metrics.messagesReceived++;
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return this.rejectMessage('too_large', `payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, topic, payload, ctx, nowMs);
    }
    const t = parseTopic(topic);
    if (!t.ok) return this.rejectMessage('bad_topic', t.detail, topic, payload, ctx, nowMs);
    const { address } = t;
    const park = this.registry.get(address.park);
    if (!park) return this.rejectMessage('unknown_building', `park "${address.park}" is not served by this gateway`, topic, payload, ctx, nowMs);
    if (!park.buildings.has(address.building)) {
      return this.rejectMessage('unknown_building', `building "${address.building}" is not in park model "${address.park}"`, topic, payload, ctx, nowMs);
    }
    const parsed = parsePayload(payload, address, topic, nowMs, this.limits);
    this.metrics.readingsReceived += parsed.readings.length + parsed.rejections.length;
    for (const r of parsed.rejections) this.record(r, ctx, nowMs);
    if (parsed.readings.length === 0) return { accepted: 0, rejected: parsed.rejections.length };

    // A sensor is registered when the model lists it under this building
    // with this kind; anything else is stored and counted as unregistered.
    const listed = this.registry.sensor(park, address.building, address.sensor);
    const sensor = listed?.kind === address.kind ? listed : undefined;
    if (!sensor) this.registry.noteUnregistered(address.park, address.building, address.kind, address.sensor, parsed.readings.length, nowMs);
    const lines: string[] = [];
    for (const r of parsed.readings) {
      const line = readingLine(r, sensor);
      if (line) lines.push(line);
    }
    this.sink.write(lines);
    this.metrics.readingsAccepted += parsed.readings.length;
    if (!sensor) this.metrics.unregisteredReadings += parsed.readings.length;
    this.bus.publish('readings', parsed.readings);
    return { accepted: parsed.readings.length, rejected: parsed.rejections.length };
  }

  /** A publish the broker refused (contract: `unauthorized`), recorded like any rejection. */
  rejectUnauthorized(topic: string, payload: Uint8Array, detail: string, ctx: MessageContext): void {
    this.metrics.messagesReceived++;
    this.rejectMessage('unauthorized', detail, topic, payload, ctx, this.clock());
  }

  /** A packet so large the broker closed the connection before reading it. */
  rejectOversizePacket(remote: string, declaredBytes: number): void {
    this.metrics.messagesReceived++;
    this.rejectMessage('too_large', `MQTT packet of ${declaredBytes} bytes from ${remote}; the connection was closed`, '', new Uint8Array(0), {}, this.clock());
  }

  private rejectMessage(reason: RejectReason, detail: string, topic: string, payload: Uint8Array, ctx: MessageContext, nowMs: number): IngestResult {
    this.metrics.readingsReceived++;
    this.record({ reason, detail, topic: topic.slice(0, 300), excerpt: excerptOf(payload) }, ctx, nowMs);
    return { accepted: 0, rejected: 1 };
  }

  private record(r: Rejection, ctx: MessageContext, nowMs: number): void {
    this.metrics.reject(r.reason);
    this.rejections.add({ ...r, at: new Date(nowMs).toISOString(), clientId: ctx.clientId, username: ctx.username });
  }
}
