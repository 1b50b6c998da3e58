import fc from 'fast-check';
import { DEFAULT_PAYLOAD_LIMITS, indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { MessageProcessor } from './message.processor';
import { decodeResults, encodeBatch, encodeResults, payloadOf } from './worker.codec';

const NOW = Date.parse('2026-11-27T08:00:00.000Z');
const processor = new MessageProcessor([indexPark(testPark())], DEFAULT_PAYLOAD_LIMITS);

describe('the worker transport (flat arrays instead of one object per message)', () => {
  it('carries every payload, topic and time to the worker unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 2 ** 45 })), { maxLength: 50 }), (msgs) => {
        const { batch } = encodeBatch(7, msgs.map((m) => m[0]), msgs.map((m) => m[1]), msgs.map((m) => m[2]));
        expect(batch.id).toBe(7);
        msgs.forEach(([t, p, n], i) => {
          expect(batch.topics[i]).toBe(t);
          expect([...payloadOf(batch, i)]).toEqual([...p]);
          expect(batch.nowMs[i]).toBe(n);
        });
      }),
    );
  });

  it('brings back exactly what the processor found, message by message (property)', () => {
    const topic = fc.oneof(
      fc.tuple(fc.constantFrom('b1', 'b2', 'b9'), fc.constantFrom('energy', 'carbon', 'occupancy'), fc.constantFrom('m1', 'pv1', 'c1', 'o1', 'boiler', 'zz')).map(([b, k, s]) => `park/tp/${b}/${k}/${s}`),
      fc.string({ maxLength: 40 }),
    );
    const value = fc.oneof(fc.double(), fc.integer({ min: -5, max: 100_000 }), fc.string({ maxLength: 5 }), fc.constant(null));
    const reading = fc.record({ ts: fc.oneof(fc.integer({ min: NOW - 86_400_000, max: NOW }), fc.constant('x')), power_kw: value, energy_kwh: value, co2_ppm: value, emission_kgco2e: value, count: value }, { requiredKeys: [] });
    const payload = fc.oneof(reading.map((r) => JSON.stringify(r)), fc.array(reading, { maxLength: 5 }).map((a) => JSON.stringify(a)), fc.string({ maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(topic, payload), { maxLength: 30 }), (msgs) => {
        const results = msgs.map(([t, p]) => processor.process(t, Buffer.from(p), NOW));
        const { result } = encodeResults(1, results);
        expect(decodeResults(structuredClone(result))).toEqual(results);
      }),
      { numRuns: 500 },
    );
  });
});
