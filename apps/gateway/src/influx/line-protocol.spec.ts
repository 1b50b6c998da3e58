import { Point } from '@influxdata/influxdb-client';
import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';
import { indexPark, Reading, SensorModel } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import fc from 'fast-check';
import { alarmLine, encodeLine, escapeTag, quoteString, readingLine, vitalsLines, windowLabel, WRITE_PRECISION } from './line-protocol';

const START = Date.parse('2026-11-27T08:00:00.000Z');

const parkSigns: VitalSigns = { energy_kwh: 12.5, pv_kwh: 0, load_kw: 750, peak_kw: 810.25, carbon_kgco2e: 5.25, occupancy: 110, occupancy_rate: 1, online_ratio: 1, status: 'warn' };
const b1: VitalSigns = { energy_kwh: 10, pv_kwh: 2.5, load_kw: 600, peak_kw: 640, renewable_share: 0.2, carbon_kgco2e: 4.2, occupancy: 100, occupancy_rate: 1, co2_ppm_avg: 1100.5, co2_ppm_max: 1300, online_ratio: 1, status: 'warn' };
/** Optional fields absent: no PV, no CO2 reading, no capacity. */
const b2: VitalSigns = { energy_kwh: 2.5, pv_kwh: 0, load_kw: 150, peak_kw: 170.25, carbon_kgco2e: 1.05, occupancy: 10, online_ratio: 1, status: 'ok' };

function parkVitals(overrides: Partial<VitalSigns> = {}): ParkVitals {
  return { parkId: 'tp', window: { startMs: START, endMs: START + 60_000 }, park: { ...parkSigns, ...overrides }, buildings: { b1, b2 } };
}

/** `measurement,tags` and the timestamp of a line: the point's identity in InfluxDB. */
function identity(line: string): string {
  const [seriesKey] = line.split(' ');
  return `${seriesKey} @${line.slice(line.lastIndexOf(' ') + 1)}`;
}

describe('windowLabel (contract §5 `window` tag)', () => {
  it.each([
    [60_000, '1m'],
    [300_000, '5m'],
    [5_000, '5s'],
    [1_500, '1.5s'],
  ])('%i ms → %s', (ms, label) => {
    expect(windowLabel(ms)).toBe(label);
  });
});

describe('vitalsLines (contract §5 `vitals`)', () => {
  it('writes one park point and one point per building at the window start, tagged park, scope, building (building scope only) and window', () => {
    expect(vitalsLines(parkVitals(), 60_000)).toEqual([
      `vitals,park=tp,scope=park,window=1m carbon_kgco2e=5.25,energy_kwh=12.5,load_kw=750,occupancy=110,occupancy_rate=1,online_ratio=1,peak_kw=810.25,pv_kwh=0,status="warn" ${START}`,
      `vitals,building=b1,park=tp,scope=building,window=1m carbon_kgco2e=4.2,co2_ppm_avg=1100.5,co2_ppm_max=1300,energy_kwh=10,load_kw=600,occupancy=100,occupancy_rate=1,online_ratio=1,peak_kw=640,pv_kwh=2.5,renewable_share=0.2,status="warn" ${START}`,
      `vitals,building=b2,park=tp,scope=building,window=1m carbon_kgco2e=1.05,energy_kwh=2.5,load_kw=150,occupancy=10,online_ratio=1,peak_kw=170.25,pv_kwh=0,status="ok" ${START}`,
    ]);
  });

  it('writes every numeric vital as a float (no `i` suffix, even for whole numbers) and status as a string', () => {
    const fields = vitalsLines(parkVitals(), 60_000).flatMap((l) => l.split(' ')[1].split(','));
    for (const f of fields) {
      const [key, value] = f.split('=');
      if (key === 'status') expect(value).toMatch(/^"(ok|warn|critical)"$/);
      else expect(value).toMatch(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/);
    }
  });

  it('leaves absent optional fields out instead of writing placeholders', () => {
    const b2Line = vitalsLines(parkVitals(), 60_000)[2];
    for (const absent of ['renewable_share', 'occupancy_rate', 'co2_ppm_avg', 'co2_ppm_max']) expect(b2Line).not.toContain(`${absent}=`);
  });

  it('labels a shorter test window in seconds', () => {
    for (const line of vitalsLines(parkVitals(), 5_000)) expect(line.split(' ')[0]).toMatch(/,window=5s$/);
  });

  it('writing the same window again has the same identity (measurement, tags, time), so InfluxDB overwrites it', () => {
    const first = vitalsLines(parkVitals(), 60_000);
    const revised = vitalsLines(parkVitals({ energy_kwh: 13, load_kw: 780, status: 'critical' }), 60_000);
    expect(revised[0]).not.toBe(first[0]);
    expect(revised.map(identity)).toEqual(first.map(identity));
  });
});

