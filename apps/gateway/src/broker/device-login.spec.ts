import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { CredentialsFile, DeviceAuthenticator, hashPassword } from '../auth/device-credentials';
import { LoginQueue } from '../auth/login.queue';
import { VerifiedCredentialCache } from '../auth/verified-credential.cache';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ConnectAttempt, DeviceLogin } from './device-login';
import * as wire from '../testing/mqtt-wire';
import { RawMqttClient } from '../testing/mqtt-wire';
import { startTestBroker } from '../testing/test-broker';

// Real aedes, real MQTT.js clients and raw sockets on loopback; scrypt checks take ~100 ms each.
jest.setTimeout(60_000);

let file: CredentialsFile;
beforeAll(async () => {
  const device = async (username: string) => ({ username, hash: await hashPassword(`pw-${username}`), publish: ['park/tp/b1/#'], createdAt: '2026-11-27T00:00:00Z' });
  file = { version: 1, devices: await Promise.all(['b1', 'b1-gw', 'b2-gw'].map(device)) };
});

const clients: MqttClient[] = [];
const raws: RawMqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(raws.splice(0).map((r) => r.close()));
});

/** Connects with MQTT.js: the CONNACK return code (0 = accepted). */
function connackOf(url: string, opts: IClientOptions): Promise<{ code: number; client: MqttClient }> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve({ code: 0, client }));
    client.once('error', (e: Error & { code?: number }) => (typeof e.code === 'number' ? resolve({ code: e.code, client }) : reject(e)));
  });
}

async function raw(port: number): Promise<RawMqttClient> {
  const r = await RawMqttClient.open(port);
  raws.push(r);
  return r;
}

const closedOf = (c: MqttClient) => new Promise<void>((r) => (c.connected ? c.once('close', () => r()) : r()));

describe('finding 5: device identity (contract §8) on the embedded broker', () => {
  let env: Awaited<ReturnType<typeof startTestBroker>>;
  beforeAll(async () => {
    env = await startTestBroker({ authenticator: new DeviceAuthenticator(file) });
  });
  afterAll(() => env.broker.stop());

  const as = (username: string, clientId: string, extra: IClientOptions = {}) => connackOf(env.url, { username, password: `pw-${username}`, clientId, ...extra });

  it.each([
    ['b1-gw', 'b1-gw', 0],
    ['b1-gw', 'b1-gw-roof-7', 0],
    ['b1', 'b1-7', 0],
    ['b1-gw', 'roof-7', 2],
    ['b1-gw', 'mqttjs_12ab', 2],
    ['b2-gw', 'b1-gw-1', 2],
    // b1's prefix rule fits, but the id belongs to the longer username b1-gw
    ['b1', 'b1-gw-1', 2],
    ['b1', 'b1-gw', 2],
  ])('device %s with client id %s: CONNACK %i', async (username, clientId, code) => {
    expect((await as(username, clientId)).code).toBe(code);
  });

  it('a device cannot take over another device’s client id (and so disconnect it); the same device reconnecting can', async () => {
    const { client: gw } = await as('b1-gw', 'b1-gw-1');
    const refusedBefore = env.metrics.mqttRefused.identifier;
    for (let i = 0; i < 3; i++) {
      expect((await as('b1', 'b1-gw-1')).code).toBe(2);
      expect((await as('b2-gw', 'b1-gw-1')).code).toBe(2);
    }
    expect(gw.connected).toBe(true);
    expect(env.metrics.mqttRefused.identifier).toBe(refusedBefore + 6);
    // MQTT's own takeover [MQTT-3.1.4-2]: the device itself, reconnecting, replaces its old connection
    const gone = closedOf(gw);
    expect((await as('b1-gw', 'b1-gw-1')).code).toBe(0);
    await gone;
  });

  it('finding 5: a 20,000-character client id over MQTT 3.1.1 is refused (0x02), and so is one of 129 bytes; 128 are fine', async () => {
    expect((await as('b1-gw', `b1-gw-${'x'.repeat(20_000)}`)).code).toBe(2);
    expect((await as('b1-gw', `b1-gw-${'x'.repeat(129 - 6)}`)).code).toBe(2);
    expect((await as('b1-gw', `b1-gw-${'x'.repeat(128 - 6)}`)).code).toBe(0);
  });

  it('also over MQTT 3.1, whose 23-character limit the contract lifts to 128 bytes', async () => {
    const r = await raw(env.port);
    expect(await r.connect({ protocolVersion: 3, clientId: `b1-gw-${'x'.repeat(200)}`, username: 'b1-gw', password: 'pw-b1-gw' })).toBe(2);
    const ok = await raw(env.port);
    expect(await ok.connect({ protocolVersion: 3, clientId: `b1-gw-${'x'.repeat(60)}`, username: 'b1-gw', password: 'pw-b1-gw' })).toBe(0);
  });

  it('finding 5: a zero-length client id is accepted with a clean session only [MQTT-3.1.3-8]', async () => {
    const persistent = await raw(env.port);
    expect(await persistent.connect({ clientId: '', clean: false, username: 'b1-gw', password: 'pw-b1-gw' })).toBe(2);
    await persistent.closed;
    const clean = await raw(env.port);
    expect(await clean.connect({ clientId: '', clean: true, username: 'b1-gw', password: 'pw-b1-gw' })).toBe(0);
  });

  it('a username over 128 bytes is refused (0x04) without a password check', async () => {
    const r = await raw(env.port);
    expect(await r.connect({ clientId: 'x', username: 'u'.repeat(129), password: 'pw' })).toBe(4);
  });

  it('MQTT 5 is refused as an unacceptable protocol version (aedes speaks 3.1 and 3.1.1)', async () => {
    const r = await raw(env.port);
    expect(await r.connect({ protocolVersion: 5, clientId: 'b1-gw', username: 'b1-gw', password: 'pw-b1-gw' })).toBe(1);
  });
});

