import { BuildingModel, BuildingUse } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import {
  buildingLoadKw,
  buildingPeople,
  clearSkyPvFraction,
  cloudFactor,
  dayKind,
  emissionRateKgPerH,
  emissionSourceOf,
  footprintAreaM2,
  loadFraction,
  localHour,
  ParkLocalTime,
  presenceFraction,
  pvPeakKw,
  steadyCo2Ppm,
} from './load-profiles';

/** Epoch ms of a Shanghai local time (UTC+8). */
const local = (iso: string) => Date.parse(`${iso}+08:00`);
// Wednesday 26 and Saturday 29 / Sunday 30 November 2025.
const WED = '2025-11-26';
const SAT = '2025-11-29';
const SUN = '2025-11-30';
const USES: BuildingUse[] = ['office', 'lab', 'factory', 'datacenter', 'retail', 'residential', 'utility', 'mixed'];

describe('local time', () => {
  it.each([
    ['2025-11-26T00:00:00', 0, 'weekday'],
    ['2025-11-26T10:30:00', 10.5, 'weekday'],
    ['2025-11-29T23:59:00', 23 + 59 / 60, 'saturday'],
    ['2025-11-30T00:30:00', 0.5, 'sunday'],
    ['2025-12-01T07:00:00', 7, 'weekday'],
  ])('%s is hour %d of a %s', (iso, hour, kind) => {
    expect(localHour(local(iso))).toBeCloseTo(hour as number, 9);
    expect(dayKind(local(iso))).toBe(kind);
  });
});

describe('park time (contract §8: the model’s timeZone)', () => {
  const berlin = new ParkLocalTime('Europe/Berlin');

  it('is the park’s own zone, daylight saving included', () => {
    // 10:30 in Berlin: 09:30 UTC in winter (UTC+1), 08:30 UTC in summer (UTC+2).
    expect(localHour(Date.parse('2025-11-26T09:30:00Z'), berlin)).toBeCloseTo(10.5, 9);
    expect(localHour(Date.parse('2025-07-02T08:30:00Z'), berlin)).toBeCloseTo(10.5, 9);
    // Saturday 00:30 in Berlin is still Friday in UTC.
    expect(dayKind(Date.parse('2025-11-28T23:30:00Z'), berlin)).toBe('saturday');
  });

  it('an office in Berlin works Berlin hours, not Shanghai’s', () => {
    const tenInBerlin = Date.parse('2025-11-26T09:00:00Z');
    const threeInBerlin = Date.parse('2025-11-26T02:00:00Z');
    expect(loadFraction('office', tenInBerlin, berlin)).toBeGreaterThan(0.6);
    expect(loadFraction('office', threeInBerlin, berlin)).toBeLessThan(0.35);
    // The same instants in Shanghai time: 17:00 and 10:00.
    expect(loadFraction('office', threeInBerlin)).toBeGreaterThan(0.6);
  });
});

describe('load shapes', () => {
  it('keep every use within 28-72 % of contract at every hour', () => {
    for (const use of USES) {
      for (const day of [WED, SAT, SUN]) {
        for (let h = 0; h < 24; h += 0.25) {
          const f = loadFraction(use, local(`${day}T00:00:00`) + h * 3_600_000);
          expect(f).toBeGreaterThanOrEqual(0.28);
          expect(f).toBeLessThanOrEqual(0.72);
        }
      }
    }
  });

  it('make an office busier at 10:00 than at 03:00 on a weekday, and quieter on the weekend', () => {
    const night = loadFraction('office', local(`${WED}T03:00:00`));
    const morning = loadFraction('office', local(`${WED}T10:00:00`));
    expect(morning).toBeGreaterThan(night + 0.25);
    expect(loadFraction('office', local(`${SAT}T10:00:00`))).toBeLessThan(morning - 0.2);
    expect(loadFraction('office', local(`${SUN}T10:00:00`))).toBeLessThan(morning - 0.2);
  });

  it('keep a data centre flat near 60 %', () => {
    const fs = Array.from({ length: 96 }, (_, i) => loadFraction('datacenter', local(`${WED}T00:00:00`) + i * 900_000));
    expect(Math.max(...fs) - Math.min(...fs)).toBeLessThan(0.05);
    fs.forEach((f) => expect(Math.abs(f - 0.6)).toBeLessThan(0.03));
  });

  it('run a factory on day shifts with a reduced night shift and a quiet Sunday', () => {
    const at = (d: string, t: string) => loadFraction('factory', local(`${d}T${t}`));
    expect(at(WED, '10:00:00')).toBeGreaterThan(at(WED, '03:00:00') + 0.2);
    expect(at(WED, '20:00:00')).toBeGreaterThan(at(WED, '03:00:00') + 0.2);
    expect(at(SAT, '20:00:00')).toBeLessThan(at(WED, '20:00:00') - 0.2);
    expect(at(SUN, '10:00:00')).toBeLessThan(at(WED, '10:00:00') - 0.3);
  });

  it('scale a building by its contract, with small fluctuations only', () => {
    const b = testPark().buildings[0];
    for (let i = 0; i < 200; i++) {
      const t = local(`${WED}T10:00:00`) + i * 60_000;
      const kw = buildingLoadKw(1, 'tp', b, t);
      const shape = b.contractedKw * loadFraction('office', t);
      expect(kw / shape).toBeGreaterThan(0.92 * 0.92);
      expect(kw / shape).toBeLessThan(1.08 * 1.08);
    }
    expect(buildingLoadKw(1, 'tp', b, local(`${WED}T10:00:00`))).toBe(buildingLoadKw(1, 'tp', b, local(`${WED}T10:00:00`)));
    expect(buildingLoadKw(1, 'tp', b, local(`${WED}T10:00:00`))).not.toBe(buildingLoadKw(2, 'tp', b, local(`${WED}T10:00:00`)));
  });
});

