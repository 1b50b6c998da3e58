/**
 * `npm run drill`: the durability drill of issue 8 (contract §8: a reading
 * is acknowledged only once it is on local disk). A device publishes
 * single-reading QoS 1 messages at a steady rate (default 5,000/s) to the
 * real gateway (compiled build, embedded broker) and a private InfluxDB 1.6,
 * reconnecting whenever its connection drops, while the drill
 *
 *   (a) kill -9s the gateway and starts it again,
 *   (b) stops InfluxDB for 2 minutes,
 *   (c) sends SIGTERM to the gateway while InfluxDB hangs (SIGSTOP), then
 *       starts it again.
 *
 * Then it compares every acknowledged reading with what InfluxDB holds:
 * missing (acknowledged, not stored), duplicated (a reading stored more than
 * once) and invented (stored, never sent). Exit code 1 if any is not 0.
 *
 *   npm run drill -- [--rate 5000] [--outage-s 120] [--phase-s 30] [--window 2000]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { influxdb } from '../support/deploy';
import { Gateway, startGateway } from '../support/gateway';
import { metric } from '../support/mqtt';
import { influxQuery } from '../support/services';
import { QosOnePublisher } from '../bench/ingest/mqtt.publisher';

const { values: args } = parseArgs({
  options: { rate: { type: 'string' }, 'outage-s': { type: 'string' }, 'phase-s': { type: 'string' }, window: { type: 'string' } },
});
const RATE = Number(args.rate ?? 5000);
const OUTAGE_S = Number(args['outage-s'] ?? 120);
const PHASE_S = Number(args['phase-s'] ?? 30);
const WINDOW = Number(args.window ?? 2000);
const DB = 'drill';

const say = (line: string) => console.log(`[drill ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '../../apps/gateway/parks/demo.park.json'), 'utf8')) as {
  buildings: Array<{ id: string; sensors: Array<{ id: string; kind: string }> }>;
};
const TOPICS = demo.buildings.flatMap((b) => b.sensors.filter((s) => s.kind === 'energy').map((s) => `park/demo/${b.id}/energy/${s.id}`));

/** Reading i has ts = BASE + i: one timestamp per reading, so every stored point names its reading. */
const BASE = Date.now() - 6 * 3_600_000;
const SENT = 1;
const ACKED = 2;

/**
 * The device: paced at RATE messages/s, a window of WINDOW in flight, and a
 * new connection whenever the old one drops (what was in flight on it stays
 * unacknowledged: a real device would send it again; the drill does not, so
 * that every acknowledgement is the gateway's own).
 */
class Device {
  readonly state: Uint8Array;
  next = 0;
  acked = 0;
  reconnects = 0;
  private publisher?: QosOnePublisher;
  private inFlight = new Map<number, number>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly port: number,
    capacity: number,
  ) {
    this.state = new Uint8Array(capacity);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.publisher?.end();
  }

  private async connect(): Promise<QosOnePublisher | undefined> {
    try {
      const p = await QosOnePublisher.connect({ host: '127.0.0.1', port: this.port, clientId: 'drill-device', window: WINDOW, keepaliveS: 30, connackTimeoutMs: 5000 });
      const inFlight = new Map<number, number>();
      this.inFlight = inFlight;
      p.onAck = (id) => {
        const i = inFlight.get(id);
        if (i === undefined) return;
        inFlight.delete(id);
        this.state[i] = ACKED;
        this.acked++;
      };
      return p;
    } catch {
      return undefined;
    }
  }

  private async run(): Promise<void> {
    const started = performance.now();
    while (this.running) {
      if (!this.publisher || this.publisher.closed) {
        if (this.publisher) this.reconnects++;
        this.publisher = await this.connect();
        if (!this.publisher) {
          await sleep(200);
          continue;
        }
      }
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      const p = this.publisher;
      p.cork();
      while (this.next < due && this.next < this.state.length && p.canSend) {
        const i = this.next++;
        const id = p.publish(TOPICS[i % TOPICS.length], `{"ts":${BASE + i},"power_kw":${i % 5000}}`);
        this.inFlight.set(id, i);
        this.state[i] = SENT;
      }
      p.uncork();
      await sleep(5);
    }
  }
}

