import fc from 'fast-check';
import { DEFAULT_PAYLOAD_LIMITS, excerptOf, indexPark, Reading, REJECT_REASONS, RejectReason } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';
import { IngestService } from './ingest.service';
import { RejectionLog } from './rejection.log';
import { MemorySink } from '../testing/memory.sink';
import { testBus } from '../testing/test-bus';

const NOW = Date.parse('2026-11-27T08:00:00.000Z');
/** A device timestamp a minute before the gateway clock. */
const TS = NOW - 60_000;


function pipeline(maxUnregistered?: number) {
  const registry = new ParkRegistry([indexPark(testPark())], maxUnregistered);
  const sink = new MemorySink();
  const metrics = new GatewayMetrics();
  const rejections = new RejectionLog(50);
  const bus = testBus();
  const emitted: Reading[][] = [];
  bus.subscribe('readings', (r) => emitted.push([...r]));
  const ingest = new IngestService(registry, sink, metrics, rejections, bus, DEFAULT_PAYLOAD_LIMITS, () => NOW);
  /** Ingests one message (inline, the sink durable at once) and says what became of its readings. */
  const handle = (topic: string, payload: Uint8Array, ctx = {}) => {
    const accepted = metrics.readingsAccepted;
    const rejected = metrics.rejectedTotal;
    let done = false;
    ingest.handle(topic, payload, ctx, (err) => {
      if (err) throw err;
      done = true;
    });
    expect(done).toBe(true);
    return { accepted: metrics.readingsAccepted - accepted, rejected: metrics.rejectedTotal - rejected };
  };
  const send = (topic: string, payload: string | Buffer, ctx = {}) => handle(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), ctx);
  return { registry, sink, metrics, rejections, emitted, ingest, send, handle };
}

