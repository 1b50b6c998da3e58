// A private Mosquitto 2.x broker (Debian's mosquitto package): the external
// broker for MQTT_URL tests and for operators who want one (contract section
// 1). It is anonymous and listens on loopback only: device authentication is
// the gateway's job with its embedded broker; with an external broker, the
// broker's own ACLs apply and this one is for local use only.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isListening } = require('./ports.cjs');
const { dataRoot, prepareServer, startServer } = require('./process.cjs');

/**
 * @typedef {object} MosquittoServer
 * @property {string} url        mqtt://bindHost:port
 * @property {number} port
 * @property {string} dataDir    config, log and persistence file
 * @property {string} configFile
 * @property {string} logFile
 * @property {number} pid        the running mosquitto (changes on restart)
 * @property {(timeoutMs?: number) => Promise<void>} stop  SIGTERM (saves persistence), SIGKILL after timeoutMs
 * @property {() => Promise<void>} restart  stop, then start on the same port and data
 * @property {() => Promise<{code: number|null, signal: string|null}>} exited  resolves when the current process exits
 */

/**
 * Writes a config and starts `mosquitto -c <file>`, resolving when the port
 * accepts TCP connections.
 * @param {object} [options]
 * @param {number} [options.port]         default: a free one
 * @param {string} [options.dataDir]      default <repo>/.data/mosquitto
 * @param {string} [options.bindHost]     default 127.0.0.1
 * @param {boolean} [options.persistence] keep sessions and queued messages across restart() (default true)
 * @param {string} [options.configExtra]  lines appended to the config
 * @param {boolean} [options.detached]    survive this process (operator CLI)
 * @param {boolean} [options.ownSession]  not reached by the terminal's Ctrl-C
 * @param {number} [options.readyTimeoutMs]
 * @returns {Promise<MosquittoServer>}
 */
async function startMosquitto({
  port,
  dataDir = path.join(dataRoot, 'mosquitto'),
  bindHost = '127.0.0.1',
  persistence = true,
  configExtra = '',
  detached = false,
  ownSession = false,
  readyTimeoutMs = 15_000,
} = {}) {
  const prepared = await prepareServer({ package: 'mosquitto', port, bindHost, dataDir, configName: 'mosquitto.conf', logName: 'mosquitto.log' });
  const { program: mosquitto, configFile, logFile } = prepared;
  ({ port, dataDir } = prepared);
  const config = [
    '# Written by deploy/lib/mosquitto.cjs (docs/operations.md).',
    // Run as root, mosquitto would switch to the "mosquitto" user, which
    // cannot write our project-local data dir; stay who we are.
    `user ${os.userInfo().username}`,
    `listener ${port} ${bindHost}`,
    'allow_anonymous true',
    // A persistent-session subscriber (the gateway) must lose nothing while
    // briefly disconnected: queue generously (the default is 1000).
    'max_queued_messages 100000',
    `persistence ${persistence}`,
    `persistence_location ${dataDir}/`,
    'autosave_interval 30',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    configExtra,
    '',
  ].join('\n');
  fs.writeFileSync(configFile, config);
  const url = `mqtt://${bindHost}:${port}`;

  /** @type {MosquittoServer} */
  const server = await startServer({
    name: 'Mosquitto',
    program: mosquitto,
    args: ['-c', configFile],
    ports: [port],
    bindHost,
    logFile,
    detached,
    ownSession,
    readyTimeoutMs,
    what: `mosquitto (${url})`,
    ready: () => isListening(port, bindHost),
    fields: { url, port, dataDir, configFile, logFile },
  });
  return server;
}

module.exports = { startMosquitto };
