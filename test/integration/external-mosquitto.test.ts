/**
 * Issue: external-broker mode against Debian's Mosquitto: two gateways share
 * one stream through `$share/{group}/park/#` at QoS 1 with persistent
 * sessions; nothing is lost or doubled, even when one gateway restarts while
 * devices keep publishing.
 */
import fs from 'node:fs';
import { MqttClient } from 'mqtt';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, getJson, metric } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, startMosquitto, uniqueDb, waitFor } from '../support/services';

jest.setTimeout(180_000);

type Mosq = Awaited<ReturnType<typeof startMosquitto>>;
let mosquitto: Mosq;
let gwA: Gateway;
let gwB: Gateway;
let db: string;
const URL_SECRET = 'hunter2-in-the-url';

beforeAll(async () => {
  mosquitto = await startMosquitto();
  db = await uniqueDb('ext');
  // gw-a logs in with credentials inside MQTT_URL (Mosquitto here allows
  // anonymous, so it takes them): issue 8 finding 4 checks they never show.
  const withCredentials = mosquitto.url.replace('://', `://gw-a:${URL_SECRET}@`);
  const env = (id: string) => ({ MQTT_URL: id === 'gw-a' ? withCredentials : mosquitto.url, MQTT_SHARE_GROUP: 'gateways', MQTT_CLIENT_ID: id, INFLUX_DB: db });
  [gwA, gwB] = await Promise.all([startGateway({ name: 'ext-a', env: env('gw-a') }), startGateway({ name: 'ext-b', env: env('gw-b') })]);
});

afterAll(async () => {
  await gwA?.stop();
  await gwB?.stop();
  await mosquitto?.dispose();
});

/** Publishes `n` readings at QoS 1, spread over the demo park's grid meters. */
async function publishMany(device: MqttClient, n: number, t0: number, offset: number, onEach?: (i: number) => Promise<void>): Promise<void> {
  const meters = [['b01', 'm01'], ['b01', 'm02'], ['b02', 'm01'], ['b04', 'm01'], ['b06', 'm01'], ['b08', 'm01']];
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const [b, m] = meters[i % meters.length];
    inFlight.push(device.publishAsync(`park/demo/${b}/energy/${m}`, JSON.stringify({ ts: t0 + offset + i, power_kw: i }), { qos: 1 }));
    if (inFlight.length >= 100) await Promise.all(inFlight.splice(0));
    if (onEach) await onEach(i);
  }
  await Promise.all(inFlight);
}

const stored = async (): Promise<number> => Number(rowsOf(await influxQuery(sharedInfluxUrl(), db, 'SELECT count(power_kw) FROM energy'))[0]?.count ?? 0);

test('finding 4 (secrets leak): credentials inside MQTT_URL are neither in /api/health nor in the log', async () => {
  const { body } = await getJson<{ broker: { url: string; up: boolean } }>(`${gwA.httpUrl}/api/health`);
  expect(body.broker).toMatchObject({ up: true, url: expect.stringMatching(/^mqtt:\/\/gw-a:\*\*\*@127\.0\.0\.1:\d+$/) });
  expect(JSON.stringify(body)).not.toContain(URL_SECRET);
  const log = fs.readFileSync(gwA.logFile, 'utf8');
  expect(log).toContain('gw-a:***@');
  expect(log).not.toContain(URL_SECRET);
});

test('two gateways split one shared subscription: every reading stored once, each gateway took a share', async () => {
  expect(((await (await fetch(`${gwA.httpUrl}/api/health`)).json()) as { broker: unknown }).broker).toMatchObject({ mode: 'external', up: true, subscription: '$share/gateways/park/#' });
  const device = await connectDevice(mosquitto.url, { clientId: 'publisher-1' });
  const t0 = Date.now() - 3_600_000;
  await publishMany(device, 3000, t0, 0);
  await device.endAsync();
  await waitFor(async () => (await stored()) === 3000, { what: '3000 readings stored', timeoutMs: 30_000 });
  const a = await metric(gwA.httpUrl, 'gateway_readings_accepted_total');
  const b = await metric(gwB.httpUrl, 'gateway_readings_accepted_total');
  expect(a + b).toBe(3000); // nothing doubled
  expect(a).toBeGreaterThan(0);
  expect(b).toBeGreaterThan(0);
});

test('a gateway restarting while devices publish loses nothing', async () => {
  const before = await stored();
  const device = await connectDevice(mosquitto.url, { clientId: 'publisher-2' });
  const t0 = Date.now() - 1_800_000;
  let restarting: Promise<void> | undefined;
  await publishMany(device, 4000, t0, 0, async (i) => {
    if (i === 1000) restarting = gwA.restart();
    if (i % 500 === 0) await new Promise((r) => setTimeout(r, 20));
  });
  await restarting;
  await device.endAsync();
  await waitFor(async () => (await stored()) === before + 4000, { what: `${before + 4000} readings stored`, timeoutMs: 60_000 });
});