describe('IngestService (contract §2-§4)', () => {
  it('stores a good reading as one line and puts it on the bus', () => {
    const p = pipeline();
    const r = p.send('park/tp/b1/energy/m1', `{"ts": ${TS}, "power_kw": 412.5, "energy_kwh": 1203344.25}`, { clientId: 'c', username: 'u' });
    expect(r).toEqual({ accepted: 1, rejected: 0 });
    expect(p.sink.lines).toEqual([`energy,building=b1,park=tp,sensor=m1,source=grid energy_kwh=1203344.25,power_kw=412.5 ${TS}`]);
    expect(p.emitted).toEqual([[{ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 412.5, energyKwh: 1203344.25 }]]);
    expect(p.metrics).toMatchObject({ messagesReceived: 1, readingsReceived: 1, readingsAccepted: 1, unregisteredReadings: 0 });
    expect(p.metrics.rejectedTotal).toBe(0);
    expect(p.rejections.latest()).toEqual([]);
    expect(p.registry.unregisteredSensors()).toEqual([]);
  });

  it('uses the model for tags: PV source and occupancy zone', () => {
    const p = pipeline();
    p.send('park/tp/b1/energy/pv1', '{"power_kw": 55}');
    p.send('park/tp/b1/occupancy/o1', '{"count": 12}');
    p.send('park/tp/b2/occupancy/o1', '{"count": 2}');
    expect(p.sink.lines).toEqual([
      `energy,building=b1,park=tp,sensor=pv1,source=pv power_kw=55 ${NOW}`,
      `occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=12i ${NOW}`,
      `occupancy,building=b2,park=tp,sensor=o1 count=2i ${NOW}`,
    ]);
  });

  const big = (bytes: number) => `{"power_kw":1,"pad":"${'x'.repeat(bytes - 23)}"}`;
  it.each<[string, string, string | Buffer, RejectReason, RegExp]>([
    ['wrong levels', 'park/tp/b1/energy', '{"power_kw": 1}', 'bad_topic', /park\/\{park\}/],
    ['an upper-case id', 'park/tp/B1/energy/m1', '{"power_kw": 1}', 'bad_topic', /building "B1"/],
    ['a bad kind', 'park/tp/b1/water/m1', '{"power_kw": 1}', 'bad_topic', /kind "water"/],
    ['not JSON', 'park/tp/b1/energy/m1', 'power_kw=1', 'bad_json', /not JSON/],
    ['a string field', 'park/tp/b1/energy/m1', '{"power_kw": "1"}', 'bad_field', /power_kw/],
    ['no field of its kind', 'park/tp/b1/energy/m1', '{"count": 1}', 'no_fields', /power_kw or energy_kwh/],
    ['over 64 KiB', 'park/tp/b1/energy/m1', big(65 * 1024), 'too_large', /66560 bytes; the limit is 65536/],
    ['too far ahead', 'park/tp/b1/energy/m1', `{"ts": ${NOW + 5 * 60_000 + 1}, "power_kw": 1}`, 'future_ts', /ahead of the gateway clock/],
    ['too old', 'park/tp/b1/energy/m1', `{"ts": ${NOW - 7 * 86_400_000 - 1}, "power_kw": 1}`, 'stale_ts', /older than 168 h/],
    ['an unknown park', 'park/nope/b1/energy/m1', '{"power_kw": 1}', 'unknown_building', /park "nope" is not served/],
    ['an unknown building', 'park/tp/b9/energy/m1', '{"power_kw": 1}', 'unknown_building', /building "b9" is not in park model "tp"/],
  ])('%s is %s: counted, listed, not stored', (_what, topic, payload, reason, detail) => {
    const p = pipeline();
    const r = p.send(topic, payload, { clientId: 'dev-7', username: 'b1-gw' });
    expect(r).toEqual({ accepted: 0, rejected: 1 });
    expect(p.sink.lines).toEqual([]);
    expect(p.emitted).toEqual([]);
    expect(p.metrics.rejected[reason]).toBe(1);
    expect(p.metrics.rejectedTotal).toBe(1);
    const [entry, ...rest] = p.rejections.latest();
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ reason, topic, at: new Date(NOW).toISOString(), clientId: 'dev-7', username: 'b1-gw' });
    expect(entry.detail).toMatch(detail);
    expect(entry.excerpt.length).toBeGreaterThan(0);
    expect(entry.excerpt.length).toBeLessThanOrEqual(200);
    // a whole refused message is quoted as sent; a refused reading as itself
    const raw = String(payload);
    const perReading = ['bad_field', 'no_fields', 'future_ts', 'stale_ts'].includes(reason);
    expect(entry.excerpt).toBe(excerptOf(perReading ? JSON.parse(raw) : raw));
    expect(p.metrics.render()).toContain(`gateway_readings_rejected_total{reason="${reason}"} 1\n`);
  });

  it('lists rejections newest first, each with its topic and excerpt', () => {
    const p = pipeline();
    p.send('park/tp/b1/energy/m1', 'first');
    p.send('park/tp/b1/carbon/c1', '{"co2_ppm": -1}');
    p.send('park/tp/b9/energy/m1', '{"power_kw": 3}');
    expect(p.rejections.latest().map((e) => [e.reason, e.topic, e.excerpt])).toEqual([
      ['unknown_building', 'park/tp/b9/energy/m1', '{"power_kw": 3}'],
      ['bad_field', 'park/tp/b1/carbon/c1', '{"co2_ppm":-1}'],
      ['bad_json', 'park/tp/b1/energy/m1', 'first'],
    ]);
    expect(p.metrics.rejected).toMatchObject({ bad_json: 1, bad_field: 1, unknown_building: 1 });
  });

  it('stores readings of an unregistered sensor and lists it (contract §4)', () => {
    const p = pipeline();
    expect(p.send('park/tp/b2/energy/m9', `[{"power_kw": 1}, {"power_kw": 2, "ts": ${TS}}]`)).toEqual({ accepted: 2, rejected: 0 });
    expect(p.sink.lines).toEqual([`energy,building=b2,park=tp,sensor=m9,source=grid power_kw=1 ${NOW}`, `energy,building=b2,park=tp,sensor=m9,source=grid power_kw=2 ${TS}`]);
    expect(p.metrics.unregisteredReadings).toBe(2);
    expect(p.metrics.readingsAccepted).toBe(2);
    expect(p.registry.unregisteredSensors()).toEqual([
      { park: 'tp', building: 'b2', kind: 'energy', sensor: 'm9', readings: 2, firstSeen: new Date(NOW).toISOString(), lastSeen: new Date(NOW).toISOString() },
    ]);
  });

  it('finding 9: beyond UNREGISTERED_MAX a new unregistered sensor is rejected (unregistered_limit) and counted; known ones keep being stored', () => {
    const p = pipeline(2);
    expect(p.send('park/tp/b2/energy/x1', '{"power_kw": 1}')).toEqual({ accepted: 1, rejected: 0 });
    expect(p.send('park/tp/b2/energy/x2', '{"power_kw": 2}')).toEqual({ accepted: 1, rejected: 0 });
    const before = p.sink.lines.length;
    expect(p.send('park/tp/b2/energy/x3', `[{"power_kw": 3, "ts": ${TS}}, {"power_kw": 4}]`, { clientId: 'b2-gw-1', username: 'b2-gw' })).toEqual({ accepted: 0, rejected: 2 });
    expect(p.sink.lines.length).toBe(before);
    expect(p.emitted).toHaveLength(2);
    expect(p.metrics.rejected.unregistered_limit).toBe(2);
    expect(p.metrics.readingsReceived).toBe(p.metrics.readingsAccepted + p.metrics.rejectedTotal);
    const [entry, ...rest] = p.rejections.latest();
    expect(rest.map((e) => e.reason)).toEqual([]);
    expect(entry).toMatchObject({
      reason: 'unregistered_limit',
      topic: 'park/tp/b2/energy/x3',
      clientId: 'b2-gw-1',
      username: 'b2-gw',
      detail: 'sensor "x3" (energy) is not in park model "tp", which already has 2 unregistered sensors stored (UNREGISTERED_MAX); add the sensor to the model or raise the limit',
      excerpt: `[{"ts":${TS},"power_kw":3},"… 2 readings"]`,
    });
    // registered and already-seen sensors are stored as before
    expect(p.send('park/tp/b2/energy/x1', '{"power_kw": 5}')).toEqual({ accepted: 1, rejected: 0 });
    expect(p.send('park/tp/b1/energy/m1', '{"power_kw": 6}')).toEqual({ accepted: 1, rejected: 0 });
    expect(p.registry.unregisteredSensors().map((u) => [u.sensor, u.readings])).toEqual([['x1', 2], ['x2', 1]]);
    expect(p.metrics.render()).toContain('gateway_readings_rejected_total{reason="unregistered_limit"} 2\n');
  });

  it('finding 1: a payload nested 6,000 deep is rejected as bad_json, and ingest goes on', () => {
    const p = pipeline();
    expect(p.send('park/tp/b1/energy/m1', '['.repeat(6000) + ']'.repeat(6000))).toEqual({ accepted: 0, rejected: 1 });
    expect(p.send('park/tp/b1/energy/m1', `[${'['.repeat(6000) + ']'.repeat(6000)}, {"power_kw": 1}]`)).toEqual({ accepted: 1, rejected: 1 });
    expect(p.metrics.rejected.bad_json).toBe(2);
    expect(p.rejections.latest()[0].excerpt).toHaveLength(200);
  });

  it('finding 6: client ids, usernames and details of a rejection are kept short and printable', () => {
    const p = pipeline();
    p.ingest.rejectUnauthorized(`park/tp/b2/energy/${'m'.repeat(5000)}`, Buffer.from('{}'), `may not publish to park/tp/b2/energy/${'m'.repeat(5000)}`, { clientId: `c\n${'c'.repeat(20_000)}`, username: 'u\u001b[2J' });
    const entry = p.rejections.latest()[0];
    expect(entry.clientId).toBe(`c\\u000a${'c'.repeat(126)}…(20002 chars)`);
    expect(entry.username).toBe('u\\u001b[2J');
    expect(entry.topic.length).toBeLessThanOrEqual(300);
    expect(entry.detail.length).toBeLessThan(420);
  });

  it('treats a listed sensor on the wrong kind as unregistered, with no model tags', () => {
    const p = pipeline();
    // o1 is an occupancy sensor with zone "lobby"; pv1 a PV meter
    expect(p.send('park/tp/b1/carbon/o1', '{"co2_ppm": 500}').accepted).toBe(1);
    expect(p.send('park/tp/b1/occupancy/pv1', '{"count": 4}').accepted).toBe(1);
    expect(p.sink.lines).toEqual([`carbon,building=b1,park=tp,sensor=o1 co2_ppm=500 ${NOW}`, `occupancy,building=b1,park=tp,sensor=pv1 count=4i ${NOW}`]);
    expect(p.registry.unregisteredSensors().map((s) => `${s.kind}/${s.sensor}`)).toEqual(['carbon/o1', 'occupancy/pv1']);
    expect(p.metrics.unregisteredReadings).toBe(2);
  });

  it('stores the good readings of an array and rejects the bad ones', () => {
    const p = pipeline();
    const payload = JSON.stringify([{ count: 3 }, { count: -1 }, { count: 'many' }, { co2_ppm: 5 }, { count: 4, ts: NOW - 1000 }]);
    expect(p.send('park/tp/b1/occupancy/o1', payload)).toEqual({ accepted: 2, rejected: 3 });
    expect(p.sink.lines).toEqual([`occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=3i ${NOW}`, `occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=4i ${NOW - 1000}`]);
    expect(p.emitted.map((batch) => batch.map((r) => r.count))).toEqual([[3, 4]]);
    expect(p.metrics).toMatchObject({ messagesReceived: 1, readingsReceived: 5, readingsAccepted: 2 });
    expect(p.metrics.rejected).toMatchObject({ bad_field: 2, no_fields: 1 });
    expect(p.rejections.latest().map((e) => e.excerpt)).toEqual(['{"co2_ppm":5}', '{"count":"many"}', '{"count":-1}']);
  });

  it('records publishes the broker refused as unauthorized', () => {
    const p = pipeline();
    p.ingest.rejectUnauthorized('park/tp/b2/energy/m1', Buffer.from('{"power_kw": 1}'), 'user "b1-gw" may not publish to park/tp/b2/energy/m1', { clientId: 'c1', username: 'b1-gw' });
    expect(p.metrics.rejected.unauthorized).toBe(1);
    expect(p.metrics.messagesReceived).toBe(1);
    expect(p.rejections.latest()[0]).toMatchObject({ reason: 'unauthorized', topic: 'park/tp/b2/energy/m1', excerpt: '{"power_kw": 1}', username: 'b1-gw' });
    expect(p.sink.lines).toEqual([]);
  });

  it('records packets closed for size as too_large', () => {
    const p = pipeline();
    p.ingest.rejectOversizePacket('127.0.0.1', 2_097_160);
    expect(p.metrics.rejected.too_large).toBe(1);
    expect(p.rejections.latest()[0]).toMatchObject({ reason: 'too_large', topic: '', excerpt: '' });
    expect(p.rejections.latest()[0].detail).toBe('MQTT packet of 2097160 bytes from 127.0.0.1; the connection was closed');
  });

  it('keeps a huge topic short in the rejection list', () => {
    const p = pipeline();
    p.send(`park/${'x'.repeat(10_000)}`, '{}');
    expect(p.rejections.latest()[0].topic).toHaveLength(300);
  });

  it('never throws on garbage and accounts for every message (property)', () => {
    const level = fc.oneof(fc.constantFrom('tp', 'b1', 'b2', 'm1', 'o1', 'energy', 'carbon', 'occupancy', 'B1', '', '+', '#'), fc.string({ maxLength: 70 }));
    const topic = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(level, { minLength: 0, maxLength: 7 }).map((l) => ['park', ...l].join('/')),
      fc.tuple(fc.constantFrom('b1', 'b2', 'b9'), fc.constantFrom('energy', 'carbon', 'occupancy'), fc.constantFrom('m1', 'pv1', 'c1', 'o1', 'boiler', 'zz')).map(([b, k, s]) => `park/tp/${b}/${k}/${s}`),
    );
    const value = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.boolean());
    const reading = fc.record(
      { ts: fc.oneof(fc.integer({ min: NOW - 10 * 86_400_000, max: NOW + 86_400_000 }), fc.string({ maxLength: 30 }), fc.constant('2026-11-27T08:00:00Z')), power_kw: value, energy_kwh: value, co2_ppm: value, emission_kgco2e: value, count: value },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.json().map((j) => Buffer.from(j)),
      reading.map((r) => Buffer.from(JSON.stringify(r))),
      fc.array(fc.oneof(reading, value), { maxLength: 20 }).map((a) => Buffer.from(JSON.stringify(a))),
    );
    const p = pipeline();
    let messages = 0;
    fc.assert(
      fc.property(topic, payload, (t, b) => {
        const before = p.sink.lines.length;
        const r = p.handle(t, b);
        messages++;
        expect(r.accepted + r.rejected).toBeGreaterThanOrEqual(1);
        expect(p.sink.lines.length - before).toBe(r.accepted);
      }),
      { numRuns: 1500 },
    );
    // every reading received is accepted or rejected for exactly one reason
    expect(p.metrics.messagesReceived).toBe(messages);
    expect(p.metrics.readingsReceived).toBe(p.metrics.readingsAccepted + p.metrics.rejectedTotal);
    expect(p.metrics.readingsAccepted).toBe(p.sink.lines.length);
    expect(Object.keys(p.metrics.rejected)).toEqual([...REJECT_REASONS]);
  });
});
