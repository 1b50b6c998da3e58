import { indexPark, ParkIndex, ParkModel, Reading, SensorKind } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';

/** A window-aligned instant (2025-11-27T00:00:00Z) the specs count from. */
export const T0 = Date.UTC(2025, 10, 27);
export const MIN = 60_000;
export const SEC = 1000;

/** testPark() indexed: b1 (m1 grid, pv1, c1, o1 zone lobby; capacity 100, 500 kW) and b2 (m1 grid, boiler carbon, o1; capacity 10, 200 kW). */
export function tpIndex(): ParkIndex {
  return indexPark(testPark());
}

export function indexOf(model: ParkModel): ParkIndex {
  return indexPark(model);
}

type Fields = Pick<Reading, 'powerKw' | 'energyKwh' | 'co2Ppm' | 'emissionKgco2e' | 'count'>;

/** A reading of park `tp` (or `park`). */
export function rd(building: string, sensor: string, kind: SensorKind, tsMs: number, fields: Fields, park = 'tp'): Reading {
  return { park, building, kind, sensor, tsMs, ...fields };
}

export const energy = (building: string, sensor: string, tsMs: number, fields: Fields): Reading =>
  rd(building, sensor, 'energy', tsMs, fields);
export const carbon = (building: string, sensor: string, tsMs: number, fields: Fields): Reading =>
  rd(building, sensor, 'carbon', tsMs, fields);
export const people = (building: string, sensor: string, tsMs: number, count: number): Reading =>
  rd(building, sensor, 'occupancy', tsMs, { count });

/**
 * Three windows of testPark, every field hand-computed below.
 * W0 = [T0, T0+60 s), W1 = [+60 s, +120 s), W2 = [+120 s, +180 s).
 */
export function formulaTableReadings(): Reading[] {
  const s = (x: number) => T0 + x * SEC;
  return [
    // b1/m1 grid meter, register and power. Intervals: (-10,20) 6 kWh, (20,50) 3, (50,80) 6, (80,200) 12 (a gap).
    energy('b1', 'm1', s(-10), { energyKwh: 1000, powerKw: 700 }),
    energy('b1', 'm1', s(20), { energyKwh: 1006, powerKw: 800 }),
    energy('b1', 'm1', s(50), { energyKwh: 1009, powerKw: 400 }),
    energy('b1', 'm1', s(80), { energyKwh: 1015, powerKw: 1000 }),
    energy('b1', 'm1', s(200), { energyKwh: 1027, powerKw: 100 }),
    // b1/pv1 power only: 60 -> 120 kW over W0, trapezoid 1.5 kWh. The reading at +60 s belongs to W1.
    energy('b1', 'pv1', s(0), { powerKw: 60 }),
    energy('b1', 'pv1', s(60), { powerKw: 120 }),
    carbon('b1', 'c1', s(10), { co2Ppm: 900 }),
    carbon('b1', 'c1', s(40), { co2Ppm: 1300 }),
    people('b1', 'o1', s(5), 120),
    // b2/m1 power only, exporting at the end: 100 -> 200 -> -100 kW.
    energy('b2', 'm1', s(0), { powerKw: 100 }),
    energy('b2', 'm1', s(30), { powerKw: 200 }),
    energy('b2', 'm1', s(90), { powerKw: -100 }),
    // b2/boiler emission register: (-30,30) +6 kg, (30,90) reset to 2 -> +2 kg.
    carbon('b2', 'boiler', s(-30), { emissionKgco2e: 500 }),
    carbon('b2', 'boiler', s(30), { emissionKgco2e: 506 }),
    carbon('b2', 'boiler', s(90), { emissionKgco2e: 2 }),
    people('b2', 'o1', s(50), 8),
    people('b2', 'o1', s(110), 12),
  ];
}