async function storedPerReading(influxUrl: string, count: number): Promise<Uint16Array> {
  const seen = new Uint16Array(count);
  const step = 200_000;
  for (let from = 0; from < count; from += step) {
    const series = await influxQuery(influxUrl, DB, `SELECT power_kw FROM energy WHERE time >= ${BASE + from}ms AND time < ${BASE + Math.min(count, from + step)}ms`);
    for (const s of series) for (const row of s.values) seen[(row[0] as number) - BASE]++;
  }
  return seen;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-drill-'));
  const influx = await influxdb.startInfluxdb({ dataDir: path.join(dataDir, 'influx') });
  process.env.INFLUX_URL = influx.url;
  const gw: Gateway = await startGateway({ name: 'drill', env: { INFLUX_URL: influx.url, INFLUX_DB: DB, LOG_LEVEL: 'warn', METRICS_AUTH: 'off' } });
  const capacity = RATE * (PHASE_S * 6 + OUTAGE_S + 120);
  const device = new Device(Number(new URL(gw.mqttUrl).port), capacity);
  const phases: Array<{ phase: string; seconds: number; published: number; acked: number; note?: string }> = [];
  const phase = async (name: string, body: () => Promise<string | void>) => {
    const t0 = performance.now();
    const [p0, a0] = [device.next, device.acked];
    say(`${name} ...`);
    const note = (await body()) ?? undefined;
    const seconds = (performance.now() - t0) / 1000;
    phases.push({ phase: name, seconds: Math.round(seconds), published: device.next - p0, acked: device.acked - a0, note });
    say(`${name}: ${Math.round((device.next - p0) / seconds)}/s published, ${Math.round((device.acked - a0) / seconds)}/s acknowledged${note ? `; ${note}` : ''}`);
  };
  try {
    say(`gateway ${gw.httpUrl}, InfluxDB ${influx.url}, ${RATE}/s single-reading QoS 1 messages over ${TOPICS.length} meters, window ${WINDOW}`);
    await phase('steady', async () => {
      await sleep(PHASE_S * 1000);
    });
    await phase('(a) kill -9 and restart', async () => {
      const t = performance.now();
      await gw.kill();
      await gw.restart();
      const down = ((performance.now() - t) / 1000).toFixed(1);
      await sleep(PHASE_S * 1000);
      return `gateway back after ${down} s`;
    });
    await phase(`(b) InfluxDB stopped ${OUTAGE_S} s`, async () => {
      await influx.stop();
      await sleep(OUTAGE_S * 1000);
      const wal = await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines');
      await influx.restart();
      await sleep(PHASE_S * 1000);
      return `${wal} lines waited in the write-ahead log when InfluxDB came back`;
    });
    await phase('(c) SIGTERM while InfluxDB hangs', async () => {
      process.kill(influx.pid, 'SIGSTOP');
      let note = '';
      try {
        await sleep(15_000);
        const t = performance.now();
        const code = await gw.stop(60_000);
        note = `gateway exited with code ${code} after ${((performance.now() - t) / 1000).toFixed(1)} s`;
      } finally {
        process.kill(influx.pid, 'SIGCONT');
      }
      await gw.restart();
      await sleep(PHASE_S * 1000);
      return note;
    });
    await device.stop();
    say('device stopped; waiting for the gateway to have written everything ...');
    for (let i = 0; i < 600; i++) {
      if ((await metric(gw.httpUrl, 'gateway_wal_unconfirmed_lines')) === 0) break;
      await sleep(500);
    }
    await sleep(1000);
    const stored = await storedPerReading(influx.url, device.next);
    let acked = 0;
    let missing = 0;
    let duplicated = 0;
    let invented = 0;
    let storedUnacked = 0;
    for (let i = 0; i < device.next; i++) {
      const s = device.state[i];
      if (s === ACKED) acked++;
      if (s === ACKED && stored[i] === 0) missing++;
      if (stored[i] > 1) duplicated++;
      if (stored[i] > 0 && s !== SENT && s !== ACKED) invented++;
      if (stored[i] > 0 && s === SENT) storedUnacked++;
    }
    const result = { rate: RATE, published: device.next, acknowledged: acked, missing, duplicated, invented, storedNotAcknowledged: storedUnacked, reconnects: device.reconnects, phases };
    console.log('\nphase                              s   published  acknowledged  note');
    for (const p of phases) console.log(`${p.phase.padEnd(32)} ${String(p.seconds).padStart(4)} ${String(p.published).padStart(11)} ${String(p.acked).padStart(13)}  ${p.note ?? ''}`);
    console.log(`\nacknowledged ${acked} of ${device.next} published; missing ${missing}, duplicated ${duplicated}, invented ${invented}; ${storedUnacked} stored without an acknowledgement (durable, their PUBACK lost with the connection); device reconnects ${device.reconnects}`);
    console.log(JSON.stringify(result));
    process.exitCode = missing + duplicated + invented === 0 ? 0 : 1;
  } finally {
    await device.stop().catch(() => undefined);
    await gw.stop();
    await influx.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
