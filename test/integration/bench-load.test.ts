/**
 * Issue 10: the benchmark's instrument must count right. The lean QoS 1
 * load generator against Debian's Mosquitto, checked by a subscriber: every
 * message it says it sent arrives, once, as a valid reading of its meter,
 * with timestamps that never repeat per meter (a repeated one would
 * overwrite a point in InfluxDB and look like a loss); and the peer's
 * reading → point function, which Node-RED runs, gives the gateway's schema.
 */
import mqtt, { MqttClient } from 'mqtt';
import { LoadGenerator } from '../bench/ingest/load.generator';
import { benchParkModel, deviceConnections, loadSensors, singleConnection, type LoadShape } from '../bench/ingest/load.plan';
import { POINT_FUNCTION, nodeRedFlow } from '../bench/ingest/node-red.peer';
import { startMosquitto } from '../support/services';

jest.setTimeout(120_000);

const SHAPE: LoadShape = { buildings: 3, meters: 4, registered: 30 };

type Mosq = Awaited<ReturnType<typeof startMosquitto>>;
let broker: Mosq;
let subscriber: MqttClient;
let generator: LoadGenerator;
const received: Array<{ topic: string; payload: string }> = [];

beforeAll(async () => {
  broker = await startMosquitto({ persistence: false });
  subscriber = await mqtt.connectAsync(broker.url, { clientId: 'bench-load-check', reconnectPeriod: 0 });
  await subscriber.subscribeAsync('park/#', { qos: 1 });
  subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  generator = await LoadGenerator.start(2);
});

afterAll(async () => {
  await generator?.stop();
  await subscriber?.endAsync();
  await broker?.dispose();
});

async function receivedAtLeast(n: number): Promise<void> {
  while (received.length < n) await new Promise((r) => setTimeout(r, 50));
}

test('devices own the meters of part of one building, and their credentials allow only that building', () => {
  const devices = deviceConnections({ buildings: 250, meters: 20, registered: 5000 }, 1000);
  expect(devices).toHaveLength(1000);
  expect(devices.every((d) => d.sensors.length === 5 && d.publish.length === 1 && d.username === d.clientId)).toBe(true);
  expect(new Set(devices.flatMap((d) => d.sensors)).size).toBe(5000);
  expect(devices[7]).toMatchObject({ clientId: 'dev0007', publish: ['park/bench/b001/#'], sensors: [35, 36, 37, 38, 39] });
  // More devices than meters: the extra ones are idle but still have a building.
  const idle = deviceConnections(SHAPE, 40);
  expect(idle.filter((d) => d.sensors.length === 0)).toHaveLength(28);
  expect(idle.every((d) => d.publish.length === 1)).toBe(true);
  expect(singleConnection(SHAPE)[0].sensors).toHaveLength(12);
});

test('the park model registers every meter the load addresses, the silent ones and the probe', () => {
  const model = benchParkModel(SHAPE) as { buildings: Array<{ id: string; sensors: Array<{ id: string }> }> };
  expect(model.buildings.map((b) => b.sensors.length)).toEqual([11, 10, 10]);
  for (const s of loadSensors(SHAPE)) {
    expect(model.buildings.find((b) => b.id === s.building)?.sensors.some((m) => m.id === s.sensor)).toBe(true);
  }
});

test('every message the generator counts as sent arrives once, acknowledged, with a fresh timestamp per meter', async () => {
  const sensors = loadSensors(SHAPE);
  const connected = await generator.connect({
    url: broker.url,
    sensors,
    connections: deviceConnections(SHAPE, 6),
    window: 4,
    keepaliveS: 60,
    sourceAddresses: ['127.0.0.1', '127.0.0.2'],
    concurrency: 3,
    connackTimeoutMs: 30_000,
  });
  expect(connected).toMatchObject({ connected: 6, failed: 0 });

  const steps = [];
  let fromTs = Date.now();
  for (const rate of [300, 600]) {
    const { published, acked } = generator.run(rate, 1, fromTs, 60_000);
    const p = await published;
    const a = await acked;
    // What was due is either sent or held back (full windows); nothing else.
    expect(p.sent + p.heldBack).toBe(rate);
    expect(a).toMatchObject({ acked: p.sent, unacked: 0, strayAcks: 0, disconnects: 0 });
    steps.push(p);
    fromTs = p.lastTs + 1;
  }
  const total = steps.reduce((n, s) => n + s.sent, 0);
  await receivedAtLeast(total);
  await new Promise((r) => setTimeout(r, 300));
  expect(received).toHaveLength(total);

  const lastTs = new Map<string, number>();
  const lastEnergy = new Map<string, number>();
  for (const { topic, payload } of received) {
    expect(sensors.some((s) => s.topic === topic)).toBe(true);
    const r = JSON.parse(payload) as { ts: number; power_kw: number; energy_kwh: number };
    expect(Object.keys(r)).toEqual(['ts', 'power_kw', 'energy_kwh']);
    expect(r.ts).toBeGreaterThan(lastTs.get(topic) ?? 0);
    expect(r.energy_kwh).toBeGreaterThanOrEqual(lastEnergy.get(topic) ?? 0);
    lastTs.set(topic, r.ts);
    lastEnergy.set(topic, r.energy_kwh);
  }
  // Each step's readings lie in its own time range, so InfluxDB counts them apart.
  for (const s of steps) {
    const inRange = received.filter(({ payload }) => {
      const ts = (JSON.parse(payload) as { ts: number }).ts;
      return ts >= s.firstTs && ts <= s.lastTs;
    });
    expect(inRange).toHaveLength(s.sent);
  }
});

test("the peer's function node turns a reading into the gateway's energy point", () => {
  // Node-RED runs the body as function(msg); so do we.
  const toPoint = new Function('msg', POINT_FUNCTION) as (msg: { topic: string; payload: unknown }) => { payload: unknown };
  const out = toPoint({ topic: 'park/bench/b007/energy/m003', payload: { ts: 1764201600000, power_kw: 41.5, energy_kwh: 1000.25 } });
  expect(out.payload).toEqual({
    measurement: 'energy',
    tags: { park: 'bench', building: 'b007', sensor: 'm003', source: 'grid' },
    fields: { power_kw: 41.5, energy_kwh: 1000.25 },
    timestamp: 1764201600000,
  });
  const flow = nodeRedFlow({ brokerHost: '127.0.0.1', brokerPort: 1883, influxHost: '127.0.0.1', influxPort: 8086, influxDb: 'x', joinCount: 1000, joinTimeoutS: 1 }) as Array<Record<string, unknown>>;
  expect(flow.find((n) => n.type === 'mqtt in')).toMatchObject({ qos: '1', topic: 'park/#', datatype: 'json' });
  expect(flow.find((n) => n.type === 'mqtt-broker')).toMatchObject({ cleansession: false, clientid: 'bench-node-red' });
  expect(flow.find((n) => n.type === 'join')).toMatchObject({ mode: 'custom', build: 'array', count: '1000', timeout: '1' });
  expect(flow.find((n) => n.type === 'influxdb batch')).toMatchObject({ precision: 'ms' });
});
