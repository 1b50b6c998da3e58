import { readStoredState, resumePlan } from './stored-state';

const T = Date.parse('2026-11-27T08:00:00Z');

/** InfluxDB's /query at the edge: answers per measurement and field, records the statements. */
function fakeInflux(answers: Record<string, Array<{ tags: Record<string, string>; time: number; value: number }>>) {
  const asked: string[] = [];
  const fetchFn = async (url: string) => {
    const q = decodeURIComponent(/[?&]q=([^&]*)/.exec(url)?.[1] ?? '');
    asked.push(q);
    const key = /last\("(\w+)"\) FROM "(\w+)"/.exec(q)?.slice(1).reverse().join('.') ?? '';
    const series = (answers[key] ?? []).map((a) => ({ name: key, tags: a.tags, columns: ['time', 'last'], values: [[a.time, a.value]] }));
    return { status: 200, text: async () => JSON.stringify({ results: [{ statement_id: 0, ...(series.length ? { series } : {}) }] }) };
  };
  return { asked, fetchFn };
}

describe('readStoredState', () => {
  it('takes each register’s last value and the park’s newest reading of any kind', async () => {
    const f = fakeInflux({
      'energy.energy_kwh': [{ tags: { building: 'b1', sensor: 'm1' }, time: T - 9_000, value: 1234.5 }],
      'carbon.emission_kgco2e': [{ tags: { building: 'b2', sensor: 'boiler' }, time: T - 50_000, value: 777 }],
      'occupancy.count': [{ tags: { building: 'b1', sensor: 'o1' }, time: T - 1_000, value: 12 }],
    });
    const state = await readStoredState({ url: 'http://influx:8086/', db: 'park' }, "o'park", f.fetchFn);
    expect(state).toEqual({
      resumeMs: T - 1_000,
      registers: { 'b1/m1': { value: 1234.5, atMs: T - 9_000 }, 'b2/boiler': { value: 777, atMs: T - 50_000 } },
    });
    expect(f.asked[0]).toBe(`SELECT last("energy_kwh") FROM "energy" WHERE "park" = 'o\\'park' GROUP BY "building", "sensor"`);
  });

  it('is undefined for a park with nothing stored, and says what the server answered when it fails', async () => {
    expect(await readStoredState({ url: 'http://influx:8086', db: 'park' }, 'p', fakeInflux({}).fetchFn)).toBeUndefined();
    const refused = async () => ({ status: 404, text: async () => '{"error":"database not found: park"}' });
    await expect(readStoredState({ url: 'http://influx:8086', db: 'park' }, 'p', refused)).rejects.toThrow(/answered 404: .*database not found/);
  });
});

describe('resumePlan', () => {
  it.each([
    ['nothing stored: the asked start', undefined, T - 7_200_000, { startMs: T - 7_200_000 }],
    ['readings stored past the asked start: from the newest one, nothing sent twice', { resumeMs: T - 600_000, registers: {} }, T - 7_200_000, { startMs: T - 600_000 }],
    ['stored readings end before the asked start: the meters count on from them, unheard', { resumeMs: T - 86_400_000, registers: {} }, T - 7_200_000, { startMs: T - 7_200_000, skipFromMs: T - 86_400_000 }],
  ])('%s', (_name, state, asked, plan) => {
    expect(resumePlan(asked, state)).toEqual(plan);
  });
});
