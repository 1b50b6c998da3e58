import { BadRequestException } from '@nestjs/common';
import { OUTPUT_PER_KM2_TARGET, ROLLUP, VitalSigns } from '@park/metrics';
import { indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { InfluxSeries } from '../influx/influx.ports';
import { EVERY_MS, HistoryService, MAX_HISTORY_POINTS } from './history.service';

/** 11:35 in the park (UTC+8), Friday 27 November 2026. */
const NOW = Date.parse('2026-11-27T03:35:00.000Z');
const FROM = Date.parse('2026-11-27T00:00:00.000Z');
const TO = Date.parse('2026-11-27T03:00:00.000Z');
const park = indexPark(testPark());

/** The I/O edge: records every InfluxQL statement and answers with canned series. */
class FakeInflux {
  readonly queries: string[] = [];
  constructor(private readonly answer: (q: string) => InfluxSeries[] = () => []) {}
  async query(q: string): Promise<InfluxSeries[]> {
    this.queries.push(q);
    return this.answer(q);
  }
}

function service(answer?: (q: string) => InfluxSeries[], nowMs = NOW) {
  const influx = new FakeInflux(answer);
  return { influx, history: new HistoryService(influx, () => nowMs) };
}

const series = (columns: string[], values: unknown[][]): InfluxSeries[] => [{ name: 'vitals', columns, values }];
const parkWhere = `"park" = 'tp' AND "scope" = 'park' AND time >= ${FROM}ms AND time < ${TO}ms`;
const b1Where = `"park" = 'tp' AND "scope" = 'building' AND "building" = 'b1' AND time >= ${FROM}ms AND time < ${TO}ms`;

/** The 400 a call fails with: the parameter it names and its message. */
async function badRequest(p: Promise<unknown>): Promise<{ parameter: string; message: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BadRequestException);
  return (err as BadRequestException).getResponse() as { parameter: string; message: string };
}

describe('HistoryService.history: one-minute windows as stored', () => {
  it('selects the metric of the park scope in [from, to) and answers [{t, value}] without nulls', async () => {
    const { influx, history } = service(() => series(['time', 'load_kw'], [[FROM, 410.5], [FROM + 60_000, null], [FROM + 120_000, 398]]));
    const points = await history.history(park, { metric: 'load_kw', from: new Date(FROM).toISOString(), to: String(TO), every: '1m' });
    expect(influx.queries).toEqual([`SELECT "load_kw" FROM "vitals" WHERE ${parkWhere}`]);
    expect(points).toEqual([
      { t: '2026-11-27T00:00:00.000Z', value: 410.5 },
      { t: '2026-11-27T00:02:00.000Z', value: 398 },
    ]);
  });

  it('narrows to one building with the building tag; every defaults to 1m', async () => {
    const { influx, history } = service();
    await history.history(park, { metric: 'status', building: 'b1', from: String(FROM), to: String(TO) });
    expect(influx.queries).toEqual([`SELECT "status" FROM "vitals" WHERE ${b1Where}`]);
  });

  it('defaults to the last 24 hours up to the clock', async () => {
    const { influx, history } = service();
    await history.history(park, { metric: 'energy_kwh' });
    expect(influx.queries[0]).toContain(`time >= ${NOW - 86_400_000}ms AND time < ${NOW}ms`);
  });
});

