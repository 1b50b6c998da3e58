import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Alarm, LiveMessage, NowState, ParkVitals } from '@park/metrics';
import { WebSocket } from 'ws';
import { ManualClock } from '../core/clock';
import { GatewayBus } from '../core/gateway.events';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { createLogger } from '../observability/logger';
import { testBus } from '../testing/test-bus';
import { VitalsReadModel } from '../vitals/vitals.read-model';
import { ApiTokenStore } from '../auth/api-tokens';
import { OperatorAuth } from '../auth/operator.auth';
import { SessionStore } from '../auth/session.store';
import { LiveHub, MAX_CLIENT_BUFFER_BYTES } from './live.hub';

const T = '2026-11-27T08:00:00.000Z';
const state = (gridKw: number): NowState => ({ grid_kw: gridKw, pv_kw: 0, occupancy: 0, sensors_online: 1, sensors_total: 1 });
const nowMsg = (parkId: string, gridKw: number, pad = 0): LiveMessage => {
  const buildings: Record<string, NowState> = {};
  // Padding buildings make a message big enough to fill socket buffers quickly.
  for (let i = 0; i < pad; i++) buildings[`b${i}`] = state(i);
  return { type: 'now', parkId, t: T, park: state(gridKw), buildings };
};
const alarm: Alarm = { parkId: 'p1', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised', value: 600, threshold: 500, message: 'm', tsMs: Date.parse(T) };
const window = (parkId: string): ParkVitals => ({ parkId, window: { startMs: 0, endMs: 60_000 }, park: { energy_kwh: 1, pv_kwh: 0, load_kw: 60, peak_kw: 70, carbon_kgco2e: 0.42, occupancy: 0, status: 'ok' }, buildings: {} });

/** The vitals read model as data: p1 has a closed window and an active alarm, p2 nothing yet. */
const readModel: VitalsReadModel = {
  latest: (parkId) => (parkId === 'p1' ? window('p1') : undefined),
  activeAlarms: (parkId) => (parkId === 'p1' ? [alarm] : []),
  now: (parkId) => ({ park: state(parkId === 'p1' ? 5 : 0), buildings: {} }),
};

/** A live client that records every message it gets. */
interface Client {
  ws: WebSocket;
  messages: Array<LiveMessage & { parkId?: string }>;
}

let server: http.Server;
let hub: LiveHub;
let clock: ManualClock;
let tokens: ApiTokenStore;
let auth: OperatorAuth;
/** Tokens made per test: an admin of every park, a viewer of p2 only. */
let admin: string;
let p2viewer: string;
const MAX_CLIENTS = 5;
let bus: GatewayBus;
let metrics: GatewayMetrics;
let baseUrl: string;
const clients: Client[] = [];

beforeEach(async () => {
  metrics = new GatewayMetrics();
  bus = testBus();
  clock = new ManualClock(Date.parse(T));
  tokens = new ApiTokenStore({ version: 1, tokens: [] });
  admin = tokens.add('admin', 'admin', undefined, clock.now()).token;
  p2viewer = tokens.add('p2-viewer', 'viewer', ['p2'], clock.now()).token;
  auth = new OperatorAuth({ auth: 'required', tokensFile: '', metricsAuth: 'required', allowedOrigins: ['https://twin.example.com'] }, tokens, new SessionStore(clock), false);
  hub = new LiveHub(() => ['p1', 'p2'], readModel, bus, metrics, createLogger('silent'), clock, auth, { maxClients: MAX_CLIENTS });
  hub.start();
  const router = new UpgradeRouter();
  router.add(hub.upgradeHandler());
  server = http.createServer((_req, res) => res.end());
  router.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  hub.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function connect(query = '', headers: Record<string, string> = { authorization: `Bearer ${admin}` }): Promise<Client> {
  const ws = new WebSocket(`${baseUrl}/api/live${query}`, { headers });
  const c: Client = { ws, messages: [] };
  ws.on('message', (data) => c.messages.push(JSON.parse(data.toString())));
  clients.push(c);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

/** Opens an upgrade that must be refused; the HTTP answer. */
async function refused(query: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const ws = new WebSocket(`${baseUrl}/api/live${query}`, { headers });
  ws.on('error', () => undefined);
  try {
    return await new Promise((resolve, reject) => {
      ws.on('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body, headers: r.headers }));
      });
      ws.on('open', () => reject(new Error('opened')));
    });
  } finally {
    ws.terminate();
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LiveHub (contract §7, WebSocket /api/live)', () => {
  it('sends the snapshot of the requested park on connect, from the read model; the first park without ?park=', async () => {
    const a = await connect('?park=p2');
    const b = await connect();
    await until(() => a.messages.length === 1 && b.messages.length === 1, 'snapshots');
    expect(a.messages[0]).toEqual({ type: 'snapshot', parkId: 'p2', t: T, now: { park: state(0), buildings: {} }, vitals: null, alarms: [] });
    expect(b.messages[0]).toEqual({ type: 'snapshot', parkId: 'p1', t: T, now: { park: state(5), buildings: {} }, vitals: window('p1'), alarms: [{ ...alarm, t: T }] });
    expect(hub.size).toBe(2);
    expect(metrics.render()).toMatch(/^gateway_live_clients 2$/m);
  });

  it('refuses an unknown park with a 404 and a JSON error', async () => {
    const res = await refused('?park=nowhere', { authorization: `Bearer ${admin}` });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: 'not_found', message: 'unknown park "nowhere"' });
  });

  it('broadcasts to the clients of the message’s park only', async () => {
    const p1a = await connect('?park=p1');
    const p1b = await connect('?park=p1');
    const p2 = await connect('?park=p2');
    await until(() => clients.every((c) => c.messages.length === 1), 'snapshots');
    hub.broadcast('p1', nowMsg('p1', 42));
    hub.broadcast('p2', nowMsg('p2', 7));
    await until(() => clients.every((c) => c.messages.length === 2), 'one update each');
    expect(p1a.messages[1]).toMatchObject({ type: 'now', parkId: 'p1', park: { grid_kw: 42 } });
    expect(p1b.messages[1]).toEqual(p1a.messages[1]);
    expect(p2.messages[1]).toMatchObject({ type: 'now', parkId: 'p2', park: { grid_kw: 7 } });
  });

  it('forgets a client that disconnects', async () => {
    const a = await connect();
    await connect();
    await until(() => hub.size === 2, 'two clients');
    a.ws.close();
    await until(() => hub.size === 1, 'the closed client removed');
    hub.broadcast('p1', nowMsg('p1', 1));
    await until(() => clients[1].messages.length === 2, 'the remaining client served');
  });

  it('drops `now` updates to a client that does not read, counts them, and keeps serving the others', async () => {
    const slow = await connect();
    const fast = await connect();
    await until(() => slow.messages.length === 1 && fast.messages.length === 1, 'snapshots');
    // The slow client stops reading: the kernel buffers fill, then the
    // server-side socket buffer grows past the limit.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const sent = 400;
    const first = JSON.stringify(nowMsg('p1', 0, 1500)).length;
    expect(sent * first).toBeGreaterThan(20 * MAX_CLIENT_BUFFER_BYTES);
    for (let i = 1; i <= sent; i++) {
      hub.broadcast('p1', nowMsg('p1', i, 1500));
      // Let the event loop write to the sockets, as the gateway's ticks do.
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    // The reading client got every update, in order, while the other was stuck.
    await until(() => fast.messages.length === 1 + sent, 'every update at the reading client');
    expect(fast.messages.slice(1).map((m) => (m.type === 'now' ? m.park.grid_kw : -1))).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    const dropped = metrics.liveDroppedMessages;
    expect(dropped).toBeGreaterThan(0);
    expect(metrics.render()).toMatch(new RegExp(`^gateway_live_dropped_messages_total ${dropped}$`, 'm'));
    // Once it reads again, it gets exactly what was not dropped, in order.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => slow.messages.length === 1 + sent - dropped, 'the slow client drained');
    const got = slow.messages.slice(1).map((m) => (m.type === 'now' ? m.park.grid_kw : -1));
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got[got.length - 1]).toBeLessThanOrEqual(sent);
    // 400 messages of ~100 kB through real sockets: seconds on a loaded machine.
  }, 30_000);

  it('still sends vitals and alarm messages to a slow client past the `now` limit', async () => {
    const slow = await connect();
    await until(() => slow.messages.length === 1, 'snapshot');
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    // Fill until `now` updates start being dropped.
    for (let i = 1; metrics.liveDroppedMessages === 0; i++) {
      hub.broadcast('p1', nowMsg('p1', i, 1500));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      if (i > 5000) throw new Error('the buffer never filled');
    }
    const droppedNow = metrics.liveDroppedMessages;
    hub.broadcast('p1', { type: 'alarm', alarm });
    expect(metrics.liveDroppedMessages).toBe(droppedNow);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => slow.messages.some((m) => m.type === 'alarm'), 'the alarm at the slow client');
  });

  it('relays closed windows and alarm transitions from the bus, not revisions', async () => {
    const c = await connect();
    await until(() => c.messages.length === 1, 'snapshot');
    bus.publish('vitals', { vitals: window('p1'), revision: false });
    bus.publish('vitals', { vitals: window('p1'), revision: true });
    bus.publish('alarm', { alarm });
    bus.publish('vitals', { vitals: window('p2'), revision: false });
    await until(() => c.messages.length === 3, 'a window and an alarm');
    expect(c.messages.slice(1)).toEqual([{ type: 'vitals', ...window('p1') }, { type: 'alarm', alarm: { ...alarm, t: T } }]);
  });

  it('listens to `now` only while it has clients, so that nobody derives it for no one', async () => {
    expect(bus.hasSubscribers('now')).toBe(false);
    const c = await connect();
    await until(() => c.messages.length === 1, 'snapshot');
    expect(bus.hasSubscribers('now')).toBe(true);
    bus.publish('now', { parkId: 'p1', atMs: Date.parse(T), state: { park: state(9), buildings: {} } });
    await until(() => c.messages.length === 2, 'the now message');
    expect(c.messages[1]).toEqual({ type: 'now', parkId: 'p1', t: T, park: state(9), buildings: {} });
    c.ws.close();
    await until(() => hub.size === 0, 'the client gone');
    expect(bus.hasSubscribers('now')).toBe(false);
  });

  it('close() disconnects every client', async () => {
    const a = await connect();
    const closed = new Promise((resolve) => a.ws.once('close', resolve));
    hub.close();
    await closed;
    expect(hub.size).toBe(0);
  });
});

