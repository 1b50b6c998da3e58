/**
 * An InfluxDB outage loses nothing. While InfluxDB is down the gateway
 * reports `degraded`, keeps every line in its write-ahead log, and sends
 * them in order when it is back; a gateway restarted with a backlog in its
 * log sends it after start. Every reading the broker acknowledged (QoS 1
 * PUBACK) ends in InfluxDB.
 */
import * as fs from 'node:fs';
import { MqttClient } from 'mqtt';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, getJson, metric } from '../support/mqtt';
import { influxQuery, rowsOf, startInflux, waitFor } from '../support/services';

jest.setTimeout(180_000);

type Influx = Awaited<ReturnType<typeof startInflux>>;
let influx: Influx;
let gw: Gateway;
const DB = 'outage';

beforeAll(async () => {
  influx = await startInflux();
  gw = await startGateway({ name: 'outage', env: { INFLUX_URL: influx.url, INFLUX_DB: DB } });
});

afterAll(async () => {
  await gw?.stop();
  await influx?.dispose();
});

const stored = async (): Promise<number> => Number(rowsOf(await influxQuery(influx.url, DB, 'SELECT count(power_kw) FROM energy'))[0]?.count ?? 0);

/** Publishes readings with distinct timestamps at QoS 1; resolves to how many were acknowledged. */
function publisher(device: MqttClient, t0: number) {
  let i = 0;
  let acked = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const batch: Promise<unknown>[] = [];
      for (let k = 0; k < 20; k++, i++) {
        batch.push(device.publishAsync('park/demo/b01/energy/m01', JSON.stringify({ ts: t0 + i, power_kw: i % 1000 }), { qos: 1 }).then(() => acked++));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return acked;
    },
  };
}

test('InfluxDB stopped mid-stream and restarted: every acknowledged reading arrives', async () => {
  const device = await connectDevice(gw.mqttUrl, { clientId: 'outage-dev' });
  const pub = publisher(device, Date.now() - 3_600_000);
  await new Promise((r) => setTimeout(r, 1500));
  await influx.stop();
  await waitFor(async () => (await getJson<{ status: string }>(`${gw.httpUrl}/api/health`)).body.status === 'degraded', { what: 'health degraded', timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 4000)); // the outage goes on while devices publish
  expect(await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')).toBeGreaterThan(0);
  expect(fs.readdirSync(gw.env.WAL_DIR).filter((f) => f.endsWith('.wal')).length).toBeGreaterThan(0);
  await influx.restart();
  await new Promise((r) => setTimeout(r, 1500));
  const acked = await pub.stop();
  await device.endAsync();
  await waitFor(async () => (await stored()) === acked, { what: `all ${acked} acknowledged readings in InfluxDB`, timeoutMs: 60_000 });
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')) === 0, { what: 'the log confirmed to the last line' });
  expect(await metric(gw.httpUrl, 'gateway_wal_full_refusals_total')).toBe(0);
  expect((await getJson<{ status: string }>(`${gw.httpUrl}/api/health`)).body.status).toBe('ok');
});

test('gateway restarted with a backlog in its write-ahead log: nothing lost', async () => {
  const before = await stored();
  await influx.stop();
  const device = await connectDevice(gw.mqttUrl, { clientId: 'outage-dev-2' });
  const pub = publisher(device, Date.now() - 1_800_000);
  await new Promise((r) => setTimeout(r, 2500));
  const acked = await pub.stop();
  await device.endAsync();
  expect(await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')).toBeGreaterThanOrEqual(acked);
  // A clean stop while InfluxDB is away keeps everything in the log (exit 0,
  // not the harness's SIGKILL after 15 s).
  expect(await gw.stop()).toBe(0);
  await influx.restart();
  await gw.restart();
  await waitFor(async () => (await stored()) === before + acked, { what: `${before + acked} readings after replay`, timeoutMs: 60_000 });
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')) === 0, { what: 'the log confirmed to the last line' });
  expect(await metric(gw.httpUrl, 'gateway_points_replayed_total')).toBeGreaterThanOrEqual(acked);
});