describe('alarmLine (contract §5 `alarms`)', () => {
  const alarm: Alarm = {
    parkId: 'tp', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised',
    value: 612.5, threshold: 500, message: 'load 612.5 kW above contracted 500 kW, "b1"', tsMs: START + 60_000,
  };

  it('tags park, building, rule and severity; value and threshold are floats; state and message strings; time = the transition', () => {
    expect(alarmLine(alarm)).toBe(
      `alarms,building=b1,park=tp,rule=demand,severity=critical message="load 612.5 kW above contracted 500 kW, \\"b1\\"",state="raised",threshold=500,value=612.5 ${START + 60_000}`,
    );
  });

  it('a clear of the same alarm is a second point of the same series (the state field changes)', () => {
    const cleared = alarmLine({ ...alarm, state: 'cleared', value: 300, tsMs: START + 180_000 }) as string;
    expect(cleared.split(' ')[0]).toBe(alarmLine(alarm)?.split(' ')[0]);
    expect(cleared).toContain('state="cleared"');
    expect(cleared.endsWith(` ${START + 180_000}`)).toBe(true);
  });

  it('a transition found late (contract §8) carries late=true; live ones carry no such field', () => {
    expect(alarmLine({ ...alarm, late: true })).toBe(
      `alarms,building=b1,park=tp,rule=demand,severity=critical late=true,message="load 612.5 kW above contracted 500 kW, \\"b1\\"",state="raised",threshold=500,value=612.5 ${START + 60_000}`,
    );
    expect(alarmLine({ ...alarm, late: false })).toBe(alarmLine(alarm));
  });

});


const TS = 1764201600000;
const park = indexPark(testPark());
const sensor = (key: string) => park.sensors.get(key);

describe('readingLine (contract §5)', () => {
  it.each<[string, Reading, SensorModel | undefined, string]>([
    [
      'a grid meter with both fields',
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 412.5, energyKwh: 1203344.25 },
      sensor('b1/m1'),
      'energy,building=b1,park=tp,sensor=m1,source=grid energy_kwh=1203344.25,power_kw=412.5 1764201600000',
    ],
    ['a PV meter', { park: 'tp', building: 'b1', kind: 'energy', sensor: 'pv1', tsMs: TS, powerKw: -80 }, sensor('b1/pv1'), 'energy,building=b1,park=tp,sensor=pv1,source=pv power_kw=-80 1764201600000'],
    [
      'a meter without source in the model (default grid)',
      { park: 'tp', building: 'b2', kind: 'energy', sensor: 'm1', tsMs: TS, energyKwh: 412 },
      sensor('b2/m1'),
      'energy,building=b2,park=tp,sensor=m1,source=grid energy_kwh=412 1764201600000',
    ],
    [
      'an unregistered meter (no model entry: source grid)',
      { park: 'tp', building: 'b2', kind: 'energy', sensor: 'm9', tsMs: TS, powerKw: 1 },
      undefined,
      'energy,building=b2,park=tp,sensor=m9,source=grid power_kw=1 1764201600000',
    ],
    [
      'a carbon sensor (no source tag)',
      { park: 'tp', building: 'b1', kind: 'carbon', sensor: 'c1', tsMs: TS, co2Ppm: 415, emissionKgco2e: 12.5 },
      sensor('b1/c1'),
      'carbon,building=b1,park=tp,sensor=c1 co2_ppm=415,emission_kgco2e=12.5 1764201600000',
    ],
    ['a zoned occupancy sensor', { park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 3 }, sensor('b1/o1'), 'occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=3i 1764201600000'],
    ['an unzoned occupancy sensor (no zone tag)', { park: 'tp', building: 'b2', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 0 }, sensor('b2/o1'), 'occupancy,building=b2,park=tp,sensor=o1 count=0i 1764201600000'],
  ])('%s', (_what, reading, model, line) => {
    expect(readingLine(reading, model)).toBe(line);
  });

  it('writes counts as integers and energy registers as floats, even when whole', () => {
    expect(readingLine({ park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 100000 }, sensor('b1/o1'))).toMatch(/ count=100000i /);
    const kwh = readingLine({ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, energyKwh: 412 }, sensor('b1/m1'));
    expect(kwh).toMatch(/ energy_kwh=412 /);
    expect(kwh).not.toMatch(/412i/);
  });

  it('uses the millisecond timestamp as is', () => {
    expect(WRITE_PRECISION).toBe('ms');
    expect(readingLine({ park: 'tp', building: 'b1', kind: 'carbon', sensor: 'c1', tsMs: 1, co2Ppm: 1 }, sensor('b1/c1'))?.endsWith(' 1')).toBe(true);
  });

  it('escapes zone tag values the way line protocol requires', () => {
    const zoned: SensorModel = { id: 'o1', kind: 'occupancy', zone: 'east lobby,1=a', intervalS: 30 };
    expect(readingLine({ park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 2 }, zoned)).toBe('occupancy,building=b1,park=tp,sensor=o1,zone=east\\ lobby\\,1\\=a count=2i 1764201600000');
  });

  it('takes tags from the topic and model, never from payload keys', () => {
    const r = { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 1, source: 'pv', zone: 'x' } as Reading;
    expect(readingLine(r, sensor('b1/m1'))).toBe('energy,building=b1,park=tp,sensor=m1,source=grid power_kw=1 1764201600000');
  });

  it('never writes a non-finite value: the field is left out, and a reading left without fields is no line', () => {
    expect(readingLine({ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: NaN, energyKwh: 5 }, sensor('b1/m1'))).toBe('energy,building=b1,park=tp,sensor=m1,source=grid energy_kwh=5 1764201600000');
    expect(readingLine({ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: Infinity }, sensor('b1/m1'))).toBeUndefined();
  });
});

