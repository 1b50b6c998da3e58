import { MAX_PAYLOAD_BYTES, parsePayload, parseTopic } from '@park/telemetry';
import { batchMessages } from './message-batch';
import { SimMessage } from './park.simulator';

const T0 = 1_764_201_600_000;
const utf8 = new TextEncoder();
const msg = (sensor: string, i: number, kind: SimMessage['kind'] = 'reading'): SimMessage => ({
  topic: `park/p/b/energy/${sensor}`,
  payload: kind === 'malformed' ? '{"ts":' : JSON.stringify({ ts: T0 + i * 10_000, power_kw: 1234.567, energy_kwh: 12_345_678.123456 + i }),
  tsMs: T0 + i * 10_000,
  sendAtMs: T0 + i * 10_000,
  kind,
  park: 'p',
  building: 'b',
  sensor,
  sensorKind: 'energy',
});

describe('batchMessages', () => {
  it('passes messages through one by one when the batch is 1', () => {
    const ms = [msg('m1', 0), msg('m2', 0), msg('m1', 1, 'malformed')];
    expect(batchMessages(ms, 1)).toEqual([
      { topic: ms[0].topic, payload: ms[0].payload, readings: 1 },
      { topic: ms[1].topic, payload: ms[1].payload, readings: 1 },
      { topic: ms[2].topic, payload: ms[2].payload, readings: 0 },
    ]);
  });

  it('packs each sensor into arrays of up to n readings, in order, that the contract parser accepts', () => {
    const ms = Array.from({ length: 25 }, (_, i) => [msg('m1', i), msg('m2', i)]).flat();
    const out = batchMessages(ms, 10);
    expect(out.map((o) => [o.topic.slice(-2), o.readings])).toEqual([
      ['m1', 10], ['m2', 10], ['m1', 10], ['m2', 10], ['m1', 5], ['m2', 5],
    ]);
    const m1 = out.filter((o) => o.topic.endsWith('m1')).flatMap((o) => {
      const t = parseTopic(o.topic);
      if (!t.ok) throw new Error(t.detail);
      const r = parsePayload(o.payload, t.address, o.topic, T0 + 300_000);
      expect(r.rejections).toEqual([]);
      return r.readings.map((x) => x.tsMs);
    });
    expect(m1).toEqual(Array.from({ length: 25 }, (_, i) => T0 + i * 10_000));
  });

  it('keeps every array under the 64 KiB payload limit', () => {
    const ms = Array.from({ length: 1000 }, (_, i) => msg('m1', i));
    const out = batchMessages(ms, 1000);
    expect(out.length).toBeGreaterThan(1);
    expect(out.reduce((a, o) => a + o.readings, 0)).toBe(1000);
    out.forEach((o) => expect(utf8.encode(o.payload).length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES));
    expect(utf8.encode(out[0].payload).length).toBeGreaterThan(MAX_PAYLOAD_BYTES - 100);
  });

  it('sends malformed payloads alone so they cannot spoil good readings', () => {
    const out = batchMessages([msg('m1', 0), msg('m1', 1, 'malformed'), msg('m1', 2)], 10);
    expect(out).toEqual([
      { topic: 'park/p/b/energy/m1', payload: '{"ts":', readings: 0 },
      { topic: 'park/p/b/energy/m1', payload: expect.stringMatching(/^\[\{.*\},\{.*\}\]$/), readings: 2 },
    ]);
  });
});
