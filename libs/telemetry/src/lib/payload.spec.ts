import fc from 'fast-check';
import {
  DEFAULT_PAYLOAD_LIMITS,
  MAX_PAYLOAD_BYTES,
  MAX_READINGS_PER_MESSAGE,
  utf8Length,
  parsePayload,
  parseTimestamp,
  validateReading,
} from './payload';
import { REJECT_REASONS, SensorAddress, SensorKind } from './reading';

const NOW = Date.parse('2026-11-27T08:00:00.000Z');
const MIN = 60_000;
const DAY = 24 * 3_600_000;

const at = (kind: SensorKind): SensorAddress => ({ park: 'demo', building: 'b01', kind, sensor: 's1' });
const TOPIC = 'park/demo/b01/energy/s1';

/** Runs one JSON reading (given as text, so that 1e400 and friends survive) through parsePayload. */
function judge(kind: SensorKind, json: string, limits = DEFAULT_PAYLOAD_LIMITS) {
  return parsePayload(json, at(kind), `park/demo/b01/${kind}/s1`, NOW, limits);
}

describe('field values (contract §3 table)', () => {
  it.each<[SensorKind, string, Record<string, number>]>([
    ['energy', '{"power_kw": 412.5}', { powerKw: 412.5 }],
    ['energy', '{"power_kw": -250}', { powerKw: -250 }],
    ['energy', '{"power_kw": 0}', { powerKw: 0 }],
    ['energy', '{"power_kw": 1e6}', { powerKw: 1e6 }],
    ['energy', '{"power_kw": -1e6}', { powerKw: -1e6 }],
    ['energy', '{"energy_kwh": 0}', { energyKwh: 0 }],
    ['energy', '{"energy_kwh": 1203344.25}', { energyKwh: 1203344.25 }],
    ['energy', '{"energy_kwh": 1e15}', { energyKwh: 1e15 }],
    ['energy', '{"power_kw": 412.5, "energy_kwh": 1203344.25}', { powerKw: 412.5, energyKwh: 1203344.25 }],
    ['carbon', '{"co2_ppm": 0}', { co2Ppm: 0 }],
    ['carbon', '{"co2_ppm": 415.2}', { co2Ppm: 415.2 }],
    ['carbon', '{"co2_ppm": 50000}', { co2Ppm: 50000 }],
    ['carbon', '{"emission_kgco2e": 0}', { emissionKgco2e: 0 }],
    ['carbon', '{"emission_kgco2e": 98765.4}', { emissionKgco2e: 98765.4 }],
    ['carbon', '{"co2_ppm": 800, "emission_kgco2e": 12}', { co2Ppm: 800, emissionKgco2e: 12 }],
    ['occupancy', '{"count": 0}', { count: 0 }],
    ['occupancy', '{"count": 37}', { count: 37 }],
    ['occupancy', '{"count": 100000}', { count: 100000 }],
    ['occupancy', '{"count": 3.0}', { count: 3 }],
    // other keys are ignored (contract §3)
    ['occupancy', '{"count": 5, "battery": "low", "power_kw": "x", "meta": {"fw": 2}}', { count: 5 }],
    ['energy', '{"power_kw": 1, "co2_ppm": "not checked, not ours"}', { powerKw: 1 }],
  ])('%s %s is accepted', (kind, json, fields) => {
    const r = judge(kind, json);
    expect(r.rejections).toEqual([]);
    expect(r.readings).toEqual([{ ...at(kind), tsMs: NOW, ...fields }]);
  });

  it.each<[SensorKind, string, string]>([
    // strings, null, booleans, nested values where numbers belong
    ['energy', '{"power_kw": "412.5"}', 'power_kw'],
    ['energy', '{"power_kw": ""}', 'power_kw'],
    ['energy', '{"power_kw": null}', 'power_kw'],
    ['energy', '{"power_kw": true}', 'power_kw'],
    ['energy', '{"power_kw": {"value": 1}}', 'power_kw'],
    ['energy', '{"power_kw": [1]}', 'power_kw'],
    ['energy', '{"power_kw": "NaN"}', 'power_kw'],
    // JSON has no NaN or Infinity literal, but 1e400 parses to Infinity
    ['energy', '{"power_kw": 1e400}', 'power_kw'],
    ['energy', '{"power_kw": -1e400}', 'power_kw'],
    ['energy', '{"energy_kwh": 1e400}', 'energy_kwh'],
    // ranges
    ['energy', '{"power_kw": 1000001}', 'power_kw'],
    ['energy', '{"power_kw": -1000001}', 'power_kw'],
    ['energy', '{"power_kw": 1000000.0001}', 'power_kw'],
    ['energy', '{"energy_kwh": -0.01}', 'energy_kwh'],
    ['energy', '{"energy_kwh": -1}', 'energy_kwh'],
    ['carbon', '{"co2_ppm": -1}', 'co2_ppm'],
    ['carbon', '{"co2_ppm": -0.001}', 'co2_ppm'],
    ['carbon', '{"co2_ppm": 50000.01}', 'co2_ppm'],
    ['carbon', '{"co2_ppm": "415"}', 'co2_ppm'],
    ['carbon', '{"emission_kgco2e": -5}', 'emission_kgco2e'],
    ['carbon', '{"emission_kgco2e": 1e400}', 'emission_kgco2e'],
    ['occupancy', '{"count": 100001}', 'count'],
    ['occupancy', '{"count": 1.5}', 'count'],
    ['occupancy', '{"count": -1}', 'count'],
    ['occupancy', '{"count": "3"}', 'count'],
    ['occupancy', '{"count": null}', 'count'],
    ['occupancy', '{"count": 1e400}', 'count'],
    // one bad field spoils the reading even when the other is good
    ['energy', '{"power_kw": 10, "energy_kwh": -3}', 'energy_kwh'],
    ['carbon', '{"co2_ppm": 60000, "emission_kgco2e": 3}', 'co2_ppm'],
  ])('%s %s is bad_field naming %s', (kind, json, field) => {
    const r = judge(kind, json);
    expect(r.readings).toEqual([]);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0].reason).toBe('bad_field');
    expect(r.rejections[0].detail).toContain(field);
  });

  it('JSON.parse really turns 1e400 into Infinity (why the test above is meaningful)', () => {
    expect(JSON.parse('1e400')).toBe(Infinity);
  });

  it.each<[SensorKind, string]>([
    ['energy', '{}'],
    ['energy', '{"ts": 1764201600000}'],
    ['energy', '{"battery": 3.3, "rssi": -70}'],
    ['energy', '{"co2_ppm": 400}'], // a field of another kind
    ['energy', '{"count": 3}'],
    ['carbon', '{"power_kw": 10, "energy_kwh": 5}'],
    ['occupancy', '{"co2_ppm": 400, "power_kw": 1}'],
    ['occupancy', '{"Count": 3}'], // names are case-sensitive
  ])('%s %s is no_fields', (kind, json) => {
    const r = judge(kind, json);
    expect(r.readings).toEqual([]);
    expect(r.rejections.map((x) => x.reason)).toEqual(['no_fields']);
    expect(r.rejections[0].detail).toMatch(new RegExp(kind));
  });
});

