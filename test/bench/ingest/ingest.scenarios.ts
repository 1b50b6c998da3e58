/**
 * What the ingest benchmark does with one target in one load mode: the rate
 * ladder (issue 10's pass rule: every reading queryable in InfluxDB within
 * `deadlineS` of the last publish, the publisher not held back), a soak at
 * one rate with RSS every 10 s, and idle device connections.
 */
import * as path from 'node:path';
import { influxdb } from '../../support/deploy';
import type { BenchOptions, LoadMode } from './bench.options';
import { startTarget, takeHeapSnapshot, type BenchTarget, type TargetKind } from './bench.targets';
import { LatencyProbe, PROBE_CONNECTION, percentile } from './latency.probe';
import { LoadGenerator } from './load.generator';
import { BENCH_PARK, PROBE_SENSOR, deviceConnections, loadSensors, singleConnection, type LoadConnection, type LoadShape } from './load.plan';
import { cpuPct, sampleTree, type TreeSample } from './proc.stats';

const MB = 1024 * 1024;
/** A step passes only if the publisher sent at least this share of the offered messages. */
export const MIN_SENT_SHARE = 0.99;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** What every segment shares. */
export interface RunContext {
  options: BenchOptions;
  influxUrl: string;
  runDir: string;
  /** Registers a closer run on exit or Ctrl-C; returns a function that runs it now and unregisters it. */
  onCleanup(name: string, close: () => Promise<void>): () => Promise<void>;
  log(line: string): void;
  /** Ctrl-C: start nothing new. */
  stopping(): boolean;
}

/** CPU (% of one core) and RSS (MB) of each measured process, and the sums. */
export interface Usage {
  cpuPct: Record<string, number>;
  rssMb: Record<string, number>;
  /** Highest RSS sampled (each second) during the step. */
  rssMaxMb: Record<string, number>;
  cpuTotalPct: number;
  rssTotalMb: number;
  rssMaxTotalMb: number;
}

/** One rate of the ladder (or the whole soak). */
export interface StepResult {
  rate: number;
  seconds: number;
  sent: number;
  /** Due at the offered rate but held back by full QoS 1 windows. */
  heldBack: number;
  sentPerS: number;
  /** Load readings queryable within the deadline after the last publish. */
  persistedInDeadline: number;
  /** Load readings queryable once the count stopped changing (or the drain timed out). */
  persisted: number;
  /** sent − persisted (0 when all arrived, late or not). */
  lost: number;
  /** From the last publish until every reading was queryable; null if they never all were. */
  drainMs: number | null;
  /** The count was still rising when the drain wait gave up (the "lost" may still come). */
  stillArriving: boolean;
  acked: number;
  unacked: number;
  strayAcks: number;
  disconnects: number;
  pass: boolean;
  /** Why it failed, for the table. */
  why: string[];
  latencyMs: { p50: number; p99: number; max: number; n: number };
  usage: Usage;
  generatorCpuPct: number[];
  heapSnapshot?: string;
}

/** A target measured in one mode. */
export interface SegmentResult {
  target: TargetKind;
  label: string;
  mode: LoadMode;
  connections: number;
  auth: boolean;
  connectMs: number;
  steps: StepResult[];
  /** Soak: RSS samples every 10 s. */
  soak?: { samples: Array<{ s: number; rssMb: Record<string, number>; rssTotalMb: number }>; firstMb: number; lastMb: number; minMb: number; maxMb: number; growthPct: number };
  /** Idle connections. */
  idle?: { connections: number; failed: number; connectMs: number; rssBeforeMb: Record<string, number>; rssAfterMb: Record<string, number>; rssClosedMb: Record<string, number>; perConnectionKb: number; cpuIdlePct: Record<string, number>; heapSnapshots: string[] };
  error?: string;
}

export function shapeOf(o: BenchOptions): LoadShape {
  return { buildings: o.buildings, meters: o.meters, registered: o.registered };
}