describe('LiveHub: who may connect (contract §8; issue 8 finding 3)', () => {
  it('finding 3: without a token the upgrade is refused with 401 and WWW-Authenticate: Bearer', async () => {
    const res = await refused('', {});
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="park-twin"');
    expect(hub.size).toBe(0);
  });

  it('a bad or revoked token is a 401 with error="invalid_token"', async () => {
    expect((await refused('', { authorization: 'Bearer ptk_0000000000000000_' + 'x'.repeat(43) })).headers['www-authenticate']).toMatch(/invalid_token/);
    tokens.revoke('admin');
    expect((await refused('', { authorization: `Bearer ${admin}` })).status).toBe(401);
  });

  it('the session cookie of POST /api/session opens it too', async () => {
    const op = tokens.verify(p2viewer)!;
    const session = auth.sessions.create(op.tokenId);
    const c = await connect('?park=p2', { cookie: `other=1; park_session=${session.id}` });
    await until(() => c.messages.length === 1, 'snapshot');
    expect(c.messages[0]).toMatchObject({ type: 'snapshot', parkId: 'p2' });
  });

  it('finding 3: a browser upgrade from a foreign Origin is refused with 403, even with a valid token', async () => {
    const res = await refused('', { authorization: `Bearer ${admin}`, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(hub.size).toBe(0);
  });

  it('the gateway’s own origin and ALLOWED_ORIGINS may connect', async () => {
    const own = new URL(baseUrl.replace('ws:', 'http:')).origin;
    await connect('', { authorization: `Bearer ${admin}`, origin: own });
    await connect('', { authorization: `Bearer ${admin}`, origin: 'https://twin.example.com' });
    await until(() => hub.size === 2, 'both connected');
  });

  it('a park outside the token’s scope answers exactly like an unknown park; no ?park= means the first park in scope', async () => {
    const out = await refused('?park=p1', { authorization: `Bearer ${p2viewer}` });
    const unknown = await refused('?park=nowhere', { authorization: `Bearer ${p2viewer}` });
    expect(out.status).toBe(404);
    expect(JSON.parse(out.body)).toEqual({ error: 'not_found', message: 'unknown park "p1"' });
    expect(unknown.status).toBe(404);
    const c = await connect('', { authorization: `Bearer ${p2viewer}` });
    await until(() => c.messages.length === 1, 'snapshot');
    expect(c.messages[0]).toMatchObject({ parkId: 'p2' });
  });

  it('item 9: past LIVE_MAX_CLIENTS the upgrade is refused with 503 before it happens, and counted', async () => {
    for (let i = 0; i < MAX_CLIENTS; i++) await connect();
    const res = await refused('', { authorization: `Bearer ${admin}` });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(hub.size).toBe(MAX_CLIENTS);
    expect(metrics.render()).toMatch(/^gateway_live_refused_clients_total 1$/m);
  });

  it('item 9: every 30 s each client is pinged; one that did not answer the previous ping is cut off', async () => {
    const answering = await connect();
    const dead = await connect();
    await until(() => hub.size === 2, 'two clients');
    // The dead client stops answering pings (its socket no longer reads).
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let pings = 0;
    answering.ws.on('ping', () => pings++);
    clock.advance(30_000);
    await until(() => pings === 1, 'the first ping answered');
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(30_000);
    await until(() => hub.size === 1, 'the silent client cut off');
    expect([...clients].find((c) => c === answering)!.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a client whose token is revoked is disconnected at the next ping', async () => {
    const c = await connect('?park=p2', { authorization: `Bearer ${p2viewer}` });
    await until(() => c.messages.length === 1, 'snapshot');
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    tokens.revoke('p2-viewer');
    clock.advance(30_000);
    expect(await closed).toBe(1008);
    expect(hub.size).toBe(0);
  });
});
