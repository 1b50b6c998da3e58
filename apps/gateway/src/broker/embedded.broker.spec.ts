import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { DeviceAuthenticator, hashPassword, readCredentialsFile, writeCredentialsFile } from '../auth/device-credentials';
import { MemorySink } from '../testing/memory.sink';
import { messageIdOf, PacketType, publish, pubrel, RawMqttClient } from '../testing/mqtt-wire';
import { startTestBroker } from '../testing/test-broker';
import { MAX_PACKET_BYTES } from './embedded.broker';

// Real aedes, real mqtt.js clients, loopback TCP; scrypt checks take ~100 ms each.
jest.setTimeout(30_000);


/** A broker on a free port with the real ingest pipeline behind it. */
const startBroker = (authenticator?: DeviceAuthenticator) => startTestBroker({ authenticator });

const clients: MqttClient[] = [];

/** Connects with mqtt.js; resolves on CONNACK 0, rejects with the CONNACK error otherwise. */
function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

const closed = (c: MqttClient) => new Promise<void>((r) => (c.connected ? c.once('close', () => r()) : r()));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

describe('EmbeddedBroker with MQTT_AUTH=required', () => {
  let dir: string;
  let env: Awaited<ReturnType<typeof startBroker>>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-broker-'));
    const file = path.join(dir, 'devices.json');
    writeCredentialsFile(file, {
      version: 1,
      devices: [{ username: 'b1-gw', hash: await hashPassword('pw-b1'), publish: ['park/tp/b1/#'], createdAt: new Date().toISOString() }],
    });
    env = await startBroker(new DeviceAuthenticator(readCredentialsFile(file, { mustExist: true })));
  });
  afterAll(async () => {
    await env.broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const device = () => connect(env.url, { username: 'b1-gw', password: 'pw-b1', clientId: `b1-gw-${clients.length}` });

  it('refuses a wrong password with CONNACK 4', async () => {
    await expect(connect(env.url, { username: 'b1-gw', password: 'nope', clientId: 'b1-gw' })).rejects.toMatchObject({ code: 4 });
  });

  it('refuses an anonymous client', async () => {
    await expect(connect(env.url)).rejects.toMatchObject({ code: 4 });
  });

  it('ingests a device publishing within its ACL; a QoS 1 PUBACK means the reading is queued', async () => {
    const c = await device();
    const before = env.sink.lines.length;
    await c.publishAsync('park/tp/b1/energy/m1', JSON.stringify({ power_kw: 41.5 }), { qos: 1 });
    // the PUBACK arrived: the line must already be in the sink
    expect(env.sink.lines.slice(before)).toEqual([expect.stringMatching(/^energy,building=b1,park=tp,sensor=m1,source=grid power_kw=41\.5 \d{13}$/)]);
    expect(env.broker.status()).toMatchObject({ mode: 'embedded', up: true, url: env.url, clients: 1 });
  });

  it('rejects a publish outside the ACL as unauthorized and disconnects the device', async () => {
    const c = await device();
    const before = { lines: env.sink.lines.length, unauthorized: env.metrics.rejected.unauthorized };
    const gone = closed(c);
    c.publish('park/tp/b2/energy/m1', JSON.stringify({ power_kw: 1 }), { qos: 1 });
    await gone;
    expect(env.metrics.rejected.unauthorized).toBe(before.unauthorized + 1);
    expect(env.sink.lines.length).toBe(before.lines);
    expect(env.rejections.latest()[0]).toMatchObject({ reason: 'unauthorized', topic: 'park/tp/b2/energy/m1', username: 'b1-gw', excerpt: '{"power_kw":1}' });
    expect(env.rejections.latest()[0].detail).toBe('user "b1-gw" may not publish to park/tp/b2/energy/m1');
  });

  it('refuses subscriptions that reach telemetry or $SYS, and grants others', async () => {
    const c = await device();
    // mqtt.js reports a SUBACK holding 0x80 as an error carrying the packet
    const refusal = await c.subscribeAsync({ 'park/#': { qos: 1 }, '$SYS/#': { qos: 0 }, '+/tp/#': { qos: 0 }, 'cmd/tp/b1': { qos: 1 } }).then(
      () => undefined,
      (e: { message: string; packet?: { granted?: number[] } }) => e,
    );
    expect(refusal?.message).toBe('Subscribe error: Unspecified error');
    expect(refusal?.packet?.granted).toEqual([128, 128, 128, 1]);
    expect(c.connected).toBe(true);
    // the permitted subscription alone is granted cleanly
    await expect(c.subscribeAsync('cmd/tp/b1/#', { qos: 0 })).resolves.toEqual([{ topic: 'cmd/tp/b1/#', qos: 0 }]);
  });

  it('counts a 65 KiB payload as too_large and keeps the connection', async () => {
    const c = await device();
    const before = env.metrics.rejected.too_large;
    await c.publishAsync('park/tp/b1/energy/m1', Buffer.alloc(65 * 1024, 0x20), { qos: 1 });
    expect(env.metrics.rejected.too_large).toBe(before + 1);
    expect(env.rejections.latest()[0]).toMatchObject({ reason: 'too_large', topic: 'park/tp/b1/energy/m1', detail: 'payload is 66560 bytes; the limit is 65536' });
    expect(c.connected).toBe(true);
    await c.publishAsync('park/tp/b1/occupancy/o1', '{"count": 3}', { qos: 1 });
    expect(env.sink.lines[env.sink.lines.length - 1]).toMatch(/^occupancy,building=b1,park=tp,sensor=o1,zone=lobby count=3i /);
  });

  it('closes the connection on a 2 MiB packet before buffering it, and counts it too_large', async () => {
    const c = await device();
    const before = { tooLarge: env.metrics.rejected.too_large, lines: env.sink.lines.length };
    const gone = closed(c);
    c.publish('park/tp/b1/energy/m1', Buffer.alloc(2 * 1024 * 1024, 0x20), { qos: 0 });
    await gone;
    expect(env.metrics.rejected.too_large).toBe(before.tooLarge + 1);
    expect(env.sink.lines.length).toBe(before.lines);
    const entry = env.rejections.latest()[0];
    expect(entry.reason).toBe('too_large');
    expect(entry.detail).toMatch(/^MQTT packet of 20971\d\d bytes from .*; the connection was closed$/);
    expect(2 * 1024 * 1024).toBeGreaterThan(MAX_PACKET_BYTES);
  });
});

