/**
 * `npm run bench [-- options]`: ingestion end to end with the real
 * components (issue 10). A load generator in its own process publishes
 * single-reading QoS 1 messages to a generated park (250 buildings × 20
 * meters by default) through the target's broker; InfluxDB 1.6 (started
 * here on free ports, data in .data/bench-run-<pid>) is counted with
 * InfluxQL. Targets: this gateway (embedded broker), and with
 * `--peer node-red` Node-RED 4.1 + node-red-contrib-influxdb behind
 * Mosquitto, measured back to back with the same load.
 *
 * Scenarios: the rate ladder (default; per load mode, the highest rate with
 * nothing lost and everything queryable within 5 s, side by side), `--soak`
 * (one rate, RSS every 10 s) and `--idle` (idle authenticated device
 * connections). `--help` lists the options; docs/benchmarks.md has the
 * commands. Every process started here is stopped at the end and on Ctrl-C.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt } from '../support/build';
import { influxdb, packages, processes, type InfluxdbServer } from '../support/deploy';
import { reapLeftovers } from '../support/leftovers';
import { OptionError, USAGE, parseBenchOptions, type BenchOptions } from './ingest/bench.options';
import { STEP_HEADER, comparisonTable, idleReport, soakReport, stepLine, stepRow, summary } from './ingest/bench.report';
import type { TargetKind } from './ingest/bench.targets';
import { idleSegment, ladderSegment, soakSegment, type RunContext, type SegmentResult } from './ingest/ingest.scenarios';
import { ensureNodeRed } from './ingest/node-red.peer';
import { openFilesLimit } from './ingest/proc.stats';

const log = (line: string) => console.log(`[bench] ${line}`);

/** Closers of everything started, run in reverse order at the end or on Ctrl-C. */
const closers: Array<{ name: string; close: () => Promise<void> }> = [];
let runDir = '';

function onCleanup(name: string, close: () => Promise<void>): () => Promise<void> {
  const entry = { name, close };
  closers.push(entry);
  return async () => {
    const i = closers.indexOf(entry);
    if (i < 0) return;
    closers.splice(i, 1);
    await close();
  };
}

let cleaning: Promise<void> | undefined;
/** Stops everything once, whoever asks first (the end of the run, an error, Ctrl-C). */
function cleanUp(): Promise<void> {
  cleaning ??= stopAll();
  return cleaning;
}

