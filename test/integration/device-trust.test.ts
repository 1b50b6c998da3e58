/**
 * Issue 8, the device side, against the real gateway process (compiled
 * build, ingest worker threads on), a real InfluxDB, MQTT.js and raw MQTT
 * sockets: every finding has its regression test, named after it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MqttClient } from 'mqtt';
import { messageIdOf, PacketType, publish, pubrel, RawMqttClient } from '../../apps/gateway/src/testing/mqtt-wire';
import { addCredential } from '../support/credentials';
import { Gateway, startFails, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { connectDevice, getJson, metric, publishJson } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';

jest.setTimeout(120_000);

let gw: Gateway;
let credentials: string;
const passwords: Record<string, string> = {};
const devices: MqttClient[] = [];
const raws: RawMqttClient[] = [];
const q = (influxql: string) => influxQuery(sharedInfluxUrl(), gw.env.INFLUX_DB, influxql);
const mqttPort = () => Number(gw.env.MQTT_PORT);

beforeAll(async () => {
  credentials = path.join(ownedDir('trust'), 'device-credentials.json');
  for (const [username, filter] of [
    ['b01-gw', 'park/demo/b01/#'],
    ['b01', 'park/demo/b01/#'],
    ['b02-gw', 'park/demo/b02/#'],
  ]) {
    passwords[username] = await addCredential(credentials, username, [filter]);
  }
  gw = await startGateway({
    name: 'device-trust',
    env: { MQTT_AUTH: 'required', DEVICE_CREDENTIALS: credentials, UNREGISTERED_MAX: '6', VITALS_WINDOW_MS: '5000', VITALS_LATENESS_MS: '1000' },
  });
});

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.endAsync(true)));
  await Promise.all(raws.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  // The gateway survived everything above: a clean stop, exit 0, no fatal line in its log.
  expect(gw.running).toBe(true);
  expect(await gw?.stop()).toBe(0);
  const log = fs.readFileSync(gw.logFile, 'utf8');
  expect(log).not.toMatch(/"level":60|uncaughtException|unhandledRejection|Maximum call stack/);
});

async function device(username: string, clientId = username): Promise<MqttClient> {
  const d = await connectDevice(gw.mqttUrl, { username, password: passwords[username], clientId });
  devices.push(d);
  return d;
}

async function raw(): Promise<RawMqttClient> {
  const r = await RawMqttClient.open(mqttPort());
  raws.push(r);
  return r;
}

/** The CONNACK code MQTT.js saw (0 = connected). */
async function connack(username: string, password: string, clientId: string): Promise<number> {
  try {
    devices.push(await connectDevice(gw.mqttUrl, { username, password, clientId }));
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

const rejected = (reason: string) => metric(gw.httpUrl, `gateway_readings_rejected_total{reason="${reason}"}`);

test('finding 1: a payload nested 6,000 deep is rejected as bad_json, acknowledged, and the gateway keeps running', async () => {
  const d = await device('b01-gw', 'b01-gw-deep');
  const before = await rejected('bad_json');
  for (const payload of ['['.repeat(6000) + ']'.repeat(6000), '['.repeat(32_000) + ']'.repeat(32_000), `[${'['.repeat(6000)}${']'.repeat(6000)}]`]) {
    // QoS 1: the PUBACK comes back, so the message is dealt with (not redelivered in a loop)
    await d.publishAsync('park/demo/b01/energy/m01', payload, { qos: 1 });
  }
  expect(await rejected('bad_json')).toBe(before + 3);
  const ts = Date.now() - 2000;
  await publishJson(d, 'park/demo/b01/energy/m01', { ts, power_kw: 61 });
  await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='m01' AND power_kw = 61`)).length === 1, { what: 'the next reading stored' });
  const { body } = await getJson<{ items: Array<{ reason: string; excerpt: string }> }>(`${gw.httpUrl}/api/rejections?reason=bad_json&limit=3`);
  expect(body.items.every((i) => i.excerpt.length <= 200)).toBe(true);
});

test('finding 2: a valid huge number (energy_kwh 1.7e308) stores no non-finite value and does not cost the window its vitals', async () => {
  const d = await device('b02-gw', 'b02-gw-huge');
  const t0 = Date.now();
  await publishJson(d, 'park/demo/b02/energy/m01', { ts: t0 - 3000, energy_kwh: 100, power_kw: 10 });
  await publishJson(d, 'park/demo/b02/energy/m01', { ts: t0 - 1000, energy_kwh: 1.7e308, power_kw: 10 });
  // The 5 s windows around the readings close and are written (building and park points).
  const rows = await waitFor(
    async () => {
      const r = rowsOf(await q(`SELECT * FROM vitals WHERE building='b02' AND time >= ${(t0 - 10_000) * 1e6}`));
      return r.filter((x) => (x.time as number) >= t0 - 5000).length >= 2 ? r : undefined;
    },
    { what: 'vitals of the windows with the huge register', timeoutMs: 60_000 },
  );
  for (const row of rows) for (const v of Object.values(row)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
  expect(await metric(gw.httpUrl, 'gateway_points_dead_lettered_total')).toBe(0);
});

describe('finding 5: device identity (contract §8)', () => {
  it.each([
    ['b01-gw', 'b01-gw', 0],
    ['b01-gw', 'b01-gw-roof', 0],
    ['b01-gw', 'b02-gw-1', 2],
    ['b01-gw', 'mqttjs_1234abcd', 2],
    // b01's prefix fits, but the id belongs to the device b01-gw
    ['b01', 'b01-gw-roof', 2],
  ])('device %s with client id %s: CONNACK %i', async (username, clientId, code) => {
    expect(await connack(username, passwords[username], clientId)).toBe(code);
  });

  test('finding 5: a device can no longer disconnect another by taking its client id', async () => {
    const victim = await device('b01-gw', 'b01-gw-meter');
    for (let i = 0; i < 3; i++) {
      expect(await connack('b02-gw', passwords['b02-gw'], 'b01-gw-meter')).toBe(2);
      expect(await connack('b01', passwords.b01, 'b01-gw-meter')).toBe(2);
    }
    expect(victim.connected).toBe(true);
    await publishJson(victim, 'park/demo/b01/energy/m02', { power_kw: 3 });
  });

  test('finding 5: a 20,000-character client id over MQTT 3.1.1 is refused, and the log line about it stays short', async () => {
    expect(await connack('b01-gw', passwords['b01-gw'], `b01-gw-${'x'.repeat(20_000)}`)).toBe(2);
    await waitFor(() => fs.readFileSync(gw.logFile, 'utf8').includes('the client id is 20007 bytes'), { what: 'the refusal logged' });
    const lines = fs.readFileSync(gw.logFile, 'utf8').split('\n').filter((l) => l.includes('MQTT connection refused'));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1500);
  });

  test('finding 5: a zero-length client id is accepted only with a clean session [MQTT-3.1.3-8]', async () => {
    expect(await (await raw()).connect({ clientId: '', clean: false, username: 'b01-gw', password: passwords['b01-gw'] })).toBe(2);
    expect(await (await raw()).connect({ clientId: '', clean: true, username: 'b01-gw', password: passwords['b01-gw'] })).toBe(0);
  });
});

test('finding 6: a reconnecting device is verified from the cache, refusals are counted, and failed logins are logged bounded', async () => {
  const hits = await metric(gw.httpUrl, 'gateway_mqtt_auth_cache_hits_total');
  for (let i = 0; i < 3; i++) await (await device('b02-gw', 'b02-gw-again')).endAsync();
  expect(await metric(gw.httpUrl, 'gateway_mqtt_auth_cache_hits_total')).toBeGreaterThanOrEqual(hits + 2);
  const refused = await metric(gw.httpUrl, 'gateway_mqtt_connections_refused_total{reason="credentials"}');
  expect(await connack('b02-gw', `wrong-${'p'.repeat(10_000)}`, 'b02-gw')).toBe(4);
  expect(await metric(gw.httpUrl, 'gateway_mqtt_connections_refused_total{reason="credentials"}')).toBe(refused + 1);
  expect(await metric(gw.httpUrl, 'gateway_mqtt_auth_pending')).toBe(0);
  const log = fs.readFileSync(gw.logFile, 'utf8');
  expect(log).not.toContain('p'.repeat(100)); // never a password, never unbounded
});

describe('finding 8: retained and QoS 2', () => {
  test('finding 8: retained telemetry is stored once and not delivered again', async () => {
    const d = await device('b01-gw', 'b01-gw-retain');
    await d.publishAsync('park/demo/b01/energy/m03', JSON.stringify({ power_kw: 77 }), { qos: 1, retain: true });
    await d.endAsync();
    const again = await device('b01-gw', 'b01-gw-retain');
    await publishJson(again, 'park/demo/b01/energy/m03', { power_kw: 78 });
    await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='m03'`)).length === 2, { what: 'both readings stored' });
    await new Promise((r) => setTimeout(r, 500));
    expect(rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='m03'`)).map((r) => r.power_kw)).toEqual([77, 78]);
  });

  test('finding 8: a QoS 2 message with DUP retransmissions before PUBREL is stored and counted once', async () => {
    const r = await raw();
    expect(await r.connect({ clientId: 'b01-gw-qos2', username: 'b01-gw', password: passwords['b01-gw'] })).toBe(0);
    const accepted = await metric(gw.httpUrl, 'gateway_readings_accepted_total');
    // No ts: a second ingest would be a second point (the receive time differs).
    const payload = JSON.stringify({ power_kw: 88 });
    r.send(publish({ topic: 'park/demo/b01/energy/m04', payload, qos: 2, messageId: 42 }), publish({ topic: 'park/demo/b01/energy/m04', payload, qos: 2, messageId: 42, dup: true }));
    expect(messageIdOf(await r.next(PacketType.PUBREC))).toBe(42);
    expect(messageIdOf(await r.next(PacketType.PUBREC))).toBe(42);
    r.send(publish({ topic: 'park/demo/b01/energy/m04', payload, qos: 2, messageId: 42, dup: true }));
    await r.next(PacketType.PUBREC);
    r.send(pubrel(42));
    expect(messageIdOf(await r.next(PacketType.PUBCOMP))).toBe(42);
    await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='m04'`)).length === 1, { what: 'the QoS 2 reading stored' });
    await new Promise((res) => setTimeout(res, 500));
    expect(rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='m04'`))).toHaveLength(1);
    expect(await metric(gw.httpUrl, 'gateway_readings_accepted_total')).toBe(accepted + 1);
  });
});

describe('finding 9', () => {
  test('finding 9: beyond UNREGISTERED_MAX a new unregistered sensor is rejected (unregistered_limit), known ones keep being stored', async () => {
    const d = await device('b01-gw', 'b01-gw-unreg');
    const listed = async () => (await getJson<{ unregisteredSensors: unknown[] }>(`${gw.httpUrl}/api/health`)).body.unregisteredSensors.length;
    // Earlier tests may have used unregistered sensors of their own: fill the park up to its 6.
    const room = 6 - (await listed());
    const fresh = Array.from({ length: room }, (_, i) => `u${i}`);
    for (const s of fresh) await publishJson(d, `park/demo/b01/energy/${s}`, { power_kw: 5 });
    expect(await listed()).toBe(6);
    const before = await rejected('unregistered_limit');
    await publishJson(d, 'park/demo/b01/energy/unew', { power_kw: 5 });
    await publishJson(d, 'park/demo/b01/energy/u0', { power_kw: 6 });
    expect(await rejected('unregistered_limit')).toBe(before + 1);
    await waitFor(async () => rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='u0'`)).length === 2, { what: 'the known unregistered sensor stored again' });
    expect(rowsOf(await q(`SELECT power_kw FROM energy WHERE sensor='unew'`))).toEqual([]);
    const { body } = await getJson<{ items: Array<{ reason: string; topic: string; detail: string }> }>(`${gw.httpUrl}/api/rejections?reason=unregistered_limit`);
    expect(body.items[0]).toMatchObject({ topic: 'park/demo/b01/energy/unew', detail: expect.stringContaining('UNREGISTERED_MAX') });
  });


  test.each([
    ['an empty hash (it accepted any password)', { hash: '' }, '$.devices[0].hash', /it is empty; recreate the credential: npm run credentials -- remove --username b01-gw/],
    ['a hash with a zero-length key', { hash: `scrypt$32768$8$1$${Buffer.alloc(16).toString('base64')}$A` }, '$.devices[0].hash', /0-byte key, which would accept almost any password/],
    ['a "#" publish filter', { publish: ['#'] }, '$.devices[0].publish[0]', /"#" is not allowed.*narrow it to the device's own topics/],
  ])('finding 9: a credentials file with %s stops start-up, naming the file, the JSON path and the fix', (_what, change, jsonPath, fix) => {
    const content = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    Object.assign(content.devices[0], change);
    const file = path.join(ownedDir('trust'), 'bad-credentials.json');
    fs.writeFileSync(file, JSON.stringify(content));
    const r = startFails({ MQTT_AUTH: 'required', DEVICE_CREDENTIALS: file });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`device credentials file ${file}: ${jsonPath}`);
    expect(r.stderr).toMatch(fix);
  });
});
