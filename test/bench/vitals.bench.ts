/**
 * Vital-signs benchmark, end to end with the real components: the park
 * simulator publishing in real time → embedded broker → gateway (live
 * derivation) → InfluxDB 1.6 (started here on free ports, data in a temporary
 * folder) and WebSocket /api/live. At the demo park's load and at 10× it
 * (ten copies of every building), it prints:
 *
 *   (i)   derivation cost per reading: the same readings fed through
 *         ParkVitalsEngine in this process (ingest + window closing, and with
 *         `now` every tick as the gateway does), and the gateway's whole CPU
 *         per reading (MQTT, validation, InfluxDB writes, derivation, live);
 *   (ii)  window end → its `vitals` point queryable in InfluxDB;
 *   (iii) window end → the live `vitals` message;
 *   (iv)  publish → a `now` message showing the reading (a probe meter that
 *         publishes unique values every 500 ms).
 *
 * A window closes at its end + the allowed lateness, so (ii) and (iii) have
 * that floor: both raw and minus-lateness figures are printed.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/vitals.bench.ts
 *
 * Options (env): BENCH_SCALES=1,10  BENCH_DURATION_S=60  BENCH_WINDOW_MS=10000
 * BENCH_LATENESS_MS=10000 (the contract's window is 60 s with 30 s of
 * lateness; a shorter window gives more windows per run, and the cost of
 * closing one does not depend on its length).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { LiveMessage, ParkVitalsEngine } from '@park/metrics';
import { ParkSimulator } from '@park/park-sim';
import { indexPark, ParkModel, parsePayload, parseTopic, Reading } from '@park/telemetry';
import { influxdb } from '../support/deploy';
import { startGateway } from '../support/gateway';
import { influxQuery, rowsOf } from '../support/services';

const SCALES = (process.env.BENCH_SCALES ?? '1,10').split(',').map(Number);
const DURATION_MS = Number(process.env.BENCH_DURATION_S ?? 60) * 1000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
/** At least the demo meters' 10 s interval, as libs/metrics/README.md advises: otherwise most windows are revised after they close. */
const LATENESS_MS = Number(process.env.BENCH_LATENESS_MS ?? 10_000);
const TICK_MS = 250;
const DEMO: ParkModel = JSON.parse(fs.readFileSync(path.join(__dirname, '../../apps/gateway/parks/demo.park.json'), 'utf8'));

/** `copies` copies of every demo building (ids suffixed), plus the probe's building. */
function scaled(copies: number): ParkModel {
  const buildings = [];
  for (let c = 0; c < copies; c++) for (const b of DEMO.buildings) buildings.push({ ...b, id: copies > 1 ? `${b.id}-${c}` : b.id });
  buildings.push({
    id: 'probe', name: 'Probe', use: 'utility' as const, footprint: [[-30, -30], [-20, -30], [-20, -20], [-30, -20]] as Array<[number, number]>,
    height: 3, floors: 1, floorAreaM2: 100, capacity: 0, contractedKw: 1e5, sensors: [{ id: 'm1', kind: 'energy' as const, intervalS: 1 }],
  });
  return { ...DEMO, id: 'bench', buildings };
}

function procStat(pid: number): { cpuTicks: number; rssKb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuTicks: Number(stat[11]) + Number(stat[12]), rssKb };
}

const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]);
const fmt = (xs: number[]) => `p50 ${Math.round(pct(xs, 50))} / p95 ${Math.round(pct(xs, 95))} / max ${Math.round(Math.max(...xs))} ms`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DerivationCost {
  /** Per reading: `ingest`. */
  ingestNs: number;
  /** Per tick that closed a window: `advance`, i.e. deriving the window, its alarms and status. */
  closeUs: number;
  /** Per tick that closed nothing. */
  idleTickUs: number;
  /** Per `now()` call (every tick). */
  nowUs: number;
  /** Everything, per reading: what one reading costs at this load, ticks and windows shared out. */
  perReadingNs: number;
  /** Everything, as a share of one core over the run's wall time. */
  corePct: number;
  /** Closed windows re-derived because an interval straddling their end completed after they closed (lateness < a register's interval). */
  revisionsPerWindow: number;
}

