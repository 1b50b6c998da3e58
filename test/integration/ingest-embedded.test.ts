/**
 * Issue: telemetry end to end through the EMBEDDED broker into a real
 * InfluxDB 1.6: what is stored (measurement, tags, field types, ms
 * timestamps), what is rejected and why, duplicates, WebSocket MQTT, and the
 * HTTP API around it (contract §2–§5, §7).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MqttClient } from 'mqtt';
import { testPark } from '@park/telemetry/testing';
import { processes } from '../support/deploy';
import { ownedDir } from '../support/leftovers';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, getJson, metric, publishJson } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';

jest.setTimeout(90_000);

let gw: Gateway;
let device: MqttClient;
const q = (influxql: string) => influxQuery(sharedInfluxUrl(), gw.env.INFLUX_DB, influxql);
const now = Date.now();

beforeAll(async () => {
  gw = await startGateway({ name: 'ingest-embedded' });
  device = await connectDevice(gw.mqttUrl, { clientId: 'dev-b01' });
});

afterAll(async () => {
  await device?.endAsync();
  expect(await gw?.stop()).toBe(0);
});

test('an energy reading is stored with contract tags, float fields and its ms timestamp', async () => {
  const ts = now - 60_000 + 123;
  await publishJson(device, 'park/demo/b01/energy/m01', { ts, power_kw: 412, energy_kwh: 1203344.25 });
  const rows = await waitFor(async () => rowsOf(await q(`SELECT * FROM energy WHERE sensor='m01' AND building='b01'`)).find((r) => r.time === ts), { what: 'the energy point', timeoutMs: 5000 });
  expect(rows).toMatchObject({ park: 'demo', building: 'b01', sensor: 'm01', source: 'grid', power_kw: 412, energy_kwh: 1203344.25 });
  // Field types as InfluxDB stores them: floats for energy, integer for count.
  const types = rowsOf(await q('SHOW FIELD KEYS FROM energy'));
  expect(types).toEqual(expect.arrayContaining([{ fieldKey: 'power_kw', fieldType: 'float' }, { fieldKey: 'energy_kwh', fieldType: 'float' }]));
});

test('PV source and occupancy zone come from the park model; count is an integer', async () => {
  const ts = now - 50_000;
  await publishJson(device, 'park/demo/b02/energy/pv1', { ts, power_kw: -0 + 88.5 });
  await publishJson(device, 'park/demo/b01/occupancy/o01', { ts: new Date(ts).toISOString(), count: 37 });
  await publishJson(device, 'park/demo/b11/carbon/boiler1', { ts, emission_kgco2e: 5012.5 });
  const pv = await waitFor(async () => rowsOf(await q(`SELECT * FROM energy WHERE sensor='pv1' AND building='b02'`))[0], { what: 'pv point' });
  expect(pv).toMatchObject({ time: ts, source: 'pv', power_kw: 88.5 });
  const occ = await waitFor(async () => rowsOf(await q(`SELECT * FROM occupancy WHERE building='b01'`))[0], { what: 'occupancy point' });
  expect(occ).toMatchObject({ time: ts, zone: 'lobby', count: 37, sensor: 'o01' });
  expect(rowsOf(await q('SHOW FIELD KEYS FROM occupancy'))).toEqual([{ fieldKey: 'count', fieldType: 'integer' }]);
  const carbon = await waitFor(async () => rowsOf(await q(`SELECT * FROM carbon WHERE sensor='boiler1'`))[0], { what: 'carbon point' });
  expect(carbon).toMatchObject({ time: ts, building: 'b11', emission_kgco2e: 5012.5 });
});

test('in an array the good readings are stored and each bad one is rejected with its reason', async () => {
  const base = now - 40_000;
  const before = await metric(gw.httpUrl, 'gateway_readings_rejected_total{reason="bad_field"}');
  await publishJson(device, 'park/demo/b03/energy/m01', [
    { ts: base, power_kw: 100 },
    { ts: base + 1, power_kw: '101' },
    { ts: base + 2, power_kw: 102, energy_kwh: -5 },
    { ts: base + 3, power_kw: 103 },
    { ts: base + 4, unrelated: 1 },
    { ts: now + 3_600_000, power_kw: 1 },
    { ts: now - 8 * 86_400_000, power_kw: 1 },
  ]);
  const rows = await waitFor(async () => {
    const r = rowsOf(await q(`SELECT power_kw FROM energy WHERE building='b03'`));
    return r.length >= 2 ? r : undefined;
  }, { what: 'two good readings' });
  expect(rows.map((r) => r.power_kw)).toEqual([100, 103]);
  expect(await metric(gw.httpUrl, 'gateway_readings_rejected_total{reason="bad_field"}')).toBe(before + 2);
  const { body } = await getJson<{ items: Array<{ reason: string; topic: string; excerpt: string; detail: string }> }>(`${gw.httpUrl}/api/rejections?limit=10`);
  const reasons = body.items.filter((i) => i.topic === 'park/demo/b03/energy/m01').map((i) => i.reason);
  expect(reasons.sort()).toEqual(['bad_field', 'bad_field', 'future_ts', 'no_fields', 'stale_ts']);
  const stringField = body.items.find((i) => i.excerpt.includes('"101"'));
  expect(stringField?.detail).toMatch(/power_kw must be/);
});

test('whole-message rejections: bad JSON, bad topic, unknown building, oversize; the gateway keeps running', async () => {
  const count = async (reason: string) => metric(gw.httpUrl, `gateway_readings_rejected_total{reason="${reason}"}`);
  const before = { bad_json: await count('bad_json'), bad_topic: await count('bad_topic'), unknown_building: await count('unknown_building'), too_large: await count('too_large') };
  await publishJson(device, 'park/demo/b01/energy/m01', '{"power_kw": 1,');
  await publishJson(device, 'park/demo/b01/water/w1', { v: 1 });
  await publishJson(device, 'park/Demo/b01/energy/m01', { power_kw: 1 });
  await publishJson(device, 'park/demo/b99/energy/m01', { power_kw: 1 });
  await publishJson(device, 'park/nopark/b01/energy/m01', { power_kw: 1 });
  await publishJson(device, 'park/demo/b01/energy/m01', JSON.stringify({ power_kw: 1, pad: 'x'.repeat(70_000) }));
  await waitFor(async () => (await count('too_large')) === before.too_large + 1, { what: 'too_large counted' });
  expect(await count('bad_json')).toBe(before.bad_json + 1);
  expect(await count('bad_topic')).toBe(before.bad_topic + 2);
  expect(await count('unknown_building')).toBe(before.unknown_building + 2);
  // Still serving and still ingesting.
  const ts = now - 30_000;
  await publishJson(device, 'park/demo/b04/energy/m01', { ts, power_kw: 7 });
  await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE building='b04'`)).length === 1, { what: 'reading after bad ones' });
  expect((await getJson<{ status: string }>(`${gw.httpUrl}/api/health`)).body.status).toBe('ok');
});

test('a QoS 0 reading is stored too (contract §2: QoS 0 and 1 are accepted)', async () => {
  const ts = now - 25_000;
  await publishJson(device, 'park/demo/b09/energy/m01', { ts, power_kw: 12.5 }, 0);
  const row = await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE building='b09'`))[0], { what: 'QoS 0 reading stored' });
  expect(row).toMatchObject({ time: ts, power_kw: 12.5 });
});

test('the same reading delivered twice ends as one point', async () => {
  const ts = now - 20_000;
  for (let i = 0; i < 3; i++) await publishJson(device, 'park/demo/b05/energy/m01', { ts, power_kw: 55, energy_kwh: 10 });
  await publishJson(device, 'park/demo/b05/energy/m01', [{ ts, power_kw: 55, energy_kwh: 10 }, { ts, power_kw: 55, energy_kwh: 10 }]);
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_points_written_total')) >= (await metric(gw.httpUrl, 'gateway_readings_accepted_total')), { what: 'all accepted readings written' });
  const rows = rowsOf(await q(`SELECT count(power_kw) FROM energy WHERE building='b05'`));
  expect(rows[0].count).toBe(1);
});

test('an unregistered sensor in a known building is stored and listed at /api/health', async () => {
  const ts = now - 10_000;
  await publishJson(device, 'park/demo/b06/energy/newmeter', { ts, power_kw: 9 });
  const row = await waitFor(async () => rowsOf(await q(`SELECT * FROM energy WHERE sensor='newmeter'`))[0], { what: 'unregistered reading stored' });
  expect(row).toMatchObject({ source: 'grid', power_kw: 9 });
  const { body } = await getJson<{ unregisteredSensors: Array<{ sensor: string; building: string; readings: number }> }>(`${gw.httpUrl}/api/health`);
  expect(body.unregisteredSensors).toEqual([expect.objectContaining({ building: 'b06', sensor: 'newmeter', kind: 'energy', readings: 1 })]);
});

test('MQTT over WebSocket at /mqtt reaches the same pipeline', async () => {
  const ws = await connectDevice(gw.wsUrl, { clientId: 'ws-device' });
  const ts = now - 5_000;
  await publishJson(ws, 'park/demo/b07/carbon/c01', { ts, co2_ppm: 612 });
  await ws.endAsync();
  const row = await waitFor(async () => rowsOf(await q(`SELECT * FROM carbon WHERE building='b07'`))[0], { what: 'reading over WebSocket' });
  expect(row).toMatchObject({ time: ts, co2_ppm: 612 });
});

test('HTTP API: parks, park model, 404 for an unknown park, 400 naming a bad parameter, Prometheus text', async () => {
  const parks = await getJson<Array<{ id: string; buildings: number; sensors: number }>>(`${gw.httpUrl}/api/parks`);
  expect(parks.body).toEqual([{ id: 'demo', name: expect.any(String), buildings: 13, sensors: 77 }]);
  const park = await getJson<{ id: string; buildings: Array<{ id: string; footprint: unknown[] }>; gridEmissionFactorKgPerKwh: number }>(`${gw.httpUrl}/api/parks/demo`);
  expect(park.body.buildings).toHaveLength(13);
  expect(park.body.gridEmissionFactorKgPerKwh).toBe(0.42);
  const missing = await getJson<{ error: string; message: string }>(`${gw.httpUrl}/api/parks/nowhere`);
  expect(missing.status).toBe(404);
  expect(missing.body).toMatchObject({ error: 'not_found', message: expect.stringContaining('nowhere') });
  const bad = await getJson<{ parameter: string }>(`${gw.httpUrl}/api/rejections?limit=abc`);
  expect(bad.status).toBe(400);
  expect(bad.body.parameter).toBe('limit');
  const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
  expect(text).toMatch(/^# TYPE gateway_readings_rejected_total counter$/m);
  expect(text).toMatch(/^gateway_write_latency_seconds_count \d+$/m);
});

test('several park models (PARK_MODEL comma-separated) are served side by side', async () => {
  const file = path.join(ownedDir('parks'), 'tp.park.json');
  fs.writeFileSync(file, JSON.stringify(testPark('tp')));
  const demo = path.join(processes.repoRoot, 'apps/gateway/parks/demo.park.json');
  const two = await startGateway({ name: 'ingest-two-parks', env: { PARK_MODEL: `${demo},${file}` } });
  try {
    const parks = await getJson<Array<{ id: string }>>(`${two.httpUrl}/api/parks`);
    expect(parks.body.map((p) => p.id)).toEqual(['demo', 'tp']);
    const dev = await connectDevice(two.mqttUrl, { clientId: 'two-parks-dev' });
    const ts = Date.now() - 1000;
    await publishJson(dev, 'park/tp/b2/carbon/boiler', { ts, emission_kgco2e: 42 });
    await dev.endAsync();
    const row = await waitFor(async () => rowsOf(await influxQuery(sharedInfluxUrl(), two.env.INFLUX_DB, `SELECT * FROM carbon WHERE park='tp'`))[0], { what: 'reading of the second park' });
    expect(row).toMatchObject({ time: ts, building: 'b2', emission_kgco2e: 42 });
  } finally {
    expect(await two.stop()).toBe(0);
  }
});
