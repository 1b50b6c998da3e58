// A private InfluxDB 1.x server (Debian's influxdb package) for the demo, the
// operator CLI (deploy/influxdb.mjs) and the integration tests, plus the few
// HTTP calls they need. Contract section 1: v1 serves /write and /query.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { freePort } = require('./ports.cjs');
const { dataRoot, prepareServer, repoRoot, startServer } = require('./process.cjs');

const TEMPLATE = path.join(repoRoot, 'deploy', 'influxdb.conf.template');

/**
 * @typedef {object} InfluxdbServer
 * @property {string} url        http://bindHost:port
 * @property {number} port       HTTP API port
 * @property {number} rpcPort    backup/restore RPC port
 * @property {string} dataDir    meta, data and wal live here
 * @property {string} configFile the config we wrote
 * @property {string} logFile    influxd's stdout and stderr
 * @property {number} pid        the running influxd (changes on restart)
 * @property {(timeoutMs?: number) => Promise<void>} stop  SIGTERM, SIGKILL after timeoutMs
 * @property {() => Promise<void>} restart  stop, then start on the same port and data
 * @property {() => Promise<{code: number|null, signal: string|null}>} exited  resolves when the current process exits
 */

/**
 * Writes our config and starts `influxd run -config <file>`, resolving when
 * GET /ping answers 204.
 * @param {object} [options]
 * @param {number} [options.port]      HTTP port (default: a free one)
 * @param {string} [options.dataDir]   default <repo>/.data/influxdb
 * @param {string} [options.bindHost]  default 127.0.0.1
 * @param {number} [options.rpcPort]   default: a free one
 * @param {string} [options.logLevel]  influxd log level (default info)
 * @param {boolean} [options.detached] survive this process (operator CLI)
 * @param {boolean} [options.ownSession] not reached by the terminal's Ctrl-C (the demo stops it last)
 * @param {number} [options.readyTimeoutMs]
 * @returns {Promise<InfluxdbServer>}
 */
async function startInfluxdb({
  port,
  dataDir = path.join(dataRoot, 'influxdb'),
  bindHost = '127.0.0.1',
  rpcPort,
  logLevel = 'info',
  detached = false,
  ownSession = false,
  readyTimeoutMs = 30_000,
} = {}) {
  const prepared = await prepareServer({ package: 'influxdb', port, bindHost, dataDir, configName: 'influxdb.conf', logName: 'influxd.log' });
  const { program: influxd, configFile, logFile } = prepared;
  ({ port, dataDir } = prepared);
  rpcPort ??= await freePort(bindHost);
  fs.writeFileSync(configFile, renderConfig({ dataDir, bindHost, port, rpcPort, logLevel }));
  const url = `http://${bindHost}:${port}`;

  /** @type {InfluxdbServer} */
  const server = await startServer({
    name: 'InfluxDB',
    program: influxd,
    args: ['run', '-config', configFile],
    ports: [port, rpcPort],
    bindHost,
    logFile,
    detached,
    ownSession,
    readyTimeoutMs,
    what: `influxd (${url}, data ${dataDir})`,
    ready: async () => (await ping(url))?.status === 204,
    busyHint: 'another influxd? see docs/operations.md',
    fields: { url, port, rpcPort, dataDir, configFile, logFile },
  });
  return server;
}

function renderConfig(values) {
  const template = fs.readFileSync(TEMPLATE, 'utf8');
  return template.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`${TEMPLATE}: unknown placeholder {{${key}}}`);
    // Values land inside TOML basic strings or as bare numbers.
    return String(values[key]).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  });
}

/**
 * GET /ping. Resolves to the status and the server version header
 * (`X-Influxdb-Version`), or undefined when nothing answers.
 * @param {string} url
 * @param {number} [timeoutMs]
 * @returns {Promise<{status: number, version: string | null} | undefined>}
 */
async function ping(url, timeoutMs = 1000) {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status, version: res.headers.get('x-influxdb-version') };
  } catch {
    return undefined;
  }
}

/** Quotes an InfluxQL identifier. */
function quoteIdent(name) {
  return `"${String(name).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * @typedef {object} Series
 * @property {string} name
 * @property {Record<string, string>} [tags]
 * @property {string[]} columns
 * @property {unknown[][]} values
 */

/**
 * Runs InfluxQL through POST /query (answered by InfluxDB 1.x, 2.x and 3.x,
 * contract section 1) and returns the series of all statements.
 * @param {string} url
 * @param {string | undefined} db
 * @param {string} influxql
 * @param {{epoch?: 'ns'|'u'|'ms'|'s'|'m'|'h'|null}} [options] time format; null: RFC 3339 strings
 * @returns {Promise<Series[]>}
 */
async function query(url, db, influxql, { epoch = 'ms' } = {}) {
  const target = new URL('/query', url);
  if (db) target.searchParams.set('db', db);
  if (epoch) target.searchParams.set('epoch', epoch);
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q: influxql }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`InfluxDB ${url} answered ${res.status} to ${influxql}: ${text.slice(0, 300)}`);
  }
  const failed = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || failed) throw new Error(`InfluxDB ${url} rejected ${influxql}: ${failed ?? res.status}`);
  return (body.results ?? []).flatMap((r) => r.series ?? []);
}

/**
 * CREATE DATABASE (a no-op when it exists).
 * @param {string} url
 * @param {string} db
 */
async function createDatabase(url, db) {
  await query(url, undefined, `CREATE DATABASE ${quoteIdent(db)}`);
}

/**
 * Writes line protocol through the v1 /write endpoint.
 * @param {string} url
 * @param {string} db
 * @param {string | string[]} lines
 * @param {{precision?: 'ns'|'u'|'ms'|'s'}} [options] default ms (contract section 5)
 */
async function writeLines(url, db, lines, { precision = 'ms' } = {}) {
  const target = new URL('/write', url);
  target.searchParams.set('db', db);
  target.searchParams.set('precision', precision);
  const res = await fetch(target, {
    method: 'POST',
    body: Array.isArray(lines) ? lines.join('\n') : lines,
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 204) throw new Error(`InfluxDB ${url} /write to ${db} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

module.exports = { startInfluxdb, ping, quoteIdent, query, createDatabase, writeLines };
