/**
 * `npm run bench`: ingestion throughput, publish-to-queryable latency and
 * memory of the gateway, measured end to end with the real components: MQTT.js
 * publishers → embedded aedes broker → gateway → InfluxDB 1.6 (started here on
 * free ports, data in a temporary folder).
 *
 * For each offered rate it publishes single-reading QoS 1 messages (as
 * devices do) for STEP_S seconds and prints:
 *   - persisted/s: points InfluxDB confirmed during the step, per second;
 *   - backlog: points not yet written at the end of the step;
 *   - latency p50/p99: from publish to the first InfluxQL query that sees
 *     the reading (one probe in flight at a time, polled every 10 ms);
 *   - gateway CPU (of one core) and RSS; peak RSS (VmHWM) at the end.
 *
 * Options (env): BENCH_RATES=1000,5000,... BENCH_STEP_S=8 BENCH_PUBLISHERS=2
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { influxdb } from '../support/deploy';
import { startGateway } from '../support/gateway';
import { influxQuery, rowsOf } from '../support/services';
import { metric } from '../support/mqtt';

const RATES = (process.env.BENCH_RATES ?? '1000,2500,5000,10000,20000,40000').split(',').map(Number);
const STEP_S = Number(process.env.BENCH_STEP_S ?? 8);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 2);
const METERS = JSON.parse(fs.readFileSync(path.join(__dirname, '../../apps/gateway/parks/demo.park.json'), 'utf8')).buildings.flatMap((b: { id: string; sensors: Array<{ id: string; kind: string }> }) =>
  b.sensors.filter((s) => s.kind === 'energy').map((s) => `park/demo/${b.id}/energy/${s.id}`),
) as string[];

function procStatus(pid: number): { rssKb: number; hwmKb: number; cpuTicks: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-bench-influx-'));
  const influx = await influxdb.startInfluxdb({ dataDir });
  process.env.INFLUX_URL = influx.url;
  const gw = await startGateway({ name: 'bench', env: { INFLUX_DB: 'bench', LOG_LEVEL: 'warn' } });
  const clients: MqttClient[] = await Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(gw.mqttUrl, { clientId: `bench-${i}` })));
  const probe = await mqtt.connectAsync(gw.mqttUrl, { clientId: 'bench-probe' });
  let ts = Date.now() - 3_600_000;
  const hz = os.cpus().length;
  const ticksPerS = 100;
  console.log(`ingest benchmark: ${os.cpus()[0].model}, ${hz} cores, node ${process.version}, InfluxDB at ${influx.url}, ${PUBLISHERS} publishers, ${STEP_S} s per step, QoS 1 single-reading messages`);
  console.log('offered/s  published/s  persisted/s  backlog  lat p50 ms  lat p99 ms  gw CPU %  gw RSS MB');
  const results: unknown[] = [];
  for (const rate of RATES) {
    const written0 = await metric(gw.httpUrl, 'gateway_points_written_total');
    const p0 = procStatus(gw.pid);
    const t0 = Date.now();
    let published = 0;
    let stop = false;
    const latencies: number[] = [];
    // Probe loop: one reading at a time, from publish to queryable.
    const probing = (async () => {
      let n = 0;
      while (!stop) {
        const pts = Date.now() - 7_200_000 + n++;
        const started = performance.now();
        await probe.publishAsync('park/demo/b13/energy/probe', JSON.stringify({ ts: pts, power_kw: n }), { qos: 1 });
        for (;;) {
          const rows = rowsOf(await influxQuery(influx.url, 'bench', `SELECT power_kw FROM energy WHERE sensor='probe' AND time = ${pts}ms`));
          if (rows.length > 0) break;
          if (performance.now() - started > 30_000) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        latencies.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // Load: every 10 ms, rate/100 messages spread over the publishers, QoS 1 with a bounded window.
    const inflight = new Set<Promise<unknown>>();
    while (Date.now() - t0 < STEP_S * 1000) {
      const tickStart = Date.now();
      const due = Math.round((rate * (tickStart - t0)) / 1000) - published;
      for (let i = 0; i < due; i++) {
        const topic = METERS[published % METERS.length];
        const c = clients[published % clients.length];
        const p = c.publishAsync(topic, `{"ts":${ts++},"power_kw":${published % 5000},"energy_kwh":${published}}`, { qos: 1 });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        published++;
        if (inflight.size >= 2000) await Promise.race(inflight);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - tickStart))));
    }
    await Promise.all(inflight);
    const elapsedS = (Date.now() - t0) / 1000;
    const written1 = await metric(gw.httpUrl, 'gateway_points_written_total');
    const p1 = procStatus(gw.pid);
    stop = true;
    await probing;
    const backlog = await metric(gw.httpUrl, 'gateway_write_backlog_lines');
    const r = {
      offered: rate,
      published: Math.round(published / elapsedS),
      persisted: Math.round((written1 - written0) / elapsedS),
      backlog,
      p50: Math.round(pct(latencies, 50)),
      p99: Math.round(pct(latencies, 99)),
      cpu: Math.round(((p1.cpuTicks - p0.cpuTicks) / ticksPerS / elapsedS) * 100),
      rssMb: Math.round(p1.rssKb / 1024),
      probes: latencies.length,
    };
    results.push(r);
    console.log(
      `${String(r.offered).padStart(9)}  ${String(r.published).padStart(11)}  ${String(r.persisted).padStart(11)}  ${String(r.backlog).padStart(7)}  ${String(r.p50).padStart(10)}  ${String(r.p99).padStart(10)}  ${String(r.cpu).padStart(8)}  ${String(r.rssMb).padStart(9)}`,
    );
    // Let the backlog drain before the next step.
    const drainStart = Date.now();
    while ((await metric(gw.httpUrl, 'gateway_write_backlog_lines')) > 0 && Date.now() - drainStart < 60_000) await new Promise((r) => setTimeout(r, 200));
  }
  const peak = procStatus(gw.pid);
  const total = rowsOf(await influxQuery(influx.url, 'bench', "SELECT count(power_kw) FROM energy WHERE sensor != 'probe'"))[0]?.count;
  const accepted = await metric(gw.httpUrl, 'gateway_readings_accepted_total');
  console.log(`gateway peak RSS (VmHWM): ${Math.round(peak.hwmKb / 1024)} MB; readings accepted ${accepted}, load points in InfluxDB ${total} (+ probes)`);
  console.log(JSON.stringify({ results, peakRssMb: Math.round(peak.hwmKb / 1024) }));
  await Promise.all([...clients, probe].map((c) => c.endAsync()));
  await gw.stop();
  await influx.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
