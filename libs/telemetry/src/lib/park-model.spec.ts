import * as fs from 'node:fs';
import * as path from 'node:path';
import { testPark } from '../testing';
import { DEFAULT_GRID_EMISSION_FACTOR, indexPark, ParkModel, PARK_MODEL_SCHEMA, validateParkModel } from './park-model';

const DEMO_FILE = path.resolve(__dirname, '../../../../apps/gateway/parks/demo.park.json');

/** A mutable copy of the test park, loose-typed so a test can break it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const ID_RULE = 'must match pattern "^[a-z0-9][a-z0-9_-]{0,63}$": ids are lower-case letters, digits, "_" and "-", starting with a letter or digit, at most 64 characters';

describe('validateParkModel (contract §4)', () => {
  it('accepts the bundled demo park', () => {
    const demo = JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8')) as ParkModel;
    expect(validateParkModel(demo)).toEqual([]);
    expect(demo.buildings).toHaveLength(13);
    expect(demo.buildings.reduce((n, b) => n + b.sensors.length, 0)).toBe(77);
  });

  it('accepts the test fixture, with the same sensor id in two buildings', () => {
    const p = testPark();
    expect(p.buildings[0].sensors[0].id).toBe(p.buildings[1].sensors[0].id);
    expect(validateParkModel(p)).toEqual([]);
  });

  it('accepts the smallest model the schema allows', () => {
    const minimal = { id: 'p', name: 'P', buildings: [{ id: 'b', name: 'B', footprint: [[0, 0], [1, 0], [0, 1]], height: 1, floors: 1, floorAreaM2: 1, capacity: 0, contractedKw: 1, sensors: [] }] };
    expect(validateParkModel(minimal)).toEqual([]);
  });

  it.each<[string, (p: Loose) => void, Array<{ path: string; message: string }>]>([
    ['a negative height', (p) => (p.buildings[1].height = -1), [{ path: '$.buildings[1].height', message: 'must be > 0' }]],
    ['a height of 0', (p) => (p.buildings[0].height = 0), [{ path: '$.buildings[0].height', message: 'must be > 0' }]],
    ['a missing name', (p) => delete p.name, [{ path: '$', message: 'is missing required property "name"' }]],
    ['a building without height', (p) => delete p.buildings[1].height, [{ path: '$.buildings[1]', message: 'is missing required property "height"' }]],
    ['a misspelt key', (p) => (p.buildings[0].heigth = 3), [{ path: '$.buildings[0]', message: 'has unknown property "heigth" (check its spelling against the schema)' }]],
    ['an unknown top-level key', (p) => (p['my key'] = 1), [{ path: '$', message: 'has unknown property "my key" (check its spelling against the schema)' }]],
    ['an unknown kind', (p) => (p.buildings[0].sensors[1].kind = 'water'), [{ path: '$.buildings[0].sensors[1].kind', message: 'must be one of "energy", "carbon", "occupancy"' }]],
    ['an unknown source', (p) => (p.buildings[0].sensors[0].source = 'solar'), [{ path: '$.buildings[0].sensors[0].source', message: 'must be one of "grid", "pv"' }]],
    ['an upper-case building id', (p) => (p.buildings[1].id = 'B2'), [{ path: '$.buildings[1].id', message: ID_RULE }]],
    ['a 65-character park id', (p) => (p.id = 'p'.repeat(65)), [{ path: '$.id', message: ID_RULE }]],
    ['a sensor id with a dot', (p) => (p.buildings[0].sensors[3].id = 'o.1'), [{ path: '$.buildings[0].sensors[3].id', message: ID_RULE }]],
    ['a two-point footprint', (p) => (p.buildings[0].footprint = [[0, 0], [1, 1]]), [{ path: '$.buildings[0].footprint', message: 'must NOT have fewer than 3 items' }]],
    ['a 3-D footprint point', (p) => (p.buildings[0].footprint[1] = [1, 2, 3]), [{ path: '$.buildings[0].footprint[1]', message: 'must NOT have more than 2 items' }]],
    ['a string coordinate', (p) => (p.buildings[0].footprint[1] = [1, '2']), [{ path: '$.buildings[0].footprint[1][1]', message: 'must be number' }]],
    ['fractional floors', (p) => (p.buildings[0].floors = 2.5), [{ path: '$.buildings[0].floors', message: 'must be integer' }]],
    ['an interval of 0 s', (p) => (p.buildings[1].sensors[2].intervalS = 0), [{ path: '$.buildings[1].sensors[2].intervalS', message: 'must be > 0' }]],
    ['no buildings', (p) => (p.buildings = []), [{ path: '$.buildings', message: 'must NOT have fewer than 1 items' }]],
    ['an emission factor of 6', (p) => (p.gridEmissionFactorKgPerKwh = 6), [{ path: '$.gridEmissionFactorKgPerKwh', message: 'must be <= 5' }]],
    ['a negative output', (p) => (p.annualOutputCny = -1), [{ path: '$.annualOutputCny', message: 'must be >= 0' }]],
    ['a zero land area', (p) => (p.landAreaKm2 = 0), [{ path: '$.landAreaKm2', message: 'must be > 0' }]],
    ['an empty zone', (p) => (p.buildings[0].sensors[3].zone = ''), [{ path: '$.buildings[0].sensors[3].zone', message: 'must NOT have fewer than 1 characters' }]],
    ['an unknown time zone', (p) => (p.timeZone = 'Asia/Atlantis'), [{ path: '$.timeZone', message: '"Asia/Atlantis" is not an IANA time zone name; use one like "Asia/Shanghai" or "Europe/Berlin"' }]],
    ['a holiday that is not a date', (p) => (p.holidays = ['2026-10-01', 'Oct 2']), [{ path: '$.holidays[1]', message: 'must match pattern "^\\d{4}-\\d{2}-\\d{2}$": a local date YYYY-MM-DD' }]],
    ['maxKgPerH on an energy meter', (p) => (p.buildings[0].sensors[0].maxKgPerH = 5), [{ path: '$.buildings[0].sensors[0].maxKgPerH', message: '"maxKgPerH" applies to carbon sensors only; remove it from this energy sensor' }]],
    ['a maxKgPerH of 0', (p) => (p.buildings[1].sensors[1].maxKgPerH = 0), [{ path: '$.buildings[1].sensors[1].maxKgPerH', message: 'must be > 0' }]],
    [
      'a half origin with a bad latitude',
      (p) => (p.origin = { lat: 91 }),
      [
        { path: '$.origin', message: 'is missing required property "lon"' },
        { path: '$.origin.lat', message: 'must be <= 90' },
      ],
    ],
    [
      'two problems at once (all are reported)',
      (p) => {
        p.buildings[0].capacity = -1;
        p.buildings[1].contractedKw = 'lots';
      },
      [
        { path: '$.buildings[0].capacity', message: 'must be >= 0' },
        { path: '$.buildings[1].contractedKw', message: 'must be number' },
      ],
    ],
    [
      'duplicate building ids',
      (p) => (p.buildings[1].id = 'b1'),
      [{ path: '$.buildings[1].id', message: 'duplicates the id "b1" of $.buildings[0]; building ids must be unique in a park' }],
    ],
    [
      'duplicate sensor ids in a building',
      (p) => (p.buildings[1].sensors[2].id = 'm1'),
      [{ path: '$.buildings[1].sensors[2].id', message: 'duplicates the id "m1" of sensors[0]; sensor ids must be unique in a building' }],
    ],
    [
      'a source on a carbon sensor',
      (p) => (p.buildings[0].sensors[2].source = 'grid'),
      [{ path: '$.buildings[0].sensors[2].source', message: '"source" applies to energy meters only; remove it from this carbon sensor' }],
    ],
    [
      'a zone on an energy meter',
      (p) => (p.buildings[1].sensors[0].zone = 'hall'),
      [{ path: '$.buildings[1].sensors[0].zone', message: '"zone" applies to occupancy sensors only; remove it from this energy sensor' }],
    ],
  ])('%s', (_what, breakIt, expected) => {
    const p: Loose = testPark();
    breakIt(p);
    expect(validateParkModel(p)).toEqual(expected);
  });

  it.each([null, [], 'park', 3])('refuses a document that is not an object: %j', (doc) => {
    expect(validateParkModel(doc)).toEqual([{ path: '$', message: 'must be object' }]);
  });

  it('publishes the schema it validates with', () => {
    expect(PARK_MODEL_SCHEMA.$id).toBe('https://park-twin.dev/schemas/park-model-v1.json');
    expect(PARK_MODEL_SCHEMA.definitions.sensor.properties.kind.enum).toEqual(['energy', 'carbon', 'occupancy']);
  });
});

describe('indexPark', () => {
  it('builds lookup tables keyed by building and building/sensor', () => {
    const idx = indexPark(testPark());
    expect([...idx.buildings.keys()]).toEqual(['b1', 'b2']);
    expect([...idx.sensors.keys()]).toEqual(['b1/m1', 'b1/pv1', 'b1/c1', 'b1/o1', 'b2/m1', 'b2/boiler', 'b2/o1']);
    expect(idx.sensors.get('b1/pv1')).toEqual({ id: 'pv1', kind: 'energy', source: 'pv', intervalS: 10 });
    expect(idx.sensors.get('b2/m1')?.source).toBeUndefined();
    expect(idx.emissionFactor).toBe(0.42);
    expect(idx.timeZone).toBe('Asia/Shanghai');
    expect(indexPark({ ...testPark(), timeZone: 'Europe/Berlin' }).timeZone).toBe('Europe/Berlin');
  });

  it('defaults the grid emission factor to 0.42 (contract §4)', () => {
    const p = testPark();
    delete p.gridEmissionFactorKgPerKwh;
    expect(DEFAULT_GRID_EMISSION_FACTOR).toBe(0.42);
    expect(indexPark(p).emissionFactor).toBe(0.42);
    expect(indexPark({ ...p, gridEmissionFactorKgPerKwh: 0 }).emissionFactor).toBe(0);
    expect(indexPark({ ...p, gridEmissionFactorKgPerKwh: 0.57 }).emissionFactor).toBe(0.57);
  });
});
