/**
 * The systems the ingest benchmark measures, behind one interface: this
 * gateway (embedded broker), used only through its environment, MQTT, HTTP
 * and InfluxDB so that the benchmark keeps working whatever its internals
 * become; and the Node-RED peer (node-red.peer.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addCredential } from '../../support/credentials';
import { processes } from '../../support/deploy';
import { startGateway } from '../../support/gateway';
import { benchParkModel, type LoadConnection, type LoadShape } from './load.plan';
import { startNodeRedPeer } from './node-red.peer';

/** Which system. */
export type TargetKind = 'gateway' | 'node-red';

/** A started system under test. */
export interface BenchTarget {
  kind: TargetKind;
  /** For tables: "gateway", "node-red + mosquitto". */
  label: string;
  mqttUrl: string;
  influxDb: string;
  /** The processes measured, each with its descendants: the gateway; or Node-RED and Mosquitto. */
  processes: Array<{ name: string; pid: number }>;
  /** Password of every device credential, when the target authenticates devices. */
  devicePassword?: string;
  /** The node process that writes a heap snapshot on `signal`, and where it writes it. */
  heap?: { pid: number; dir: string; signal: NodeJS.Signals };
  /** Log file(s), for error messages. */
  logFiles: string[];
  stop(): Promise<void>;
}

/** What a target needs to start. */
export interface TargetContext {
  /** A fresh folder for this target's files (park model, credentials, spool, WAL, data). */
  dir: string;
  influxUrl: string;
  influxDb: string;
  /** Log base name under test-artifacts/logs. */
  logName: string;
  shape: LoadShape;
  /** Connections that will publish, plus the probe's: each device gets a credential when `auth`. */
  connections: LoadConnection[];
  /** Authenticate devices (gateway: MQTT_AUTH=required). The peer's Mosquitto is anonymous. */
  auth: boolean;
  /** Start node processes with a heap snapshot signal (NODE_OPTIONS). */
  heapSnapshots: boolean;
  /** Extra gateway environment (--gateway-env, GATEWAY_WORKERS). */
  gatewayEnv: Record<string, string>;
  joinCount: number;
  joinTimeoutS: number;
}

/**
 * The gateway writes a heap snapshot on SIGUSR2. Node-RED stops on SIGUSR2
 * (red.js: "for nodemon restart"), so it gets SIGPWR, which nothing there
 * handles.
 */
const HEAP_SIGNAL: Record<TargetKind, NodeJS.Signals> = { gateway: 'SIGUSR2', 'node-red': 'SIGPWR' };

function heapNodeOptions(kind: TargetKind, dir: string): string {
  return `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=${HEAP_SIGNAL[kind]} --diagnostic-dir=${dir}`.trim();
}

/**
 * Device credentials for every connection, made with the project's own
 * command once (a real scrypt hash in the real file format) and repeated for
 * each device with its own username and topic filters: hashing 10,000
 * passwords would take minutes and measure nothing.
 */
async function writeCredentials(file: string, connections: LoadConnection[]): Promise<string> {
  const password = await addCredential(file, 'bench-template', ['park/bench/#']);
  const content = JSON.parse(fs.readFileSync(file, 'utf8')) as { devices: Array<Record<string, unknown>> };
  const template = content.devices.find((d) => d.username === 'bench-template');
  if (!template) throw new Error(`${file}: the credentials command wrote no bench-template entry`);
  content.devices = connections.filter((c) => c.username).map((c) => ({ ...template, username: c.username, publish: c.publish, note: 'benchmark device' }));
  fs.writeFileSync(file, JSON.stringify(content) + '\n', { mode: 0o600 });
  return password;
}

