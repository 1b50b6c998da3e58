#!/usr/bin/env node
// `npm start`: the quick start (docs/operations.md). InfluxDB (ours, or one
// that already answers at INFLUX_URL), the gateway with device authentication
// on, and the simulator publishing the demo park in real time with a few
// faulty readings, so every page of the viewer has something to show.
// Ctrl-C stops the simulator, then the gateway (which flushes), then InfluxDB.
//
// Configured by the gateway's environment (contract section 1), read through
// the gateway's own typed loader, so a bad variable stops the demo with the
// gateway's message. Children run in their own sessions so a terminal's
// Ctrl-C reaches only us and we choose the stop order. Everything runs from
// the compiled build (dist/node), which `npm ci` makes.
import { spawn, spawnSync, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createDatabase, ping, startInfluxdb } from './lib/influxdb.cjs';
import { ensureDebianPackages } from './lib/packages.cjs';
import { canBind } from './lib/ports.cjs';
import { dataRoot, logTail, repoRoot, spawnLogged, stopChild, track, waitReady } from './lib/process.cjs';

const dist = (file) => path.join(repoRoot, 'dist/node', file);
if (!fs.existsSync(dist('apps/gateway/src/main.js'))) {
  console.log('[demo] no build found (dist/node): building it (npm run build) ...');
  if (spawnSync(process.execPath, [path.join(repoRoot, 'deploy/build.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(1);
}
const require = createRequire(import.meta.url);
const { ConfigError, loadConfig } = require(dist('apps/gateway/src/config/gateway-config.js'));
const { loadParks } = require(dist('apps/gateway/src/park/park-model.loader.js'));
const { TOPIC_ROOT } = require(dist('libs/telemetry/src/index.js'));

const env = process.env;
let config;
try {
  config = loadConfig(env);
} catch (error) {
  console.error(`[demo] ${error instanceof ConfigError ? error.message : error.stack}`);
  process.exit(1);
}
// Operators' and devices' listeners (contract §8: HTTP_HOST, MQTT_HOST, both
// HOST by default). A wildcard bind address is not somewhere to connect to.
const reach = (bind) => (['0.0.0.0', '::', '[::]'].includes(bind) ? '127.0.0.1' : bind);
const reachHost = reach(config.httpHost);
const deviceHost = reach(config.mqttHost);
const httpPort = config.httpPort;
const mqttPort = config.mqttPort;
const influxUrl = config.influx.url;
const influxDb = config.influx.db;
const credentialsFile = config.deviceCredentialsFile;
const simCredentialFile = path.join(dataRoot, 'sim-credential.json');
const tokensFile = config.api.tokensFile;
const adminTokenFile = path.join(dataRoot, 'demo-admin-token.json');
const ADMIN_NAME = 'demo-admin';
/** The admin token printed for the user (contract §8: operators sign in). */
let adminToken;
const gatewayLog = path.join(dataRoot, 'logs', 'gateway.log');
const httpUrl = `http://${reachHost}:${httpPort}`;
const mqttUrl = config.mqttUrl ?? `mqtt://${deviceHost}:${mqttPort}`;
// MQTT over WebSocket: on the HTTP port while the hosts are the same, else on the devices' own listener.
const wsUrl = config.mqttHost === config.httpHost ? `ws://${reachHost}:${httpPort}/mqtt` : `ws://${deviceHost}:${config.mqttWsPort}/mqtt`;
const SIM_USERNAME = 'park-sim';
const SIM_FAULTS = 'malformed=0.001,duplicate=0.002';
// The simulator starts this far in the past so the twin opens with history;
// the gateway derives the windows of those (late) readings by itself
// (contract §8). A second run continues what is stored: its meters go on
// from their stored registers, and it backfills only what is missing.
const BACKFILL_HOURS = 2;
const simStartMs = Date.now() - BACKFILL_HOURS * 3_600_000;

const say = (line) => console.log(`[demo] ${line}`);

/** What we started, in start order; stopped in reverse. */
const running = [];
let stopping = false;

process.on('SIGINT', () => shutdown('Ctrl-C', 0));
process.on('SIGTERM', () => shutdown('SIGTERM', 0));

try {
  await main();
} catch (error) {
  console.error(`[demo] ${error.message}`);
  await shutdown('a start-up failure', 1);
}

async function main() {
  await ensureInflux();
  if (stopping) return;
  await buildViewerIfMissing();
  await ensureSimCredential();
  if (env.API_AUTH !== 'off') await ensureAdminToken();
  await checkPortsFree();
  if (stopping) return;
  await startGateway();
  if (stopping) return;
  startSimulator();
  printUrls();
}

async function ensureInflux() {
  const pong = await ping(influxUrl);
  // 1.x and 2.x answer 204; 3.x answers 200; all send X-Influxdb-Version.
  if (pong && pong.status !== 204 && !pong.version) {
    throw new Error(`${influxUrl}/ping answered ${pong.status} without an X-Influxdb-Version header: not an InfluxDB; point INFLUX_URL at one or free that port`);
  }
  if (pong) {
    say(`using the InfluxDB already answering at ${influxUrl} (version ${pong.version ?? 'unknown'})`);
    if (pong.version?.startsWith('1.')) await createDatabaseOrWarn();
    else say(`not a 1.x server: the gateway uses INFLUX_BUCKET/INFLUX_ORG/INFLUX_TOKEN there`);
    return;
  }
  const { hostname, port, protocol } = new URL(influxUrl);
  if (protocol !== 'http:' || !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`nothing answers ${influxUrl}/ping; start that InfluxDB, or unset INFLUX_URL to let the demo run one on 127.0.0.1:8086`);
  }
  ensureDebianPackages(['influxdb']);
  const dataDir = path.join(dataRoot, 'influxdb');
  say(`starting InfluxDB on ${influxUrl} (data ${path.relative(repoRoot, dataDir)})`);
  const server = await startInfluxdb({
    port: Number(port || 8086),
    bindHost: hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, ''),
    dataDir,
    ownSession: true,
  });
  watch('InfluxDB', server.exited(), server.logFile);
  running.push({ name: 'InfluxDB', stop: () => server.stop(15_000) });
  await createDatabaseOrWarn();
}

async function createDatabaseOrWarn() {
  try {
    await createDatabase(influxUrl, influxDb);
    say(`database "${influxDb}" is ready`);
  } catch (error) {
    say(`could not create database "${influxDb}" (${error.message}); the gateway will try again`);
  }
}

/** The gateway serves the viewer from dist/twin-viewer; `npm ci` builds it (prepare). */
async function buildViewerIfMissing() {
  const viewerDir = path.resolve(repoRoot, env.VIEWER_DIR || 'dist/twin-viewer');
  const config = path.join(repoRoot, 'apps/twin-viewer/vite.config.mjs');
  if (fs.existsSync(path.join(viewerDir, 'index.html')) || !fs.existsSync(config)) return;
  say('building the twin viewer (npm run build) ...');
  const vite = path.join(repoRoot, 'node_modules/.bin/vite');
  const built = await runInherit(vite, ['build', '--config', config, '--logLevel', 'warn']);
  if (!built) say('the viewer build failed; the API still works, the page at / will not');
}

function runInherit(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}

/**
 * The simulator is a device like any other: it needs a credential in the
 * gateway's file (MQTT_AUTH=required). Its password is shown only once, so
 * we keep it in .data/sim-credential.json (0600) and reuse it on later runs.
 */
async function ensureSimCredential() {
  const saved = readJson(simCredentialFile);
  const registered = readJson(credentialsFile)?.devices?.some((d) => d?.username === SIM_USERNAME) ?? false;
  if (registered && saved?.username === SIM_USERNAME && typeof saved.password === 'string') {
    say(`reusing the simulator's credential (${path.relative(repoRoot, simCredentialFile)})`);
    return;
  }
  if (registered) await credentials(['remove', '--username', SIM_USERNAME, '--file', credentialsFile]);
  // Devices are limited to named parks (the credentials command refuses park/#).
  const publish = parkIds().flatMap((id) => ['--publish', `${TOPIC_ROOT}/${id}/#`]);
  const out = await credentials([
    'add', '--username', SIM_USERNAME, ...publish,
    '--note', 'demo simulator (npm start)', '--file', credentialsFile, '--json',
  ]);
  const { username, password } = JSON.parse(out.trim().split('\n').pop());
  fs.mkdirSync(dataRoot, { recursive: true });
  fs.writeFileSync(simCredentialFile, JSON.stringify({ username, password }) + '\n', { mode: 0o600 });
  fs.chmodSync(simCredentialFile, 0o600);
  say(`created the simulator's device credential "${username}" in ${path.relative(repoRoot, credentialsFile)}`);
}

/**
 * An admin token for the person running the demo, kept in .data/ (mode 0600)
 * and reused on later runs, like the simulator's credential: the token file
 * holds only its hash, so the demo keeps the token itself to print it again.
 */
async function ensureAdminToken() {
  const saved = readJson(adminTokenFile);
  const record = readJson(tokensFile)?.tokens?.find((t) => t?.name === ADMIN_NAME);
  const hash = typeof saved?.token === 'string' ? `sha256$${crypto.createHash('sha256').update(saved.token).digest('hex')}` : undefined;
  if (record && hash && record.hash === hash) {
    adminToken = saved.token;
    say(`reusing the demo admin token (${path.relative(repoRoot, adminTokenFile)})`);
    return;
  }
  if (record) await tokens(['revoke', '--name', ADMIN_NAME, '--file', tokensFile]);
  const out = await tokens(['add', '--name', ADMIN_NAME, '--role', 'admin', '--file', tokensFile, '--json']);
  adminToken = JSON.parse(out.trim().split('\n').pop()).token;
  fs.mkdirSync(dataRoot, { recursive: true });
  fs.writeFileSync(adminTokenFile, JSON.stringify({ name: ADMIN_NAME, token: adminToken }) + '\n', { mode: 0o600 });
  fs.chmodSync(adminTokenFile, 0o600);
  say(`created the admin token "${ADMIN_NAME}" in ${path.relative(repoRoot, tokensFile)}`);
}

function tokens(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [dist('apps/gateway/src/auth/tokens.main.js'), ...args], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm run tokens -- ${args[0]} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function credentials(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [dist('apps/gateway/src/auth/credentials.main.js'), ...args], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm run credentials -- ${args[0]} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function checkPortsFree() {
  const wanted = [['HTTP_PORT', httpPort, config.httpHost]];
  if (!env.MQTT_URL && mqttPort !== undefined) wanted.push(['MQTT_PORT', mqttPort, config.mqttHost]);
  for (const [name, port, host] of wanted) {
    if (!(await canBind(port, host))) {
      throw new Error(`${host}:${port} is already in use (another demo or gateway?); stop it or set ${name} to a free port`);
    }
  }
}

async function startGateway() {
  say(`starting the gateway (log ${path.relative(repoRoot, gatewayLog)})`);
  fs.mkdirSync(path.dirname(gatewayLog), { recursive: true });
  fs.appendFileSync(gatewayLog, `\n--- ${new Date().toISOString()} npm start\n`);
  const gateway = spawnLogged(process.execPath, [dist('apps/gateway/src/main.js')], {
    logFile: gatewayLog,
    ownSession: true,
    env: {
      ...env,
      HTTP_HOST: config.httpHost,
      MQTT_HOST: config.mqttHost,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: mqttPort === undefined ? 'off' : String(mqttPort),
      INFLUX_URL: influxUrl,
      INFLUX_DB: influxDb,
      DEVICE_CREDENTIALS: credentialsFile,
      MQTT_AUTH: 'required',
      API_TOKENS: tokensFile,
    },
  });
  running.push({ name: 'gateway', stop: () => stopChild(gateway, 30_000) });
  watch('gateway', gateway.exited, gatewayLog);
  await waitReady(
    async () => {
      const res = await fetch(`${httpUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200 || res.status === 503;
    },
    { what: 'the gateway', timeoutMs: 180_000, intervalMs: 250, child: gateway, logFile: gatewayLog },
  );
  say(`gateway ready at ${httpUrl}`);
}

function startSimulator() {
  const args = [
    dist('apps/park-sim/src/sim.main.js'),
    '--url', mqttUrl,
    '--credentials', simCredentialFile,
    '--seed', '42',
    '--faults', SIM_FAULTS,
    '--from', String(simStartMs),
    '--continue', '--influx-url', influxUrl, '--influx-db', influxDb,
  ];
  if (env.PARK_MODEL) args.push('--park-model', env.PARK_MODEL);
  say(`starting the simulator (seed 42, continuing what is stored, at most the last ${BACKFILL_HOURS} h backfilled, then real time; faults ${SIM_FAULTS})`);
  const sim = track(spawn(process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  prefixLines(sim.stdout, '[sim] ');
  prefixLines(sim.stderr, '[sim] ');
  running.push({ name: 'simulator', stop: () => stopChild(sim, 10_000) });
  watch('simulator', sim.exited);
}

function prefixLines(stream, prefix) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (pending + chunk).split(/\r\n|\n|\r/);
    pending = lines.pop();
    for (const line of lines) if (line) console.log(prefix + line);
  });
  stream.on('end', () => {
    if (pending) console.log(prefix + pending);
  });
}

function printUrls() {
  const park = parkIds()[0];
  const lines = [
    '',
    'The park twin is running.',
    `  Twin viewer  ${httpUrl}/`,
    ...(adminToken
      ? [
          `  Admin token  ${adminToken}`,
          `               (paste it into the viewer's sign-in form; for the API: curl -H 'Authorization: Bearer ${adminToken}' ${httpUrl}/api/parks;`,
          `               kept in ${path.relative(repoRoot, adminTokenFile)}; more tokens: npm run tokens -- add --name <name> --role viewer)`,
        ]
      : ['  API_AUTH=off: the API is open to anyone who reaches it']),
    `  API          ${httpUrl}/api/health (needs the token, as every route below)`,
    `               ${httpUrl}/api/parks/${park}/vitals`,
    `               ${httpUrl}/api/parks/${park}/history?metric=load_kw&every=1m`,
    `               ${httpUrl}/api/rejections`,
    `               ${httpUrl}/api/docs (OpenAPI)`,
    `  Metrics      ${httpUrl}/metrics`,
    `  MQTT         ${mqttUrl}${env.MQTT_URL ? '' : `, ${wsUrl}`} (devices need a credential: npm run credentials -- add)`,
    `  InfluxDB     ${influxUrl}, database "${influxDb}"`,
    `  Gateway log  ${path.relative(repoRoot, gatewayLog)}`,
    'Ctrl-C stops the simulator, the gateway and InfluxDB.',
    '',
  ];
  console.log(lines.join('\n'));
}

/** Ids of the parks the gateway serves (PARK_MODEL: comma-separated files). */
function parkIds() {
  // The gateway's own loader: a bad file stops the demo with the gateway's message.
  return loadParks(config.parkModelFiles).map((p) => p.model.id);
}

/** A child that exits while we are not stopping is a failure of the demo. */
function watch(name, exited, logFile) {
  exited.then(({ code, signal }) => {
    if (stopping) return;
    console.error(`[demo] ${name} exited unexpectedly (code ${code}, signal ${signal})${logTail(logFile)}`);
    void shutdown(`${name} exiting`, 1);
  });
}

async function shutdown(reason, code) {
  if (stopping) return;
  stopping = true;
  say(`stopping after ${reason} ...`);
  for (const { name, stop } of running.reverse()) {
    try {
      const exit = await stop();
      say(`${name} stopped${exit && exit.code !== null ? ` (exit code ${exit.code})` : ''}`);
    } catch (error) {
      say(`${name} did not stop cleanly: ${error.message}`);
    }
  }
  process.exit(code);
}
