/**
 * Contract §8, durability: a reading is acknowledged to its device only once
 * it is in the write-ahead log on local disk. Proven against the real
 * gateway process, a real InfluxDB and real crashes: `kill -9` with lines not
 * yet written to InfluxDB, a full log, and a stop while InfluxDB hangs.
 * Every acknowledged reading ends in InfluxDB, once.
 */
import { MqttClient } from 'mqtt';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, metric } from '../support/mqtt';
import { influxQuery, rowsOf, startInflux, startMosquitto, waitFor } from '../support/services';

jest.setTimeout(240_000);

type Influx = Awaited<ReturnType<typeof startInflux>>;
let influx: Influx;
const gateways: Gateway[] = [];

beforeAll(async () => {
  influx = await startInflux();
});

afterAll(async () => {
  for (const gw of gateways) await gw.stop();
  await influx?.dispose();
});

async function gateway(name: string, env: Record<string, string>): Promise<Gateway> {
  const gw = await startGateway({ name, env: { INFLUX_URL: influx.url, INFLUX_DB: name, ...env } });
  gateways.push(gw);
  return gw;
}

/** The timestamps of the points stored for one sensor. */
async function storedTimes(db: string, sensor: string): Promise<number[]> {
  return rowsOf(await influxQuery(influx.url, db, `SELECT power_kw FROM energy WHERE sensor = '${sensor}'`)).map((r) => r.time as number);
}

/**
 * Publishes QoS 1 readings with distinct timestamps, a window of 50 in
 * flight, until stopped or the connection dies; remembers which were
 * acknowledged.
 */
