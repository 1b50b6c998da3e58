import { indexPark, localToUtcMs, ParkModel, Reading } from '@park/telemetry';
import { ParkTrendsEngine, PARK_SCOPE, QUARTER_MS } from './park-trends.engine';
import { SeriesPoint } from './load-forecast';
import { ParkVitals, VitalSigns } from './vital-signs';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
const START = localToUtcMs(TZ, 2026, 11, 2); // a Monday

const model: ParkModel = {
  id: 'tp',
  name: 'Test park',
  buildings: [
    {
      id: 'b1',
      name: 'Data Centre',
      footprint: [
        [0, 0],
        [10, 0],
        [10, 10],
      ],
      height: 10,
      floors: 1,
      floorAreaM2: 100,
      capacity: 10,
      contractedKw: 1000,
      sensors: [{ id: 'm01', kind: 'energy', intervalS: 10 }],
    },
  ],
};
const index = indexPark(model);

/** 500 kW by day, 300 kW at night (22:00–06:00), with a weekday 14:00–15:00 peak of `peakKw`. */
function loadAt(t: number, peakKw = 500): number {
  const h = ((t - START) % DAY) / 3_600_000;
  const weekday = Math.floor((t - START) / DAY) % 7 < 5;
  if (h >= 22 || h < 6) return 300;
  return weekday && h >= 14 && h < 15 ? peakKw : 500;
}

function quarters(days: number, peakKw?: number): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let t = START; t < START + days * DAY; t += QUARTER_MS) out.push({ tMs: t, value: loadAt(t, peakKw) });
  return out;
}

function vitals(startMs: number, kw: number): ParkVitals {
  const v = (load: number): VitalSigns => ({ energy_kwh: load / 60, pv_kwh: 0, load_kw: load, peak_kw: load, carbon_kgco2e: 0, occupancy: 0, status: 'ok' });
  return { parkId: 'tp', window: { startMs, endMs: startMs + 60_000 }, park: v(kw), buildings: { b1: v(kw) } };
}

function engineWith(days: number, peakKw?: number): ParkTrendsEngine {
  const e = new ParkTrendsEngine(index);
  const h = quarters(days, peakKw);
  e.setHistory(PARK_SCOPE, h);
  e.setHistory('b1', h);
  e.refit(START + days * DAY);
  return e;
}

describe('ParkTrendsEngine', () => {
  it('says how much history it has and needs before it can forecast', () => {
    const e = engineWith(3);
    expect(e.forecastState('b1')).toEqual({ models: {}, tooLittle: { haveDays: 3, needDays: 8 } });
    expect(e.forecast('b1', '15m', START + 3 * DAY, 4)).toBeUndefined();
  });

  it('forecasts both steps once there is enough', () => {
    const e = engineWith(14);
    const q = e.forecast('b1', '15m', START + 14 * DAY, 96)!;
    const h = e.forecast('b1', '1h', START + 14 * DAY, 24)!;
    expect(q).toHaveLength(96);
    expect(h).toHaveLength(24);
    expect(h[14].value).toBeCloseTo(500, 6);
    expect(q[3 * 4].value).toBeCloseTo(300, 6);
  });

  it('raises demand_forecast ahead of a recurring planned peak, naming its time, once', () => {
    const e = engineWith(14, 960);
    const a = e.evaluateDemandForecast(START + 14 * DAY);
    expect(a.map((x) => [x.rule, x.severity, x.state])).toEqual([['demand_forecast', 'warn', 'raised']]);
    expect(a[0].message).toBe('Data Centre: load forecast to reach 960 kW at Mon 14:00 (park time), above 90 % of contracted 1,000 kW');
    expect(e.evaluateDemandForecast(START + 14 * DAY + 60_000)).toEqual([]);
  });

  it('raises baseload once for a night 60 % above its median, eases as the night normalises and clears on the next normal night', () => {
    const e = engineWith(14);
    const night = START + 15 * DAY - 2 * 3_600_000; // Monday 22:00
    const transitions = [];
    for (let t = START + 14 * DAY; t < START + 15 * DAY + 3 * 3_600_000; t += 60_000) {
      transitions.push(...e.observeVitals(vitals(t, t >= night ? 480 : loadAt(t)), t + 90_000));
    }
    expect(transitions.map((x) => [x.rule, x.severity, x.state])).toEqual([['baseload', 'critical', 'raised']]);
    expect(transitions[0].message).toMatch(/^Data Centre night-time load 60 % above its 1\d-day median \(480 kW against 300 kW\)$/);
    const later = [];
    for (let t = START + 15 * DAY + 3 * 3_600_000; t < START + 16 * DAY + 2 * 3_600_000; t += 60_000) later.push(...e.observeVitals(vitals(t, loadAt(t)), t + 90_000));
    // The rest of that night is normal: the night's mean eases to warn; the next night clears it.
    expect(later.map((x) => [x.rule, x.severity, x.state])).toEqual([
      ['baseload', 'critical', 'cleared'],
      ['baseload', 'warn', 'raised'],
      ['baseload', 'warn', 'cleared'],
    ]);
    expect(later[0].message).toBe('Base load alarm eased from critical to warn');
    expect(later[2].tsMs).toBeGreaterThan(START + 16 * DAY - 2 * 3_600_000);
  });

  it('raises stuck_meter when a register stands still while the meter draws power, and clears when it moves', () => {
    const e = engineWith(14);
    const t0 = START + 14 * DAY + 10 * 3_600_000;
    const out = [];
    const reading = (t: number, energyKwh: number): Reading => ({ park: 'tp', building: 'b1', sensor: 'm01', kind: 'energy', tsMs: t, powerKw: 500 + ((t / 10_000) % 3), energyKwh }) as Reading;
    let stuckAt: number | undefined;
    for (let t = t0; t < t0 + 40 * 60_000; t += 10_000) {
      e.observeReading(reading(t, t < t0 + 20 * 60_000 ? 1000 : 1000 + (t - t0) / 1e6));
      if ((t - t0) % 60_000 === 50_000) {
        const a = e.observeVitals(vitals(t - 50_000, 0), t + 10_000);
        if (a.length && stuckAt === undefined) stuckAt = t;
        out.push(...a);
      }
    }
    expect(out.map((x) => [x.rule, x.severity, x.state])).toEqual([
      ['stuck_meter', 'critical', 'raised'],
      ['stuck_meter', 'critical', 'cleared'],
    ]);
    expect(stuckAt! - t0).toBeGreaterThanOrEqual(15 * 60_000);
    expect(out[0].message).toMatch(/^Data Centre: meter m01 \(energy_kwh 1000\) for 1[5-6] min unchanged/);
  });
});
