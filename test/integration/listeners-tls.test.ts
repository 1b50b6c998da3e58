/**
 * Issue 8, finding 3 ("one HOST binds MQTT and HTTP together") and contract
 * §8 "Listeners": devices on MQTT_HOST, operators on HTTP_HOST, and TLS by
 * file, with a certificate authority made in the test (openssl). Devices
 * over mqtts and wss (with a password, and with a client certificate and no
 * password), operators over https.
 */
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { makeTestPki, TestPki } from '../../apps/gateway/src/testing/test-pki';
import { addCredential } from '../support/credentials';
import { ports } from '../support/deploy';
import { Gateway, startFails, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';

jest.setTimeout(120_000);

const OPERATORS = '127.0.0.1';
const DEVICES = '127.0.0.2';
let gw: Gateway;
let pki: TestPki;
let ca: Buffer;
let password: string;
const port: Record<string, number> = {};

beforeAll(async () => {
  const dir = ownedDir('listeners-tls');
  pki = makeTestPki(path.join(dir, 'pki'));
  ca = fs.readFileSync(pki.caCert);
  const credentials = path.join(dir, 'device-credentials.json');
  password = await addCredential(credentials, 'b01-m01', ['park/demo/b01/#']);
  for (const name of ['HTTP_PORT', 'MQTT_PORT', 'MQTT_TLS_PORT', 'MQTT_WS_PORT']) port[name] = await ports.freePort(OPERATORS);
  gw = await startGateway({
    name: 'listeners-tls',
    auth: true,
    env: {
      HOST: undefined,
      HTTP_HOST: OPERATORS,
      MQTT_HOST: DEVICES,
      ...Object.fromEntries(Object.entries(port).map(([k, v]) => [k, String(v)])),
      TLS_CERT: pki.serverCert,
      TLS_KEY: pki.serverKey,
      TLS_CA: pki.caCert,
      MQTT_AUTH: 'required',
      DEVICE_CREDENTIALS: credentials,
    },
  });
});

afterAll(async () => {
  expect(await gw?.stop()).toBe(0);
});

/** Can a TCP connection be opened there? */
function reachable(host: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p, host, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** GET over HTTPS, checking the certificate against the test CA. */
function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function connects(url: string, options: mqtt.IClientOptions): Promise<string> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ca, ...options });
    await c.publishAsync('park/demo/b01/energy/m01', JSON.stringify({ power_kw: 1 }), { qos: 1 });
    await c.endAsync();
    return 'connected';
  } catch (e) {
    return (e as Error).message;
  }
}

test('finding 3 (one HOST binds MQTT and HTTP together): the API is on HTTP_HOST only, MQTT on MQTT_HOST only', async () => {
  expect(await reachable(OPERATORS, port.HTTP_PORT)).toBe(true);
  expect(await reachable(DEVICES, port.HTTP_PORT)).toBe(false);
  for (const p of [port.MQTT_PORT, port.MQTT_TLS_PORT, port.MQTT_WS_PORT]) {
    expect([p, await reachable(DEVICES, p)]).toEqual([p, true]);
    expect([p, await reachable(OPERATORS, p)]).toEqual([p, false]);
  }
  // The device WebSocket listener serves /mqtt and nothing else.
  const probe = await httpsGet(`https://${DEVICES}:${port.MQTT_WS_PORT}/api/health`);
  expect(probe.status).toBe(404);
  expect(probe.body).toMatch(/serves devices only/);
});

test('operators over HTTPS: the certificate verifies against the CA; the cookie is Secure', async () => {
  const health = await httpsGet(`${gw.httpUrl}/api/health`, gw.adminHeaders);
  expect(health.status).toBeLessThan(600);
  expect(JSON.parse(health.body)).toMatchObject({ broker: { mode: 'embedded', up: true } });
  const cookie = await new Promise<string>((resolve, reject) => {
    const req = https.request(`${gw.httpUrl}/api/session`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(String(res.headers['set-cookie']));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ token: gw.adminToken }));
  });
  expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
});

test('devices over mqtts and wss with username and password', async () => {
  expect(await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, { username: 'b01-m01', password, clientId: 'b01-m01' })).toBe('connected');
  expect(await connects(`wss://${DEVICES}:${port.MQTT_WS_PORT}/mqtt`, { username: 'b01-m01', password, clientId: 'b01-m01', wsOptions: { ca } })).toBe('connected');
  expect(await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, { username: 'b01-m01', password: 'wrong', clientId: 'b01-m01' })).toMatch(/Bad username or password/i);
});

test('a device with a client certificate signed by TLS_CA and no password connects, over mqtts and wss', async () => {
  const { cert, key } = pki.clientCert('b01-m01');
  const tlsOpts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
  expect(await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, { ...tlsOpts, clientId: 'b01-m01' })).toBe('connected');
  expect(await connects(`wss://${DEVICES}:${port.MQTT_WS_PORT}/mqtt`, { ...tlsOpts, clientId: 'b01-m01', wsOptions: { ca, ...tlsOpts } })).toBe('connected');
  // contract §8 device identity holds for certificate logins too: the client id must fit the CN
  expect(await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, { ...tlsOpts, clientId: 'b02-m01' })).toMatch(/Identifier rejected/i);
});

test('a certificate from another CA, or for an unknown device, is no login: the device needs its password', async () => {
  for (const [cn, untrusted] of [['b01-m01', true], ['b09-x', false]] as const) {
    const { cert, key } = pki.clientCert(cn, { untrusted });
    const tlsOpts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
    expect([cn, await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, tlsOpts)]).toEqual([cn, expect.stringMatching(/Bad username or password|Not authorized/i)]);
    expect(await connects(`mqtts://${DEVICES}:${port.MQTT_TLS_PORT}`, { ...tlsOpts, username: 'b01-m01', password, clientId: 'b01-m01' })).toBe('connected');
  }
});

test('a bad TLS file stops start-up, naming the variable, the file and the fix', () => {
  const missing = path.join(pki.dir, 'missing.pem');
  const run = (env: Record<string, string>) => startFails({ MQTT_AUTH: 'off', ...env });
  const noFile = run({ TLS_CERT: missing, TLS_KEY: pki.serverKey });
  expect(noFile.status).toBe(1);
  expect(noFile.stderr).toContain(`TLS_CERT=${missing}: cannot read the file (ENOENT)`);
  const notPem = run({ TLS_CERT: pki.serverCert, TLS_KEY: pki.caCert });
  expect(notPem.status).toBe(1);
  expect(notPem.stderr).toMatch(/TLS_KEY=.*test-ca\.crt: not a PEM private key/);
});