describe('HistoryService.history: roll-ups (ROLLUP of libs/metrics)', () => {
  const numeric = (Object.keys(ROLLUP) as Array<keyof VitalSigns>).filter((m) => ['sum', 'mean', 'max'].includes(ROLLUP[m]));
  const aggregate = { sum: 'SUM', mean: 'MEAN', max: 'MAX' } as Record<string, string>;

  it.each(numeric.flatMap((m) => ['15m', '1h'].map((every) => [m, every] as const)))('%s every %s → %s in InfluxQL buckets', async (metric, every) => {
    const { influx, history } = service(() => series(['time', 'x'], [[FROM, 7.5], [FROM + EVERY_MS[every], null]]));
    const points = await history.history(park, { metric, from: String(FROM), to: String(TO), every });
    expect(influx.queries).toEqual([`SELECT ${aggregate[ROLLUP[metric]]}("${metric}") FROM "vitals" WHERE ${parkWhere} GROUP BY time(${every}) fill(none)`]);
    expect(points).toEqual([{ t: new Date(FROM).toISOString(), value: 7.5 }]);
  });

  it('sums energy, averages load, takes the max of peaks', () => {
    expect([ROLLUP.energy_kwh, ROLLUP.carbon_kgco2e, ROLLUP.load_kw, ROLLUP.occupancy_rate, ROLLUP.peak_kw, ROLLUP.co2_ppm_max]).toEqual(['sum', 'sum', 'mean', 'mean', 'max', 'max']);
  });

  it('day buckets start at the park’s local midnight (UTC+8: 16:00 UTC), through the GROUP BY offset', async () => {
    const { influx, history } = service(() => series(['time', 'sum'], [[Date.parse('2026-11-25T16:00:00.000Z'), 1200]]));
    const from = Date.parse('2026-11-20T16:00:00.000Z');
    const points = await history.history(park, { metric: 'energy_kwh', from: String(from), to: String(NOW), every: '1d' });
    expect(influx.queries).toEqual([`SELECT SUM("energy_kwh") FROM "vitals" WHERE "park" = 'tp' AND "scope" = 'park' AND time >= ${from}ms AND time < ${NOW}ms GROUP BY time(1d, 960m) fill(none)`]);
    expect(points).toEqual([{ t: '2026-11-25T16:00:00.000Z', value: 1200 }]);
  });

  it('a park in Berlin: day buckets at its midnight, and the 25-hour day of the clock change queried over exactly its hours', async () => {
    const berlin = indexPark({ ...testPark(), timeZone: 'Europe/Berlin' });
    const { influx, history } = service(
      (q) => (q.includes('GROUP BY') ? series(['time', 'sum'], [[Date.parse('2026-10-23T22:00:00.000Z'), 10], [Date.parse('2026-10-26T23:00:00.000Z'), 30]]) : series(['time', 'sum'], [[0, 25]])),
      Date.parse('2026-10-28T12:00:00.000Z'),
    );
    const from = Date.parse('2026-10-23T22:00:00.000Z'); // Saturday 24 October, 00:00 CEST
    const to = Date.parse('2026-10-27T23:00:00.000Z'); // Wednesday 28 October, 00:00 CET
    const points = await history.history(berlin, { metric: 'energy_kwh', from: String(from), to: String(to), every: '1d' });
    const where = (a: string, b: string) => `"park" = 'tp' AND "scope" = 'park' AND time >= ${Date.parse(a)}ms AND time < ${Date.parse(b)}ms`;
    expect(influx.queries).toEqual([
      // 24 October, CEST (UTC+2): buckets at 22:00 UTC
      `SELECT SUM("energy_kwh") FROM "vitals" WHERE ${where('2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z')} GROUP BY time(1d, 1320m) fill(none)`,
      // 25 October: 25 hours, back to CET
      `SELECT SUM("energy_kwh") FROM "vitals" WHERE ${where('2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z')}`,
      // 26 and 27 October, CET (UTC+1): buckets at 23:00 UTC
      `SELECT SUM("energy_kwh") FROM "vitals" WHERE ${where('2026-10-25T23:00:00.000Z', '2026-10-27T23:00:00.000Z')} GROUP BY time(1d, 1380m) fill(none)`,
    ]);
    expect(points.map((p) => p.t)).toContain('2026-10-24T22:00:00.000Z');
    expect(points.find((p) => p.t === '2026-10-24T22:00:00.000Z')?.value).toBe(25);
  });

  it('renewable_share is recomputed from the summed energies, not averaged; buckets with no energy at all are left out', async () => {
    const { influx, history } = service(() => series(['time', 'e', 'pv'], [[FROM, 300, 100], [FROM + 900_000, 0, 0], [FROM + 1_800_000, 0, 50]]));
    const points = await history.history(park, { metric: 'renewable_share', building: 'b1', from: String(FROM), to: String(TO), every: '15m' });
    expect(influx.queries).toEqual([`SELECT SUM("energy_kwh") AS e, SUM("pv_kwh") AS pv FROM "vitals" WHERE ${b1Where} GROUP BY time(15m) fill(none)`]);
    expect(points).toEqual([
      { t: new Date(FROM).toISOString(), value: 0.25 },
      { t: new Date(FROM + 1_800_000).toISOString(), value: 1 },
    ]);
  });

  it('status rolls up to the worst status of the windows, reduced here because InfluxQL cannot aggregate strings', async () => {
    const h = 3_600_000;
    const { influx, history } = service(() => series(['time', 'status'], [
      [FROM, 'ok'], [FROM + 60_000, 'critical'], [FROM + 120_000, 'warn'],
      [FROM + h, 'ok'], [FROM + h + 60_000, 'warn'],
      [FROM + 2 * h, 'ok'], [FROM + 2 * h + 60_000, null],
    ]));
    const points = await history.history(park, { metric: 'status', from: String(FROM), to: String(TO), every: '1h' });
    expect(influx.queries).toEqual([`SELECT "status" FROM "vitals" WHERE ${parkWhere}`]);
    expect(points).toEqual([
      { t: new Date(FROM).toISOString(), value: 'critical' },
      { t: new Date(FROM + h).toISOString(), value: 'warn' },
      { t: new Date(FROM + 2 * h).toISOString(), value: 'ok' },
    ]);
  });

  it('status day buckets also start at local midnight: 15:59 UTC and 16:00 UTC are different days', async () => {
    const { history } = service(() => series(['time', 'status'], [
      [Date.parse('2026-11-26T15:59:00.000Z'), 'critical'],
      [Date.parse('2026-11-26T16:00:00.000Z'), 'ok'],
      [Date.parse('2026-11-27T03:00:00.000Z'), 'warn'],
    ]));
    const points = await history.history(park, { metric: 'status', from: String(Date.parse('2026-11-25T16:00:00.000Z')), to: String(NOW), every: '1d' });
    expect(points).toEqual([
      { t: '2026-11-25T16:00:00.000Z', value: 'critical' },
      { t: '2026-11-26T16:00:00.000Z', value: 'warn' },
    ]);
  });
});

