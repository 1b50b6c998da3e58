/**
 * Groups readings of one sensor into array payloads (contract §3: an array of
 * up to 1000 readings of the same sensor, at most 64 KiB), the way an edge
 * device uploads what it buffered. Pure; used by the command in backfill.
 */
import { MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE, utf8Length } from '@park/telemetry';
import { SimMessage } from './park.simulator';

/** One MQTT publish: a single message or an array of readings. */
export interface OutgoingMessage {
  topic: string;
  payload: string;
  /** Readings it carries (0 for a malformed payload). */
  readings: number;
}

/**
 * Packs `messages` into publishes of up to `maxReadings` readings per topic,
 * keeping each topic's order. Malformed payloads always go alone: inside an
 * array, unparseable JSON would spoil its good neighbours too.
 */
export function batchMessages(messages: readonly SimMessage[], maxReadings: number, maxBytes = MAX_PAYLOAD_BYTES): OutgoingMessage[] {
  if (maxReadings <= 1) {
    return messages.map((m) => ({ topic: m.topic, payload: m.payload, readings: m.kind === 'malformed' ? 0 : 1 }));
  }
  const limit = Math.min(maxReadings, MAX_READINGS_PER_MESSAGE);
  const out: OutgoingMessage[] = [];
  const open = new Map<string, { parts: string[]; bytes: number }>();
  const close = (topic: string) => {
    const b = open.get(topic);
    if (!b) return;
    open.delete(topic);
    out.push({ topic, payload: `[${b.parts.join(',')}]`, readings: b.parts.length });
  };
  for (const m of messages) {
    if (m.kind === 'malformed') {
      out.push({ topic: m.topic, payload: m.payload, readings: 0 });
      continue;
    }
    const bytes = utf8Length(m.payload) + 1; // + the comma or bracket
    let b = open.get(m.topic);
    if (b && (b.parts.length >= limit || b.bytes + bytes > maxBytes)) {
      close(m.topic);
      b = undefined;
    }
    if (!b) {
      b = { parts: [], bytes: 1 };
      open.set(m.topic, b);
    }
    b.parts.push(m.payload);
    b.bytes += bytes;
  }
  for (const topic of [...open.keys()]) close(topic);
  return out;
}