/** The gateway's loop over recorded readings, in process: ingest as they came, advance and `now` every tick. */
function derivationCost(model: ParkModel, arrivals: Array<{ atMs: number; reading: Reading }>, wallMs: number): DerivationCost {
  const run = (): DerivationCost => {
    const engine = new ParkVitalsEngine(indexPark(model), { windowMs: WINDOW_MS, allowedLatenessMs: LATENESS_MS, startMs: arrivals[0].atMs - LATENESS_MS });
    let ingestNs = 0;
    let closeNs = 0;
    let closes = 0;
    let idleNs = 0;
    let idles = 0;
    let nowNs = 0;
    let revisions = 0;
    let nextTick = arrivals[0].atMs + TICK_MS;
    const tick = () => {
      let t = process.hrtime.bigint();
      const events = engine.advance(nextTick);
      const closed = events.some((e) => e.type === 'vitals');
      revisions += events.filter((e) => e.type === 'revision').length;
      const ns = Number(process.hrtime.bigint() - t);
      if (closed) {
        closeNs += ns;
        closes++;
      } else {
        idleNs += ns;
        idles++;
      }
      t = process.hrtime.bigint();
      engine.now(nextTick);
      nowNs += Number(process.hrtime.bigint() - t);
      nextTick += TICK_MS;
    };
    for (const a of arrivals) {
      while (a.atMs >= nextTick) tick();
      const t = process.hrtime.bigint();
      engine.ingest(a.reading);
      ingestNs += Number(process.hrtime.bigint() - t);
    }
    while (nextTick <= arrivals[0].atMs + wallMs) tick();
    const totalNs = ingestNs + closeNs + idleNs + nowNs;
    return {
      ingestNs: ingestNs / arrivals.length, closeUs: closeNs / 1e3 / Math.max(1, closes), idleTickUs: idleNs / 1e3 / Math.max(1, idles), nowUs: nowNs / 1e3 / (closes + idles),
      perReadingNs: totalNs / arrivals.length, corePct: (totalNs / 1e6 / wallMs) * 100, revisionsPerWindow: revisions / Math.max(1, closes),
    };
  };
  for (let i = 0; i < 5; i++) run(); // warm-up (JIT): the demo load is only a few hundred readings a minute
  return run();
}