describe('HistoryService.history: 400 naming the parameter (contract §7)', () => {
  it.each([
    ['metric', {}, /required/],
    ['metric', { metric: 'watts' }, /unknown metric "watts"/],
    // issue 8 item 9: inherited names are not metrics (was a 500)
    ['metric', { metric: 'constructor' }, /unknown metric "constructor"/],
    ['metric', { metric: '__proto__' }, /unknown metric "__proto__"/],
    ['metric', { metric: 'toString' }, /unknown metric "toString"/],
    ['metric', { metric: 'hasOwnProperty' }, /unknown metric "hasOwnProperty"/],
    ['every', { metric: 'load_kw', every: 'constructor' }, /got "constructor"/],
    ['every', { metric: 'load_kw', every: '__proto__' }, /got "__proto__"/],
    ['building', { metric: 'load_kw', building: 'b9' }, /unknown building "b9" in park "tp"/],
    ['every', { metric: 'load_kw', every: '5m' }, /expected one of 1m, 15m, 1h, 1d, got "5m"/],
    ['from', { metric: 'load_kw', from: 'yesterday' }, /"yesterday"/],
    ['to', { metric: 'load_kw', to: '2026-13-45' }, /"2026-13-45"/],
    ['from', { metric: 'load_kw', from: String(TO), to: String(FROM) }, /before to/],
    ['from', { metric: 'load_kw', from: String(TO - (MAX_HISTORY_POINTS + 1) * 60_000), to: String(TO), every: '1m' }, /more than 20000 points/],
  ])('%s: %j', async (parameter, q, message) => {
    const { influx, history } = service();
    const res = await badRequest(history.history(park, q as never));
    expect(res.parameter).toBe(parameter);
    expect(res.message).toMatch(message);
    expect(influx.queries).toEqual([]);
  });

  it('a long range is fine at a coarser every', async () => {
    const { influx, history } = service();
    await history.history(park, { metric: 'load_kw', from: String(TO - (MAX_HISTORY_POINTS + 1) * 60_000), to: String(TO), every: '1h' });
    expect(influx.queries).toHaveLength(1);
  });
});

