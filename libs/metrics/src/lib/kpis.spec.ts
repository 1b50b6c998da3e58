import { indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { computeKpis } from './kpis';

const index = indexPark(testPark()); // floor area 4000 + 400 m², capacity 100 + 10, output 4.5e9 yuan on 0.5 km²

describe('computeKpis', () => {
  const day = { energy_kwh: 1000, pv_kwh: 100, carbon_kgco2e: 500, peak_kw: 90 };

  it('park KPIs over a day, annualised', () => {
    expect(computeKpis(index, day, 24)).toEqual({
      scope: 'park',
      period_hours: 24,
      energy_kwh: 1000,
      pv_kwh: 100,
      carbon_kgco2e: 500,
      peak_demand_kw: 90,
      renewable_share: 100 / 1100,
      eui_kwh_per_m2_yr: (1100 / 4400) * 365,
      carbon_intensity_kg_per_m2_yr: (500 / 4400) * 365,
      energy_per_person_kwh_yr: (1100 / 110) * 365,
      carbon_per_person_kg_yr: (500 / 110) * 365,
      // 4.5e9 yuan = 45 × 10⁸ yuan on 0.5 km²: 90 per km², above the target 80 and the striving level 85
      output_per_km2: { value: 90, target: 80, striving: 85, meets_target: true, meets_striving: true },
    });
  });

  it('building KPIs use the building floor area and capacity, and have no land output', () => {
    const k = computeKpis(index, day, 24 * 365, 'b2');
    expect(k).toMatchObject({ scope: 'building', building: 'b2', eui_kwh_per_m2_yr: 1100 / 400, energy_per_person_kwh_yr: 110 });
    expect(k.output_per_km2).toBeUndefined();
  });

  it('below target, and without the data for it', () => {
    const low = indexPark({ ...testPark(), annualOutputCny: 4e9, landAreaKm2: 0.5 });
    expect(computeKpis(low, day, 24).output_per_km2).toMatchObject({ value: 80, meets_target: true, meets_striving: false });
    const none = indexPark({ ...testPark(), annualOutputCny: undefined });
    expect(computeKpis(none, day, 24).output_per_km2).toBeUndefined();
  });

  it('leaves out what has no denominator', () => {
    const k = computeKpis(index, { energy_kwh: 0, pv_kwh: 0, carbon_kgco2e: 0, peak_kw: 0 }, 0);
    expect(k.renewable_share).toBeUndefined();
    expect(k.eui_kwh_per_m2_yr).toBeUndefined();
    expect(k.energy_per_person_kwh_yr).toBeUndefined();
  });

  it('names the buildings to choose from when given an unknown one', () => {
    expect(() => computeKpis(index, day, 24, 'b9')).toThrow('building "b9" is not in park "tp"; use one of b1, b2');
  });
});
