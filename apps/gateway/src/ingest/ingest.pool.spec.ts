import { DEFAULT_PAYLOAD_LIMITS, indexPark, Reading } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import pino from 'pino';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';
import { MemorySink } from '../testing/memory.sink';
import { testBus } from '../testing/test-bus';
import { IngestPool } from './ingest.pool';
import { IngestService } from './ingest.service';
import { MessageProcessor, ProcessedMessage } from './message.processor';
import { RejectionLog } from './rejection.log';

const NOW = Date.parse('2026-11-27T08:00:00.000Z');
const silent = pino({ level: 'silent' });
const enc = (s: string) => Buffer.from(s);

/** Messages of every kind of outcome: good, arrays, refused, garbage. */
const MESSAGES: Array<[string, string]> = [
  ['park/tp/b1/energy/m1', `{"ts": ${NOW - 1000}, "power_kw": 412.5, "energy_kwh": 12.25}`],
  ['park/tp/b1/occupancy/o1', JSON.stringify([{ count: 3 }, { count: -1 }, { count: 4, ts: NOW - 500 }])],
  ['park/tp/b9/energy/m1', '{"power_kw": 1}'],
  ['park/tp/b2/energy/m9', '{"power_kw": 2}'],
  ['park/tp/b1/carbon/c1', 'not json'],
  ['park/x', '{}'],
  ['park/tp/b1/carbon/c1', '{"co2_ppm": 600}'],
];

function service(pool?: IngestPool | { run: IngestPool['run'] }) {
  const registry = new ParkRegistry([indexPark(testPark())]);
  const sink = new MemorySink();
  const metrics = new GatewayMetrics();
  const bus = testBus();
  const readings: Reading[] = [];
  bus.subscribe('readings', (r) => readings.push(...r));
  const ingest = new IngestService(registry, sink, metrics, new RejectionLog(50), bus, DEFAULT_PAYLOAD_LIMITS, () => NOW, pool as IngestPool, silent);
  return { ingest, sink, metrics, readings };
}

describe('IngestPool (worker threads, GATEWAY_WORKERS)', () => {
  let pool: IngestPool;
  afterEach(async () => pool?.close());

  it('gives exactly what the main thread would, for every kind of message', async () => {
    pool = new IngestPool(2, { parks: [testPark()], limits: DEFAULT_PAYLOAD_LIMITS }, silent);
    const inline = new MessageProcessor([indexPark(testPark())], DEFAULT_PAYLOAD_LIMITS);
    const got = await pool.run(MESSAGES.map((m) => m[0]), MESSAGES.map((m) => enc(m[1])), MESSAGES.map(() => NOW));
    expect(got).toEqual(MESSAGES.map(([t, p]) => inline.process(t, enc(p), NOW)));
  });

  it('finding 1: a worker rejects payloads nested 6,000 deep (bad_json, no_fields) like the main thread, and keeps running', async () => {
    pool = new IngestPool(1, { parks: [testPark()], limits: DEFAULT_PAYLOAD_LIMITS }, silent);
    const worker = () => (pool as unknown as { slots: Array<{ worker: { threadId: number } }> }).slots[0].worker.threadId;
    const before = worker();
    const inline = new MessageProcessor([indexPark(testPark())], DEFAULT_PAYLOAD_LIMITS);
    const deep = ['['.repeat(6000) + ']'.repeat(6000), `[${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}, {"power_kw": 1}]`];
    const got = await pool.run(deep.map(() => 'park/tp/b1/energy/m1'), deep.map(enc), deep.map(() => NOW));
    expect(got).toEqual(deep.map((p) => inline.process('park/tp/b1/energy/m1', enc(p), NOW)));
    expect(got.map((r) => r.rejections.map((x) => x.reason))).toEqual([['bad_json'], ['no_fields']]);
    expect(got[1].lineCount).toBe(1);
    expect(worker()).toBe(before);
  });

  it('keeps arrival order end to end: acknowledgements, lines and bus readings', async () => {
    pool = new IngestPool(2, { parks: [testPark()], limits: DEFAULT_PAYLOAD_LIMITS }, silent);
    const t = service(pool);
    const acked: Array<number | string> = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      all.push(new Promise((r) => t.ingest.handle('park/tp/b1/energy/m1', enc(`{"ts": ${NOW - 100_000 + i}, "power_kw": ${i}}`), {}, () => (acked.push(i), r()))));
      if (i % 300 === 0) t.ingest.barrier(() => acked.push(`after ${i}`));
    }
    await Promise.all(all);
    expect(acked.filter((i) => typeof i === 'number')).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    // each barrier in its place (a message that is not telemetry, acknowledged in its turn)
    for (let i = 0; i < 2000; i += 300) expect(acked.indexOf(`after ${i}`)).toBe(acked.indexOf(i) + 1);
    expect(t.sink.lines.map((l) => Number(/power_kw=(\d+)/.exec(l)?.[1]))).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(t.readings.map((r) => r.powerKw)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('takes batches back in order even when workers answer out of order', async () => {
    // A pool whose answers arrive last-first.
    const inline = new MessageProcessor([indexPark(testPark())], DEFAULT_PAYLOAD_LIMITS);
    const held: Array<() => void> = [];
    const fake = {
      run: (topics: string[], payloads: Uint8Array[], nowMs: number[]) =>
        new Promise<ProcessedMessage[]>((resolve) => held.push(() => resolve(topics.map((tp, i) => inline.process(tp, payloads[i], nowMs[i]))))),
    };
    const t = service(fake);
    const acked: number[] = [];
    for (let i = 0; i < 600; i++) t.ingest.handle('park/tp/b1/energy/m1', enc(`{"power_kw": ${i}}`), {}, () => acked.push(i));
    await new Promise((r) => setImmediate(r));
    expect(held.length).toBeGreaterThan(1);
    for (const release of held.reverse()) release();
    await new Promise((r) => setTimeout(r, 10));
    expect(acked).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('processes on the main thread the batches of a worker that dies, and replaces the worker', async () => {
    pool = new IngestPool(1, { parks: [testPark()], limits: DEFAULT_PAYLOAD_LIMITS }, silent);
    const t = service(pool);
    const done: Array<Error | undefined> = [];
    const all = Array.from({ length: 50 }, (_, i) => new Promise<void>((r) => t.ingest.handle('park/tp/b1/energy/m1', enc(`{"power_kw": ${i}}`), {}, (e) => (done.push(e), r()))));
    // The worker dies with the batch in hand.
    await new Promise((r) => setImmediate(r));
    await (pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }).slots[0].worker.terminate();
    await Promise.all(all);
    expect(done.every((e) => e === undefined)).toBe(true);
    expect(t.sink.lines).toHaveLength(50);
    expect(pool.running).toBe(1);
    // and the replacement works
    await expect(pool.run(['park/tp/b1/carbon/c1'], [enc('{"co2_ppm": 5}')], [NOW])).resolves.toHaveLength(1);
  });

  it('the main thread does the work when no worker is left', async () => {
    const t = service({ run: () => Promise.reject(new Error('no ingest worker is running')) });
    await new Promise<void>((r) => t.ingest.handle('park/tp/b1/energy/m1', enc('{"power_kw": 7}'), {}, () => r()));
    expect(t.readings.map((r) => r.powerKw)).toEqual([7]);
  });
});
