/**
 * Issue: device authentication and authorization on the embedded broker
 * (MQTT_AUTH=required, the default): salted scrypt credentials, per-device
 * publish ACLs, no telemetry or $SYS subscriptions; and start-up refusing bad
 * configuration with a message naming the file, the place and the fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MqttClient } from 'mqtt';
import { addCredential } from '../support/credentials';
import { processes } from '../support/deploy';
import { Gateway, startFails, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { connectDevice, getJson, metric, publishJson } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';

jest.setTimeout(120_000);

let gw: Gateway;
let credentials: string;
let meterPassword: string;
let b02Password: string;

beforeAll(async () => {
  credentials = path.join(ownedDir('auth'), 'device-credentials.json');
  meterPassword = await addCredential(credentials, 'b01-m01', ['park/demo/b01/energy/m01']);
  b02Password = await addCredential(credentials, 'b02-all', ['park/demo/b02/#']);
  gw = await startGateway({ name: 'auth', env: { MQTT_AUTH: 'required', DEVICE_CREDENTIALS: credentials } });
});

afterAll(async () => {
  expect(await gw?.stop()).toBe(0);
});

test('the credentials file holds salted password hashes (PBKDF2 for generated passwords) and never the password', () => {
  const text = fs.readFileSync(credentials, 'utf8');
  expect(text).not.toContain(meterPassword);
  expect(text).toMatch(/"hash": "pbkdf2-sha256\$1000\$/);
  expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
});

test('a device without credentials or with a wrong password is refused at CONNECT', async () => {
  await expect(connectDevice(gw.mqttUrl)).rejects.toThrow(/Bad username or password|Not authorized/i);
  await expect(connectDevice(gw.mqttUrl, { username: 'b01-m01', password: 'wrong', clientId: 'b01-m01' })).rejects.toThrow(/Bad username or password/i);
  await expect(connectDevice(gw.mqttUrl, { username: 'nobody', password: meterPassword, clientId: 'nobody' })).rejects.toThrow(/Bad username or password/i);
});

test('a device publishes under its own topics; elsewhere it is rejected as unauthorized, counted and disconnected', async () => {
  const device = await connectDevice(gw.mqttUrl, { username: 'b01-m01', password: meterPassword, clientId: 'b01-m01' });
  const ts = Date.now() - 1000;
  await publishJson(device, 'park/demo/b01/energy/m01', { ts, power_kw: 321 });
  const db = gw.env.INFLUX_DB;
  await waitFor(async () => rowsOf(await influxQuery(sharedInfluxUrl(), db, `SELECT power_kw FROM energy WHERE sensor='m01'`)).length === 1, { what: 'authorized reading stored' });

  const before = await metric(gw.httpUrl, 'gateway_readings_rejected_total{reason="unauthorized"}');
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  device.publish('park/demo/b02/energy/m01', JSON.stringify({ ts, power_kw: 999 }), { qos: 0 });
  await closed;
  expect(await metric(gw.httpUrl, 'gateway_readings_rejected_total{reason="unauthorized"}')).toBe(before + 1);
  const { body } = await getJson<{ items: Array<{ reason: string; topic: string; username: string }> }>(`${gw.httpUrl}/api/rejections?reason=unauthorized`);
  expect(body.items[0]).toMatchObject({ reason: 'unauthorized', topic: 'park/demo/b02/energy/m01', username: 'b01-m01' });
  expect(rowsOf(await influxQuery(sharedInfluxUrl(), db, `SELECT power_kw FROM energy WHERE building='b02'`))).toEqual([]);
  await device.endAsync(true);
});

test('devices may not subscribe to park/#, + or $SYS, but may subscribe elsewhere', async () => {
  const device: MqttClient = await connectDevice(gw.mqttUrl, { username: 'b02-all', password: b02Password, clientId: 'b02-all' });
  for (const filter of ['park/#', '#', '+/demo/#', '$SYS/#', 'park/demo/b01/energy/m01', '$share/g/park/#']) {
    // SUBACK 0x80 (failure) for the filter; MQTT.js turns it into an error.
    await expect(device.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
  }
  // The connection stayed up through the refusals.
  expect(device.connected).toBe(true);
  const ok = await device.subscribeAsync('commands/b02', { qos: 1 });
  expect(ok[0].qos).toBe(1);
  await device.endAsync();
});


test('start-up stops on a missing credentials file, naming it and the fix', () => {
  const missing = path.join(ownedDir('auth'), 'none.json');
  const r = startFails({ MQTT_AUTH: 'required', DEVICE_CREDENTIALS: missing });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(missing);
  expect(r.stderr).toMatch(/npm run credentials -- add/);
});

test('start-up stops on a bad park model, naming the file and the JSON path', () => {
  const file = path.join(ownedDir('auth'), 'bad-park.json');
  const model = JSON.parse(fs.readFileSync(path.join(processes.repoRoot, 'apps/gateway/parks/demo.park.json'), 'utf8'));
  model.buildings[2].height = -4;
  delete model.buildings[5].sensors[1].intervalS;
  fs.writeFileSync(file, JSON.stringify(model));
  const r = startFails({ MQTT_AUTH: 'off', PARK_MODEL: file });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toContain('$.buildings[2].height');
  expect(r.stderr).toContain('$.buildings[5].sensors[1]');
  expect(r.stderr).toMatch(/intervalS/);
});

test('start-up stops on an invalid environment variable, naming it', () => {
  const r = startFails({ MQTT_AUTH: 'maybe' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/MQTT_AUTH="maybe".*required, off/);
});