describe('EmbeddedBroker with MQTT_AUTH=off', () => {
  let env: Awaited<ReturnType<typeof startBroker>>;
  beforeAll(async () => {
    env = await startBroker();
  });
  afterAll(() => env.broker.stop());

  it('accepts anonymous devices and ingests before the PUBACK', async () => {
    const c = await connect(env.url);
    await c.publishAsync('park/tp/b2/carbon/boiler', '{"emission_kgco2e": 12.5}', { qos: 1 });
    expect(env.sink.lines).toContainEqual(expect.stringMatching(/^carbon,building=b2,park=tp,sensor=boiler emission_kgco2e=12\.5 \d{13}$/));
  });

  it('counts bad telemetry and keeps the device connected', async () => {
    const c = await connect(env.url);
    const before = env.metrics.rejectedTotal;
    await c.publishAsync('park/tp/b1/energy', '{"power_kw": 1}', { qos: 1 });
    await c.publishAsync('park/tp/b1/energy/m1', 'not json', { qos: 1 });
    await c.publishAsync('park/tp/b9/energy/m1', '{"power_kw": 1}', { qos: 1 });
    expect(env.metrics.rejectedTotal).toBe(before + 3);
    expect(env.rejections.latest(3).map((e) => e.reason)).toEqual(['unknown_building', 'bad_json', 'bad_topic']);
    expect(c.connected).toBe(true);
  });

  it('finding 8: retained telemetry is stored once and never re-delivered (the retain flag is ignored, contract §2), other topics keep it', async () => {
    const device = await connect(env.url);
    const before = env.sink.lines.length;
    await device.publishAsync('park/tp/b1/energy/m1', '{"power_kw": 7}', { qos: 1, retain: true });
    expect(env.sink.lines.slice(before)).toEqual([expect.stringMatching(/power_kw=7 /)]);
    await device.publishAsync('cmd/tp/b1', 'retained command', { qos: 1, retain: true });

    const viewer = await connect(env.url);
    const seen: Array<[string, string, boolean]> = [];
    const marker = new Promise<void>((resolve) =>
      viewer.on('message', (topic, payload, packet) => {
        seen.push([topic, payload.toString(), packet.retain]);
        if (payload.toString() === 'marker') resolve();
      }),
    );
    await viewer.subscribeAsync({ 'park/tp/b1/energy/m1': { qos: 1 }, 'cmd/tp/b1': { qos: 1 } });
    // Retained messages are sent right after the SUBACK; a live message
    // published after it marks the end of that replay.
    await device.publishAsync('park/tp/b1/energy/m1', 'marker', { qos: 1 });
    await marker;
    expect(seen).toEqual([
      ['cmd/tp/b1', 'retained command', true],
      ['park/tp/b1/energy/m1', 'marker', false],
    ]);
    // the marker is not JSON: one more rejection, and still one stored line of the retained reading
    expect(env.sink.lines.slice(before).filter((l) => /power_kw=7 /.test(l))).toHaveLength(1);
  });
});

