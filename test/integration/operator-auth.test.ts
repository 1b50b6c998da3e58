/**
 * Issue 8, operator and network side, against the real gateway process with
 * API_AUTH=required (contract §8, "Operator authentication"): tokens and
 * roles, park scope, browser sessions, the live stream's gate, token and
 * device management over the API, and secrets kept out of answers and logs.
 * Each finding of the issue in this area has a test named after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { addCredential } from '../support/credentials';
import { Gateway, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { connectDevice, getJson, publishJson } from '../support/mqtt';
import { sharedInfluxUrl, waitFor } from '../support/services';

jest.setTimeout(120_000);

let gw: Gateway;
let viewer: string;
let operator: string;
/** A viewer of another park only: the demo park is outside its scope. */
let otherPark: string;
let meterPassword: string;
const SECRET = 'hunter2-never-shown';

beforeAll(async () => {
  const credentials = path.join(ownedDir('operator-auth'), 'device-credentials.json');
  meterPassword = await addCredential(credentials, 'b01-m01', ['park/demo/b01/energy/m01']);
  // INFLUX_URL with credentials inside (InfluxDB 1.6 without auth ignores them): finding 4.
  const influx = new URL(sharedInfluxUrl());
  influx.username = 'park';
  influx.password = SECRET;
  gw = await startGateway({ name: 'operator-auth', auth: true, env: { MQTT_AUTH: 'required', DEVICE_CREDENTIALS: credentials, INFLUX_URL: influx.toString().replace(/\/$/, '') } });
  viewer = await gw.addToken('viewer', 'viewer');
  operator = await gw.addToken('operator', 'operator');
  otherPark = await gw.addToken('other-park', 'viewer', ['elsewhere']);
});

