import { Sample } from './reading-series';
import {
  emissionIntervals,
  emissionShareKg,
  energyIntervals,
  energyShareKwh,
  importKwhOfRamp,
  intervalRuleFor,
  registerIncrease,
  registerStep,
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

describe('registerStep: plausibility of a register step (contract §8)', () => {
  const H = 3_600_000;
  it.each([
    // prev, next, hours between, bound per hour → counted, plausible
    ['an increase within the bound', 100, 110, 1, 20, 10, true],
    ['exactly the bound', 100, 120, 1, 20, 20, true],
    ['above the bound', 100, 121, 1, 20, 0, false],
    ['the bound scales with the time between readings', 100, 130, 1.5, 20, 30, true],
    ['a plausible reset (new value counted from 0)', 100, 5, 1, 20, 5, true],
    ['a reset to a huge value', 100, 1e9, 1, 20, 0, false],
    ['a glitch to the largest double', 100, 1.7e308, 10 / 3600, 20, 0, false],
    ['back from the glitch: a "reset" to the true value', 1.7e308, 110, 10 / 3600, 20, 0, false],
    ['no bound', 0, 1.7e308, 1 / 3600, Infinity, 1.7e308, true],
  ])('%s', (_name, prev, next, hours, limit, counted, plausible) => {
    const step = registerStep(prev, 0, next, hours * H, limit);
    expect(step).toEqual({ increase: counted, rawIncrease: registerIncrease(prev, next), plausible });
  });

  it('energy meters are bounded by 2 × contractedKw, emission registers by maxKgPerH (default 10 000 kg/h)', () => {
    const building = { contractedKw: 500 } as Parameters<typeof intervalRuleFor>[1];
    const meter = intervalRuleFor({ id: 'm', kind: 'energy', intervalS: 10 }, building)!;
    const tenSeconds = (v0: number, v1: number, f: 'energyKwh' | 'emissionKgco2e') => [{ tsMs: 0, [f]: v0 }, { tsMs: 10_000, [f]: v1 }];
    // 1000 kW for 10 s is 2.78 kWh: 2.7 counts, 2.8 does not.
    expect(meter.implausible(...(tenSeconds(0, 2.7, 'energyKwh') as [Sample, Sample]))).toBeUndefined();
    expect(meter.implausible(...(tenSeconds(0, 2.8, 'energyKwh') as [Sample, Sample]))).toMatchObject({ field: 'energy_kwh', increase: 2.8 });
    expect(meter.share(...(tenSeconds(0, 2.8, 'energyKwh') as [Sample, Sample]), w(0, 60))).toBe(0);
    const boiler = intervalRuleFor({ id: 'boiler', kind: 'carbon', intervalS: 60 }, building)!;
    // 10 000 kg/h for 10 s is 27.8 kg.
    expect(boiler.implausible(...(tenSeconds(0, 27, 'emissionKgco2e') as [Sample, Sample]))).toBeUndefined();
    expect(boiler.implausible(...(tenSeconds(0, 28, 'emissionKgco2e') as [Sample, Sample]))).toMatchObject({ field: 'emission_kgco2e', limit: expect.closeTo(27.78, 2) });
    const small = intervalRuleFor({ id: 'kiln', kind: 'carbon', intervalS: 60, maxKgPerH: 36 }, building)!;
    expect(small.implausible(...(tenSeconds(0, 0.2, 'emissionKgco2e') as [Sample, Sample]))).toMatchObject({ limit: 0.1 });
    expect(intervalRuleFor({ id: 'o', kind: 'occupancy', intervalS: 30 }, building)).toBeUndefined();
  });
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
    spreadSeries(emissionIntervals(Infinity), series, 0, 60 * S, 3, (k, v) => (got[k] += v));
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
    spreadSeries(energyIntervals(Infinity), series, 0, 60 * S, 2, (k, v) => (got[k] += v));
    expect(got[0]).toBeCloseTo(3 + 3, 12);
    expect(got[1]).toBeCloseTo(3, 12);
  });
});
