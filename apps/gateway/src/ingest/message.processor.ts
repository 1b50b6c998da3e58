import { excerptOf, MAX_PAYLOAD_BYTES, ParkIndex, parsePayload, parseTopic, PayloadLimits, Reading, Rejection, RejectReason, SensorKind } from '@park/telemetry';
import { readingLine } from '../influx/line-protocol';

/** What one MQTT message comes to, before anything is stored or counted. */
export interface ProcessedMessage {
  /** Line protocol of the accepted readings, joined by `\n` ('' when none). */
  lines: string;
  lineCount: number;
  readings: Reading[];
  rejections: Rejection[];
  /** Readings received (each element of an array payload counts; a refused message counts one). */
  received: number;
  /** Set when the readings come from a sensor the park model does not list (contract §4). */
  unregistered?: { park: string; building: string; kind: SensorKind; sensor: string };
}

/**
 * The pure part of ingest (contract §2–§4): topic, park model, payload, line
 * protocol. No I/O, no counters, no clock of its own: the same code runs on
 * the main thread and in the ingest worker threads, and what it returns is
 * all they exchange. Never throws.
 */
export class MessageProcessor {
  private readonly parks = new Map<string, ParkIndex>();

  constructor(
    parks: Iterable<ParkIndex>,
    private readonly limits: PayloadLimits,
  ) {
    for (const p of parks) this.parks.set(p.model.id, p);
  }

  process(topic: string, payload: Uint8Array, nowMs: number): ProcessedMessage {
    if (payload.length > MAX_PAYLOAD_BYTES) return refuse('too_large', `payload is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, topic, payload);
    const t = parseTopic(topic);
    if (!t.ok) return refuse('bad_topic', t.detail, topic, payload);
    const { address } = t;
    const park = this.parks.get(address.park);
    if (!park) return refuse('unknown_building', `park "${address.park}" is not served by this gateway`, topic, payload);
    if (!park.buildings.has(address.building)) return refuse('unknown_building', `building "${address.building}" is not in park model "${address.park}"`, topic, payload);
    const parsed = parsePayload(payload, address, topic, nowMs, this.limits);
    const out: ProcessedMessage = { lines: '', lineCount: 0, readings: parsed.readings, rejections: parsed.rejections, received: parsed.readings.length + parsed.rejections.length };
    if (parsed.readings.length === 0) return out;
    // A sensor is registered when the model lists it under this building
    // with this kind; anything else is stored and counted as unregistered.
    const listed = park.sensors.get(`${address.building}/${address.sensor}`);
    const sensor = listed?.kind === address.kind ? listed : undefined;
    if (!sensor) out.unregistered = { park: address.park, building: address.building, kind: address.kind, sensor: address.sensor };
    let lines = '';
    let n = 0;
    for (const r of parsed.readings) {
      const line = readingLine(r, sensor);
      if (!line) continue;
      lines += n === 0 ? line : `\n${line}`;
      n++;
    }
    out.lines = lines;
    out.lineCount = n;
    return out;
  }
}

/** A whole message refused for one reason. */
export function refuse(reason: RejectReason, detail: string, topic: string, payload: Uint8Array): ProcessedMessage {
  return { lines: '', lineCount: 0, readings: [], rejections: [{ reason, detail, topic: topic.slice(0, 300), excerpt: excerptOf(payload) }], received: 1 };
}
