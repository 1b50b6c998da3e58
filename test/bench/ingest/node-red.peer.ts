/**
 * The peer of issue 10: what a user would build instead of this gateway.
 * Node-RED 4.1 with `node-red-contrib-influxdb` behind Debian's Mosquitto:
 *
 *   mqtt in (park/#, QoS 1, persistent session)
 *     → function: topic + JSON → an InfluxDB point (energy; park, building,
 *       sensor, source; power_kw, energy_kwh; ms timestamp)
 *     → join: 1,000 messages or 1 s
 *     → influxdb batch (InfluxDB 1.x, precision ms)
 *
 * Node-RED is installed from npm into a throwaway, git-ignored folder
 * (`.data/bench-peers/node-red`), never a dependency of the product. The
 * flow and the settings are generated here for each run; the editor and the
 * admin API are off.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { influxdb, mosquitto, ports, processes, type ChildExit, type MosquittoServer } from '../../support/deploy';

/** Versions installed: the Node-RED 4.1 line and the InfluxDB node it was measured with. */
export const NODE_RED_SPEC = 'node-red@~4.1.0';
export const INFLUXDB_NODE_SPEC = 'node-red-contrib-influxdb@0.7.0';

/** The throwaway install folder. */
export const NODE_RED_DIR = path.join(processes.dataRoot, 'bench-peers', 'node-red');

/** Options of the generated flow. */
export interface NodeRedFlowOptions {
  brokerHost: string;
  brokerPort: number;
  influxHost: string;
  influxPort: number;
  influxDb: string;
  /** The join's count and timeout (the issue: 1,000 messages or 1 s). */
  joinCount: number;
  joinTimeoutS: number;
}

/**
 * The function node's body: what a user writes to turn a reading into a
 * point. The tags come from the topic (like the gateway), `source` is the
 * model's default (`grid`): the peer has no park model.
 */
export const POINT_FUNCTION = [
  "const [, park, building, , sensor] = msg.topic.split('/');",
  'const r = msg.payload;',
  'const fields = {};',
  "if (typeof r.power_kw === 'number') fields.power_kw = r.power_kw;",
  "if (typeof r.energy_kwh === 'number') fields.energy_kwh = r.energy_kwh;",
  'msg.payload = {',
  "  measurement: 'energy',",
  "  tags: { park, building, sensor, source: 'grid' },",
  '  fields,',
  '  timestamp: r.ts,',
  '};',
  'return msg;',
].join('\n');

/** The flow (flows.json) of the peer. */
export function nodeRedFlow(o: NodeRedFlowOptions): unknown[] {
  const tab = 'bench-tab';
  return [
    { id: tab, type: 'tab', label: 'park telemetry → InfluxDB', disabled: false },
    {
      id: 'bench-broker',
      type: 'mqtt-broker',
      name: 'mosquitto',
      broker: o.brokerHost,
      port: String(o.brokerPort),
      clientid: 'bench-node-red',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      // A persistent session: Mosquitto queues QoS 1 messages while Node-RED is away.
      cleansession: false,
      autoUnsubscribe: false,
      birthTopic: '',
      closeTopic: '',
      willTopic: '',
    },
    {
      id: 'bench-influx',
      type: 'influxdb',
      hostname: o.influxHost,
      port: String(o.influxPort),
      protocol: 'http',
      database: o.influxDb,
      name: 'influxdb 1.6',
      usetls: false,
      influxdbVersion: '1.x',
    },
    { id: 'bench-in', type: 'mqtt in', z: tab, name: 'park/#', topic: 'park/#', qos: '1', datatype: 'json', broker: 'bench-broker', nl: false, rap: true, rh: 0, inputs: 0, x: 120, y: 80, wires: [['bench-point']] },
    { id: 'bench-point', type: 'function', z: tab, name: 'reading → point', func: POINT_FUNCTION, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 320, y: 80, wires: [['bench-join']] },
    {
      id: 'bench-join',
      type: 'join',
      z: tab,
      name: `${o.joinCount} or ${o.joinTimeoutS} s`,
      mode: 'custom',
      build: 'array',
      property: 'payload',
      propertyType: 'msg',
      key: 'topic',
      joiner: '\\n',
      joinerType: 'str',
      useparts: false,
      accumulate: false,
      timeout: String(o.joinTimeoutS),
      count: String(o.joinCount),
      reduceRight: false,
      x: 520,
      y: 80,
      wires: [['bench-write']],
    },
    { id: 'bench-write', type: 'influxdb batch', z: tab, influxdb: 'bench-influx', precision: 'ms', retentionPolicy: '', name: 'write batch', x: 720, y: 80, wires: [] },
  ];
}