/** Load readings of the bench park in [firstTs, lastTs], the probe excluded. */
export async function countLoad(influxUrl: string, db: string, firstTs: number, lastTs: number): Promise<number> {
  const series = await influxdb.query(
    influxUrl,
    db,
    `SELECT count(power_kw) FROM energy WHERE park = '${BENCH_PARK}' AND sensor != '${PROBE_SENSOR}' AND time >= ${firstTs}ms AND time <= ${lastTs}ms`,
  );
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

function sampleAll(target: BenchTarget): Record<string, TreeSample> {
  return Object.fromEntries(target.processes.map((p) => [p.name, sampleTree(p.pid)]));
}

const round = (x: number, digits = 0) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function usageBetween(from: Record<string, TreeSample>, to: Record<string, TreeSample>, maxRss: Record<string, number>): Usage {
  const cpu = Object.fromEntries(Object.keys(to).map((k) => [k, round(cpuPct(from[k], to[k]))]));
  const rss = Object.fromEntries(Object.keys(to).map((k) => [k, round(to[k].rssBytes / MB)]));
  const rssMax = Object.fromEntries(Object.keys(to).map((k) => [k, round(Math.max(maxRss[k] ?? 0, to[k].rssBytes) / MB)]));
  return { cpuPct: cpu, rssMb: rss, rssMaxMb: rssMax, cpuTotalPct: sum(cpu), rssTotalMb: sum(rss), rssMaxTotalMb: sum(rssMax) };
}

/** A started target with its load generator and probe, ready to publish. */
interface Segment {
  target: BenchTarget;
  generator: LoadGenerator;
  probe: LatencyProbe;
  connections: LoadConnection[];
  connectMs: number;
  auth: boolean;
  close(): Promise<void>;
}

async function openSegment(run: RunContext, kind: TargetKind, mode: LoadMode, connections: LoadConnection[], tag: string): Promise<Segment> {
  const o = run.options;
  const auth = kind === 'gateway' && (o.auth === 'on' || (o.auth === 'devices' && mode === 'devices'));
  const db = `bench_${kind.replace('-', '_')}_${tag}`;
  run.log(`starting ${kind} (${mode === 'single' ? 'one publishing connection' : `${connections.length} device connections`}${auth ? ', device authentication on' : ''}, ${o.registered} registered sensors)`);
  const target = await startTarget(kind, {
    dir: path.join(run.runDir, `${kind}-${tag}`),
    influxUrl: run.influxUrl,
    influxDb: db,
    logName: `bench-${kind}-${tag}`,
    shape: shapeOf(o),
    connections: [...connections, PROBE_CONNECTION],
    auth,
    heapSnapshots: o.heapSnapshot !== undefined,
    gatewayEnv: o.gatewayEnv,
    joinCount: o.joinCount,
    joinTimeoutS: o.joinTimeoutS,
  });
  const stopTarget = run.onCleanup(`${kind} ${tag}`, async () => {
    await target.stop();
    await influxdb.query(run.influxUrl, undefined, `DROP DATABASE ${influxdb.quoteIdent(db)}`).catch(() => undefined);
  });
  let generator: LoadGenerator | undefined;
  let stopGenerator: (() => Promise<void>) | undefined;
  let probe: LatencyProbe | undefined;
  try {
    generator = await LoadGenerator.start(o.loadProcs);
    const g = generator;
    stopGenerator = run.onCleanup(`load generator ${tag}`, () => g.stop());
    const addresses = o.sourceAddresses ?? Math.max(1, Math.ceil(connections.length / 5000));
    const connected = await generator.connect({
      url: target.mqttUrl,
      sensors: loadSensors(shapeOf(o)),
      connections,
      password: target.devicePassword,
      window: mode === 'single' ? o.window : o.deviceWindow,
      keepaliveS: 60,
      sourceAddresses: Array.from({ length: addresses }, (_, i) => `127.0.0.${i + 1}`),
      concurrency: 32,
      connackTimeoutMs: 300_000,
    });
    if (connected.failed > 0) throw new Error(`${connected.failed} of ${connections.length} connections to ${kind} failed, e.g. ${connected.errors.join('; ')}`);
    run.log(`${connected.connected} connection(s) open in ${(connected.ms / 1000).toFixed(1)} s`);
    probe = await LatencyProbe.connect(target.mqttUrl, run.influxUrl, db, target.devicePassword);
    // End to end before measuring: the flow subscribed, the gateway writing.
    const first = await probe.once(120_000);
    if (first === undefined) throw new Error(`a probe reading published to ${kind} was not queryable in InfluxDB within 120 s; see ${target.logFiles.join(', ')}`);
    const p = probe;
    return {
      target,
      generator,
      probe,
      connections,
      connectMs: connected.ms,
      auth,
      async close() {
        await p.close().catch(() => undefined);
        await stopGenerator?.();
        await stopTarget();
      },
    };
  } catch (error) {
    await probe?.close().catch(() => undefined);
    await stopGenerator?.();
    await stopTarget();
    throw error;
  }
}

/** Publishes at `rate` for `seconds`, then checks the deadline and drains. */
async function runStep(run: RunContext, seg: Segment, rate: number, seconds: number, fromTs: number, options: { snapshot?: string; onSample?: (s: number, rss: Record<string, number>) => void; sampleEveryS?: number } = {}): Promise<StepResult> {
  const o = run.options;
  const before = sampleAll(seg.target);
  const maxRss: Record<string, number> = {};
  const sampleEveryMs = (options.sampleEveryS ?? 1) * 1000;
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const now = sampleAll(seg.target);
    const rss: Record<string, number> = {};
    for (const [k, v] of Object.entries(now)) {
      maxRss[k] = Math.max(maxRss[k] ?? 0, v.rssBytes);
      rss[k] = v.rssBytes;
    }
    options.onSample?.((performance.now() - t0) / 1000, rss);
  }, sampleEveryMs);
  seg.probe.start();
  const { published: publishedP, acked: ackedP } = seg.generator.run(rate, seconds, fromTs, 120_000);
  let published;
  try {
    published = await publishedP;
  } finally {
    clearInterval(sampler);
  }
  const after = sampleAll(seg.target);
  const latencies = await seg.probe.stop();
  let heapSnapshot: string | undefined;
  let deadline = published.lastPublishAt + o.deadlineS * 1000;
  if (options.snapshot) {
    const t = Date.now();
    heapSnapshot = await takeHeapSnapshot(seg.target, options.snapshot);
    // The process was frozen while it wrote the snapshot: that time does not count.
    deadline += Date.now() - t;
    run.log(`heap snapshot: ${heapSnapshot}`);
  }
  const count = () => countLoad(run.influxUrl, seg.target.influxDb, published.firstTs, published.lastTs);
  const allowedMs = deadline - published.lastPublishAt;
  let persisted = await count();
  let drainMs: number | null = persisted >= published.sent ? Date.now() - published.lastPublishAt : null;
  while (persisted < published.sent && Date.now() < deadline) {
    await sleep(100);
    persisted = await count();
    if (persisted >= published.sent) drainMs = Date.now() - published.lastPublishAt;
  }
  const inTime = drainMs !== null && drainMs <= allowedMs;
  const persistedInDeadline = inTime ? published.sent : Math.min(persisted, published.sent);
  // After the deadline: wait for the rest (late, or lost if it never comes).
  let acksDone = false;
  void ackedP.then(
    () => (acksDone = true),
    () => (acksDone = true),
  );
  let lastChange = Date.now();
  const drainDeadline = Date.now() + 180_000;
  let stillArriving = false;
  while (persisted < published.sent) {
    await sleep(500);
    const next = await count();
    if (next !== persisted) lastChange = Date.now();
    persisted = next;
    if (persisted >= published.sent) {
      drainMs = Date.now() - published.lastPublishAt;
      break;
    }
    if (acksDone && Date.now() - lastChange > 5000) break;
    if (Date.now() > drainDeadline) {
      stillArriving = Date.now() - lastChange < 5000;
      break;
    }
  }
  const acked = await ackedP;
  const offered = Math.round(rate * seconds);
  const why: string[] = [];
  if (published.sent < MIN_SENT_SHARE * offered) why.push(`held back to ${fmt(published.sent / seconds)}/s`);
  if (!inTime) {
    why.push(persistedInDeadline < published.sent ? `${fmt(published.sent - persistedInDeadline)} not queryable within ${o.deadlineS} s` : `all queryable only ${fmt(drainMs ?? 0)} ms after the last publish`);
  }
  if (persisted < published.sent) why.push(`${fmt(published.sent - persisted)} lost${stillArriving ? ' (still arriving after 180 s)' : ''}`);
  if (acked.disconnects > 0) why.push(`${acked.disconnects} disconnects (${acked.disconnectReasons[0] ?? ''})`);
  return {
    rate,
    seconds,
    sent: published.sent,
    heldBack: published.heldBack,
    sentPerS: Math.round(published.sent / ((published.lastPublishAt - published.startedAt) / 1000)),
    persistedInDeadline,
    persisted,
    lost: Math.max(0, published.sent - persisted),
    drainMs,
    stillArriving,
    acked: acked.acked,
    unacked: acked.unacked,
    strayAcks: acked.strayAcks,
    disconnects: acked.disconnects,
    pass: why.length === 0,
    why,
    latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(percentile(latencies, 100)), n: latencies.length },
    usage: usageBetween(before, after, maxRss),
    generatorCpuPct: published.cpuPct.map((x) => round(x)),
    heapSnapshot,
  };
}

