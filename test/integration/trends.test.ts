/**
 * Trends (contract §8) end to end, with the real gateway and InfluxDB 1.6:
 *
 * - 14 days of simulated history of a two-building park, up to now, are
 *   backfilled straight into InfluxDB (`backfillInflux`, what
 *   `npm run backfill` runs: the simulator's readings derived by the
 *   gateway's engine, encoded by the gateway's line protocol);
 * - the gateway fits at start and answers `GET .../forecast` exactly as §8
 *   shapes it, for the park and a building, `load_kw` and `energy_kwh`,
 *   15 min and 1 h; the next 24 h are checked against the simulator's
 *   ground truth for sane (not timed) quality; the `forecast` measurement
 *   holds the 15-min forecast for Grafana;
 * - a second park without history answers 409 saying how much is needed;
 *   bad parameters 400 naming the parameter, an unknown park 404;
 * - `GET .../report` for this month and the last: totals equal what
 *   InfluxDB sums, the CSV carries the same figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { coarsenSeries, intervalCoverage, mape, QUARTER_MS } from '@park/metrics';
import { indexPark, localTime, ParkModel } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { backfillInflux } from '../support/backfill';
import { Gateway, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { getJson } from '../support/mqtt';
import { influxQuery, influxWrite, rowsOf, sharedInfluxUrl, uniqueDb, waitFor } from '../support/services';
import { QuarterTruth, simulateHistory } from '../support/sim-history';

jest.setTimeout(180_000);

const DAY = 86_400_000;
const H = 3_600_000;
const SEED = 7;
const NOW = Date.now();
const TO = Math.floor(NOW / 60_000) * 60_000;
const FROM = TO - 14 * DAY;

const park: ParkModel = { ...testPark('tr'), holidays: ['2026-10-01', '2027-01-01'] };
const empty: ParkModel = testPark('empty');

let gw: Gateway;
let db: string;
const q = (influxql: string) => influxQuery(sharedInfluxUrl(), db, influxql);
const api = <T>(p: string) => getJson<T>(`${gw.httpUrl}${p}`);
type Forecast = { generated: string; points: Array<{ t: string; value: number; lo: number; hi: number }> };

beforeAll(async () => {
  db = await uniqueDb('trends');
  // Vital signs only: the forecast and the report read nothing else (grafana.test.ts writes readings too).
  const written = await backfillInflux(indexPark(park), { seed: SEED, fromMs: FROM, toMs: TO, readings: false, write: (lines) => influxWrite(sharedInfluxUrl(), db, lines) });
  expect(written.vitalsPoints).toBe(3 * 14 * 1440 - 3); // every window but the last, still open at the end
  const dir = ownedDir('trends');
  const files = [park, empty].map((m) => {
    const f = path.join(dir, `${m.id}.park.json`);
    fs.writeFileSync(f, JSON.stringify(m));
    return f;
  });
  gw = await startGateway({ name: 'trends', env: { INFLUX_DB: db, PARK_MODEL: files.join(','), TRENDS_REFIT_MS: String(3_600_000) } });
  await waitFor(async () => (await api(`/api/parks/tr/forecast`)).status === 200, { what: 'the first fit', timeoutMs: 60_000, intervalMs: 250 });
});

afterAll(async () => {
  await gw?.stop();
});

describe('GET /api/parks/{park}/forecast', () => {
  it('answers {generated, points:[{t,value,lo,hi}]} per hour for the next 24 h, from the step holding now', async () => {
    const { status, body } = await api<Forecast>('/api/parks/tr/forecast?metric=load_kw&horizon=24h&every=1h');
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['generated', 'points']);
    expect(Date.parse(body.generated)).toBeGreaterThan(TO);
    expect(body.points).toHaveLength(24);
    const first = Date.parse(body.points[0].t);
    expect(first).toBe(Math.floor(Date.now() / H) * H);
    body.points.forEach((p, i) => {
      expect(Object.keys(p).sort()).toEqual(['hi', 'lo', 't', 'value']);
      expect(Date.parse(p.t)).toBe(first + i * H);
      expect(p.lo).toBeLessThanOrEqual(p.value);
      expect(p.hi).toBeGreaterThanOrEqual(p.value);
      expect(p.lo).toBeGreaterThanOrEqual(0);
    });
  });

  it('is close to what the park then does: the simulated next 24 h (sane quality, not a figure to report)', async () => {
    const { body } = await api<Forecast>('/api/parks/tr/forecast?every=15m');
    expect(body.points).toHaveLength(96);
    const truth = new QuarterTruth();
    const start = Date.parse(body.points[0].t);
    simulateHistory(indexPark(park), { seed: SEED, fromMs: start - H, toMs: start + DAY + 60_000, onTruth: (w) => truth.add(w) });
    const actual = truth.series('', start, start + DAY);
    const f = body.points.map((p) => ({ tMs: Date.parse(p.t), value: p.value, lo: p.lo, hi: p.hi }));
    expect(actual).toHaveLength(96);
    expect(mape(f, actual)).toBeLessThan(0.1);
    expect(intervalCoverage(f, actual)).toBeGreaterThan(0.5);
    const hourly = (await api<Forecast>('/api/parks/tr/forecast?every=1h')).body.points.map((p) => ({ tMs: Date.parse(p.t), value: p.value, lo: p.lo, hi: p.hi }));
    expect(mape(hourly, coarsenSeries(actual, H))).toBeLessThan(0.1);
  });

  it('energy_kwh is the step energy of the load forecast; a building has its own', async () => {
    const load = (await api<Forecast>('/api/parks/tr/forecast?building=b1&every=15m&horizon=6h')).body;
    const energy = (await api<Forecast>('/api/parks/tr/forecast?building=b1&every=15m&horizon=6h&metric=energy_kwh')).body;
    expect(load.points).toHaveLength(24);
    energy.points.forEach((p, i) => expect(p.value).toBeCloseTo(load.points[i].value * 0.25, 2));
    const parkLoad = (await api<Forecast>('/api/parks/tr/forecast?every=15m&horizon=6h')).body;
    expect(parkLoad.points[0].value).toBeGreaterThan(load.points[0].value);
  });

  it('answers 409 with how much history is needed for a park without history', async () => {
    const { status, body } = await api<{ error: string; message: string; need_days: number; have_days: number }>('/api/parks/empty/forecast');
    expect(status).toBe(409);
    expect(body).toMatchObject({ error: 'not_enough_history', need_days: 8, have_days: 0 });
    expect(body.message).toMatch(/needs 8 days of stored vitals and has 0/);
  });

  it.each([
    ['metric=co2_ppm_avg', 'metric'],
    ['every=5m', 'every'],
    ['horizon=48h', 'horizon'],
    ['horizon=1d', 'horizon'],
    ['building=b9', 'building'],
  ])('400 naming the parameter: %s', async (query, parameter) => {
    const { status, body } = await api<{ error: string; parameter: string }>(`/api/parks/tr/forecast?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'bad_request', parameter });
  });

  it('404 for an unknown park', async () => {
    expect((await api('/api/parks/nope/forecast')).status).toBe(404);
  });

  it('writes the 15-min forecast of every scope for the next 24 h to the forecast measurement', async () => {
    const rows = rowsOf(await q(`SELECT COUNT("load_kw") FROM "forecast" WHERE "park" = 'tr' AND time >= ${TO - H}ms GROUP BY "scope", "building"`));
    expect(rows.map((r) => r.count)).toEqual([96, 96, 96]);
  });
});

describe('GET /api/parks/{park}/report', () => {
  const tz = 'Asia/Shanghai';
  const label = (ms: number) => {
    const t = localTime(tz, ms);
    return `${t.year}-${String(t.month).padStart(2, '0')}`;
  };

  it.each([
    ['this month', TO],
    ['the month 14 days ago', FROM + H],
  ])('%s: totals per building and park equal what InfluxDB sums', async (_n, at) => {
    const month = label(at);
    const { status, body } = await api<{ month: string; from: string; to: string; emission_factor_kg_per_kwh: number; park_totals: Record<string, number | string>; buildings: Array<Record<string, number | string>> }>(`/api/parks/tr/report?period=month&month=${month}&format=json`);
    expect(status).toBe(200);
    expect(body.month).toBe(month);
    expect(body.emission_factor_kg_per_kwh).toBe(0.42);
    const where = `"park" = 'tr' AND time >= '${body.from}' AND time < '${body.to}'`;
    const sums = rowsOf(await q(`SELECT SUM("energy_kwh") AS e, SUM("carbon_kgco2e") AS c, MAX("peak_kw") AS p FROM "vitals" WHERE ${where} AND "scope" = 'park'`))[0];
    expect(body.park_totals.energy_kwh).toBeCloseTo(sums.e as number, 6);
    expect(body.park_totals.carbon_kgco2e).toBeCloseTo(sums.c as number, 6);
    expect(body.park_totals.peak_demand_kw).toBe(sums.p);
    expect(Date.parse(body.park_totals.peak_demand_at as string)).toBeGreaterThanOrEqual(Date.parse(body.from));
    expect(body.buildings.map((b) => b.building)).toEqual(['b1', 'b2']);
    const b1 = rowsOf(await q(`SELECT SUM("energy_kwh") AS e FROM "vitals" WHERE ${where} AND "building" = 'b1'`))[0];
    expect(body.buildings[0].energy_kwh).toBeCloseTo(b1.e as number, 6);
    expect(body.park_totals.carbon_kg_per_10k_cny).toBeGreaterThan(0);
  });

  it('CSV carries the same figures, park first', async () => {
    const month = label(TO);
    const res = await fetch(`${gw.httpUrl}/api/parks/tr/report?month=${month}&format=csv`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="report-tr-${month}.csv"`);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    const head = lines[0].split(',');
    const json = (await api<{ park_totals: { energy_kwh: number } }>(`/api/parks/tr/report?month=${month}`)).body;
    const cell = (line: string, col: string) => line.split(',')[head.indexOf(col)];
    expect(cell(lines[1], 'scope')).toBe('park');
    expect(Number(cell(lines[1], 'energy_kwh'))).toBeCloseTo(json.park_totals.energy_kwh, 3);
  });

  it.each([
    ['month=2026-13', 'month'],
    ['month=November', 'month'],
    ['period=year', 'period'],
    ['format=pdf', 'format'],
  ])('400 naming the parameter: %s', async (query, parameter) => {
    const { status, body } = await api<{ parameter: string }>(`/api/parks/tr/report?${query}`);
    expect(status).toBe(400);
    expect(body.parameter).toBe(parameter);
  });
});

// Keeps the quarter constant in use for readers of the schema: forecast points are quarter-aligned.
test('forecast points are quarter-aligned in the database', async () => {
  const rows = rowsOf(await q(`SELECT "load_kw" FROM "forecast" WHERE "park" = 'tr' AND "scope" = 'park' LIMIT 3`));
  expect(rows).toHaveLength(3);
  for (const r of rows) expect((r.time as number) % QUARTER_MS).toBe(0);
});
