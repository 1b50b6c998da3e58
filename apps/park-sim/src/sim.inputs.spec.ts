import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseScenarios } from '@park/park-sim';
import { testPark } from '@park/telemetry/testing';
import { checkScenarioTargets, loadParkModels, readCredentials, SimInputError } from './sim.inputs';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-inputs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SimInputError);
    return (e as Error).message;
  }
  throw new Error('expected a SimInputError');
}

describe('loadParkModels', () => {
  it('reads every file, in order', () => {
    const a = file('a.park.json', JSON.stringify(testPark('a')));
    const b = file('b.park.json', JSON.stringify(testPark('b')));
    expect(loadParkModels([a, b])).toEqual([testPark('a'), testPark('b')]);
  });

  it.each<[string, () => string, (f: string) => string | RegExp]>([
    ['a missing file', () => path.join(dir, 'nope.json'), (f) => `park model ${f}: cannot be read (ENOENT)`],
    ['a syntax error, by line and column', () => file('bad.json', '{\n  "id": "p",\n}'), (f) => new RegExp(`^park model ${f}: is not valid JSON at line 3, column 1: `)],
    [
      'a schema problem, by JSON path',
      () => {
        const p = testPark() as unknown as { buildings: Array<Record<string, unknown>> };
        p.buildings[1].height = -1;
        return file('broken.park.json', JSON.stringify(p));
      },
      (f) => `park model ${f}: 1 problem(s) against the park model schema (libs/telemetry/src/lib/park-model.schema.json):\n  - $.buildings[1].height: must be > 0`,
    ],
  ])('names the file and %s', (_what, make, expected) => {
    const f = make();
    const m = messageOf(() => loadParkModels([f]));
    const want = expected(f);
    if (typeof want === 'string') expect(m).toBe(want);
    else expect(m).toMatch(want);
  });

  it('refuses two files with the same park id, naming both', () => {
    const a = file('one.park.json', JSON.stringify(testPark('same')));
    const b = file('two.park.json', JSON.stringify(testPark('same')));
    expect(messageOf(() => loadParkModels([a, b]))).toBe(`park model ${b}: $.id "same" is also the id of ${a}; simulated parks need distinct ids`);
  });
});

describe('readCredentials', () => {
  it('reads username and password, ignoring other keys', () => {
    const f = file('cred.json', JSON.stringify({ username: 'park-sim', password: 's3cret', publish: ['park/#'] }));
    expect(readCredentials(f)).toEqual({ username: 'park-sim', password: 's3cret' });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"username": "u",', /: is not valid JSON at line 1, column 18: /],
    ['no password', '{"username": "u"}', /: \$\.password must be a non-empty string; expected \{"username": "\.\.\.", "password": "\.\.\."\}/],
    ['an empty username', '{"username": "", "password": "p"}', /: \$\.username must be a non-empty string/],
    ['not an object', '[]', /: \$\.username must be a non-empty string/],
  ])('refuses %s, naming the file', (_what, text, message) => {
    const f = file('cred-bad.json', text);
    const m = messageOf(() => readCredentials(f));
    expect(m.startsWith(`credentials file ${f}: `)).toBe(true);
    expect(m).toMatch(message);
  });
});

describe('checkScenarioTargets', () => {
  const scenarios = (spec: string) => {
    const r = parseScenarios([spec]);
    if (!r.ok) throw new Error(r.error);
    return r.scenarios;
  };

  it('accepts scenarios on buildings of the simulated parks', () => {
    expect(() => checkScenarioTargets(scenarios('overload:b1,co2:tp/b2'), [testPark()])).not.toThrow();
  });

  it('names the building that is not there and lists those that are', () => {
    expect(messageOf(() => checkScenarioTargets(scenarios('co2:b9'), [testPark()]))).toBe('--scenario co2:b9: no such building in the simulated park(s) (tp: b1 b2)');
  });
});
