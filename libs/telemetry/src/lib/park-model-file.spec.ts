import { testPark } from '../testing';
import { duplicateParkIds, parkModelFailureText, parseParkModel, ParkModelText } from './park-model-file';

function failure(text: string): Exclude<ParkModelText, { ok: true }> {
  const r = parseParkModel(text);
  if (r.ok) throw new Error('expected the text to be refused');
  return r;
}

describe('parseParkModel (contract §4)', () => {
  it('returns the model of a valid file', () => {
    const text = JSON.stringify(testPark(), null, 2);
    expect(parseParkModel(text)).toEqual({ ok: true, model: testPark() });
  });

  it('locates a syntax error by line and column', () => {
    const f = failure('{\n  "id": "p",\n  "buildings": [1, 2,]\n}\n');
    expect(f).toMatchObject({ reason: 'bad_json', syntax: { at: { line: 3, column: 22 } } });
    expect(parkModelFailureText('parks/p.json', f)).toMatch(/^park model parks\/p\.json: is not valid JSON at line 3, column 22: \S/);
  });

  it('lists every schema problem with its JSON path and where the schema lives', () => {
    const p = testPark() as unknown as { buildings: Array<Record<string, unknown>> };
    p.buildings[1].height = -1;
    delete p.buildings[0].capacity;
    const f = failure(JSON.stringify(p));
    expect(f).toEqual({
      ok: false,
      reason: 'invalid',
      problems: [
        { path: '$.buildings[0]', message: 'is missing required property "capacity"' },
        { path: '$.buildings[1].height', message: 'must be > 0' },
      ],
    });
    expect(parkModelFailureText('broken.park.json', f)).toBe(
      `park model broken.park.json: 2 problem(s) against the park model schema (libs/telemetry/src/lib/park-model.schema.json):\n` +
        `  - $.buildings[0]: is missing required property "capacity"\n` +
        `  - $.buildings[1].height: must be > 0`,
    );
  });

  it('lists problems the schema cannot express, such as duplicate building ids', () => {
    const p = testPark();
    p.buildings[1].id = 'b1';
    expect(parkModelFailureText('dup.park.json', failure(JSON.stringify(p)))).toContain('  - $.buildings[1].id: duplicates the id "b1" of $.buildings[0]');
  });

  it('shows the first 20 problems and says how many more', () => {
    const p = testPark();
    p.buildings = Array.from({ length: 25 }, (_, i) => ({ ...testPark().buildings[0], id: `b${i}`, height: -i - 1 }));
    const f = failure(JSON.stringify(p));
    expect(f.reason === 'invalid' && f.problems).toHaveLength(25);
    const m = parkModelFailureText('many.park.json', f);
    expect(m).toContain(': 25 problem(s)');
    expect(m.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(20);
    expect(m).toMatch(/\n {2}\.\.\. and 5 more$/);
  });
});

describe('duplicateParkIds', () => {
  it('finds nothing when every park has its own id', () => {
    expect(duplicateParkIds([{ source: 'a.json', model: testPark('a') }, { source: 'b.json', model: testPark('b') }])).toEqual([]);
  });

  it('names each repeating file and the first file with that id', () => {
    const files = ['a', 'b', 'a', 'a'].map((id, i) => ({ source: `${i}.json`, model: testPark(id) }));
    expect(duplicateParkIds(files)).toEqual([
      { id: 'a', source: '2.json', firstSource: '0.json' },
      { id: 'a', source: '3.json', firstSource: '0.json' },
    ]);
  });
});