function loadConnections(o: BenchOptions, mode: LoadMode): LoadConnection[] {
  return mode === 'single' ? singleConnection(shapeOf(o)) : deviceConnections(shapeOf(o), o.devices);
}

/** The rate ladder for one target in one mode. */
export async function ladderSegment(run: RunContext, kind: TargetKind, mode: LoadMode, printStep: (seg: SegmentResult, step: StepResult) => void): Promise<SegmentResult> {
  const o = run.options;
  if (o.scenario.kind !== 'ladder') throw new Error('ladderSegment needs the ladder scenario');
  const { rates, stepS, maxFails } = o.scenario;
  const connections = loadConnections(o, mode);
  const result: SegmentResult = { target: kind, label: kind, mode, connections: connections.length, auth: false, connectMs: 0, steps: [] };
  let seg: Segment | undefined;
  try {
    seg = await openSegment(run, kind, mode, connections, mode);
    Object.assign(result, { label: seg.target.label, auth: seg.auth, connectMs: seg.connectMs });
    let fromTs = Date.now();
    let fails = 0;
    for (const rate of rates) {
      if (run.stopping()) break;
      const snap = o.heapSnapshot && (o.heapSnapshot.rates === 'all' || o.heapSnapshot.rates.includes(rate)) ? `${kind}-${mode}-${rate}` : undefined;
      const step = await runStep(run, seg, rate, stepS, fromTs, { snapshot: snap });
      result.steps.push(step);
      printStep(result, step);
      fromTs = Date.now() + 1;
      if (!step.pass && ++fails >= maxFails) break;
      await sleep(2000);
    }
  } catch (error) {
    result.error = (error as Error).message;
    run.log(`${kind} (${mode}) failed: ${result.error}`);
  } finally {
    await seg?.close();
  }
  return result;
}