/** settings.js: loopback only, no editor, no admin API, no HTTP nodes, no telemetry. */
export function nodeRedSettings(userDir: string, uiPort: number): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort,
    httpAdminRoot: false,
    httpNodeRoot: false,
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false } },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    functionExternalModules: false,
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
  };
  return `// Generated by test/bench/ingest/node-red.peer.ts for one benchmark run.\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

function installedVersion(pkg: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(NODE_RED_DIR, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Installs Node-RED and the InfluxDB node into {@link NODE_RED_DIR} unless
 * they are there. No install scripts and no optional native modules: nothing
 * downloads binaries. Returns the versions.
 */
export async function ensureNodeRed(log: (line: string) => void): Promise<{ nodeRed: string; influxdbNode: string }> {
  const have = () => ({ nodeRed: installedVersion('node-red'), influxdbNode: installedVersion('node-red-contrib-influxdb') });
  let v = have();
  if (!v.nodeRed?.startsWith('4.1.') || v.influxdbNode !== INFLUXDB_NODE_SPEC.split('@')[1]) {
    fs.mkdirSync(NODE_RED_DIR, { recursive: true });
    log(`installing ${NODE_RED_SPEC} and ${INFLUXDB_NODE_SPEC} into ${path.relative(processes.repoRoot, NODE_RED_DIR)} (not a dependency of the product)`);
    const args = ['install', '--prefix', NODE_RED_DIR, '--no-save', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', NODE_RED_SPEC, INFLUXDB_NODE_SPEC];
    await new Promise<void>((resolve, reject) => {
      execFile('npm', args, { cwd: NODE_RED_DIR, timeout: 600_000 }, (error, _out, err) => {
        if (error) reject(new Error(`npm ${args.join(' ')} failed: ${err.trim() || error.message}`));
        else resolve();
      });
    });
    v = have();
  }
  if (!v.nodeRed || !v.influxdbNode) throw new Error(`Node-RED is not installed in ${NODE_RED_DIR} after npm install; remove the folder and try again`);
  return { nodeRed: v.nodeRed, influxdbNode: v.influxdbNode };
}

/** A running peer: Mosquitto + Node-RED. */
export interface NodeRedPeer {
  mqttUrl: string;
  nodeRedPid: number;
  mosquittoPid: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts Mosquitto (anonymous, loopback, free port) and Node-RED with the
 * generated flow, and resolves once the flow's MQTT node is connected.
 * `nodeOptions`: NODE_OPTIONS for Node-RED (heap snapshots).
 */
export async function startNodeRedPeer(o: { runDir: string; influxUrl: string; influxDb: string; logName: string; joinCount: number; joinTimeoutS: number; nodeOptions?: string }): Promise<NodeRedPeer> {
  const broker: MosquittoServer = await mosquitto.startMosquitto({ dataDir: path.join(o.runDir, 'mosquitto') });
  try {
    await influxdb.createDatabase(o.influxUrl, o.influxDb);
    const userDir = path.join(o.runDir, 'node-red');
    fs.mkdirSync(userDir, { recursive: true });
    const influx = new URL(o.influxUrl);
    const brokerUrl = new URL(broker.url);
    fs.writeFileSync(
      path.join(userDir, 'flows.json'),
      JSON.stringify(nodeRedFlow({ brokerHost: brokerUrl.hostname, brokerPort: Number(brokerUrl.port), influxHost: influx.hostname, influxPort: Number(influx.port), influxDb: o.influxDb, joinCount: o.joinCount, joinTimeoutS: o.joinTimeoutS }), null, 2),
    );
    const settingsFile = path.join(userDir, 'settings.js');
    fs.writeFileSync(settingsFile, nodeRedSettings(userDir, await ports.freePort('127.0.0.1')));
    const logFile = path.join(processes.repoRoot, 'test-artifacts', 'logs', `${o.logName}.log`);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.appendFileSync(logFile, `--- ${new Date().toISOString()} starting Node-RED (broker ${broker.url}, InfluxDB ${o.influxUrl} db ${o.influxDb})\n`);
    const logStart = fs.statSync(logFile).size;
    const fd = fs.openSync(logFile, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: o.nodeOptions ?? '' };
    const child = processes.track(
      spawn(process.execPath, [path.join(NODE_RED_DIR, 'node_modules', 'node-red', 'red.js'), '--settings', settingsFile, '--userDir', userDir], { cwd: userDir, env, stdio: ['ignore', fd, fd] }),
    );
    fs.closeSync(fd);
    const stop = async () => {
      await processes.stopChild(child, 10_000);
      await broker.stop();
    };
    try {
      await waitForLog(logFile, logStart, /Connected to broker/, child.exited, 90_000);
    } catch (error) {
      await stop();
      throw error;
    }
    return { mqttUrl: broker.url, nodeRedPid: child.pid ?? 0, mosquittoPid: broker.pid, logFile, stop };
  } catch (error) {
    await broker.stop();
    throw error;
  }
}

async function waitForLog(logFile: string, start: number, pattern: RegExp, exited: Promise<ChildExit>, timeoutMs: number): Promise<void> {
  let exit: ChildExit | undefined;
  void exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.readFileSync(logFile, 'utf8').slice(start);
    if (pattern.test(text)) return;
    if (exit) throw new Error(`Node-RED exited before it was ready (code ${exit.code}, signal ${exit.signal})${processes.logTail(logFile, 30)}`);
    if (Date.now() > deadline) throw new Error(`Node-RED did not log ${pattern} within ${timeoutMs / 1000} s${processes.logTail(logFile, 30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
