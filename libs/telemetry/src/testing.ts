import { ParkModel } from './lib/park-model';

/**
 * A small park for tests: two buildings, every sensor kind, a PV meter, an
 * unzoned and a zoned occupancy sensor, a direct-emission register.
 */
export function testPark(id = 'tp'): ParkModel {
  return {
    id,
    name: 'Test Park',
    landAreaKm2: 0.5,
    gridEmissionFactorKgPerKwh: 0.42,
    annualOutputCny: 4.5e9,
    buildings: [
      {
        id: 'b1', name: 'Office', use: 'office', footprint: [[0, 0], [40, 0], [40, 20], [0, 20]],
        height: 20, floors: 5, floorAreaM2: 4000, capacity: 100, contractedKw: 500,
        sensors: [
          { id: 'm1', kind: 'energy', source: 'grid', intervalS: 10 },
          { id: 'pv1', kind: 'energy', source: 'pv', intervalS: 10 },
          { id: 'c1', kind: 'carbon', intervalS: 60 },
          { id: 'o1', kind: 'occupancy', zone: 'lobby', intervalS: 30 },
        ],
      },
      {
        id: 'b2', name: 'Boiler house', use: 'utility', footprint: [[60, 0], [80, 0], [80, 20], [60, 20]],
        height: 8, floors: 1, floorAreaM2: 400, capacity: 10, contractedKw: 200,
        sensors: [
          { id: 'm1', kind: 'energy', intervalS: 10 },
          { id: 'boiler', kind: 'carbon', intervalS: 60 },
          { id: 'o1', kind: 'occupancy', intervalS: 30 },
        ],
      },
    ],
  };
}