async function stopAll(): Promise<void> {
  while (closers.length > 0) {
    const { name, close } = closers.pop() as (typeof closers)[number];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([close().catch((e: Error) => log(`stopping ${name}: ${e.message}`)), new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
  }
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
  // startGateway's default folders (.data/test-*-<our pid>), unused here.
  reapLeftovers({ includeOwn: true });
}

let stopping = false;
let stoppingSince = 0;
function onSignal(signal: NodeJS.Signals): void {
  // A wrapper (npx tsx) may relay the terminal's Ctrl-C that reached us
  // already: only a second Ctrl-C a moment later means "now".
  if (stopping && Date.now() - stoppingSince > 1000) {
    log(`${signal} again: killing what is left`);
    process.exit(130); // deploy/lib/process.cjs SIGKILLs tracked children on exit
  }
  if (stopping) return;
  stopping = true;
  stoppingSince = Date.now();
  log(`${signal}: stopping everything (again to force)`);
  void cleanUp().finally(() => process.exit(130));
}

function describeLoad(o: BenchOptions): string {
  const base = `QoS 1 single readings to ${o.buildings} buildings × ${o.meters} meters (${o.registered.toLocaleString('en-US')} registered sensors)`;
  if (o.scenario.kind === 'ladder') return `${base}, ${o.scenario.stepS} s per rate, pass = nothing held back or lost, all queryable ≤ ${o.deadlineS} s after the last publish`;
  return base;
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    o = parseBenchOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    if (error.message) process.stderr.write(`error: ${error.message}\n\n`);
    process.stderr.write(`${USAGE}\n`);
    process.exit(error.message ? 2 : 0);
  }
  const connectionsNeeded = o.scenario.kind === 'idle' ? o.scenario.connections : o.modes.includes('devices') ? o.devices : 1;
  const limit = openFilesLimit();
  if (limit.soft < connectionsNeeded + 1000) {
    throw new Error(`open files limit ${limit.soft} (hard ${limit.hard}) is too low for ${connectionsNeeded} connections: run "ulimit -n ${Math.min(limit.hard, connectionsNeeded + 4096)}" first (npm run bench raises it to the hard limit)`);
  }
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  packages.ensureDebianPackages(o.targets.includes('node-red') ? ['influxdb', 'mosquitto'] : ['influxdb'], { log });
  // The gateway runs as in production, compiled (dist/): never a stale build.
  if (o.targets.includes('gateway')) ensureBuilt();
  const versions: Record<string, string> = { node: process.version };
  if (o.targets.includes('node-red')) {
    const v = await ensureNodeRed(log);
    versions.nodeRed = v.nodeRed;
    versions.influxdbNode = v.influxdbNode;
  }
  runDir = path.join(processes.dataRoot, `bench-run-${process.pid}`);
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  const influx: InfluxdbServer = await influxdb.startInfluxdb({ dataDir: path.join(runDir, 'influxdb'), logLevel: 'warn' });
  onCleanup('InfluxDB', () => influx.stop());
  versions.influxdb = (await influxdb.ping(influx.url))?.version ?? 'unknown';
  // startGateway's defaults read it; the gateway gets it in its env anyway.
  process.env.INFLUX_URL = influx.url;

  const run: RunContext = { options: o, influxUrl: influx.url, runDir, onCleanup, log, stopping: () => stopping };
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) };
  log(`${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB; node ${process.version}; InfluxDB ${versions.influxdb}${versions.nodeRed ? `; Node-RED ${versions.nodeRed} + node-red-contrib-influxdb ${versions.influxdbNode}` : ''}`);
  log(`targets: ${o.targets.join(', ')}; ${describeLoad(o)}${Object.keys(o.gatewayEnv).length ? `; gateway env ${JSON.stringify(o.gatewayEnv)}` : ''}${process.env.GATEWAY_WORKERS ? `; GATEWAY_WORKERS=${process.env.GATEWAY_WORKERS}` : ''}`);

  const segments: SegmentResult[] = [];
  const reports: string[] = [];
  if (o.scenario.kind === 'ladder') {
    for (const mode of o.modes) {
      const inMode: SegmentResult[] = [];
      console.log(`\n${stepLine(STEP_HEADER)}`);
      for (const kind of o.targets) {
        if (stopping) return;
        const seg = await ladderSegment(run, kind, mode, (s, step) => console.log(stepLine(stepRow(s, step))));
        inMode.push(seg);
        segments.push(seg);
      }
      if (stopping) return;
      const report = comparisonTable(mode, inMode, describeLoad(o));
      reports.push(report);
      console.log(report);
    }
  } else if (o.scenario.kind === 'soak') {
    for (const mode of o.modes) {
      for (const kind of o.targets) {
        if (stopping) return;
        const seg = await soakSegment(run, kind, mode, (k: TargetKind, s: number, rss: Record<string, number>) => log(`${k} (${mode}) t=${s}s RSS ${Object.entries(rss).map(([p, mb]) => `${p} ${mb} MB`).join(', ')}`));
        segments.push(seg);
        reports.push(soakReport(seg));
        console.log(reports[reports.length - 1]);
      }
    }
  } else {
    for (const kind of o.targets) {
      if (stopping) return;
      const seg = await idleSegment(run, kind);
      segments.push(seg);
      reports.push(idleReport(seg));
      console.log(reports[reports.length - 1]);
    }
  }

  if (stopping) return;
  if (reports.length > 1) console.log(`\n${'='.repeat(30)} summary ${'='.repeat(30)}${reports.join('\n')}`);
  const result = {
    bench: 'ingest',
    at: new Date().toISOString(),
    machine,
    versions,
    options: { ...o, gatewayWorkers: process.env.GATEWAY_WORKERS ?? o.gatewayEnv.GATEWAY_WORKERS },
    summary: o.scenario.kind === 'ladder' ? segments.map(summary) : undefined,
    segments,
  };
  const line = JSON.stringify(result);
  console.log(line);
  const jsonFile = o.jsonFile ?? path.join(processes.repoRoot, 'test-artifacts', 'bench', `ingest-${result.at.replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(jsonFile), { recursive: true });
  fs.writeFileSync(jsonFile, line + '\n');
  log(`JSON written to ${path.relative(process.cwd(), jsonFile)}`);
  const failed = segments.filter((s) => s.error);
  await cleanUp();
  process.exit(failed.length > 0 ? 1 : 0);
}

async function fail(error: unknown): Promise<void> {
  if (!stopping) console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await cleanUp().catch(() => undefined);
  process.exit(stopping ? 130 : 1);
}

process.on('unhandledRejection', (error) => void fail(error));
main().then(async () => {
  // Ctrl-C: the signal handler is stopping everything and exits.
  if (stopping) await cleanUp();
}, fail);