describe('presence', () => {
  it('follows office hours for offices and the opposite for homes', () => {
    expect(presenceFraction('office', local(`${WED}T10:00:00`))).toBeGreaterThan(0.75);
    expect(presenceFraction('office', local(`${WED}T03:00:00`))).toBeLessThan(0.05);
    expect(presenceFraction('office', local(`${SAT}T10:00:00`))).toBeLessThan(0.15);
    expect(presenceFraction('residential', local(`${WED}T03:00:00`))).toBeGreaterThan(0.85);
    expect(presenceFraction('residential', local(`${WED}T11:00:00`))).toBeLessThan(0.4);
    expect(presenceFraction('retail', local(`${WED}T12:15:00`))).toBeGreaterThan(0.9);
  });

  it('gives a building capacity × presence people, within ±5 %', () => {
    const b = testPark().buildings[0];
    const t = local(`${WED}T10:00:00`);
    const p = buildingPeople(3, 'tp', b, t);
    expect(p / (b.capacity * presenceFraction('office', t))).toBeGreaterThan(0.95);
    expect(p / (b.capacity * presenceFraction('office', t))).toBeLessThan(1.05);
  });
});

describe('photovoltaics', () => {
  it('produces nothing at night and most around noon', () => {
    for (const t of ['00:00:00', '03:00:00', '05:00:00', '19:30:00', '22:00:00']) {
      expect(clearSkyPvFraction(local(`${WED}T${t}`))).toBe(0);
    }
    const noon = clearSkyPvFraction(local(`${WED}T12:00:00`));
    expect(noon).toBeGreaterThan(clearSkyPvFraction(local(`${WED}T09:00:00`)));
    expect(noon).toBeGreaterThan(clearSkyPvFraction(local(`${WED}T15:00:00`)));
    expect(noon).toBeLessThanOrEqual(0.85);
  });

  it('rises near 06:00 and sets near 18:00 at the March equinox in Shanghai', () => {
    const eq = '2025-03-20';
    expect(clearSkyPvFraction(local(`${eq}T05:40:00`))).toBe(0);
    expect(clearSkyPvFraction(local(`${eq}T06:15:00`))).toBeGreaterThan(0);
    expect(clearSkyPvFraction(local(`${eq}T17:40:00`))).toBeGreaterThan(0);
    expect(clearSkyPvFraction(local(`${eq}T18:15:00`))).toBe(0);
  });

  it('has longer days in June than in December', () => {
    const daylight = (d: string) =>
      Array.from({ length: 24 * 12 }, (_, i) => clearSkyPvFraction(local(`${d}T00:00:00`) + i * 300_000)).filter((f) => f > 0).length;
    expect(daylight('2025-06-21')).toBeGreaterThan(daylight('2025-12-21') + 12 * 3);
  });

  it('keeps the sky factor within 0.08-1 and the same for everyone asking', () => {
    for (let i = 0; i < 500; i++) {
      const t = local(`${WED}T06:00:00`) + i * 600_000;
      const c = cloudFactor(5, 'demo', t);
      expect(c).toBeGreaterThanOrEqual(0.08);
      expect(c).toBeLessThanOrEqual(1);
      expect(cloudFactor(5, 'demo', t)).toBe(c);
    }
  });

  it('sizes arrays by roof area within 100-250 kWp per meter', () => {
    const b = testPark().buildings[0]; // 40 m × 20 m roof
    expect(footprintAreaM2(b.footprint)).toBe(800);
    expect(pvPeakKw(b, 1)).toBe(100);
    const big: BuildingModel = { ...b, footprint: [[0, 0], [100, 0], [100, 40], [0, 40]] };
    expect(pvPeakKw(big, 1)).toBe(250);
    expect(pvPeakKw(big, 2)).toBe(150);
  });
});

describe('emissions and CO2', () => {
  it('recognises direct-emission registers by id or by a utility building', () => {
    const [office, utility] = testPark().buildings;
    expect(emissionSourceOf(office, 'c1')).toBeUndefined();
    expect(emissionSourceOf(office, 'boiler1')).toBe('boiler');
    expect(emissionSourceOf(office, 'genset1')).toBe('genset');
    expect(emissionSourceOf(office, 'gen-2')).toBe('genset');
    expect(emissionSourceOf(utility, 'c9')).toBe('boiler');
  });

  it('burns more in a boiler on a winter morning than on a summer night, and runs a generator only for its test', () => {
    expect(emissionRateKgPerH('boiler', 1, 1, local('2025-12-10T07:00:00'))).toBeGreaterThan(
      2 * emissionRateKgPerH('boiler', 1, 1, local('2025-07-10T02:00:00')),
    );
    expect(emissionRateKgPerH('genset', 1, 1, local(`${WED}T10:10:00`))).toBeGreaterThan(150);
    expect(emissionRateKgPerH('genset', 1, 1, local(`${WED}T11:00:00`))).toBe(0);
    expect(emissionRateKgPerH('genset', 1, 1, local(`${SAT}T10:10:00`))).toBe(0);
  });

  it('puts steady indoor CO2 at outdoor when empty, ~900 ppm at design occupancy, over 1000 ppm when crowded', () => {
    expect(steadyCo2Ppm(420, 0, 1)).toBe(420);
    expect(steadyCo2Ppm(420, 0.85, 1)).toBeGreaterThan(800);
    expect(steadyCo2Ppm(420, 0.85, 1)).toBeLessThan(900);
    expect(steadyCo2Ppm(420, 1.3, 1)).toBeGreaterThan(1000);
  });
});
