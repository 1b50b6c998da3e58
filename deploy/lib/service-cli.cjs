// `start|stop|status` for a service we run detached, remembered by a state
// file in .data/ (deploy/influxdb.mjs, deploy/mosquitto.mjs).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { dataRoot, isAlive, stopPid } = require('./process.cjs');
const { ensureDebianPackages } = require('./packages.cjs');
const { isListening } = require('./ports.cjs');

/** The services the operator CLIs run detached (docs/operations.md). */
const SERVICES = {
  influxdb: {
    name: 'influxdb',
    defaultPort: 8086,
    start: ({ port, dataDir }) => {
      ensureDebianPackages(['influxdb']);
      return require('./influxdb.cjs').startInfluxdb({ port, dataDir, detached: true });
    },
    probe: async (url) => (await require('./influxdb.cjs').ping(url))?.status === 204,
  },
  mosquitto: {
    name: 'mosquitto',
    defaultPort: 1883,
    start: ({ port, dataDir }) => {
      ensureDebianPackages(['mosquitto']);
      return require('./mosquitto.cjs').startMosquitto({ port, dataDir, detached: true });
    },
    probe: (url) => {
      const { hostname, port } = new URL(url);
      return isListening(Number(port), hostname);
    },
  },
};

/**
 * @param {keyof typeof SERVICES} name  influxdb or mosquitto; state in .data/<name>.json
 * @param {string[]} argv
 * @returns {Promise<number>} exit code (status: 0 running, 3 not running, as LSB init scripts)
 */
async function runServiceCli(name, argv) {
  const service = SERVICES[name];
  const usage = `usage: node deploy/${service.name}.mjs start|stop|status [--port ${service.defaultPort}] [--data-dir .data/${service.name}]`;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`${error.message}\n${usage}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || parsed.positionals.length !== 1 || !['start', 'stop', 'status'].includes(command)) {
    console.error(usage);
    return parsed.values.help ? 0 : 2;
  }
  const port = Number(parsed.values.port ?? service.defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`--port must be a TCP port number, got "${parsed.values.port}"`);
    return 2;
  }
  const dataDir = path.resolve(parsed.values['data-dir'] ?? path.join(dataRoot, service.name));
  const stateFile = path.join(dataRoot, `${service.name}.json`);
  const state = readState(stateFile);
  const running = state && isOurs(state) ? state : undefined;

  if (command === 'status') {
    if (!running) {
      console.log(`${service.name}: not running`);
      return 3;
    }
    const answers = await service.probe(running.url);
    console.log(`${service.name}: running, pid ${running.pid}, ${running.url} (${answers ? 'answering' : 'NOT answering'}), data ${running.dataDir}, log ${running.logFile}`);
    return answers ? 0 : 1;
  }

  if (command === 'stop') {
    if (!running) {
      console.log(`${service.name}: not running`);
      fs.rmSync(stateFile, { force: true });
      return 0;
    }
    const how = await stopPid(running.pid);
    fs.rmSync(stateFile, { force: true });
    console.log(`${service.name}: ${how} (pid ${running.pid})`);
    return 0;
  }

  if (running) {
    console.log(`${service.name}: already running, pid ${running.pid}, ${running.url}`);
    return 0;
  }
  try {
    const server = await service.start({ port, dataDir });
    const saved = { pid: server.pid, url: server.url, dataDir: server.dataDir, configFile: server.configFile, logFile: server.logFile };
    fs.mkdirSync(dataRoot, { recursive: true });
    fs.writeFileSync(stateFile, JSON.stringify(saved, null, 2) + '\n');
    console.log(`${service.name}: started, pid ${server.pid}, ${server.url}, data ${server.dataDir}, log ${server.logFile}`);
    return 0;
  } catch (error) {
    console.error(`${service.name}: ${error.message}`);
    return 1;
  }
}

function readState(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The recorded pid is alive and still runs our config (pids get reused). */
function isOurs(state) {
  if (!Number.isInteger(state.pid) || !isAlive(state.pid)) return false;
  try {
    return fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes(state.configFile);
  } catch {
    return true; // no /proc: trust the pid
  }
}

module.exports = { runServiceCli };
