/**
 * The Grafana dashboard (deploy/grafana) against a real InfluxDB 1.6 with
 * data in it: every panel query, annotation and template-variable query of
 * the JSON is run as Grafana would send it ($timeFilter, $__interval and
 * the template variables substituted) and must answer series without error.
 * The data: two simulated days of a park (readings and vitals, through the
 * gateway's encoder), a day-ahead `forecast` and alarm transitions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Alarm } from '@park/metrics';
import { indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { alarmLine, encodeLine } from '../../apps/gateway/src/influx/line-protocol';
import { backfillInflux } from '../support/backfill';
import { processes } from '../support/deploy';
import { influxQuery, influxWrite, sharedInfluxUrl, uniqueDb } from '../support/services';

jest.setTimeout(120_000);

const DIR = path.join(processes.repoRoot, 'deploy/grafana');
const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, 'dashboards/park-twin.json'), 'utf8'));
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const DAY = 86_400_000;

interface Target {
  where: string;
  query: string;
}

/** Every InfluxQL query of the dashboard: template variables, annotations, panel targets. */
function queries(): Target[] {
  const out: Target[] = [];
  for (const v of dashboard.templating.list) if (v.type === 'query') out.push({ where: `variable $${v.name}`, query: v.query });
  for (const a of dashboard.annotations.list) out.push({ where: `annotation "${a.name}"`, query: a.query });
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, query: t.query });
  return out;
}

/** What Grafana sends for a query: its macros and the chosen variables substituted. */
function substitute(q: string): string {
  return q
    .replace(/\$timeFilter/g, `time >= ${NOW - 2 * DAY}ms and time <= ${NOW + DAY}ms`)
    .replace(/\$__interval/g, '5m')
    .replace(/\$park\b/g, 'gf')
    .replace(/\$building\b/g, 'b1');
}

let db: string;

beforeAll(async () => {
  db = await uniqueDb('grafana');
  const index = indexPark(testPark('gf'));
  await backfillInflux(index, { seed: 5, fromMs: NOW - 2 * DAY, toMs: NOW, write: (lines) => influxWrite(sharedInfluxUrl(), db, lines) });
  const forecast: string[] = [];
  for (let t = NOW; t < NOW + DAY; t += 900_000) {
    for (const [scope, building] of [['park', undefined], ['building', 'b1'], ['building', 'b2']] as const) {
      forecast.push(encodeLine('forecast', { park: 'gf', scope, building, every: '15m' }, { load_kw: 300, load_kw_lo: 280, load_kw_hi: 320 }, t)!);
    }
  }
  const alarm = (state: 'raised' | 'cleared', tsMs: number): Alarm => ({ parkId: 'gf', building: 'b1', rule: 'baseload', severity: 'warn', state, value: 1.3, threshold: 1.2, message: `Office night-time load 30 % above its 14-day median (${state})`, tsMs });
  await influxWrite(sharedInfluxUrl(), db, [...forecast, alarmLine(alarm('raised', NOW - DAY))!, alarmLine(alarm('cleared', NOW - DAY / 2))!]);
});

describe('deploy/grafana', () => {
  it('provisions an InfluxDB (InfluxQL) data source whose uid the dashboard selects', () => {
    const yaml = fs.readFileSync(path.join(DIR, 'provisioning/datasources/park-influxdb.yaml'), 'utf8');
    expect(yaml).toMatch(/^\s+type: influxdb$/m);
    expect(yaml).toMatch(/^\s+uid: park-influxdb$/m);
    expect(dashboard.templating.list.find((v: { name: string }) => v.name === 'datasource').current.value).toBe('park-influxdb');
    expect(fs.readFileSync(path.join(DIR, 'provisioning/dashboards/park-twin.yaml'), 'utf8')).toMatch(/type: file/);
  });

  it('has a park overview, a building detail with forecast, and alarms', () => {
    const titles = dashboard.panels.map((p: { title: string }) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Park overview', 'Building detail: $building', 'Alarms', '$building load and forecast (80 % band)', 'Alarm transitions']));
    expect(queries().filter((t) => t.query.includes('FROM "forecast"'))).toHaveLength(2);
  });

  it.each(queries().map((t) => [t.where, t.query]))('%s answers series', async (_where, query) => {
    const series = await influxQuery(sharedInfluxUrl(), db, substitute(query));
    expect(series.length).toBeGreaterThan(0);
    expect(series.some((s) => s.values.some((row) => row.slice(1).some((v) => v !== null)))).toBe(true);
  });

  it('the template variables offer the park and its buildings', async () => {
    const [parkVar, buildingVar] = dashboard.templating.list.filter((v: { type: string }) => v.type === 'query');
    const values = async (q: string) => (await influxQuery(sharedInfluxUrl(), db, substitute(q))).flatMap((s) => s.values.map((r) => r[1]));
    expect(await values(parkVar.query)).toEqual(['gf']);
    expect(await values(buildingVar.query)).toEqual(['b1', 'b2']);
  });
});