describe('HistoryService.period: calendar periods in park time (contract §8)', () => {
  it.each([
    ['2026-11-27T03:35:00.000Z', 'day', '2026-11-26T16:00:00.000Z'],
    ['2026-11-27T15:59:59.999Z', 'day', '2026-11-26T16:00:00.000Z'],
    ['2026-11-27T16:00:00.000Z', 'day', '2026-11-27T16:00:00.000Z'],
    ['2026-11-27T03:35:00.000Z', 'month', '2026-10-31T16:00:00.000Z'],
    ['2026-11-30T16:30:00.000Z', 'month', '2026-11-30T16:00:00.000Z'],
    ['2026-11-27T03:35:00.000Z', 'year', '2025-12-31T16:00:00.000Z'],
    ['2026-12-31T16:00:00.000Z', 'year', '2026-12-31T16:00:00.000Z'],
  ])('in Shanghai (UTC+8), at %s the %s started at %s', (now, period, from) => {
    const { history } = service(undefined, Date.parse(now));
    expect(history.period(period, 'Asia/Shanghai')).toEqual({ fromMs: Date.parse(from), toMs: Date.parse(now) });
  });

  it.each([
    ['2026-07-15T03:35:00.000Z', 'day', '2026-07-14T04:00:00.000Z'],
    ['2026-11-27T03:35:00.000Z', 'day', '2026-11-26T05:00:00.000Z'],
    ['2026-11-27T03:35:00.000Z', 'month', '2026-11-01T04:00:00.000Z'],
    ['2026-11-27T03:35:00.000Z', 'year', '2026-01-01T05:00:00.000Z'],
  ])('in New York, at %s the %s started at %s', (now, period, from) => {
    const { history } = service(undefined, Date.parse(now));
    expect(history.period(period, 'America/New_York')).toEqual({ fromMs: Date.parse(from), toMs: Date.parse(now) });
  });

  it('rejects another period, naming the parameter', async () => {
    const { history } = service();
    expect(() => history.period('week', 'Asia/Shanghai')).toThrow(BadRequestException);
    const res = await badRequest(history.kpis(park, 'week'));
    expect(res).toMatchObject({ parameter: 'period', message: expect.stringContaining('"week"') });
  });
});

describe('HistoryService.kpis', () => {
  const dayFrom = Date.parse('2026-11-26T16:00:00.000Z');

  it('sums energy, PV and carbon and takes the max peak of the period so far, then derives the KPIs', async () => {
    const { influx, history } = service(() => series(['time', 'sum', 'sum_1', 'sum_2', 'max'], [[0, 4000, 1000, 1680, 950]]));
    const k = await history.kpis(park, 'day');
    expect(influx.queries).toEqual([
      `SELECT SUM("energy_kwh"), SUM("pv_kwh"), SUM("carbon_kgco2e"), MAX("peak_kw") FROM "vitals" WHERE "park" = 'tp' AND "scope" = 'park' AND time >= ${dayFrom}ms AND time < ${NOW}ms`,
    ]);
    const hours = (NOW - dayFrom) / 3_600_000;
    expect(k).toMatchObject({
      period: 'day', from: '2026-11-26T16:00:00.000Z', to: '2026-11-27T03:35:00.000Z',
      scope: 'park', period_hours: hours, energy_kwh: 4000, pv_kwh: 1000, carbon_kgco2e: 1680, peak_demand_kw: 950, renewable_share: 0.2,
    });
    // testPark: 4400 m² of floor area, capacity 110, 4.5e9 yuan on 0.5 km².
    expect(k.eui_kwh_per_m2_yr).toBeCloseTo((5000 / 4400) * (8760 / hours), 9);
    expect(k.output_per_km2).toEqual({ value: 90, target: OUTPUT_PER_KM2_TARGET, striving: 85, meets_target: true, meets_striving: true });
    expect(OUTPUT_PER_KM2_TARGET).toBe(80);
  });

  it('answers zeros for a period without windows, and a building scope without the park-only output per km²', async () => {
    const { influx, history } = service(() => []);
    const k = await history.kpis(park, 'month', 'b2');
    expect(influx.queries[0]).toContain(`"scope" = 'building' AND "building" = 'b2' AND time >= ${Date.parse('2026-10-31T16:00:00.000Z')}ms`);
    expect(k).toMatchObject({ scope: 'building', building: 'b2', energy_kwh: 0, pv_kwh: 0, carbon_kgco2e: 0, peak_demand_kw: 0 });
    expect(k.renewable_share).toBeUndefined();
    expect(k.output_per_km2).toBeUndefined();
  });

  it('rejects an unknown building, naming the parameter, before querying', async () => {
    const { influx, history } = service();
    expect(await badRequest(history.kpis(park, 'day', 'b9'))).toMatchObject({ parameter: 'building' });
    expect(influx.queries).toEqual([]);
  });
});