describe('finding 5 with MQTT_AUTH=off: only the rules that need no username apply', () => {
  let env: Awaited<ReturnType<typeof startTestBroker>>;
  beforeAll(async () => {
    env = await startTestBroker();
  });
  afterAll(() => env.broker.stop());

  it('any client id up to 128 bytes; zero-length with a clean session only', async () => {
    expect((await connackOf(env.url, { clientId: 'anything-at-all' })).code).toBe(0);
    expect((await connackOf(env.url, { clientId: 'c'.repeat(129) })).code).toBe(2);
    const persistent = await raw(env.port);
    expect(await persistent.connect({ clientId: '', clean: false })).toBe(2);
    const clean = await raw(env.port);
    expect(await clean.connect({ clientId: '', clean: true })).toBe(0);
  });
});

describe('finding 6: a login flood must not starve real devices', () => {
  it('a reconnect is verified from the cache: no scrypt', async () => {
    const cache = new VerifiedCredentialCache(60_000, () => Date.now());
    const env = await startTestBroker({ authenticator: new DeviceAuthenticator(file, { cache, queue: new LoginQueue(2, 10) }) });
    try {
      for (let i = 0; i < 4; i++) {
        const { code, client } = await connackOf(env.url, { username: 'b2-gw', password: 'pw-b2-gw', clientId: 'b2-gw-1' });
        expect(code).toBe(0);
        await client.endAsync();
      }
      expect(cache.hits).toBe(3);
      // a wrong password is never answered from the cache
      expect((await connackOf(env.url, { username: 'b2-gw', password: 'nope', clientId: 'b2-gw-1' })).code).toBe(4);
      expect(cache.hits).toBe(3);
    } finally {
      await env.broker.stop();
    }
  });

  it('beyond the bound on pending password checks, a login is refused at once with CONNACK 0x03; a cached device still gets in', async () => {
    const cache = new VerifiedCredentialCache(60_000, () => Date.now());
    const queue = new LoginQueue(1, 1);
    const env = await startTestBroker({ authenticator: new DeviceAuthenticator(file, { cache, queue }) });
    try {
      const warm = await connackOf(env.url, { username: 'b1', password: 'pw-b1', clientId: 'b1-1' });
      expect(warm.code).toBe(0);
      await warm.client.endAsync();
      // A flood holds every slot: one check running, one waiting (held here until released).
      const held: Array<() => void> = [];
      const hold = () => queue.run(() => new Promise<void>((r) => held.push(r)));
      const holding = [hold(), hold()];
      const bogus = await Promise.all(Array.from({ length: 4 }, (_, i) => connackOf(env.url, { username: 'b1-gw', password: `guess-${i}`, clientId: `b1-gw-${i}` })));
      expect(bogus.map((b) => b.code)).toEqual([3, 3, 3, 3]);
      expect(env.metrics.mqttRefused.busy).toBe(4);
      // the known device logs in from the cache meanwhile
      expect((await connackOf(env.url, { username: 'b1', password: 'pw-b1', clientId: 'b1-1' })).code).toBe(0);
      // once the flood is over, a check runs again
      held.splice(0).forEach((r) => r());
      await holding[0];
      held.splice(0).forEach((r) => r());
      await Promise.all(holding);
      expect((await connackOf(env.url, { username: 'b1-gw', password: 'guess', clientId: 'b1-gw-9' })).code).toBe(4);
      expect((await connackOf(env.url, { username: 'b1-gw', password: 'pw-b1-gw', clientId: 'b1-gw-9' })).code).toBe(0);
    } finally {
      await env.broker.stop();
    }
  });

  it('connection attempts per address are limited: beyond the burst the connection is closed before any CONNACK', async () => {
    const env = await startTestBroker({ connectRate: { ratePerS: 0.001, burst: 3 } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push(await (await raw(env.port)).connect({ clientId: `dev-${i}` }));
      expect(codes).toEqual([0, 0, 0, 'closed', 'closed']);
      expect(env.metrics.mqttRefused.rate_limited).toBe(2);
    } finally {
      await env.broker.stop();
    }
  });

  it('failed logins are logged with bounded, escaped strings, at most 20 lines per 10 s, and the rest summed up', async () => {
    const clock = new ManualClock(Date.now());
    const env = await startTestBroker({ authenticator: new DeviceAuthenticator(file), clock });
    try {
      // a 120 KB log line came from one such attempt: a huge client id and username
      const huge = await raw(env.port);
      expect(await huge.connect({ clientId: `\u001b[2J${'c'.repeat(60_000)}`, username: `u\n${'u'.repeat(60_000)}`, password: 'x' })).toBe(2);
      const first = env.logLines.find((l) => l.msg.startsWith('MQTT connection refused'));
      expect(first).toBeDefined();
      expect(JSON.stringify(first).length).toBeLessThan(1200);
      expect(first?.clientId).toBe(`\\u001b[2J${'c'.repeat(124)}…(60004 chars)`);
      // 29 more refusals (wrong client ids: no scrypt needed to refuse them)
      for (let i = 0; i < 29; i++) expect(await (await raw(env.port)).connect({ clientId: `x-${i}`, username: 'b1', password: 'pw-b1' })).toBe(2);
      const refusedLines = () => env.logLines.filter((l) => l.msg.startsWith('MQTT connection refused')).length;
      expect(refusedLines()).toBe(20);
      clock.advance(10_000);
      expect(env.logLines.filter((l) => l.suppressed === 10)).toHaveLength(1);
      expect(env.metrics.mqttRefused.identifier).toBe(30);
    } finally {
      await env.broker.stop();
    }
  });
});

describe('found by the fuzz harness', () => {
  it('a device may publish right behind its CONNECT, before the CONNACK arrives (MQTT 3.1.1 §3.1.4)', async () => {
    const env = await startTestBroker({ authenticator: new DeviceAuthenticator(file) });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await raw(env.port);
        r.send(wire.connect({ clientId: `b1-gw-${i}`, username: 'b1-gw', password: 'pw-b1-gw' }), wire.publish({ topic: 'park/tp/b1/energy/m1', payload: `{"power_kw": ${i}}`, qos: 1, messageId: 1 }));
        expect((await r.next(wire.PacketType.CONNACK)).body[1]).toBe(0);
        expect(wire.messageIdOf(await r.next(wire.PacketType.PUBACK))).toBe(1);
      }
      expect(env.sink.lines).toHaveLength(5);
    } finally {
      await env.broker.stop();
    }
  });

  it('MQTT_AUTH=off: a PUBLISH in the same write as a CONNECT that is refused is not ingested, even when it arrives in a second socket read', async () => {
    // aedes hands on a packet completed by a later socket read while the
    // CONNECT before it is still being processed (before its client id is
    // even set): a PUBLISH just over 64 KiB behind the CONNECT is enough.
    const env = await startTestBroker();
    try {
      const reading = '{"power_kw": 99}';
      const payload = reading + ' '.repeat(65_530 - reading.length); // valid JSON, 64 KiB at most
      for (let i = 0; i < 10; i++) {
        const r = await raw(env.port);
        // refused by contract §8: a zero-length client id with a persistent session
        r.send(wire.connect({ clientId: '', clean: false }), wire.publish({ topic: 'park/tp/b1/energy/m1', payload, qos: 1, messageId: 1 }));
        await r.closed;
        // refused with 0x02, or closed at once for the early PUBLISH: never a PUBACK
        expect(r.received.filter((p) => p.type !== wire.PacketType.CONNACK || p.body[1] !== 2)).toEqual([]);
      }
      expect(env.sink.lines).toEqual([]);
      expect(env.metrics.messagesReceived).toBe(0);
    } finally {
      await env.broker.stop();
    }
  });
});

