import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';
import { alarmJson, vitalsJson } from './vitals.presenter';

const START = Date.parse('2026-11-27T08:00:00.000Z');

const parkSigns: VitalSigns = { energy_kwh: 12.5, pv_kwh: 0, load_kw: 750, peak_kw: 810.25, carbon_kgco2e: 5.25, occupancy: 110, occupancy_rate: 1, online_ratio: 1, status: 'warn' };
const b1: VitalSigns = { energy_kwh: 10, pv_kwh: 2.5, load_kw: 600, peak_kw: 640, renewable_share: 0.2, carbon_kgco2e: 4.2, occupancy: 100, occupancy_rate: 1, co2_ppm_avg: 1100.5, co2_ppm_max: 1300, online_ratio: 1, status: 'warn' };
/** Optional fields absent: no PV, no CO2 reading, no capacity. */
const b2: VitalSigns = { energy_kwh: 2.5, pv_kwh: 0, load_kw: 150, peak_kw: 170.25, carbon_kgco2e: 1.05, occupancy: 10, online_ratio: 1, status: 'ok' };

function parkVitals(overrides: Partial<VitalSigns> = {}): ParkVitals {
  return { parkId: 'tp', window: { startMs: START, endMs: START + 60_000 }, park: { ...parkSigns, ...overrides }, buildings: { b1, b2 } };
}

describe('alarmJson', () => {
  const alarm: Alarm = {
    parkId: 'tp', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised',
    value: 612.5, threshold: 500, message: 'load 612.5 kW above contracted 500 kW, "b1"', tsMs: START + 60_000,
  };

  it('alarmJson adds the ISO time of the transition', () => {
    expect(alarmJson(alarm)).toEqual({ ...alarm, t: '2026-11-27T08:01:00.000Z' });
  });
});

describe('vitalsJson (contract §7 `GET .../vitals`)', () => {
  it('gives the window as ISO times with the park and building vitals', () => {
    expect(vitalsJson(parkVitals())).toEqual({
      window: { start: '2026-11-27T08:00:00.000Z', end: '2026-11-27T08:01:00.000Z' },
      park: parkSigns,
      buildings: { b1, b2 },
    });
  });

  it('answers a null window before the first window closed', () => {
    expect(vitalsJson(undefined)).toEqual({ window: null, park: null, buildings: {} });
  });
});