afterAll(async () => {
  expect(await gw?.stop()).toBe(0);
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function status(pathname: string, headers: Record<string, string> = {}): Promise<number> {
  return (await fetch(`${gw.httpUrl}${pathname}`, { headers })).status;
}

test('finding 3 (the operator API is open): every API route, /metrics and the live stream need a token', async () => {
  for (const p of ['/api/parks', '/api/parks/demo', '/api/parks/demo/vitals', '/api/parks/demo/history?metric=load_kw', '/api/parks/demo/alarms', '/api/parks/demo/kpis', '/api/rejections', '/metrics', '/api/tokens', '/api/devices']) {
    const res = await fetch(`${gw.httpUrl}${p}`);
    expect([p, res.status, res.headers.get('www-authenticate')]).toEqual([p, 401, 'Bearer realm="park-twin"']);
  }
  const bad = await fetch(`${gw.httpUrl}/api/parks`, { headers: bearer('ptk_0000000000000000_' + 'A'.repeat(43)) });
  expect([bad.status, bad.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="park-twin", error="invalid_token"']);
  expect(await status('/api/parks', bearer(viewer))).toBe(200);
});

test('/api/health without a token answers only the status, with the same status code; with a token the full body', async () => {
  const anonymous = await getJson<Record<string, unknown>>(`${gw.httpUrl}/api/health`);
  const full = await getJson<Record<string, unknown>>(`${gw.httpUrl}/api/health`, bearer(viewer));
  expect(Object.keys(anonymous.body)).toEqual(['status']);
  expect(anonymous.status).toBe(full.status);
  expect(full.body).toMatchObject({ status: anonymous.body.status, broker: { mode: 'embedded' }, parks: ['demo'] });
});

test('finding 4 (secrets leak): credentials inside INFLUX_URL are never in /api/health nor in the log', async () => {
  const { body } = await getJson<{ influx: { url: string } }>(`${gw.httpUrl}/api/health`, gw.adminHeaders);
  expect(body.influx.url).toMatch(/^http:\/\/park:\*\*\*@127\.0\.0\.1:\d+$/);
  expect(JSON.stringify(body)).not.toContain(SECRET);
  const log = fs.readFileSync(gw.logFile, 'utf8');
  expect(log).toContain('park:***@');
  expect(log).not.toContain(SECRET);
  // Nor any token of this run.
  for (const t of [gw.adminToken!, viewer, operator, otherPark]) expect(log).not.toContain(t.slice(22));
});

test('roles: a viewer reads parks and vitals but not rejections (403); an operator reads rejections; only an admin manages tokens and devices', async () => {
  expect(await status('/api/parks/demo/vitals', bearer(viewer))).toBe(200);
  expect(await status('/api/rejections', bearer(viewer))).toBe(403);
  expect(await status('/api/rejections', bearer(operator))).toBe(200);
  expect(await status('/api/tokens', bearer(operator))).toBe(403);
  expect(await status('/api/devices', bearer(operator))).toBe(403);
  expect(await status('/api/tokens', gw.adminHeaders)).toBe(200);
  expect(await status('/metrics', bearer(viewer))).toBe(200);
});

test('finding 3: /api/rejections no longer shows device usernames and client ids to viewers', async () => {
  const device = await connectDevice(gw.mqttUrl, { username: 'b01-m01', password: meterPassword, clientId: 'b01-m01' });
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  device.publish('park/demo/b02/energy/m01', JSON.stringify({ power_kw: 1 }), { qos: 0 });
  await closed;
  const asViewer = await getJson(`${gw.httpUrl}/api/rejections`, bearer(viewer));
  expect(asViewer.status).toBe(403);
  expect(JSON.stringify(asViewer.body)).not.toContain('b01-m01');
  const asOperator = await getJson<{ items: Array<{ username?: string }> }>(`${gw.httpUrl}/api/rejections?reason=unauthorized`, bearer(operator));
  expect(asOperator.body.items[0]).toMatchObject({ reason: 'unauthorized', username: 'b01-m01' });
  await device.endAsync(true);
});

test('park scope: a park outside the token’s scope answers exactly like an unknown park; /api/parks lists only parks in scope', async () => {
  const out = await getJson(`${gw.httpUrl}/api/parks/demo/vitals`, bearer(otherPark));
  const unknown = await getJson(`${gw.httpUrl}/api/parks/elsewhere/vitals`, bearer(otherPark));
  expect(out).toEqual({ status: 404, body: { error: 'not_found', message: 'unknown park "demo"' } });
  expect(unknown).toEqual({ status: 404, body: { error: 'not_found', message: 'unknown park "elsewhere"' } });
  for (const p of ['/api/parks/demo', '/api/parks/demo/history?metric=load_kw', '/api/parks/demo/alarms', '/api/parks/demo/kpis']) expect([p, await status(p, bearer(otherPark))]).toEqual([p, 404]);
  expect((await getJson(`${gw.httpUrl}/api/parks`, bearer(otherPark))).body).toEqual([]);
  expect((await getJson<Array<{ id: string }>>(`${gw.httpUrl}/api/parks`, bearer(viewer))).body.map((p) => p.id)).toEqual(['demo']);
});

test('item 9: metric=constructor, __proto__ and toString answer 400, not 500', async () => {
  for (const m of ['constructor', '__proto__', 'toString']) {
    const r = await getJson<{ parameter: string }>(`${gw.httpUrl}/api/parks/demo/history?metric=${m}`, bearer(viewer));
    expect([m, r.status, r.body.parameter]).toEqual([m, 400, 'metric']);
  }
  expect((await getJson(`${gw.httpUrl}/api/parks/demo/history?metric=load_kw&metric=pv_kwh`, bearer(viewer))).status).toBe(400);
});

test('browser session: POST /api/session sets an HttpOnly, SameSite=Strict cookie that is not the token; DELETE logs out', async () => {
  const bad = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
  expect(bad.status).toBe(401);
  const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: viewer }) });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ name: 'viewer', role: 'viewer', parks: null });
  const setCookie = res.headers.get('set-cookie')!;
  expect(setCookie).toMatch(/^park_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  expect(setCookie).not.toContain(viewer);
  const cookie = setCookie.split(';')[0];
  expect(await status('/api/parks/demo/vitals', { cookie })).toBe(200);
  expect(await status('/api/rejections', { cookie })).toBe(403);
  // A login posted from another site is refused (login CSRF).
  expect((await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ token: viewer }) })).status).toBe(403);
  const out = await fetch(`${gw.httpUrl}/api/session`, { method: 'DELETE', headers: { cookie } });
  expect(out.status).toBe(204);
  expect(out.headers.get('set-cookie')).toMatch(/^park_session=; Path=\/; Max-Age=0/);
  expect(await status('/api/parks/demo/vitals', { cookie })).toBe(401);
});