function publisher(device: MqttClient, topic: string, t0: number, payloadOf: (ts: number, i: number) => string = (ts, i) => JSON.stringify({ ts, power_kw: i % 1000 })) {
  const acked = new Set<number>();
  const sent = new Set<number>();
  let running = true;
  const done = (async () => {
    for (let i = 0; running; ) {
      const batch: Promise<unknown>[] = [];
      for (let k = 0; k < 50; k++, i++) {
        const ts = t0 + i;
        sent.add(ts);
        batch.push(device.publishAsync(topic, payloadOf(ts, i), { qos: 1 }).then(() => acked.add(ts)));
      }
      const outcome = await Promise.allSettled(batch);
      if (outcome.some((o) => o.status === 'rejected')) return; // the connection is gone
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    acked,
    sent,
    /** Stops publishing; messages still unanswered count as unacknowledged (a dead connection never answers them). */
    stop: async () => {
      running = false;
      await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}

test('kill -9 with acknowledged readings not yet in InfluxDB: all of them are there after the restart, none twice', async () => {
  // A long flush interval keeps acknowledged lines out of InfluxDB when the
  // process dies: only the log can bring them back.
  const gw = await gateway('kill9', { INFLUX_FLUSH_MS: '3000', INFLUX_BATCH_SIZE: '100000' });
  const device = await connectDevice(gw.mqttUrl, { clientId: 'kill9-dev' });
  const pub = publisher(device, 'park/demo/b01/energy/m01', Date.now() - 3_600_000);
  await waitFor(() => pub.acked.size >= 1000, { what: '1000 acknowledged readings', timeoutMs: 60_000 });
  await gw.kill();
  await pub.stop();
  device.end(true);
  const acked = [...pub.acked];
  const before = new Set(await storedTimes('kill9', 'm01'));
  expect(acked.filter((ts) => !before.has(ts)).length).toBeGreaterThan(0); // the crash did lose them from memory

  await gw.restart();
  await waitFor(async () => (await storedTimes('kill9', 'm01')).length >= acked.length, { what: `${acked.length} readings after the replay`, timeoutMs: 60_000 });
  const after = await storedTimes('kill9', 'm01');
  const stored = new Set(after);
  expect(acked.filter((ts) => !stored.has(ts))).toEqual([]); // 0 missing
  expect(after.length).toBe(stored.size); // 0 duplicated
  expect(after.every((ts) => pub.sent.has(ts))).toBe(true); // nothing invented
  expect(await metric(gw.httpUrl, 'gateway_points_replayed_total')).toBeGreaterThan(0);
});

test('a full log acknowledges nothing more: the readings it refused are not stored, every acknowledged one is', async () => {
  await influx.stop();
  const gw = await gateway('walfull', { WAL_MAX_MB: '1' });
  const device = await connectDevice(gw.mqttUrl, { clientId: 'walfull-dev' });
  // 200 readings per message (~9 KB): the 1 MiB log is full after some 110
  // messages. Message i carries the readings base + 1000·i + k.
  const t0 = Date.now() - 3_600_000;
  const base = Date.now() - 3 * 86_400_000;
  const firstOf = (ts: number) => base + (ts - t0) * 1000;
  const pub = publisher(device, 'park/demo/b01/energy/m02', t0, (ts) => JSON.stringify(Array.from({ length: 200 }, (_, k) => ({ ts: firstOf(ts) + k, power_kw: k }))));
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_wal_full_refusals_total')) > 0, { what: 'the log to refuse an append', timeoutMs: 60_000 });
  await pub.stop();
  device.end(true);
  const refusedMessages = [...pub.sent].filter((ts) => !pub.acked.has(ts));
  expect(refusedMessages.length).toBeGreaterThan(0);
  await influx.restart();
  await waitFor(async () => (await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')) === 0, { what: 'the log confirmed', timeoutMs: 60_000 });
  const stored = new Set(await storedTimes('walfull', 'm02'));
  // Every reading of every acknowledged message is stored. Of the others,
  // the ones the full log refused are not; some may be (durable, but their
  // PUBACK died with the connection the refusal closed: a device sends
  // them again, and a point written twice is one point).
  for (const ts of pub.acked) expect(stored.has(firstOf(ts))).toBe(true);
  expect(refusedMessages.filter((ts) => !stored.has(firstOf(ts))).length).toBeGreaterThan(0);
});

test('SIGTERM while InfluxDB hangs: a clean exit, and every acknowledged reading arrives after the restart', async () => {
  const gw = await gateway('hang', {});
  const device = await connectDevice(gw.mqttUrl, { clientId: 'hang-dev' });
  const pub = publisher(device, 'park/demo/b02/energy/m01', Date.now() - 3_600_000);
  await waitFor(() => pub.acked.size >= 300, { what: '300 acknowledged readings' });
  process.kill(influx.pid, 'SIGSTOP'); // InfluxDB hangs: connections open, no answers
  try {
    const hungAt = pub.acked.size;
    await waitFor(() => pub.acked.size >= hungAt + 500, { what: 'acknowledgements to go on while InfluxDB hangs (the log takes them)' });
    await pub.stop();
    device.end(true);
    expect(await gw.stop()).toBe(0);
  } finally {
    process.kill(influx.pid, 'SIGCONT');
  }
  await gw.restart();
  const acked = [...pub.acked];
  await waitFor(async () => (await storedTimes('hang', 'm01')).length >= acked.length, { what: `${acked.length} readings after the restart`, timeoutMs: 90_000 });
  const stored = new Set(await storedTimes('hang', 'm01'));
  expect(acked.filter((ts) => !stored.has(ts))).toEqual([]);
});

describe('with an external broker (Mosquitto)', () => {
  type Mosq = Awaited<ReturnType<typeof startMosquitto>>;
  let mosquitto: Mosq;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => mosquitto?.dispose());

  test('the gateway acknowledges to the broker only what is durable: after kill -9 the broker delivers the rest again', async () => {
    const gw = await gateway('extkill', { MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: 'gw-extkill', INFLUX_FLUSH_MS: '3000', INFLUX_BATCH_SIZE: '100000' });
    const device = await connectDevice(mosquitto.url, { clientId: 'extkill-dev' });
    const pub = publisher(device, 'park/demo/b03/energy/m01', Date.now() - 3_600_000);
    await waitFor(async () => (await metric(gw.httpUrl, 'gateway_readings_accepted_total')) >= 1000, { what: '1000 readings taken by the gateway', timeoutMs: 60_000 });
    await gw.kill();
    await pub.stop();
    await device.endAsync();
    await gw.restart();
    const acked = [...pub.acked]; // acknowledged by Mosquitto to the device
    await waitFor(async () => (await storedTimes('extkill', 'm01')).length >= acked.length, { what: `${acked.length} readings after the restart`, timeoutMs: 60_000 });
    const stored = await storedTimes('extkill', 'm01');
    expect(acked.filter((ts) => !new Set(stored).has(ts))).toEqual([]);
    expect(stored.length).toBe(new Set(stored).size);
  });

  test('a retained reading is ingested once, not again each time the gateway subscribes', async () => {
    const gw = await gateway('retained', { MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: 'gw-retained' });
    const device = await connectDevice(mosquitto.url, { clientId: 'retained-dev' });
    // No ts: ingesting it again would store a second point, at the new receive time.
    await device.publishAsync('park/demo/b05/energy/m01', JSON.stringify({ power_kw: 42 }), { qos: 1, retain: true });
    await device.endAsync();
    await waitFor(async () => (await storedTimes('retained', 'm01')).length === 1, { what: 'the retained reading stored once' });
    await gw.restart(); // subscribes again: the broker sends the retained message with retain=1
    await waitFor(async () => ((await (await fetch(`${gw.httpUrl}/api/health`)).json()) as { broker: { up: boolean } }).broker.up, { what: 'the gateway subscribed again' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await storedTimes('retained', 'm01')).toHaveLength(1);
    expect(await metric(gw.httpUrl, 'gateway_readings_accepted_total')).toBe(0);
  });
});
