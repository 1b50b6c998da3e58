import { ParkIndex } from '@park/telemetry';
import { VitalSigns } from './vital-signs';

export const HOURS_PER_YEAR = 8760;
/** Industrial output per km² of land, 10⁸ yuan: the plan's target and the level it strives for. */
export const OUTPUT_PER_KM2_TARGET = 80;
export const OUTPUT_PER_KM2_STRIVING = 85;

/** Totals over a period, e.g. {@link rollupVitals} of the period's windows. */
export type PeriodTotals = Pick<VitalSigns, 'energy_kwh' | 'pv_kwh' | 'carbon_kgco2e' | 'peak_kw'>;

/** Land productivity of the park against the plan. */
export interface OutputPerKm2 {
  /** annualOutputCny / 1e8 / landAreaKm2, in 10⁸ yuan per km². */
  value: number;
  target: number;
  striving: number;
  meets_target: boolean;
  meets_striving: boolean;
}

/**
 * Key performance indicators of a park or building over a period. Keys are
 * snake_case with units, like {@link VitalSigns}, because they are a wire format.
 * Intensities are annualised (× 8760 / period hours) so periods compare.
 */
export interface Kpis {
  scope: 'park' | 'building';
  building?: string;
  period_hours: number;
  /** Grid import, kWh. */
  energy_kwh: number;
  /** On-site PV generation, kWh. */
  pv_kwh: number;
  carbon_kgco2e: number;
  /** Highest one-minute peak demand of the period, kW. */
  peak_demand_kw: number;
  /** pv / (grid + pv); absent when both are 0. */
  renewable_share?: number;
  /** Energy use intensity: (grid + PV) kWh per m² of floor area per year; absent without floor area. */
  eui_kwh_per_m2_yr?: number;
  /** kg CO2e per m² of floor area per year. */
  carbon_intensity_kg_per_m2_yr?: number;
  /** (grid + PV) kWh per person of design capacity per year; absent when capacity is 0. */
  energy_per_person_kwh_yr?: number;
  /** kg CO2e per person of design capacity per year. */
  carbon_per_person_kg_yr?: number;
  /** Park scope only, when the model gives annualOutputCny and landAreaKm2. */
  output_per_km2?: OutputPerKm2;
}

/**
 * KPIs from a period's totals (contract §4 model data for the denominators).
 *
 * Decisions: energy use intensity counts the energy the buildings use, grid
 * import plus on-site PV (PV generation is assumed consumed on site). Per
 * person figures divide by design capacity, not measured occupancy: capacity
 * is stable, comparable between buildings and periods, and not 0 at night.
 * Output per km² is annual by definition and does not depend on the period.
 */
export function computeKpis(index: ParkIndex, totals: PeriodTotals, periodHours: number, buildingId?: string): Kpis {
  const model = index.model;
  const building = buildingId === undefined ? undefined : index.buildings.get(buildingId);
  if (buildingId !== undefined && !building) {
    throw new Error(`computeKpis: building "${buildingId}" is not in park "${model.id}"; use one of ${[...index.buildings.keys()].join(', ')}`);
  }
  const scopeBuildings = building ? [building] : model.buildings;
  const floorAreaM2 = scopeBuildings.reduce((a, b) => a + b.floorAreaM2, 0);
  const capacity = scopeBuildings.reduce((a, b) => a + b.capacity, 0);
  const usedKwh = totals.energy_kwh + totals.pv_kwh;
  const perYear = periodHours > 0 ? HOURS_PER_YEAR / periodHours : undefined;

  const k: Kpis = {
    scope: building ? 'building' : 'park',
    ...(building ? { building: building.id } : {}),
    period_hours: periodHours,
    energy_kwh: totals.energy_kwh,
    pv_kwh: totals.pv_kwh,
    carbon_kgco2e: totals.carbon_kgco2e,
    peak_demand_kw: totals.peak_kw,
  };
  if (usedKwh > 0) k.renewable_share = totals.pv_kwh / usedKwh;
  if (perYear !== undefined && floorAreaM2 > 0) {
    k.eui_kwh_per_m2_yr = (usedKwh / floorAreaM2) * perYear;
    k.carbon_intensity_kg_per_m2_yr = (totals.carbon_kgco2e / floorAreaM2) * perYear;
  }
  if (perYear !== undefined && capacity > 0) {
    k.energy_per_person_kwh_yr = (usedKwh / capacity) * perYear;
    k.carbon_per_person_kg_yr = (totals.carbon_kgco2e / capacity) * perYear;
  }
  if (!building && model.annualOutputCny !== undefined && model.landAreaKm2 !== undefined && model.landAreaKm2 > 0) {
    const value = model.annualOutputCny / 1e8 / model.landAreaKm2;
    k.output_per_km2 = {
      value,
      target: OUTPUT_PER_KM2_TARGET,
      striving: OUTPUT_PER_KM2_STRIVING,
      meets_target: value >= OUTPUT_PER_KM2_TARGET,
      meets_striving: value >= OUTPUT_PER_KM2_STRIVING,
    };
  }
  return k;
}
