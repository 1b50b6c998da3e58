import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testPark } from '@park/telemetry/testing';
import { ConfigError, DEMO_PARK_MODEL } from '../config/gateway-config';
import { loadParkModel, loadParks } from './park-model.loader';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-loader-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadParkModel (contract §4)', () => {
  it('loads the bundled demo park', () => {
    const m = loadParkModel(DEMO_PARK_MODEL);
    expect(m.id).toBe('demo');
    expect(m.buildings).toHaveLength(13);
  });

  it('names the file and the fix when the file is missing', () => {
    const missing = path.join(dir, 'nope.json');
    expect(errorOf(() => loadParkModel(missing)).message).toBe(
      `park model ${missing}: cannot be read (ENOENT); set PARK_MODEL to an existing file or unset it for the bundled demo park`,
    );
  });

  // The full table of syntax errors is json-text.spec.ts's; this is the message through a file.
  it.each<[string, string, number, number]>([
    ['a trailing comma', '{\n  "id": "p",\n  "buildings": [1, 2,]\n}\n', 3, 22],
    ['a truncated file', '{\n  "id": "p",\n  "name": "x"', 3, 14],
  ])('gives line and column of %s', (_what, text, line, column) => {
    const f = file('bad.json', text);
    const m = errorOf(() => loadParkModel(f)).message;
    expect(m.startsWith(`park model ${f}: is not valid JSON at line ${line}, column ${column}: `)).toBe(true);
  });

  it('lists every schema problem with its JSON path and where the schema lives', () => {
    const p = testPark() as unknown as { buildings: Array<Record<string, unknown>> };
    p.buildings[1].height = -1;
    delete p.buildings[0].capacity;
    const f = file('broken.park.json', JSON.stringify(p, null, 2));
    expect(errorOf(() => loadParkModel(f)).message).toBe(
      `park model ${f}: 2 problem(s) against the park model schema (libs/telemetry/src/lib/park-model.schema.json):\n` +
        `  - $.buildings[0]: is missing required property "capacity"\n` +
        `  - $.buildings[1].height: must be > 0`,
    );
  });
});

describe('loadParks', () => {
  it('indexes every file', () => {
    const a = file('a.park.json', JSON.stringify(testPark('a')));
    const b = file('b.park.json', JSON.stringify(testPark('b')));
    const parks = loadParks([a, b]);
    expect(parks.map((p) => p.model.id)).toEqual(['a', 'b']);
    expect(parks[1].sensors.has('b1/pv1')).toBe(true);
  });

  it('refuses two files with the same park id, naming both', () => {
    const a = file('one.park.json', JSON.stringify(testPark('same')));
    const b = file('two.park.json', JSON.stringify(testPark('same')));
    expect(errorOf(() => loadParks([a, b])).message).toBe(`park model ${b}: $.id "same" is already used by ${a}; every park served must have its own id`);
  });
});