/** One rate for `minutes`, RSS every 10 s. */
export async function soakSegment(run: RunContext, kind: TargetKind, mode: LoadMode, printSample: (kind: TargetKind, s: number, rssMb: Record<string, number>) => void): Promise<SegmentResult> {
  const o = run.options;
  if (o.scenario.kind !== 'soak') throw new Error('soakSegment needs the soak scenario');
  const { minutes, rate } = o.scenario;
  const connections = loadConnections(o, mode);
  const result: SegmentResult = { target: kind, label: kind, mode, connections: connections.length, auth: false, connectMs: 0, steps: [] };
  let seg: Segment | undefined;
  try {
    seg = await openSegment(run, kind, mode, connections, `soak-${mode}`);
    Object.assign(result, { label: seg.target.label, auth: seg.auth, connectMs: seg.connectMs });
    const samples: Array<{ s: number; rssMb: Record<string, number>; rssTotalMb: number }> = [];
    const step = await runStep(run, seg, rate, minutes * 60, Date.now(), {
      snapshot: o.heapSnapshot ? `${kind}-soak-${rate}-end` : undefined,
      sampleEveryS: 10,
      onSample: (s, rss) => {
        const rssMb = Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, round(v / MB)]));
        samples.push({ s: Math.round(s), rssMb, rssTotalMb: sum(rssMb) });
        printSample(kind, Math.round(s), rssMb);
      },
    });
    result.steps.push(step);
    const totals = samples.map((x) => x.rssTotalMb);
    if (totals.length > 0) {
      const first = totals[0];
      const last = totals[totals.length - 1];
      result.soak = { samples, firstMb: first, lastMb: last, minMb: Math.min(...totals), maxMb: Math.max(...totals), growthPct: round(((last - first) / first) * 100, 1) };
    }
  } catch (error) {
    result.error = (error as Error).message;
    run.log(`${kind} soak failed: ${result.error}`);
  } finally {
    await seg?.close();
  }
  return result;
}