describe('timestamps (contract §3)', () => {
  it('a missing ts is the receive time', () => {
    expect(judge('energy', '{"power_kw": 1}').readings[0].tsMs).toBe(NOW);
  });

  it.each<[unknown, number]>([
    [NOW - 1000, NOW - 1000],
    [NOW - 1000.4, NOW - 1000],
    ['2026-11-27T08:00:00Z', NOW],
    ['2026-11-27T08:00:00.000Z', NOW],
    ['2026-11-27T07:59:59.5Z', NOW - 500],
    ['2026-11-27T07:59:59.123456Z', NOW - 877],
    ['2026-11-27T16:00:00+08:00', NOW],
    ['2026-11-27T02:30:00-05:30', NOW],
    ['2026-11-27T08:00:00+00:00', NOW],
    ['2026-11-27T08:00:00-00:00', NOW],
    ['2026-11-27t08:00:00z', NOW],
    ['2026-11-27 08:00:00Z', NOW],
    ['2026-11-28T07:59:00+23:59', NOW],
  ])('ts %j is %d', (ts, expected) => {
    expect(parseTimestamp(ts)).toBe(expected);
    const r = judge('energy', JSON.stringify({ ts, power_kw: 1 }));
    expect(r.rejections).toEqual([]);
    expect(r.readings[0].tsMs).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a date without time', '2026-11-27'],
    ['no offset', '2026-11-27T08:00:00'],
    ['no seconds', '2026-11-27T08:00Z'],
    ['a compact offset', '2026-11-27T08:00:00+0800'],
    ['an offset beyond 23 h', '2026-11-27T08:00:00+25:00'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 0', '2026-00-10T00:00:00Z'],
    ['day 0', '2026-11-00T00:00:00Z'],
    ['day 32', '2026-01-32T00:00:00Z'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February of a common year', '2026-02-29T00:00:00Z'],
    ['31 November', '2026-11-31T00:00:00Z'],
    ['hour 24', '2026-11-27T24:00:00Z'],
    ['minute 60', '2026-11-27T08:60:00Z'],
    ['an RFC 2822 date', 'Fri, 27 Nov 2026 08:00:00 GMT'],
    ['epoch ms as a string', '1764201600000'],
    ['an empty string', ''],
    ['surrounding spaces', ' 2026-11-27T08:00:00Z '],
    ['a negative number', -1],
    ['null', null],
    ['a boolean', true],
    ['an object', { t: 1 }],
    ['an array', [NOW]],
  ])('%s is bad_field', (_what, ts) => {
    expect(parseTimestamp(ts)).toBeNaN();
    const r = judge('energy', JSON.stringify({ ts, power_kw: 1 }));
    expect(r.readings).toEqual([]);
    expect(r.rejections.map((x) => [x.reason, x.detail.startsWith('ts ')])).toEqual([['bad_field', true]]);
  });

  it('29 February of a leap year is a date', () => {
    expect(parseTimestamp('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
  });

  it('ts 1e400 (Infinity) is bad_field', () => {
    expect(judge('energy', '{"ts": 1e400, "power_kw": 1}').rejections[0].reason).toBe('bad_field');
  });

  it.each<[string, number, string | undefined]>([
    ['now + 5 min', NOW + 5 * MIN, undefined],
    ['now + 5 min + 1 ms', NOW + 5 * MIN + 1, 'future_ts'],
    ['now + 1 day', NOW + DAY, 'future_ts'],
    ['now - 7 days', NOW - 7 * DAY, undefined],
    ['now - 7 days - 1 ms', NOW - 7 * DAY - 1, 'stale_ts'],
    ['epoch 0', 0, 'stale_ts'],
  ])('%s with default limits', (_what, ts, reason) => {
    const r = judge('energy', JSON.stringify({ ts, power_kw: 1 }));
    if (reason) {
      expect(r.readings).toEqual([]);
      expect(r.rejections.map((x) => x.reason)).toEqual([reason]);
    } else {
      expect(r.rejections).toEqual([]);
      expect(r.readings[0].tsMs).toBe(ts);
    }
  });

  it('the bounds are configurable', () => {
    const limits = { maxFutureMs: 1000, maxAgeMs: 60_000 };
    const reasons = (ts: number) => judge('energy', JSON.stringify({ ts, power_kw: 1 }), limits).rejections.map((x) => x.reason);
    expect(reasons(NOW + 1000)).toEqual([]);
    expect(reasons(NOW + 1001)).toEqual(['future_ts']);
    expect(reasons(NOW - 60_000)).toEqual([]);
    expect(reasons(NOW - 60_001)).toEqual(['stale_ts']);
    // the defaults would have accepted both
    expect(judge('energy', JSON.stringify({ ts: NOW + 2 * MIN, power_kw: 1 })).rejections).toEqual([]);
    expect(judge('energy', JSON.stringify({ ts: NOW - DAY, power_kw: 1 })).rejections).toEqual([]);
  });

  it('an RFC 3339 ts is judged against the bounds like a number', () => {
    const r = judge('energy', JSON.stringify({ ts: '2026-11-27T16:05:00.001+08:00', power_kw: 1 }));
    expect(r.rejections.map((x) => x.reason)).toEqual(['future_ts']);
  });

  it('the defaults are the contract values', () => {
    expect(DEFAULT_PAYLOAD_LIMITS).toEqual({ maxFutureMs: 5 * MIN, maxAgeMs: 7 * DAY });
  });
});

describe('messages (contract §3)', () => {
  it.each([
    ['not JSON', 'power_kw=3'],
    ['truncated JSON', '{"power_kw": 3'],
    ['an empty payload', ''],
    ['trailing garbage', '{"power_kw": 3} x'],
    ['NaN literal', '{"power_kw": NaN}'],
    ['single quotes', "{'power_kw': 3}"],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('%s is bad_json', (_what, payload) => {
    const r = parsePayload(payload, at('energy'), TOPIC, NOW);
    expect(r.readings).toEqual([]);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ reason: 'bad_json', topic: TOPIC });
    expect(r.rejections[0].detail).toMatch(/not JSON/);
  });

  it.each([
    ['a top-level string', '"power_kw=3"'],
    ['a top-level number', '412.5'],
    ['null', 'null'],
    ['true', 'true'],
  ])('%s is bad_json (a reading must be an object)', (_what, payload) => {
    const r = parsePayload(payload, at('energy'), TOPIC, NOW);
    expect(r.readings).toEqual([]);
    expect(r.rejections.map((x) => [x.reason, x.detail])).toEqual([['bad_json', 'a reading must be a JSON object']]);
  });

  it('an empty array is refused, so that no message goes uncounted', () => {
    const r = parsePayload('[]', at('energy'), TOPIC, NOW);
    expect(r.readings).toEqual([]);
    expect(r.rejections.map((x) => x.reason)).toEqual(['no_fields']);
  });

  it('judges each reading of an array alone: the good ones are kept', () => {
    const payload = JSON.stringify([
      { ts: NOW - 3000, power_kw: 1 },
      { ts: NOW - 2000, power_kw: 'two' },
      7,
      { ts: NOW - 1000, energy_kwh: 30 },
      { ts: NOW + DAY, power_kw: 4 },
      { co2_ppm: 400 },
      [{ power_kw: 1 }],
      { ts: NOW - 8 * DAY, power_kw: 5 },
      { ts: 'yesterday', power_kw: 6 },
      { power_kw: 7 },
    ]);
    const r = parsePayload(payload, at('energy'), TOPIC, NOW);
    expect(r.readings.map((x) => [x.tsMs, x.powerKw, x.energyKwh])).toEqual([
      [NOW - 3000, 1, undefined],
      [NOW - 1000, undefined, 30],
      [NOW, 7, undefined],
    ]);
    expect(r.rejections.map((x) => x.reason)).toEqual(['bad_field', 'bad_json', 'future_ts', 'no_fields', 'bad_json', 'stale_ts', 'bad_field']);
    // each rejection quotes its own reading, not the whole message
    expect(r.rejections[0].excerpt).toBe(JSON.stringify({ ts: NOW - 2000, power_kw: 'two' }));
    expect(r.rejections[1].excerpt).toBe('7');
    expect(r.rejections.every((x) => x.topic === TOPIC)).toBe(true);
  });

  /** A JSON reading padded with an ignored key to exactly `bytes` bytes. */
  function paddedTo(bytes: number): string {
    const head = '{"power_kw":1,"pad":"';
    const tail = '"}';
    return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
  }

  it('64 KiB exactly is accepted, one byte more is too_large', () => {
    const ok = paddedTo(MAX_PAYLOAD_BYTES);
    expect(utf8Length(ok)).toBe(65536);
    expect(new TextEncoder().encode(ok).length).toBe(65536);
    expect(parsePayload(new TextEncoder().encode(ok), at('energy'), TOPIC, NOW).readings).toHaveLength(1);
    const big = parsePayload(new TextEncoder().encode(paddedTo(MAX_PAYLOAD_BYTES + 1)), at('energy'), TOPIC, NOW);
    expect(big.readings).toEqual([]);
    expect(big.rejections.map((x) => x.reason)).toEqual(['too_large']);
    expect(big.rejections[0].detail).toContain('65537');
    expect(big.rejections[0].excerpt.length).toBeLessThanOrEqual(200);
  });

  it('counts bytes, not characters, for string payloads', () => {
    // 'é' is two bytes in UTF-8
    const head = '{"power_kw":1,"pad":"';
    const chars = (MAX_PAYLOAD_BYTES - head.length - 2) / 2 + 1;
    const s = head + 'é'.repeat(Math.floor(chars)) + '"}';
    expect(s.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(new TextEncoder().encode(s).length).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    expect(parsePayload(s, at('energy'), TOPIC, NOW).rejections.map((x) => x.reason)).toEqual(['too_large']);
  });

  it('an array of 1000 readings is accepted, 1001 is too_large', () => {
    const readings = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ ts: NOW - i, count: i })));
    const ok = parsePayload(readings(MAX_READINGS_PER_MESSAGE), at('occupancy'), TOPIC, NOW);
    expect(ok.rejections).toEqual([]);
    expect(ok.readings).toHaveLength(1000);
    const big = parsePayload(readings(MAX_READINGS_PER_MESSAGE + 1), at('occupancy'), TOPIC, NOW);
    expect(big.readings).toEqual([]);
    expect(big.rejections.map((x) => [x.reason, x.detail])).toEqual([['too_large', 'array of 1001 readings; the limit is 1000']]);
  });

  it('accepts bytes and a string alike', () => {
    const json = `{"ts": ${NOW - 1000}, "power_kw": 2}`;
    expect(parsePayload(new TextEncoder().encode(json), at('energy'), TOPIC, NOW)).toEqual(parsePayload(json, at('energy'), TOPIC, NOW));
    expect(parsePayload(json, at('energy'), TOPIC, NOW).readings[0].powerKw).toBe(2);
  });

  it('never throws, and accounts for every message (property)', () => {
    const json = fc.oneof(
      fc.json(),
      fc.array(fc.record({ ts: fc.oneof(fc.integer(), fc.string(), fc.constant(NOW)), power_kw: fc.oneof(fc.double(), fc.string(), fc.constant(null)) })).map((a) => JSON.stringify(a)),
    );
    const payload = fc.oneof(json, fc.string(), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(payload, fc.constantFrom<SensorKind>('energy', 'carbon', 'occupancy'), (p, kind) => {
        const r = parsePayload(p, at(kind), TOPIC, NOW);
        expect(r.readings.length + r.rejections.length).toBeGreaterThanOrEqual(1);
        for (const x of r.rejections) {
          expect(REJECT_REASONS).toContain(x.reason);
          expect(x.excerpt.length).toBeLessThanOrEqual(200);
        }
        for (const x of r.readings) expect(Number.isFinite(x.tsMs)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('validateReading', () => {
  it('refuses non-objects as bad_json', () => {
    for (const raw of [null, undefined, 3, 'x', [], [{ power_kw: 1 }]]) {
      expect(validateReading(raw, at('energy'), NOW)).toMatchObject({ ok: false, reason: 'bad_json' });
    }
  });

  it('copies only the fields of its kind onto the reading', () => {
    const r = validateReading({ power_kw: 3, co2_ppm: 400, count: 2, extra: 'x' }, at('energy'), NOW);
    expect(r).toEqual({ ok: true, reading: { ...at('energy'), tsMs: NOW, powerKw: 3 } });
  });
});

describe('timestamps beyond what Date can show (found by the fuzz harness)', () => {
  it.each([
    ['1e300', 'future_ts', /^ts 1e\+300 is more than 300 s ahead/],
    ['1.7e308', 'future_ts', /^ts 1\.7e\+308 is more than/],
    ['8640000000000001', 'future_ts', /^ts 8640000000000001 is more than/],
    ['"275760-09-13T00:00:00.001Z"', 'bad_field', /^ts must be/],
  ])('ts %s is %s, with a detail, and nothing throws', (ts, reason, detail) => {
    const r = judge('energy', `{"ts": ${ts}, "power_kw": 1}`);
    expect(r.readings).toEqual([]);
    expect(r.rejections[0].reason).toBe(reason);
    expect(r.rejections[0].detail).toMatch(detail);
  });
});

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '中文', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud800'])('%j counts like TextEncoder', (s) => {
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
  it('counts like TextEncoder for random strings (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => utf8Length(s) === new TextEncoder().encode(s).length), { numRuns: 2000 });
  });
});