/** Opens /api/live; resolves the first message, or the HTTP status of a refusal. */
function live(query: string, headers: Record<string, string>): Promise<{ status: number; first?: { type: string; parkId: string } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.liveUrl}${query}`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('message', (data) => {
      resolve({ status: 101, first: JSON.parse(data.toString()) });
      ws.close();
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
}

test('finding 3: the live stream needs a token or the session cookie, checks the Origin and the park scope', async () => {
  expect((await live('', {})).status).toBe(401);
  expect((await live('', { ...bearer(viewer), origin: 'https://evil.example' })).status).toBe(403);
  expect((await live('?park=demo', bearer(otherPark))).status).toBe(404);
  expect(await live('', { ...bearer(viewer), origin: gw.httpUrl })).toMatchObject({ status: 101, first: { type: 'snapshot', parkId: 'demo' } });
  const login = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: viewer }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  expect(await live('?park=demo', { cookie, origin: gw.httpUrl })).toMatchObject({ status: 101, first: { type: 'snapshot' } });
});

test('tokens over the API: an admin makes one, it works at once; revoked, it stops at once', async () => {
  const res = await fetch(`${gw.httpUrl}/api/tokens`, { method: 'POST', headers: { ...gw.adminHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'temp', role: 'viewer' }) });
  expect(res.status).toBe(201);
  const made = (await res.json()) as { token: string; name: string };
  expect(await status('/api/parks', bearer(made.token))).toBe(200);
  const list = await getJson<Array<Record<string, unknown>>>(`${gw.httpUrl}/api/tokens`, gw.adminHeaders);
  expect(list.body.find((t) => t.name === 'temp')).toEqual({ name: 'temp', role: 'viewer', parks: null, createdAt: expect.any(String) });
  expect(JSON.stringify(list.body)).not.toMatch(/sha256|ptk_/);
  expect((await fetch(`${gw.httpUrl}/api/tokens/temp`, { method: 'DELETE', headers: gw.adminHeaders })).status).toBe(204);
  expect(await status('/api/parks', bearer(made.token))).toBe(401);
  // The file holds hashes only, mode 0600.
  expect(fs.statSync(gw.env.API_TOKENS).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(gw.env.API_TOKENS, 'utf8')).not.toContain(viewer);
});

test('device credentials over the API apply live: a new device connects at once, a removed one is cut off at its next publish', async () => {
  const res = await fetch(`${gw.httpUrl}/api/devices`, { method: 'POST', headers: { ...gw.adminHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'b03-m01', publish: ['park/demo/b03/energy/m01'] }) });
  expect(res.status).toBe(201);
  const { password } = (await res.json()) as { password: string };
  const device = await connectDevice(gw.mqttUrl, { username: 'b03-m01', password, clientId: 'b03-m01' });
  await publishJson(device, 'park/demo/b03/energy/m01', { power_kw: 5 });
  expect((await getJson<Array<{ username: string }>>(`${gw.httpUrl}/api/devices`, gw.adminHeaders)).body.map((d) => d.username).sort()).toEqual(['b01-m01', 'b03-m01']);
  expect((await fetch(`${gw.httpUrl}/api/devices/b03-m01`, { method: 'DELETE', headers: gw.adminHeaders })).status).toBe(204);
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  device.publish('park/demo/b03/energy/m01', JSON.stringify({ power_kw: 6 }), { qos: 0 });
  await closed;
  await device.endAsync(true);
  await expect(connectDevice(gw.mqttUrl, { username: 'b03-m01', password, clientId: 'b03-m01' })).rejects.toThrow(/Bad username or password/i);
  await waitFor(async () => !fs.readFileSync(gw.env.DEVICE_CREDENTIALS, 'utf8').includes('b03-m01'), { what: 'the credential removed from the file' });
});

test('item 9 (the README says MQTT 5): the embedded broker speaks MQTT 3.1 and 3.1.1 and refuses 5, as the README now says', async () => {
  const device = { username: 'b01-m01', password: meterPassword, clientId: 'b01-m01' };
  for (const protocolVersion of [3, 4] as const) {
    const c = await connectDevice(gw.mqttUrl, { ...device, protocolVersion, protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT' });
    await c.endAsync();
  }
  await expect(connectDevice(gw.mqttUrl, { ...device, protocolVersion: 5 })).rejects.toThrow();
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  expect(readme).not.toMatch(/MQTT 3\.1\.1\/5|MQTT 5 devices/);
  expect(readme).toMatch(/refuses MQTT 5/);
});