/** N idle authenticated device connections: RSS before, with them, and after they closed. */
export async function idleSegment(run: RunContext, kind: TargetKind): Promise<SegmentResult> {
  const o = run.options;
  if (o.scenario.kind !== 'idle') throw new Error('idleSegment needs the idle scenario');
  const { connections: n, settleS } = o.scenario;
  const connections = deviceConnections(shapeOf(o), n).map((c) => ({ ...c, sensors: [] }));
  const result: SegmentResult = { target: kind, label: kind, mode: 'devices', connections: n, auth: false, connectMs: 0, steps: [] };
  const tag = `idle-${n}`;
  const auth = kind === 'gateway' && o.auth !== 'off';
  const db = `bench_${kind.replace('-', '_')}_idle`;
  let target: BenchTarget | undefined;
  let stopTarget: (() => Promise<void>) | undefined;
  let generator: LoadGenerator | undefined;
  let stopGenerator: (() => Promise<void>) | undefined;
  const snapshots: string[] = [];
  try {
    run.log(`starting ${kind} for ${n} idle device connections${auth ? ' (authenticated)' : ''}`);
    target = await startTarget(kind, {
      dir: path.join(run.runDir, `${kind}-${tag}`),
      influxUrl: run.influxUrl,
      influxDb: db,
      logName: `bench-${kind}-${tag}`,
      shape: shapeOf(o),
      connections,
      auth,
      heapSnapshots: o.heapSnapshot !== undefined,
      // The connections come from a few loopback addresses at once: the per-address
      // limit (MQTT_CONNECT_RATE) would refuse most; it is not what this measures.
      gatewayEnv: { MQTT_CONNECT_RATE: '0', ...o.gatewayEnv },
      joinCount: o.joinCount,
      joinTimeoutS: o.joinTimeoutS,
    });
    const t = target;
    stopTarget = run.onCleanup(`${kind} ${tag}`, () => t.stop());
    result.label = target.label;
    result.auth = auth;
    generator = await LoadGenerator.start(o.loadProcs);
    const g = generator;
    stopGenerator = run.onCleanup(`idle connections ${tag}`, () => g.stop());
    await sleep(settleS * 1000);
    const before = sampleAll(target);
    if (o.heapSnapshot) snapshots.push(await takeHeapSnapshot(target, `${kind}-idle-before`));
    const addresses = o.sourceAddresses ?? Math.max(1, Math.ceil(n / 5000));
    const connected = await generator.connect({
      url: target.mqttUrl,
      sensors: loadSensors(shapeOf(o)),
      connections,
      password: target.devicePassword,
      window: 1,
      keepaliveS: 60,
      sourceAddresses: Array.from({ length: addresses }, (_, i) => `127.0.0.${i + 1}`),
      concurrency: 32,
      connackTimeoutMs: 600_000,
    });
    run.log(`${connected.connected} idle connection(s) open in ${(connected.ms / 1000).toFixed(1)} s${connected.failed ? `, ${connected.failed} failed: ${connected.errors.join('; ')}` : ''}`);
    await sleep(settleS * 1000);
    const withIdle0 = sampleAll(target);
    await sleep(settleS * 1000);
    const withIdle = sampleAll(target);
    if (o.heapSnapshot) snapshots.push(await takeHeapSnapshot(target, `${kind}-idle-${connected.connected}`));
    await stopGenerator();
    stopGenerator = undefined;
    await sleep(settleS * 1000);
    const closed = sampleAll(target);
    const mb = (s: Record<string, TreeSample>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v.rssBytes / MB)]));
    const totalBytes = (s: Record<string, TreeSample>) => Object.values(s).reduce((a, v) => a + v.rssBytes, 0);
    result.connectMs = connected.ms;
    result.idle = {
      connections: connected.connected,
      failed: connected.failed,
      connectMs: connected.ms,
      rssBeforeMb: mb(before),
      rssAfterMb: mb(withIdle),
      rssClosedMb: mb(closed),
      perConnectionKb: round((totalBytes(withIdle) - totalBytes(before)) / 1024 / Math.max(1, connected.connected), 1),
      cpuIdlePct: Object.fromEntries(Object.keys(withIdle).map((k) => [k, round(cpuPct(withIdle0[k], withIdle[k]), 1)])),
      heapSnapshots: snapshots,
    };
  } catch (error) {
    result.error = (error as Error).message;
    run.log(`${kind} idle connections failed: ${result.error}`);
  } finally {
    await stopGenerator?.();
    await stopTarget?.();
  }
  return result;
}
