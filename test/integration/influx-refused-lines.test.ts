/**
 * Issue: "a 400 answer for a batch must not lose the batch's good lines".
 * A field type conflict is made in a real InfluxDB 1.6 (the `count` field
 * first written as a string by someone else); the gateway's batch that mixes
 * conflicting occupancy lines with good energy lines is answered 400, and the
 * gateway bisects it: every good line is stored, only the refused ones are
 * dead-lettered and counted.
 */
import { MqttClient } from 'mqtt';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, metric } from '../support/mqtt';
import { influxQuery, influxWrite, rowsOf, sharedInfluxUrl, uniqueDb, waitFor } from '../support/services';

jest.setTimeout(90_000);

let gw: Gateway;
let device: MqttClient;
let db: string;

beforeAll(async () => {
  db = await uniqueDb('refused');
  // Another writer created `count` as a string field in this shard.
  await influxWrite(sharedInfluxUrl(), db, `occupancy,park=demo,building=b01,sensor=o01,zone=lobby count="many" ${Date.now() - 60_000}`, { precision: 'ms' });
  // A long flush interval so that all readings below land in one batch.
  gw = await startGateway({ name: 'refused-lines', env: { INFLUX_DB: db, INFLUX_FLUSH_MS: '1500' } });
  device = await connectDevice(gw.mqttUrl, { clientId: 'refused-dev' });
});

afterAll(async () => {
  await device?.endAsync();
  await gw?.stop();
});

test('good lines of a refused batch are written; conflicting ones are dead-lettered and counted', async () => {
  const t0 = Date.now() - 30_000;
  const pubs: Promise<unknown>[] = [];
  for (let i = 0; i < 40; i++) pubs.push(device.publishAsync('park/demo/b02/energy/m01', JSON.stringify({ ts: t0 + i, power_kw: i }), { qos: 1 }));
  for (let i = 0; i < 3; i++) pubs.push(device.publishAsync('park/demo/b01/occupancy/o01', JSON.stringify({ ts: t0 + 100 + i, count: 10 + i }), { qos: 1 }));
  for (let i = 40; i < 80; i++) pubs.push(device.publishAsync('park/demo/b02/energy/m01', JSON.stringify({ ts: t0 + i, power_kw: i }), { qos: 1 }));
  await Promise.all(pubs);
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_points_dead_lettered_total')) === 3, { what: 'three refused lines dead-lettered', timeoutMs: 20_000 });
  const energy = rowsOf(await influxQuery(sharedInfluxUrl(), db, `SELECT count(power_kw) FROM energy WHERE building='b02'`));
  expect(energy[0].count).toBe(80);
  // A refused line is not an outage: nothing had to be read back from the log.
  expect(await metric(gw.httpUrl, 'gateway_points_replayed_total')).toBe(0);
  expect(await metric(gw.httpUrl, 'gateway_wal_full_refusals_total')).toBe(0);
  // The gateway is healthy: a refused line is the data's problem, not an outage.
  const health = (await (await fetch(`${gw.httpUrl}/api/health`)).json()) as { status: string };
  expect(health.status).toBe('ok');
});
