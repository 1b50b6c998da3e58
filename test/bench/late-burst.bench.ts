/**
 * Late-readings burst (contract §8, issue 11): while a park is derived live,
 * its edge box uploads a day of buffered readings of 100 sensors at once.
 * The gateway derives the closed windows they belong to again from InfluxDB,
 * by itself, batched and bounded; this measures whether live windows stall:
 *
 *   - window end → live `vitals` message, before, during and after the upload;
 *   - how long the upload took, and until the re-derivation was done (no more
 *     windows re-derived, every day window stored).
 *
 * Real components: InfluxDB 1.6 (started here on free ports, data in a
 * temporary folder), the gateway (embedded broker), WebSocket /api/live.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json node --import tsx test/bench/late-burst.bench.ts
 *
 * Options (env): BENCH_SENSORS=100 BENCH_INTERVAL_S=10 BENCH_HOURS=24
 * BENCH_WINDOW_MS=10000 BENCH_LATENESS_MS=10000 (a shorter window than the
 * contract's minute gives more live windows per run; the day is re-derived
 * in the same number of readings whatever the window).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { LiveMessage } from '@park/metrics';
import { ParkModel } from '@park/telemetry';
import { influxdb } from '../support/deploy';
import { startGateway } from '../support/gateway';
import { influxQuery, rowsOf } from '../support/services';

const SENSORS = Number(process.env.BENCH_SENSORS ?? 100);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? 10);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const LATENESS_MS = Number(process.env.BENCH_LATENESS_MS ?? 10_000);
const PER_BUILDING = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]);
const fmt = (xs: number[]) => (xs.length ? `p50 ${Math.round(pct(xs, 50))} / max ${Math.round(Math.max(...xs))} ms (${xs.length} windows)` : 'no windows');

/** `SENSORS` grid meters in buildings of ten, plus a live building whose meters report every second. */
function park(): ParkModel {
  const rect = (i: number) => [[i * 50, 0], [i * 50 + 40, 0], [i * 50 + 40, 20], [i * 50, 20]] as Array<[number, number]>;
  const buildings = [];
  for (let b = 0; b < Math.ceil(SENSORS / PER_BUILDING); b++) {
    const n = Math.min(PER_BUILDING, SENSORS - b * PER_BUILDING);
    buildings.push({
      id: `b${b}`, name: `Buffered ${b}`, use: 'factory' as const, footprint: rect(b), height: 10, floors: 2, floorAreaM2: 2000, capacity: 50, contractedKw: 5000,
      sensors: Array.from({ length: n }, (_, i) => ({ id: `m${i}`, kind: 'energy' as const, intervalS: INTERVAL_S })),
    });
  }
  buildings.push({
    id: 'live', name: 'Live', use: 'office' as const, footprint: rect(-1), height: 10, floors: 2, floorAreaM2: 2000, capacity: 50, contractedKw: 5000,
    sensors: [{ id: 'm0', kind: 'energy' as const, intervalS: 1 }, { id: 'm1', kind: 'energy' as const, intervalS: 1 }],
  });
  return { id: 'burst', name: 'Late burst', buildings };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'park-late-burst-'));
  const influx = await influxdb.startInfluxdb({ dataDir: path.join(tmp, 'influx') });
  process.env.INFLUX_URL = influx.url;
  const model = park();
  const modelFile = path.join(tmp, 'burst.park.json');
  fs.writeFileSync(modelFile, JSON.stringify(model));
  const db = 'burst';
  await influxdb.createDatabase(influx.url, db);
  console.log(`late-burst benchmark: ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}; ${SENSORS} sensors every ${INTERVAL_S} s, ${HOURS} h buffered; windows ${WINDOW_MS} ms, lateness ${LATENESS_MS} ms`);
  const gw = await startGateway({ name: 'late-burst-bench', env: { INFLUX_URL: influx.url, INFLUX_DB: db, PARK_MODEL: modelFile, VITALS_WINDOW_MS: String(WINDOW_MS), VITALS_LATENESS_MS: String(LATENESS_MS), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' } });
  const received: Array<{ atMs: number; endMs: number }> = [];
  const ws = new WebSocket(`${gw.liveUrl}?park=burst`);
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as LiveMessage;
    if (m.type === 'vitals') received.push({ atMs: Date.now(), endMs: m.window.endMs });
  });
  const live = await mqtt.connectAsync(gw.mqttUrl, { clientId: 'live', reconnectPeriod: 0 });
  const edge = await mqtt.connectAsync(gw.mqttUrl, { clientId: 'edge-box', reconnectPeriod: 0 });
  let register = 1000;
  const liveTimer = setInterval(() => {
    register += 0.1;
    const ts = Date.now();
    for (const id of ['m0', 'm1']) void live.publishAsync(`park/burst/live/energy/${id}`, JSON.stringify({ ts, power_kw: 360, energy_kwh: register }), { qos: 1 });
  }, 1000);
  try {
    await sleep(WINDOW_MS * 3 + LATENESS_MS);
    // The edge box uploads the day it buffered, oldest first, 100 readings per message.
    const dayEnd = Math.floor((Date.now() - 60_000) / 1000) * 1000;
    const dayStart = dayEnd - HOURS * 3_600_000;
    const uploadFrom = Date.now();
    let messages = 0;
    let readings = 0;
    const inFlight: Array<Promise<unknown>> = [];
    for (const b of model.buildings.filter((x) => x.id !== 'live')) {
      for (const s of b.sensors) {
        let batch: string[] = [];
        let e = 10_000 + Number(s.id.slice(1)) * 1000;
        for (let t = dayStart; t < dayEnd; t += INTERVAL_S * 1000) {
          e += (2000 * INTERVAL_S) / 3600;
          batch.push(`{"ts":${t},"power_kw":2000,"energy_kwh":${e.toFixed(3)}}`);
          if (batch.length === 100 || t + INTERVAL_S * 1000 >= dayEnd) {
            inFlight.push(edge.publishAsync(`park/burst/${b.id}/energy/${s.id}`, `[${batch.join(',')}]`, { qos: 1 }));
            readings += batch.length;
            messages++;
            batch = [];
            if (inFlight.length >= 50) await Promise.all(inFlight.splice(0));
          }
        }
      }
    }
    await Promise.all(inFlight);
    const uploadTo = Date.now();
    console.log(`upload: ${readings} readings in ${messages} messages, ${((uploadTo - uploadFrom) / 1000).toFixed(1)} s (${Math.round((readings * 1000) / (uploadTo - uploadFrom))} readings/s acknowledged)`);
    // Re-derived: every window of the day stored, and the gateway's counter of re-derived windows settled.
    const windows = (dayEnd - dayStart) / WINDOW_MS;
    const rederived = async () => Number(/^gateway_vitals_rederived_windows_total (\d+)/m.exec(await (await fetch(`${gw.httpUrl}/metrics`)).text())?.[1] ?? 0);
    let doneAt = NaN;
    let last = -1;
    let lastChange = Date.now();
    for (let i = 0; i < 1200; i++) {
      const n = await rederived();
      if (n !== last) {
        last = n;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= 5_000) {
        doneAt = lastChange;
        break;
      }
      await sleep(500);
    }
    const day = rowsOf(await influxQuery(influx.url, db, `SELECT count(energy_kwh), min(energy_kwh), max(energy_kwh) FROM vitals WHERE scope = 'park' AND time >= ${dayStart + WINDOW_MS}ms AND time < ${dayEnd - WINDOW_MS}ms`))[0] ?? {};
    console.log(`re-derived: ${last} windows in all (${(last / windows).toFixed(2)} × the ${windows} of the day); done ${((doneAt - uploadTo) / 1000).toFixed(1)} s after the upload ended (${((doneAt - uploadFrom) / 1000).toFixed(1)} s after it began)`);
    // Each buffered meter drew 2000 kW: ${SENSORS} × 2000 kW over a window, plus the live building.
    console.log(`  stored day windows: ${day.count}; park energy per window ${Number(day.min).toFixed(3)} .. ${Number(day.max).toFixed(3)} kWh (the buffered meters alone: ${((SENSORS * 2000 * WINDOW_MS) / 3_600_000).toFixed(3)} kWh)`);
    const expectedKwh = (SENSORS * 2000 * WINDOW_MS) / 3_600_000;
    const off = rowsOf(await influxQuery(influx.url, db, `SELECT energy_kwh FROM vitals WHERE scope = 'park' AND time >= ${dayStart + WINDOW_MS}ms AND time < ${dayEnd - WINDOW_MS}ms AND (energy_kwh < ${expectedKwh * 0.999} OR energy_kwh > ${expectedKwh * 1.01})`));
    console.log(`  day windows off by more than 0.1 % (the live building adds up to 1 %): ${off.length}${off.slice(0, 5).map((r) => ` ${new Date(r.time as number).toISOString()} ${Number(r.energy_kwh).toFixed(3)} kWh`).join(';')}`);
    await sleep(WINDOW_MS * 2 + LATENESS_MS);
    const lag = (from: number, to: number) => received.filter((r) => r.endMs > from && r.endMs <= to).map((r) => r.atMs - r.endMs);
    console.log(`window end → live vitals message (lateness ${LATENESS_MS} ms included):`);
    console.log(`  before the upload:              ${fmt(lag(0, uploadFrom))}`);
    console.log(`  during the upload:              ${fmt(lag(uploadFrom, uploadTo))}`);
    console.log(`  upload end → re-derivation done: ${fmt(lag(uploadTo, doneAt))}`);
    console.log(`  after:                          ${fmt(lag(doneAt, Infinity))}`);
  } finally {
    clearInterval(liveTimer);
    ws.terminate();
    await live.endAsync();
    await edge.endAsync();
    await gw.stop();
    await influx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