describe('encodeLine', () => {
  it('leaves non-finite fields out, and gives no line without fields', () => {
    expect(encodeLine('m', { a: 'x' }, { v: NaN, w: 1 }, 5)).toBe('m,a=x w=1 5');
    expect(encodeLine('m', { a: 'x' }, { v: -Infinity, i: { int: NaN } }, 5)).toBeUndefined();
  });

  it('escapes measurement, tags, field keys and string values', () => {
    expect(encodeLine('a b,c', { 'k=1': 'v 1,2\n' }, { 'f x': 'say "hi" \\o/' }, 7)).toBe('a\\ b\\,c,k\\=1=v\\ 1\\,2\\n f\\ x="say \\"hi\\" \\\\o/" 7');
    expect(escapeTag('plain')).toBe('plain');
    expect(quoteString('plain')).toBe('"plain"');
  });
});

describe('the same bytes as the client library (influxdb-client-js Point.toLineProtocol)', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 12 });
  // `Point` keeps tags and fields in plain objects, where a `__proto__` key
  // sets the prototype instead (encodeLine writes it as a key): not compared.
  const key = text.filter((s) => s.length > 0 && s !== '__proto__');
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

  it('for random points: tags, floats, integers and strings', () => {
    fc.assert(
      fc.property(
        text.filter((s) => s.length > 0),
        fc.dictionary(key, text, { maxKeys: 4 }),
        fc.dictionary(key, fc.oneof(finite, text, fc.integer().map((n) => ({ int: n }))), { minKeys: 1, maxKeys: 4 }),
        fc.integer({ min: 0, max: 2 ** 47 }),
        (measurement, tags, fields, ts) => {
          const p = new Point(measurement);
          for (const [k, v] of Object.entries(tags)) p.tag(k, v);
          for (const [k, v] of Object.entries(fields)) {
            if (typeof v === 'number') p.floatField(k, v);
            else if (typeof v === 'string') p.stringField(k, v);
            else p.intField(k, v.int);
          }
          expect(encodeLine(measurement, tags, fields, ts)).toBe(p.timestamp(ts).toLineProtocol());
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('for random readings', () => {
    const reading = fc.record({
      kind: fc.constantFrom<Reading['kind']>('energy', 'carbon', 'occupancy'),
      ts: fc.integer({ min: 0, max: 2 ** 45 }),
      a: finite,
      b: fc.option(finite, { nil: undefined }),
      n: fc.integer({ min: 0, max: 100_000 }),
      zone: fc.option(text.filter((s) => s.length > 0), { nil: undefined }),
    });
    fc.assert(
      fc.property(reading, ({ kind, ts, a, b, n, zone }) => {
        const r: Reading = { park: 'p', building: 'b-1', sensor: 's_1', kind, tsMs: ts };
        const p = new Point(kind).tag('park', 'p').tag('building', 'b-1').tag('sensor', 's_1');
        const model: SensorModel = { id: 's_1', kind, intervalS: 10, ...(kind === 'energy' ? { source: 'pv' as const } : {}), ...(kind === 'occupancy' && zone ? { zone } : {}) };
        if (kind === 'energy') {
          r.powerKw = a;
          p.tag('source', 'pv').floatField('power_kw', a);
          if (b !== undefined) {
            r.energyKwh = b;
            p.floatField('energy_kwh', b);
          }
        } else if (kind === 'carbon') {
          r.co2Ppm = a;
          p.floatField('co2_ppm', a);
          if (b !== undefined) {
            r.emissionKgco2e = b;
            p.floatField('emission_kgco2e', b);
          }
        } else {
          r.count = n;
          p.intField('count', n);
          if (zone) p.tag('zone', zone);
        }
        expect(readingLine(r, model)).toBe(p.timestamp(ts).toLineProtocol());
      }),
      { numRuns: 2000 },
    );
  });
});