describe('finding 8: a QoS 2 message is ingested exactly once', () => {
  const raws: RawMqttClient[] = [];
  afterEach(async () => {
    await Promise.all(raws.splice(0).map((r) => r.close()));
  });
  const open = async (port: number) => {
    const raw = await RawMqttClient.open(port);
    raws.push(raw);
    return raw;
  };
  const reading = (n: number) => JSON.stringify({ ts: Date.now() - 1000, power_kw: n });
  const stored = (sink: MemorySink, n: number) => sink.lines.filter((l) => l.includes(`power_kw=${n} `)).length;

  /** A sink whose appends become durable only once released (a slow disk): a DUP can arrive while the first copy is in flight. */
  class HeldSink extends MemorySink {
    private held: Array<() => void> | undefined = [];
    override append(text: string, lines: number, onDurable: (err?: Error) => void): void {
      if (this.held) this.held.push(() => super.append(text, lines, onDurable));
      else super.append(text, lines, onDurable);
    }
    release(): void {
      const held = this.held ?? [];
      this.held = undefined;
      for (const f of held) f();
    }
    get waiting(): number {
      return this.held?.length ?? 0;
    }
  }

  it('a DUP retransmission before PUBREL gets a PUBREC but is not ingested again; after PUBCOMP the id is free for a new message', async () => {
    const env = await startTestBroker();
    try {
      const raw = await open(env.port);
      expect(await raw.connect({ clientId: 'qos2-dev' })).toBe(0);
      raw.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(21), qos: 2, messageId: 5 }));
      expect(messageIdOf(await raw.next(PacketType.PUBREC))).toBe(5);
      for (let i = 0; i < 3; i++) {
        raw.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(21), qos: 2, messageId: 5, dup: true }));
        expect(messageIdOf(await raw.next(PacketType.PUBREC))).toBe(5);
      }
      raw.send(pubrel(5));
      expect(messageIdOf(await raw.next(PacketType.PUBCOMP))).toBe(5);
      expect(stored(env.sink, 21)).toBe(1);
      expect(env.metrics.readingsAccepted).toBe(1);
      // the id names a new message once the exchange is over
      raw.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(22), qos: 2, messageId: 5 }));
      await raw.next(PacketType.PUBREC);
      raw.send(pubrel(5));
      await raw.next(PacketType.PUBCOMP);
      expect(stored(env.sink, 22)).toBe(1);
    } finally {
      await env.broker.stop();
    }
  });

  it('a DUP that arrives while the first copy is still being made durable is not ingested twice', async () => {
    const sink = new HeldSink();
    const env = await startTestBroker({ sink });
    try {
      const raw = await open(env.port);
      expect(await raw.connect({ clientId: 'qos2-race' })).toBe(0);
      raw.send(
        publish({ topic: 'park/tp/b1/energy/m1', payload: reading(31), qos: 2, messageId: 9 }),
        publish({ topic: 'park/tp/b1/energy/m1', payload: reading(31), qos: 2, messageId: 9, dup: true }),
      );
      // both have reached ingest: the first as a message, the second as a barrier behind it
      for (let i = 0; i < 100 && sink.waiting < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(sink.waiting).toBe(2);
      sink.release();
      await raw.next(PacketType.PUBREC);
      await raw.next(PacketType.PUBREC);
      raw.send(pubrel(9));
      await raw.next(PacketType.PUBCOMP);
      expect(stored(sink, 31)).toBe(1);
      expect(env.metrics.readingsAccepted).toBe(1);
    } finally {
      await env.broker.stop();
    }
  });

  it('a persistent session: the PUBLISH sent again after a reconnect, before PUBREL, is not ingested again', async () => {
    const env = await startTestBroker();
    try {
      const first = await open(env.port);
      expect(await first.connect({ clientId: 'qos2-persistent', clean: false })).toBe(0);
      first.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(41), qos: 2, messageId: 77 }));
      await first.next(PacketType.PUBREC);
      await first.close(); // the PUBREC was lost on the way, as far as the device knows
      const again = await open(env.port);
      expect(await again.connect({ clientId: 'qos2-persistent', clean: false })).toBe(0);
      again.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(41), qos: 2, messageId: 77, dup: true }));
      await again.next(PacketType.PUBREC);
      again.send(pubrel(77));
      await again.next(PacketType.PUBCOMP);
      expect(stored(env.sink, 41)).toBe(1);
      // a clean session starts afresh [MQTT-3.1.2-6]: the same id is a new message
      const fresh = await open(env.port);
      expect(await fresh.connect({ clientId: 'qos2-persistent', clean: true })).toBe(0);
      fresh.send(publish({ topic: 'park/tp/b1/energy/m1', payload: reading(42), qos: 2, messageId: 77 }));
      await fresh.next(PacketType.PUBREC);
      expect(stored(env.sink, 42)).toBe(1);
    } finally {
      await env.broker.stop();
    }
  });
});
