/**
 * `npm run bench:logins`: issue 8 finding 6, "a login flood must not starve
 * real devices". A real gateway (compiled build, MQTT_AUTH=required, its
 * default login limits) with BENCH_DEVICES device credentials (default
 * 2,000; made once and kept in .data/bench-logins/), a private InfluxDB, and
 * MQTT.js devices connecting from 127.0.0.1 (a park behind one NAT address):
 *
 *   A. cold: every device connects at once right after the gateway started
 *      (each login is a scrypt; the queue refuses the excess with 0x03 and
 *      the devices retry after 1 s: MQTT.js with reconnectOnConnackError);
 *   B. warm: they all disconnect and reconnect at once (the credential cache);
 *   C. warm, during a flood: bogus CONNECTs (random usernames and passwords)
 *      from BENCH_FLOOD_SOCKETS sockets on other loopback addresses, as fast
 *      as the gateway answers, while every device reconnects at once; and one
 *      device that never logged in before (a cold login under the flood).
 *
 * Prints the time until every device is connected, the flood's rate and the
 * gateway's refusal counters. Options (env): BENCH_DEVICES=2000
 * BENCH_FLOOD_SOCKETS=200. On a shared machine the figures move with the load.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { CredentialsFile, hashPassword, newPassword, writeCredentialsFile } from '../../apps/gateway/src/auth/device-credentials';
import * as wire from '../../apps/gateway/src/testing/mqtt-wire';
import { ensureBuilt } from '../support/build';
import { influxdb, processes } from '../support/deploy';
import { startGateway } from '../support/gateway';
import { reapLeftovers } from '../support/leftovers';
import { metric } from '../support/mqtt';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 2000);
const FLOOD_SOCKETS = Number(process.env.BENCH_FLOOD_SOCKETS ?? 200);
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The credentials file and the passwords, made once (2,000 scrypts take a while) and reused. */
async function fleet(): Promise<{ file: string; passwords: string[] }> {
  const dir = path.join(processes.dataRoot, 'bench-logins');
  // As `npm run credentials` makes them: generated passwords, PBKDF2 (the
  // file name says so; an older file of scrypt hashes is not reused).
  const file = path.join(dir, `devices-${DEVICES}-pbkdf2.json`);
  const secrets = path.join(dir, `passwords-${DEVICES}-pbkdf2.json`);
  if (fs.existsSync(file) && fs.existsSync(secrets)) return { file, passwords: JSON.parse(fs.readFileSync(secrets, 'utf8')) as string[] };
  fs.mkdirSync(dir, { recursive: true });
  say(`making ${DEVICES + 1} device credentials (once; kept in ${path.relative(processes.repoRoot, dir)})...`);
  const passwords = Array.from({ length: DEVICES + 1 }, () => newPassword());
  const devices: CredentialsFile['devices'] = [];
  for (let i = 0; i < passwords.length; i += 16) {
    const batch = passwords.slice(i, i + 16);
    const hashes = await Promise.all(batch.map((p) => hashPassword(p, true)));
    hashes.forEach((hash, k) => devices.push({ username: `dev${String(i + k).padStart(5, '0')}`, hash, publish: ['park/demo/b01/#'], createdAt: new Date().toISOString() }));
  }
  writeCredentialsFile(file, { version: 1, devices });
  fs.writeFileSync(secrets, JSON.stringify(passwords), { mode: 0o600 });
  return { file, passwords };
}

