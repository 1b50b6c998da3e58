import { MIN, T0, tpIndex } from '../testing/readings.fixture';
import { emptyCo2Stats } from './occupancy';
import { parkLayout } from './park-layout';
import { assembleVitals, WindowSnapshot } from './scope-vitals';

const layout = parkLayout(tpIndex()); // sensors: b1 m1 pv1 c1 o1, b2 m1 boiler o1
const w = { startMs: T0, endMs: T0 + MIN };

const snap = (over: Partial<WindowSnapshot> = {}): WindowSnapshot => ({
  buildings: [
    { peakKw: 300, occupancy: 50, co2: { sumPpm: 1600, n: 2, maxPpm: 900 }, online: 4, total: 4, starting: 0 },
    { peakKw: 20, occupancy: 10, co2: emptyCo2Stats(), online: 1, total: 3, starting: 0 },
  ],
  parkPeakKw: 310,
  ...over,
});

describe('assembleVitals: contract §6 formulas per scope', () => {
  it('derives every field from the shares and the snapshot', () => {
    // kWh of b1/m1 and b1/pv1, kg of b1/c1, kWh of b2/m1, kg of b2/boiler
    const v = assembleVitals(layout, w, [4, 1, 0, 0, 2, 0.5, 0], snap());
    expect(v.parkId).toBe('tp');
    expect(v.window).toEqual(w);
    expect(v.buildings.b1).toEqual({
      energy_kwh: 4, pv_kwh: 1, load_kw: 240, peak_kw: 300, renewable_share: 0.2, carbon_kgco2e: 4 * 0.42,
      occupancy: 50, occupancy_rate: 0.5, co2_ppm_avg: 800, co2_ppm_max: 900, online_ratio: 1, status: 'ok',
    });
    expect(v.buildings.b2).toEqual({
      energy_kwh: 2, pv_kwh: 0, load_kw: 120, peak_kw: 20, renewable_share: 0, carbon_kgco2e: 2 * 0.42 + 0.5,
      occupancy: 10, occupancy_rate: 1, online_ratio: 1 / 3, status: 'ok',
    });
    expect(v.park).toEqual({
      energy_kwh: 6, pv_kwh: 1, load_kw: 360, peak_kw: 310, renewable_share: 1 / 7, carbon_kgco2e: 6 * 0.42 + 0.5,
      occupancy: 60, occupancy_rate: 60 / 110, co2_ppm_avg: 800, co2_ppm_max: 900, online_ratio: 5 / 7, status: 'ok',
    });
  });

  it('leaves renewable_share out when there is neither grid nor PV energy', () => {
    const v = assembleVitals(layout, w, [0, 0, 0, 0, 0, 0, 0], snap());
    expect(v.park).not.toHaveProperty('renewable_share');
    expect(v.buildings.b1).not.toHaveProperty('renewable_share');
  });

  it('PV only: a renewable share of 1', () => {
    expect(assembleVitals(layout, w, [0, 3, 0, 0, 0, 0, 0], snap()).buildings.b1.renewable_share).toBe(1);
  });
});
