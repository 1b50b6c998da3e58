import { testPark } from '../testing';
import { readingToLine, readingToPoint, WRITE_PRECISION } from './influx-point';
import { indexPark, SensorModel } from './park-model';
import { Reading } from './reading';

const TS = 1764201600000;
const park = indexPark(testPark());
const sensor = (key: string) => park.sensors.get(key);

describe('readingToLine (contract §5)', () => {
  it.each<[string, Reading, SensorModel | undefined, string]>([
    [
      'a grid meter with both fields',
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 412.5, energyKwh: 1203344.25 },
      sensor('b1/m1'),
      'energy,building=b1,park=tp,sensor=m1,source=grid energy_kwh=1203344.25,power_kw=412.5 1764201600000',
    ],
    [
      'a PV meter',
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'pv1', tsMs: TS, powerKw: -80 },
      sensor('b1/pv1'),
      'energy,building=b1,park=tp,sensor=pv1,source=pv power_kw=-80 1764201600000',
    ],
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
    [
      'a zoned occupancy sensor',
      { park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 3 },
      sensor('b1/o1'),
      'occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=3i 1764201600000',
    ],
    [
      'an unzoned occupancy sensor (no zone tag)',
      { park: 'tp', building: 'b2', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 0 },
      sensor('b2/o1'),
      'occupancy,building=b2,park=tp,sensor=o1 count=0i 1764201600000',
    ],
  ])('%s', (_what, reading, model, line) => {
    expect(readingToLine(reading, model)).toBe(line);
  });

  it('writes counts as integers and energy registers as floats, even when whole', () => {
    const occ = readingToLine({ park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 100000 }, sensor('b1/o1'));
    expect(occ).toMatch(/ count=100000i /);
    const kwh = readingToLine({ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, energyKwh: 412 }, sensor('b1/m1'));
    expect(kwh).toMatch(/ energy_kwh=412 /);
    expect(kwh).not.toMatch(/412i/);
  });

  it('uses the millisecond timestamp as is', () => {
    expect(WRITE_PRECISION).toBe('ms');
    const line = readingToLine({ park: 'tp', building: 'b1', kind: 'carbon', sensor: 'c1', tsMs: 1, co2Ppm: 1 }, sensor('b1/c1'));
    expect(line.endsWith(' 1')).toBe(true);
  });

  it('escapes zone tag values the way line protocol requires', () => {
    const zoned: SensorModel = { id: 'o1', kind: 'occupancy', zone: 'east lobby,1=a', intervalS: 30 };
    const line = readingToLine({ park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: TS, count: 2 }, zoned);
    expect(line).toBe('occupancy,building=b1,park=tp,sensor=o1,zone=east\\ lobby\\,1\\=a count=2i 1764201600000');
  });

  it('takes tags from the topic and model, never from payload keys', () => {
    const r = { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 1, source: 'pv', zone: 'x' } as Reading;
    expect(readingToLine(r, sensor('b1/m1'))).toBe('energy,building=b1,park=tp,sensor=m1,source=grid power_kw=1 1764201600000');
  });

  it('gives the same reading twice the same line (one point in InfluxDB, contract §3)', () => {
    const make = (): Reading => ({ park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: TS, powerKw: 412.5, energyKwh: 1203344.25 });
    expect(readingToLine(make(), sensor('b1/m1'))).toBe(readingToLine(make(), sensor('b1/m1')));
  });

  it('readingToPoint exposes the same point', () => {
    const r: Reading = { park: 'tp', building: 'b1', kind: 'carbon', sensor: 'c1', tsMs: TS, co2Ppm: 500 };
    expect(readingToPoint(r, sensor('b1/c1')).toLineProtocol()).toBe(readingToLine(r, sensor('b1/c1')));
  });
});
