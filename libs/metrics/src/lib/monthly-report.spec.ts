import { indexPark, localToUtcMs, ParkModel } from '@park/telemetry';
import { MonthTotals, monthlyReport, reportCsv } from './monthly-report';

const model: ParkModel = {
  id: 'tp',
  name: 'Test "Park", East',
  annualOutputCny: 8.76e9,
  gridEmissionFactorKgPerKwh: 0.5,
  buildings: [
    { id: 'b1', name: 'Tower', footprint: [[0, 0], [1, 0], [1, 1]], height: 1, floors: 1, floorAreaM2: 1000, capacity: 100, contractedKw: 500, sensors: [] },
    { id: 'b2', name: 'Plant', footprint: [[0, 0], [1, 0], [1, 1]], height: 1, floors: 1, floorAreaM2: 3000, capacity: 0, contractedKw: 900, sensors: [] },
  ],
};
const index = indexPark(model);
const from = localToUtcMs('Asia/Shanghai', 2026, 11, 1);
const to = localToUtcMs('Asia/Shanghai', 2026, 12, 1);
const month = { label: '2026-11', fromMs: from, toMs: to };
const minutes = 30 * 24 * 60;

const t = (energy: number, pv: number, carbon: number, peak?: [number, number], windows = minutes): MonthTotals => ({ energy_kwh: energy, pv_kwh: pv, carbon_kgco2e: carbon, windows, ...(peak ? { peak_kw: peak[0], peakAtMs: peak[1] } : {}) });

describe('monthlyReport', () => {
  const totals = new Map([
    ['', t(30000, 1000, 15500, [900, from + 3_600_000])],
    ['b1', t(10000, 1000, 5000, [400, from + 7_200_000])],
    ['b2', t(20000, 0, 10500, [600, from + 3_600_000], minutes / 2)],
  ]);
  const previous = new Map([
    ['', t(25000, 0, 12500)],
    ['b1', t(10000, 0, 5000)],
  ]);
  const r = monthlyReport(index, month, totals, previous);

  it('has the month in park time, the emission factor used and the month share of output', () => {
    expect(r).toMatchObject({ park: 'tp', period: 'month', month: '2026-11', time_zone: 'Asia/Shanghai', from: '2026-10-31T16:00:00.000Z', to: '2026-11-30T16:00:00.000Z', emission_factor_kg_per_kwh: 0.5 });
    expect(r.output_cny).toBeCloseTo((8.76e9 * 720) / 8760, 3);
  });

  it.each([
    ['park', () => r.park_totals, { energy_kwh: 30000, pv_kwh: 1000, peak_demand_kw: 900, peak_demand_at: '2026-10-31T17:00:00.000Z', carbon_grid_kgco2e: 15000, carbon_direct_kgco2e: 500, eui_kwh_per_m2: 31000 / 4000, carbon_kg_per_person: 155, energy_change: expect.closeTo(0.2, 12), carbon_change: expect.closeTo(0.24, 12), data_coverage: 1 }],
    ['b1', () => r.buildings[0], { building: 'b1', name: 'Tower', eui_kwh_per_m2: 11, energy_kwh_per_person: 110, carbon_kg_per_m2: 5, energy_change: 0, carbon_change: 0 }],
    ['b2 (no capacity, no previous month, half the windows)', () => r.buildings[1], { energy_change: null, carbon_change: null, data_coverage: 0.5 }],
  ])('%s', (_n, get, expected) => expect(get()).toMatchObject(expected));

  it('per 10⁴ yuan only for the park; no per-person figure without capacity', () => {
    expect(r.park_totals.carbon_kg_per_10k_cny).toBeCloseTo(15500 / (720e6 / 1e4), 9);
    expect(r.buildings[0].carbon_kg_per_10k_cny).toBeUndefined();
    expect(r.buildings[1].energy_kwh_per_person).toBeUndefined();
  });

  it('a scope without data has zeros and no peak', () => {
    const empty = monthlyReport(index, month, new Map(), new Map());
    expect(empty.buildings[0]).toMatchObject({ energy_kwh: 0, data_coverage: 0, energy_change: null });
    expect(empty.buildings[0].peak_demand_kw).toBeUndefined();
  });

  it('CSV: a header, the park then each building, quoted where needed', () => {
    const lines = reportCsv(r).split('\r\n');
    expect(lines[0]).toBe('month,time_zone,emission_factor_kg_per_kwh,scope,building,name,energy_kwh,pv_kwh,peak_demand_kw,peak_demand_at,carbon_kgco2e,carbon_grid_kgco2e,carbon_direct_kgco2e,eui_kwh_per_m2,carbon_kg_per_m2,energy_kwh_per_person,carbon_kg_per_person,energy_kwh_per_10k_cny,carbon_kg_per_10k_cny,energy_change,carbon_change,data_coverage');
    expect(lines[1]).toMatch(/^2026-11,Asia\/Shanghai,0.5,park,,"Test ""Park"", East",30000,1000,900,2026-10-31T17:00:00.000Z,15500,15000,500,7.75,/);
    expect(lines[3]).toMatch(/^2026-11,Asia\/Shanghai,0.5,building,b2,Plant,20000,0,600,.*,,,0.5$/);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
  });
});
