import { Sample } from './reading-series';
import {
  EMISSION_INTERVALS,
  emissionShareKg,
  ENERGY_INTERVALS,
  energyShareKwh,
  importKwhOfRamp,
  registerIncrease,
  spreadSeries,
} from './energy';

const S = 1000;
const w = (fromS: number, toS: number) => ({ startMs: fromS * S, endMs: toS * S });

describe('registerIncrease (contract §6)', () => {
  it.each([
    [100, 110, 10],
    [100, 100, 0],
    [100, 7, 7], // reset: the new value is the increase from 0
    [100, 0, 0],
  ])('%d -> %d is +%d', (a, b, inc) => expect(registerIncrease(a, b)).toBe(inc));
});

describe('energyShareKwh: one interval between consecutive readings, split among windows', () => {
  const cases: Array<[string, Sample, Sample, Array<[number, number]>, number[]]> = [
    ['register, inside one window', { tsMs: 10 * S, energyKwh: 100 }, { tsMs: 40 * S, energyKwh: 103 }, [[0, 60]], [3]],
    ['register, straddling a boundary: 12 kWh over 60 s', { tsMs: 30 * S, energyKwh: 100 }, { tsMs: 90 * S, energyKwh: 112 }, [[0, 60], [60, 120]], [6, 6]],
    [
      'register, a gap over several windows: 18 kWh over 180 s',
      { tsMs: 30 * S, energyKwh: 0 },
      { tsMs: 210 * S, energyKwh: 18 },
      [[0, 60], [60, 120], [120, 180], [180, 240], [240, 300]],
      [3, 6, 6, 3, 0],
    ],
    ['register reset (100 -> 5) counts 5, spread', { tsMs: 30 * S, energyKwh: 100 }, { tsMs: 90 * S, energyKwh: 5 }, [[0, 60], [60, 120]], [2.5, 2.5]],
    [
      'power only, trapezoid: 60 -> 120 kW over 60 s, 90 kW at the boundary',
      { tsMs: 30 * S, powerKw: 60 },
      { tsMs: 90 * S, powerKw: 120 },
      [[0, 60], [60, 120]],
      [((60 + 90) / 2) * 30 / 3600, ((90 + 120) / 2) * 30 / 3600],
    ],
    ['power only, export does not count: -30 -> +30 kW over 60 s', { tsMs: 0, powerKw: -30 }, { tsMs: 60 * S, powerKw: 30 }, [[0, 60]], [(30 / 2) * 30 / 3600]],
    ['power only, export all along', { tsMs: 0, powerKw: -30 }, { tsMs: 60 * S, powerKw: -10 }, [[0, 60]], [0]],
    [
      'both fields on both ends: the register wins',
      { tsMs: 0, energyKwh: 100, powerKw: 1000 },
      { tsMs: 60 * S, energyKwh: 101, powerKw: 1000 },
      [[0, 60]],
      [1],
    ],
    [
      'register on one end only, power on both: trapezoid',
      { tsMs: 0, energyKwh: 100, powerKw: 60 },
      { tsMs: 60 * S, powerKw: 60 },
      [[0, 60]],
      [1],
    ],
    ['register on one end, power on the other: nothing to integrate', { tsMs: 0, energyKwh: 100 }, { tsMs: 60 * S, powerKw: 60 }, [[0, 60]], [0]],
  ];
  it.each(cases)('%s', (_name, a, b, windows, expected) => {
    windows.forEach(([s, e], i) => expect(energyShareKwh(a, b, w(s, e))).toBeCloseTo(expected[i], 12));
  });

  it('the parts of a ramp add up to its trapezoid', () => {
    const whole = importKwhOfRamp(0, 40, 100, -60, 0, 100);
    const parts = importKwhOfRamp(0, 40, 100, -60, 0, 17) + importKwhOfRamp(0, 40, 100, -60, 17, 55) + importKwhOfRamp(0, 40, 100, -60, 55, 100);
    expect(parts).toBeCloseTo(whole, 15);
    // 40 kW falling to 0 at 40 ms: 800 kW·ms.
    expect(whole).toBeCloseTo(800 / 3_600_000, 15);
  });
});

describe('emission registers (contract §6, carbon_kgco2e)', () => {
  it('spread and reset like energy registers', () => {
    expect(emissionShareKg({ tsMs: 30 * S, emissionKgco2e: 50 }, { tsMs: 90 * S, emissionKgco2e: 54 }, w(60, 120))).toBeCloseTo(2, 12);
    expect(emissionShareKg({ tsMs: 30 * S, emissionKgco2e: 50 }, { tsMs: 90 * S, emissionKgco2e: 4 }, w(0, 60))).toBeCloseTo(2, 12);
  });

  it('form a chain over the readings that carry them: CO2-only readings do not cut an interval', () => {
    const series: Sample[] = [
      { tsMs: 0, emissionKgco2e: 10 },
      { tsMs: 30 * S, co2Ppm: 700 },
      { tsMs: 60 * S, co2Ppm: 710 },
      { tsMs: 120 * S, emissionKgco2e: 22, co2Ppm: 720 },
    ];
    const got = [0, 0, 0];
    spreadSeries(EMISSION_INTERVALS, series, 0, 60 * S, 3, (k, v) => (got[k] += v));
    expect(got).toEqual([6, 6, 0]);
  });
});

describe('spreadSeries', () => {
  it('adds each interval to the windows of the run it overlaps, skipping those outside', () => {
    const series: Sample[] = [
      { tsMs: -60 * S, energyKwh: 0 },
      { tsMs: 30 * S, energyKwh: 9 },
      { tsMs: 90 * S, energyKwh: 15 },
      { tsMs: 400 * S, energyKwh: 15 },
    ];
    const got = [0, 0];
    spreadSeries(ENERGY_INTERVALS, series, 0, 60 * S, 2, (k, v) => (got[k] += v));
    expect(got[0]).toBeCloseTo(3 + 3, 12);
    expect(got[1]).toBeCloseTo(3, 12);
  });
});