describe('DeviceLogin with a client certificate (contract §8, TLS_CA)', () => {
  const login = () => new DeviceLogin(new DeviceAuthenticator(file), new GatewayMetrics(), pino({ level: 'silent' }), new ManualClock(0));
  const attempt = (clientId: string, extra: Partial<ConnectAttempt> = {}): ConnectAttempt => ({ clientId, clean: true, protocolVersion: 4, remote: '10.0.0.1', ...extra });

  it.each<[string, Partial<ConnectAttempt>, { ok: boolean; returnCode?: number; username?: string }]>([
    ['b1-gw-7', { certificateName: 'b1-gw' }, { ok: true, username: 'b1-gw' }],
    ['b1-gw', { certificateName: 'b1-gw', username: 'b1-gw' }, { ok: true, username: 'b1-gw' }],
    // the CN names the device: its client id must fit the CN
    ['b2-gw-1', { certificateName: 'b1-gw' }, { ok: false, returnCode: 2 }],
    ['b1-gw-1', { certificateName: 'b1' }, { ok: false, returnCode: 2 }],
    // an unknown CN is no login; nor is a username other than the CN without its password
    ['x-1', { certificateName: 'x' }, { ok: false, returnCode: 4 }],
    ['b2-gw', { certificateName: 'b1-gw', username: 'b2-gw' }, { ok: false, returnCode: 4 }],
    ['b2-gw', { certificateName: 'b1-gw', username: 'b2-gw', password: 'pw-b2-gw' }, { ok: true, username: 'b2-gw' }],
  ])('client id %s with %j', async (clientId, extra, expected) => {
    const outcome = await login().admit(attempt(clientId, extra));
    expect(outcome.ok).toBe(expected.ok);
    if (outcome.ok) expect(outcome.identity?.username).toBe(expected.username);
    else expect(outcome.returnCode).toBe(expected.returnCode);
  });
});
