// Child-process plumbing shared by the service starters and the demo: spawn
// with output to a log file, wait for readiness, stop politely then firmly.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { canBind, freePort } = require('./ports.cjs');
const { programOf } = require('./packages.cjs');

/** The repository root (deploy/lib/../..). */
const repoRoot = path.resolve(__dirname, '..', '..');
// Children run TypeScript through `node --import tsx`, which reads the
// workspace's compiler options (decorators, @park/* paths) from here.
if (!process.env.TSX_TSCONFIG_PATH) process.env.TSX_TSCONFIG_PATH = path.join(repoRoot, 'tsconfig.base.json');

/** The git-ignored folder for everything we create at run time. */
const dataRoot = path.join(repoRoot, '.data');

/** Children that must not outlive this process unless started detached. */
const attached = new Set();
process.once('exit', () => {
  // Last resort when the owner forgot stop() or crashed: a left-over influxd
  // or mosquitto would hold its port and data dir for the next run.
  for (const child of attached) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Spawns a program with stdout and stderr appended to a log file.
 * @param {string} command
 * @param {string[]} args
 * @param {{logFile: string, env?: NodeJS.ProcessEnv, cwd?: string, detached?: boolean, ownSession?: boolean}} options
 *   detached: the child gets its own session and survives us (CLI `start`);
 *   ownSession: its own session (a terminal's Ctrl-C does not reach it, so we
 *   choose the stop order) but it still dies with us.
 * @returns {import('node:child_process').ChildProcess & {exited: Promise<{code: number|null, signal: string|null}>}}
 */
function spawnLogged(command, args, { logFile, env = process.env, cwd = repoRoot, detached = false, ownSession = false }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  let child;
  try {
    child = spawn(command, args, { cwd, env, detached: detached || ownSession, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  return track(child, detached);
}

/**
 * Adds an `exited` promise to a child and, unless detached, kills it when
 * this process exits.
 * @template {import('node:child_process').ChildProcess} T
 * @param {T} child
 * @param {boolean} [detached]
 * @returns {T & {exited: Promise<{code: number|null, signal: string|null}>}}
 */
function track(child, detached = false) {
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      attached.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      attached.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  if (detached) child.unref();
  else attached.add(child);
  return Object.assign(child, { exited });
}

/**
 * Sends SIGTERM, waits up to timeoutMs for the exit, then SIGKILL.
 * @param {{pid?: number, exitCode: number|null, signalCode: string|null, kill: (s: string) => boolean, exited: Promise<{code: number|null, signal: string|null}>}} child
 * @param {number} [timeoutMs]
 * @returns {Promise<{code: number|null, signal: string|null}>}
 */
async function stopChild(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const first = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (first === 'late') child.kill('SIGKILL');
  return child.exited;
}

/**
 * Polls `probe` until it returns true; fails early when `child` exits.
 * @param {() => Promise<boolean>} probe
 * @param {{what: string, timeoutMs?: number, intervalMs?: number, child?: {exited: Promise<{code: number|null, signal: string|null}>}, logFile?: string}} options
 */
async function waitReady(probe, { what, timeoutMs = 30_000, intervalMs = 100, child, logFile }) {
  let exit = null;
  child?.exited.then((e) => {
    exit = e;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (exit) {
      throw new Error(
        `${what} exited before it was ready (code ${exit.code}, signal ${exit.signal})` + logTail(logFile),
      );
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms` + logTail(logFile));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The last lines of a log file, formatted for an error message.
 * @param {string} [logFile]
 * @param {number} [lines]
 */
function logTail(logFile, lines = 20) {
  if (!logFile) return '';
  try {
    const text = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `\n--- last lines of ${logFile} ---\n${text}`;
  } catch {
    return '';
  }
}

/**
 * Whether a process with this pid exists (signal 0 probes without killing).
 * @param {number} pid
 */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Stops a process we only know by pid (started detached by an earlier run):
 * SIGTERM, wait up to timeoutMs, then SIGKILL.
 * @param {number} pid
 * @param {number} [timeoutMs]
 * @returns {Promise<'stopped' | 'killed' | 'not running'>}
 */
async function stopPid(pid, timeoutMs = 10_000) {
  if (!isAlive(pid)) return 'not running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
  return 'killed';
}


/**
 * Starts a server program as a child and keeps it restartable: checks its
 * ports are free, spawns it with its output in `logFile`, waits for `ready`
 * (killing it on failure), and returns `fields` plus `pid`, `stop()`,
 * `restart()` (same ports, same data) and `exited()`. Shared by the
 * InfluxDB and Mosquitto launchers.
 * @param {{ name: string, program: string, args: string[], ports: number[], bindHost: string,
 *   logFile: string, detached?: boolean, ownSession?: boolean, readyTimeoutMs: number,
 *   what: string, ready: () => Promise<boolean> | boolean, busyHint?: string, fields: object }} o
 */
async function startServer(o) {
  let child;
  const launch = async () => {
    for (const p of o.ports) {
      if (!(await canBind(p, o.bindHost))) {
        throw new Error(`cannot start ${o.name}: ${o.bindHost}:${p} is already in use${o.busyHint ? ` (${o.busyHint})` : ''}`);
      }
    }
    child = spawnLogged(o.program, o.args, { logFile: o.logFile, detached: o.detached, ownSession: o.ownSession });
    try {
      await waitReady(o.ready, { what: o.what, timeoutMs: o.readyTimeoutMs, child, logFile: o.logFile });
    } catch (error) {
      await stopChild(child, 2000);
      throw error;
    }
    server.pid = child.pid;
  };
  const server = {
    ...o.fields,
    pid: 0,
    async stop(timeoutMs = 10_000) {
      if (child) await stopChild(child, timeoutMs);
    },
    async restart() {
      await server.stop();
      await launch();
    },
    exited() {
      return child.exited;
    },
  };
  await launch();
  return server;
}

/**
 * The part every server we start shares before its config is written: the
 * Debian program, a port (a free one unless given), and a data dir with the
 * config and log file names in it.
 * @param {{ package: string, port?: number, bindHost: string, dataDir: string, configName: string, logName: string }} o
 * @returns {Promise<{ program: string, port: number, dataDir: string, configFile: string, logFile: string }>}
 */
async function prepareServer(o) {
  const program = programOf(o.package);
  const port = o.port ?? (await freePort(o.bindHost));
  const dataDir = path.resolve(o.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  return { program, port, dataDir, configFile: path.join(dataDir, o.configName), logFile: path.join(dataDir, o.logName) };
}

module.exports = { repoRoot, dataRoot, spawnLogged, track, stopChild, waitReady, logTail, isAlive, stopPid, startServer, prepareServer };
