import { ROLLUP, rollupVitals } from './rollup';
import { VitalSigns } from './vital-signs';

const minute = (over: Partial<VitalSigns>): VitalSigns => ({
  energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 0, status: 'ok', ...over,
});

describe('roll-up of one-minute vitals into coarser windows', () => {
  it('is published as data, one kind per field', () => {
    expect(ROLLUP).toEqual({
      energy_kwh: 'sum', pv_kwh: 'sum', carbon_kgco2e: 'sum',
      load_kw: 'mean', occupancy: 'mean', occupancy_rate: 'mean', online_ratio: 'mean', co2_ppm_avg: 'mean',
      peak_kw: 'max', co2_ppm_max: 'max',
      renewable_share: 'ratio', status: 'worst',
    });
  });

  it('applies the table', () => {
    const windows = [
      minute({ energy_kwh: 10, pv_kwh: 0, load_kw: 600, peak_kw: 700, renewable_share: 0, carbon_kgco2e: 4.2, occupancy: 50, occupancy_rate: 0.5, co2_ppm_avg: 800, co2_ppm_max: 900, online_ratio: 1 }),
      minute({ energy_kwh: 2, pv_kwh: 6, load_kw: 120, peak_kw: 200, renewable_share: 0.75, carbon_kgco2e: 0.84, occupancy: 70, occupancy_rate: 0.7, online_ratio: 0.5, status: 'warn' }),
      minute({ energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 90, occupancy_rate: 0.9, co2_ppm_avg: 1000, co2_ppm_max: 1100, online_ratio: 0 }),
    ];
    const r = rollupVitals(windows) as VitalSigns;
    expect(r.energy_kwh).toBe(12);
    expect(r.pv_kwh).toBe(6);
    expect(r.carbon_kgco2e).toBeCloseTo(5.04, 12);
    expect(r.load_kw).toBe(240);
    expect(r.peak_kw).toBe(700);
    // pv / (energy + pv) of the sums, not the mean of 0, 0.75 (and absent)
    expect(r.renewable_share).toBe(6 / 18);
    expect(r.occupancy).toBe(70);
    expect(r.occupancy_rate).toBeCloseTo(0.7, 12);
    expect(r.co2_ppm_avg).toBe(900); // over the windows that had CO2 readings
    expect(r.co2_ppm_max).toBe(1100);
    expect(r.online_ratio).toBe(0.5);
    expect(r.status).toBe('warn');
  });

  it('leaves optional fields absent when no window had them, and has nothing for no window', () => {
    const r = rollupVitals([minute({}), minute({ status: 'critical' })]) as VitalSigns;
    expect(r).toEqual({ energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 0, status: 'critical' });
    expect(rollupVitals([])).toBeUndefined();
  });
});