async function scenario(scale: number, influxUrl: string, tmp: string): Promise<Record<string, unknown>> {
  const model = scaled(scale);
  const modelFile = path.join(tmp, `bench-${scale}.park.json`);
  fs.writeFileSync(modelFile, JSON.stringify(model));
  const db = `vitals_bench_${scale}`;
  const gw = await startGateway({ name: `vitals-bench-${scale}`, env: { INFLUX_DB: db, PARK_MODEL: modelFile, VITALS_WINDOW_MS: String(WINDOW_MS), VITALS_LATENESS_MS: String(LATENESS_MS), LOG_LEVEL: 'warn' } });
  const device = await mqtt.connectAsync(gw.mqttUrl, { clientId: `bench-sim-${scale}` });
  const probe = await mqtt.connectAsync(gw.mqttUrl, { clientId: `bench-probe-${scale}` });
  const messageLag: number[] = [];
  const nowLag: number[] = [];
  const probes = new Map<number, number>();
  const ws = new WebSocket(`${gw.liveUrl}?park=bench`);
  ws.on('message', (data) => {
    const at = Date.now();
    const msg = JSON.parse(data.toString()) as LiveMessage;
    if (msg.type === 'vitals') messageLag.push(at - msg.window.endMs);
    if (msg.type === 'now') {
      const v = msg.buildings.probe?.grid_kw;
      const sentAt = v === undefined ? undefined : probes.get(v);
      if (sentAt !== undefined) {
        nowLag.push(at - sentAt);
        probes.delete(v);
      }
    }
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

  // (ii): poll InfluxDB for each new park-scope vitals point.
  const storedLag: number[] = [];
  let polling = true;
  const seen = new Set<number>();
  const poller = (async () => {
    while (polling) {
      const rows = rowsOf(await influxQuery(influxUrl, db, `SELECT energy_kwh FROM vitals WHERE scope = 'park' AND time > now() - 2m`).catch(() => []));
      const at = Date.now();
      for (const r of rows) {
        const start = r.time as number;
        if (!seen.has(start)) {
          seen.add(start);
          if (seen.size > 1) storedLag.push(at - (start + WINDOW_MS)); // the first one may predate the poller
        }
      }
      await sleep(20);
    }
  })();

  const arrivals: Array<{ atMs: number; reading: Reading }> = [];
  const startMs = Date.now();
  const sim = new ParkSimulator({ ...model, buildings: model.buildings.filter((b) => b.id !== 'probe') }, { seed: 42, startMs });
  const cpu0 = procStat(gw.pid);
  let published = 0;
  let n = 0;
  let nextProbe = startMs;
  while (Date.now() < startMs + DURATION_MS) {
    const now = Date.now();
    for (const m of sim.stepUntil(now)) {
      void device.publishAsync(m.topic, m.payload, { qos: 1 });
      published++;
      // Recorded as the gateway will see them, for the in-process cost (i).
      const topic = parseTopic(m.topic);
      if (topic.ok) for (const reading of parsePayload(m.payload, topic.address, m.topic, now).readings) arrivals.push({ atMs: now, reading });
    }
    if (now >= nextProbe) {
      nextProbe += 500;
      const value = 1000 + ++n / 8;
      probes.set(value, Date.now());
      void probe.publishAsync('park/bench/probe/energy/m1', JSON.stringify({ ts: Date.now(), power_kw: value }), { qos: 0 });
    }
    await sleep(50);
  }
  const elapsedS = (Date.now() - startMs) / 1000;
  const cpu1 = procStat(gw.pid);
  await sleep(WINDOW_MS + LATENESS_MS + 1000);
  polling = false;
  await poller;
  ws.terminate();
  await device.endAsync();
  await probe.endAsync();
  await gw.stop();

  const cost = derivationCost(model, arrivals, elapsedS * 1000);
  const sensors = model.buildings.reduce((a, b) => a + b.sensors.length, 0);
  const gwCpuMs = ((cpu1.cpuTicks - cpu0.cpuTicks) * 10) / Math.max(1, published + n);
  const r = {
    scale, buildings: model.buildings.length, sensors, readingsPerS: Math.round((published / elapsedS) * 10) / 10,
    ingestNsPerReading: Math.round(cost.ingestNs), closeUsPerWindow: Math.round(cost.closeUs), idleTickUs: Math.round(cost.idleTickUs * 10) / 10, nowUs: Math.round(cost.nowUs * 10) / 10,
    derivationNsPerReading: Math.round(cost.perReadingNs), derivationCorePct: Math.round(cost.corePct * 100) / 100, revisionsPerWindow: Math.round(cost.revisionsPerWindow * 100) / 100,
    gatewayCpuMsPerReading: Math.round(gwCpuMs * 100) / 100, gatewayCpuPct: Math.round(((cpu1.cpuTicks - cpu0.cpuTicks) / elapsedS)), gatewayRssMb: Math.round(cpu1.rssKb / 1024),
    storedLagP50Ms: pct(storedLag, 50), storedLagMaxMs: Math.max(...storedLag), messageLagP50Ms: pct(messageLag, 50), messageLagMaxMs: Math.max(...messageLag),
    nowLagP50Ms: pct(nowLag, 50), nowLagP95Ms: pct(nowLag, 95), nowLagMaxMs: Math.max(...nowLag),
  };
  console.log(`\n${scale}× the demo park: ${model.buildings.length} buildings, ${sensors} sensors, ${r.readingsPerS} readings/s for ${Math.round(elapsedS)} s; windows ${WINDOW_MS / 1000} s, allowed lateness ${LATENESS_MS} ms`);
  console.log(`  (i)   derivation in process: ingest ${r.ingestNsPerReading} ns/reading; closing a window ${r.closeUsPerWindow} µs; idle tick ${r.idleTickUs} µs; now() ${r.nowUs} µs every ${TICK_MS} ms`);
  console.log(`        all together ${r.derivationNsPerReading} ns per reading at this load = ${r.derivationCorePct} % of a core; ${r.revisionsPerWindow} revisions per window`);
  console.log(`        gateway process, everything included: ${r.gatewayCpuMsPerReading} ms CPU/reading, ${r.gatewayCpuPct} % of a core, RSS ${r.gatewayRssMb} MB`);
  console.log(`  (ii)  window end → vitals point queryable in InfluxDB (${storedLag.length} windows): ${fmt(storedLag)}; minus lateness: ${fmt(storedLag.map((x) => x - LATENESS_MS))}`);
  console.log(`  (iii) window end → live vitals message (${messageLag.length} windows): ${fmt(messageLag)}; minus lateness: ${fmt(messageLag.map((x) => x - LATENESS_MS))}`);
  console.log(`  (iv)  publish → now showing it (${nowLag.length}/${n} probes): ${fmt(nowLag)}`);
  return r;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'park-vitals-bench-'));
  const influx = await influxdb.startInfluxdb({ dataDir: path.join(tmp, 'influx') });
  process.env.INFLUX_URL = influx.url;
  console.log(`vitals benchmark: ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}, InfluxDB ${influx.url}; scales ${SCALES.join(', ')}; ${DURATION_MS / 1000} s each`);
  const results = [];
  try {
    for (const scale of SCALES) results.push(await scenario(scale, influx.url, tmp));
  } finally {
    await influx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${JSON.stringify(results)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
