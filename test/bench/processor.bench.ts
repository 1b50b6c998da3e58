/**
 * CPU cost of the pure ingest step (MessageProcessor: topic, park model,
 * payload validation, line protocol), in process, per message, for the
 * message shapes devices send. What a worker thread spends per message.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/processor.bench.ts [messages]
 */
import { DEFAULT_PAYLOAD_LIMITS, indexPark, parsePayload, parseTopic } from '@park/telemetry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageProcessor } from '../../apps/gateway/src/ingest/message.processor';
import { readingLine } from '../../apps/gateway/src/influx/line-protocol';

const N = Number(process.argv[2] ?? 500_000);
const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '../../apps/gateway/parks/demo.park.json'), 'utf8'));
const park = indexPark(demo);
const processor = new MessageProcessor([park], DEFAULT_PAYLOAD_LIMITS);
const now = Date.now();
const enc = new TextEncoder();
const shapes: Record<string, { topic: string; payload: Uint8Array }> = {
  'energy (power + register)': { topic: 'park/demo/b01/energy/m01', payload: enc.encode(`{"ts":${now - 1000},"power_kw":412.5,"energy_kwh":1203344.25}`) },
  'carbon (co2)': { topic: 'park/demo/b01/carbon/c01', payload: enc.encode(`{"ts":${now - 1000},"co2_ppm":612}`) },
  'occupancy (count, no ts)': { topic: 'park/demo/b01/occupancy/o01', payload: enc.encode('{"count":37}') },
  'rejected (bad field)': { topic: 'park/demo/b01/energy/m01', payload: enc.encode('{"power_kw":"high"}') },
};

function time(label: string, fn: () => void): void {
  for (let i = 0; i < 20_000; i++) fn(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(44)} ${(ns / 1000).toFixed(2).padStart(6)} µs/message  (${Math.round(1e9 / ns).toLocaleString('en')} /s on one core)`);
}

console.log(`MessageProcessor, ${N.toLocaleString('en')} messages per shape, node ${process.version}`);
for (const [name, m] of Object.entries(shapes)) time(`process: ${name}`, () => processor.process(m.topic, m.payload, now));
const e = shapes['energy (power + register)'];
const addr = parseTopic(e.topic);
if (!addr.ok) throw new Error('bad topic');
time('  of which parseTopic', () => parseTopic(e.topic));
time('  of which parsePayload', () => parsePayload(e.payload, addr.address, e.topic, now));
const reading = parsePayload(e.payload, addr.address, e.topic, now).readings[0];
time('  of which readingLine', () => readingLine(reading, park.sensors.get('b01/m01')));