/** Connects devices [from, to) at once; resolves with the seconds until the last one is connected. */
async function connectAll(url: string, passwords: string[], from: number, to: number, clients: MqttClient[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const username = `dev${String(i).padStart(5, '0')}`;
      const c = mqtt.connect(url, { clientId: username, username, password: passwords[i], reconnectPeriod: 1000, reconnectOnConnackError: true, connectTimeout: 30_000, keepalive: 120, protocolVersion: 4 });
      clients[i] = c;
      return new Promise<void>((resolve) => c.once('connect', () => resolve()));
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function endAll(clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.filter(Boolean).map((c) => c.endAsync(true)));
}

/** Bogus CONNECTs from FLOOD_SOCKETS loops on 127.0.1.x, until stopped; counts attempts. */
function flood(port: number): { stop: () => Promise<void>; attempts: () => number } {
  let running = true;
  let attempts = 0;
  const loop = async (n: number) => {
    while (running) {
      await new Promise<void>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (n % 250)}` });
        const done = () => {
          s.destroy();
          resolve();
        };
        s.setTimeout(15_000, done);
        s.on('error', done);
        s.on('close', done);
        s.on('data', done); // the CONNACK (a refusal)
        s.on('connect', () => {
          attempts++;
          const name = crypto.randomBytes(6).toString('hex');
          s.write(wire.connect({ clientId: name, username: name, password: crypto.randomBytes(12).toString('hex') }));
        });
      });
    }
  };
  const loops = Array.from({ length: FLOOD_SOCKETS }, (_, n) => loop(n));
  return {
    attempts: () => attempts,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function refusals(httpUrl: string): Promise<string> {
  const out: string[] = [];
  for (const r of ['rate_limited', 'busy', 'identifier', 'credentials']) out.push(`${r} ${await metric(httpUrl, `gateway_mqtt_connections_refused_total{reason="${r}"}`)}`);
  out.push(`cache hits ${await metric(httpUrl, 'gateway_mqtt_auth_cache_hits_total')}`);
  return out.join(', ');
}

async function main(): Promise<void> {
  ensureBuilt();
  const { file, passwords } = await fleet();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-bench-logins-'));
  const influx = await influxdb.startInfluxdb({ dataDir });
  process.env.INFLUX_URL = influx.url;
  const gw = await startGateway({ name: 'bench-logins', env: { MQTT_AUTH: 'required', DEVICE_CREDENTIALS: file, INFLUX_DB: 'bench', LOG_LEVEL: 'warn' } });
  const port = Number(gw.env.MQTT_PORT);
  say(`login storm: ${os.cpus()[0].model}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared machine), node ${process.version}`);
  say(`${DEVICES} devices from 127.0.0.1, gateway defaults (MQTT_AUTH_CONCURRENCY 2, MQTT_AUTH_QUEUE 100, MQTT_CONNECT_RATE 100/s, burst 1000)`);
  const clients: MqttClient[] = [];
  try {
    const cold = await connectAll(gw.mqttUrl, passwords, 0, DEVICES, clients);
    say(`A. cold start, all at once:      ${DEVICES} connected in ${cold.toFixed(1)} s   [${await refusals(gw.httpUrl)}]`);
    await endAll(clients);
    await new Promise((r) => setTimeout(r, 2000)); // the per-address bucket refills (burst 1000 at 100/s)
    const warm = await connectAll(gw.mqttUrl, passwords, 0, DEVICES, clients);
    say(`B. reconnect, all at once:       ${DEVICES} connected in ${warm.toFixed(1)} s   [${await refusals(gw.httpUrl)}]`);
    await endAll(clients);
    await new Promise((r) => setTimeout(r, 10_000));
    const f = flood(port);
    await new Promise((r) => setTimeout(r, 3000)); // the flood is in full swing
    const a0 = f.attempts();
    const t0 = performance.now();
    const during = await connectAll(gw.mqttUrl, passwords, 0, DEVICES, clients);
    const t1 = performance.now();
    const coldUnderFlood = await connectAll(gw.mqttUrl, passwords, DEVICES, DEVICES + 1, clients);
    const rate = (f.attempts() - a0) / ((performance.now() - t0) / 1000);
    await f.stop();
    say(`C. reconnect during a flood:     ${DEVICES} connected in ${during.toFixed(1)} s   (flood ${Math.round(rate)} bogus CONNECTs/s from ${FLOOD_SOCKETS} sockets)`);
    say(`   one cold login during the flood: ${coldUnderFlood.toFixed(2)} s (after ${((t1 - t0) / 1000).toFixed(1)} s of flood)   [${await refusals(gw.httpUrl)}]`);
  } finally {
    await endAll(clients);
    await gw.stop();
    await influx.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    reapLeftovers({ includeOwn: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
