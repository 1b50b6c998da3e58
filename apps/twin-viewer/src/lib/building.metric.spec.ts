import type { NowState, ParkVitals, VitalSigns } from '@park/metrics';
import { testPark } from '@park/telemetry/testing';
import { carbonIntensity, metricText, metricValue } from './building.metric';
import { initialTwinState, reduceTwin, type TwinState } from './live.reducer';

const [office, boiler] = testPark().buildings; // office: 500 kW contracted, capacity 100, 4000 m²

const now = (o: Partial<NowState>): NowState => ({ grid_kw: 0, pv_kw: 0, occupancy: 0, sensors_online: 4, sensors_total: 4, ...o });
const signs = (carbon: number): VitalSigns => ({ energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: carbon, occupancy: 0, status: 'ok' });

function stateWith(b1: NowState): TwinState {
  return reduceTwin(initialTwinState('tp'), { type: 'now', parkId: 'tp', t: '2025-11-27T08:00:00Z', park: b1, buildings: { b1 } }, 0);
}

describe('building metrics', () => {
  it('load is grid power over contracted capacity, export counting as 0', () => {
    expect(metricValue('load', office, stateWith(now({ grid_kw: 650 })))).toBeCloseTo(1.3);
    expect(metricValue('load', office, stateWith(now({ grid_kw: -40 })))).toBe(0);
    expect(metricText('load', office, stateWith(now({ grid_kw: 650 })))).toBe('650 kW · 130 %');
  });

  it('occupancy, CO2 and sensor health come from now', () => {
    const s = stateWith(now({ occupancy: 45, co2_ppm: 1020, sensors_online: 3, sensors_total: 4 }));
    expect(metricValue('occupancy', office, s)).toBeCloseTo(0.45);
    expect(metricValue('co2', office, s)).toBe(1020);
    expect(metricValue('sensors', office, s)).toBeCloseTo(0.75);
    expect(metricText('sensors', office, s)).toBe('3 / 4 online');
    // A sensor whose clock runs ahead of the gateway's (contract §8) is online but not healthy.
    const skewed = stateWith(now({ sensors_online: 4, sensors_total: 4, sensors_skewed: 1 }));
    expect(metricValue('sensors', office, skewed)).toBeCloseTo(0.75);
    expect(metricText('sensors', office, skewed)).toBe('4 / 4 online · 1 clock ahead');
    expect(metricText('occupancy', office, s)).toBe('45 / 100 · 45 %');
  });

  it('is unknown for a building without a now entry or without a CO2 reading', () => {
    const s = stateWith(now({}));
    expect(metricValue('load', boiler, s)).toBeUndefined();
    expect(metricValue('co2', office, s)).toBeUndefined();
    expect(metricText('co2', office, s)).toBe('—');
  });

  it('carbon intensity is per hour per 1000 m² of the last window', () => {
    // 7 kg in one minute over 4000 m²: 420 kg/h / 4 = 105 kg/h per 1000 m².
    expect(carbonIntensity(7, 60_000, 4000)).toBeCloseTo(105);
    expect(carbonIntensity(7, 0, 4000)).toBeUndefined();
    const vitals: ParkVitals = { parkId: 'tp', window: { startMs: 0, endMs: 60_000 }, park: signs(7), buildings: { b1: signs(7) } };
    const s = reduceTwin(initialTwinState('tp'), { type: 'vitals', ...vitals }, 0);
    expect(metricValue('carbon', office, s)).toBeCloseTo(105);
    expect(metricValue('carbon', boiler, s)).toBeUndefined();
  });

  it('status is 0/1/2 from the active alarms', () => {
    let s = reduceTwin(initialTwinState('tp'), { type: 'alarms-loaded', alarms: [], atMs: 0 }, 0);
    expect(metricValue('status', office, s)).toBe(0);
    s = reduceTwin(
      s,
      { type: 'alarm', alarm: { parkId: 'tp', building: 'b1', rule: 'co2', severity: 'warn', state: 'raised', value: 1100, threshold: 1000, message: '', tsMs: 1 } },
      0,
    );
    expect(metricValue('status', office, s)).toBe(1);
    expect(metricText('status', office, s)).toBe('warn');
  });
});