async function startGatewayTarget(ctx: TargetContext): Promise<BenchTarget> {
  const parkFile = path.join(ctx.dir, 'bench.park.json');
  fs.writeFileSync(parkFile, JSON.stringify(benchParkModel(ctx.shape)));
  const credentials = path.join(ctx.dir, 'device-credentials.json');
  const devicePassword = ctx.auth ? await writeCredentials(credentials, ctx.connections) : undefined;
  const heapDir = path.join(ctx.dir, 'heap');
  fs.mkdirSync(heapDir, { recursive: true });
  const env: Record<string, string | undefined> = {
    INFLUX_URL: ctx.influxUrl,
    INFLUX_DB: ctx.influxDb,
    PARK_MODEL: parkFile,
    DEVICE_CREDENTIALS: credentials,
    MQTT_AUTH: ctx.auth ? 'required' : 'off',
    SPOOL_DIR: path.join(ctx.dir, 'spool'),
    // Contract section 8's write-ahead log: its own folder, not the demo's .data/wal.
    WAL_DIR: path.join(ctx.dir, 'wal'),
    METRICS_AUTH: 'off',
    LOG_LEVEL: 'warn',
    ...(ctx.heapSnapshots ? { NODE_OPTIONS: heapNodeOptions('gateway', heapDir) } : {}),
    ...ctx.gatewayEnv,
  };
  const gw = await startGateway({ name: ctx.logName, env, readyTimeoutMs: 180_000 });
  return {
    kind: 'gateway',
    label: 'gateway',
    mqttUrl: gw.mqttUrl,
    influxDb: ctx.influxDb,
    processes: [{ name: 'gateway', pid: gw.pid }],
    devicePassword,
    heap: ctx.heapSnapshots ? { pid: gw.pid, dir: heapDir, signal: HEAP_SIGNAL.gateway } : undefined,
    logFiles: [gw.logFile],
    async stop() {
      await gw.stop(30_000);
    },
  };
}

async function startNodeRedTarget(ctx: TargetContext): Promise<BenchTarget> {
  const heapDir = path.join(ctx.dir, 'heap');
  fs.mkdirSync(heapDir, { recursive: true });
  const peer = await startNodeRedPeer({
    runDir: ctx.dir,
    influxUrl: ctx.influxUrl,
    influxDb: ctx.influxDb,
    logName: ctx.logName,
    joinCount: ctx.joinCount,
    joinTimeoutS: ctx.joinTimeoutS,
    nodeOptions: ctx.heapSnapshots ? heapNodeOptions('node-red', heapDir) : undefined,
  });
  return {
    kind: 'node-red',
    label: 'node-red + mosquitto',
    mqttUrl: peer.mqttUrl,
    influxDb: ctx.influxDb,
    processes: [
      { name: 'node-red', pid: peer.nodeRedPid },
      { name: 'mosquitto', pid: peer.mosquittoPid },
    ],
    heap: ctx.heapSnapshots ? { pid: peer.nodeRedPid, dir: heapDir, signal: HEAP_SIGNAL['node-red'] } : undefined,
    logFiles: [peer.logFile],
    stop: () => peer.stop(),
  };
}

/** Starts a target in `ctx.dir`. */
export async function startTarget(kind: TargetKind, ctx: TargetContext): Promise<BenchTarget> {
  fs.mkdirSync(ctx.dir, { recursive: true });
  return kind === 'gateway' ? startGatewayTarget(ctx) : startNodeRedTarget({ ...ctx, auth: false });
}

/**
 * Sends the heap snapshot signal and waits for the snapshot (V8 writes it synchronously, the
 * process is frozen meanwhile), then moves it to test-artifacts/heap/<name>.
 * Only the main thread's heap: worker threads are not in it.
 */
export async function takeHeapSnapshot(target: BenchTarget, name: string): Promise<string> {
  if (!target.heap) throw new Error('heap snapshots need --heap-snapshot');
  const { pid, dir, signal } = target.heap;
  const before = new Set(fs.readdirSync(dir));
  try {
    process.kill(pid, signal);
  } catch (error) {
    throw new Error(`cannot signal ${target.label} (pid ${pid}) for a heap snapshot: ${(error as Error).message}; see ${target.logFiles.join(', ')}`);
  }
  const deadline = Date.now() + 300_000;
  let file: string | undefined;
  let lastSize = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    file ??= fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file) {
      const size = fs.statSync(path.join(dir, file)).size;
      // Written and closed: the size stopped changing and the JSON is complete.
      if (size === lastSize && size > 0 && endsWithBrace(path.join(dir, file), size)) break;
      lastSize = size;
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot from pid ${pid} in ${dir} after 300 s`);
  }
  const out = path.join(processes.repoRoot, 'test-artifacts', 'heap', `${name}.heapsnapshot`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.copyFileSync(path.join(dir, file), out);
  fs.rmSync(path.join(dir, file));
  return path.relative(processes.repoRoot, out);
}

function endsWithBrace(file: string, size: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const tail = Buffer.alloc(Math.min(16, size));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.toString('latin1').trimEnd().endsWith('}');
  } finally {
    fs.closeSync(fd);
  }
}
