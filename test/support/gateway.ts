/**
 * The real gateway as a child process, configured only by the environment
 * (contract section 1), for integration and browser tests.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST } from './build';
import { ports, processes, type ChildExit } from './deploy';
import { MODULE_RUN, ownedDir } from './leftovers';
import { sharedInfluxUrl } from './services';

const ENTRY = DIST.gateway;

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /**
   * Environment on top of the test defaults: HOST=127.0.0.1, free HTTP_PORT
   * and MQTT_PORT, INFLUX_URL of the shared server, a fresh INFLUX_DB
   * (`gw_<pid>_<run>_<n>`, created by the gateway), WAL_DIR and
   * DEVICE_CREDENTIALS in fresh `.data/test-*` folders, MQTT_AUTH=off,
   * LOG_LEVEL=info. A value of undefined removes the variable.
   */
  env?: Record<string, string | undefined>;
  /** Base name of the log in test-artifacts/logs/ (default gateway-<pid>-<n>). */
  name?: string;
  /** Full log path instead (stdout and stderr, appended across restarts). */
  logFile?: string;
  /** Default 60 000: a cold start on a busy machine takes seconds. */
  readyTimeoutMs?: number;
}

/** A running gateway. */
export interface Gateway {
  /** http://127.0.0.1:HTTP_PORT */
  httpUrl: string;
  /** The broker devices use: MQTT_URL, or mqtt://127.0.0.1:MQTT_PORT (embedded). */
  mqttUrl: string;
  /** MQTT over WebSocket on the HTTP port: ws://127.0.0.1:HTTP_PORT/mqtt. */
  wsUrl: string;
  /** The live stream: ws://127.0.0.1:HTTP_PORT/api/live. */
  liveUrl: string;
  /** The full environment it runs with (INFLUX_DB, WAL_DIR, ...). */
  env: Record<string, string>;
  logFile: string;
  /** The gateway process; changes on restart(). */
  readonly pid: number;
  /** Whether the process is running. */
  readonly running: boolean;
  /** SIGTERM, wait for the exit (SIGKILL after timeoutMs, default 15 s); the exit code (null when killed by a signal). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL (a crash: no flush), wait for the exit. */
  kill(): Promise<void>;
  /** Stop if running, then start again with the same environment and wait for health. */
  restart(): Promise<void>;
  /** Resolves when the current process exits. */
  exited(): Promise<ChildExit>;
}

let gatewayCounter = 0;

/**
 * Starts the compiled gateway (`dist/node/apps/gateway/src/main.js`) and resolves once GET /api/health
 * answers (200 or 503 with JSON). Fails early, with the log tail, when the
 * gateway exits first.
 */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  gatewayCounter += 1;
  const n = gatewayCounter;
  const host = '127.0.0.1';
  const defaults: Record<string, string> = {
    HOST: host,
    HTTP_PORT: String(await ports.freePort(host)),
    MQTT_PORT: String(await ports.freePort(host)),
    INFLUX_URL: sharedInfluxUrl(),
    INFLUX_DB: `gw_${process.pid}_${MODULE_RUN}_${n}`,
    WAL_DIR: ownedDir('wal'),
    DEVICE_CREDENTIALS: path.join(ownedDir('gateway'), 'device-credentials.json'),
    MQTT_AUTH: 'off',
    LOG_LEVEL: 'info',
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...defaults, ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  const logFile = options.logFile ?? path.join(processes.repoRoot, 'test-artifacts', 'logs', `${options.name ?? `gateway-${process.pid}-${n}`}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const httpUrl = `http://${host}:${env.HTTP_PORT}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  type Child = ReturnType<typeof launchChild>;
  let child: Child | undefined;

  function launchChild() {
    fs.appendFileSync(logFile, `--- ${new Date().toISOString()} starting gateway (HTTP ${env.HTTP_PORT}, MQTT ${env.MQTT_URL ?? env.MQTT_PORT}, db ${env.INFLUX_DB})\n`);
    const fd = fs.openSync(logFile, 'a');
    try {
      return processes.track(spawn(process.execPath, [ENTRY], { cwd: processes.repoRoot, env, stdio: ['ignore', fd, fd] }));
    } finally {
      fs.closeSync(fd);
    }
  }

  async function launch(): Promise<void> {
    const current = launchChild();
    child = current;
    let exit: ChildExit | undefined;
    void current.exited.then((e) => {
      exit = e;
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (await healthAnswers(httpUrl)) return;
      if (exit) {
        throw new Error(`gateway exited before it was ready (code ${exit.code}, signal ${exit.signal})${processes.logTail(logFile, 40)}`);
      }
      if (Date.now() > deadline) {
        await processes.stopChild(current, 5000);
        throw new Error(`gateway not healthy at ${httpUrl}/api/health after ${readyTimeoutMs} ms${processes.logTail(logFile, 40)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const gateway: Gateway = {
    httpUrl,
    mqttUrl: env.MQTT_URL ?? `mqtt://${host}:${env.MQTT_PORT}`,
    wsUrl: `ws://${host}:${env.HTTP_PORT}/mqtt`,
    liveUrl: `ws://${host}:${env.HTTP_PORT}/api/live`,
    env,
    logFile,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return isRunning();
    },
    async stop(timeoutMs = 15_000) {
      if (!child) return null;
      const { code } = await processes.stopChild(child, timeoutMs);
      return code;
    },
    async kill() {
      if (!child || !isRunning()) return;
      child.kill('SIGKILL');
      await child.exited;
    },
    async restart() {
      if (isRunning()) await gateway.stop();
      await launch();
    },
    exited() {
      if (!child) return Promise.resolve({ code: null, signal: null });
      return child.exited;
    },
  };
  await launch();
  return gateway;
}

/** GET /api/health answers with JSON, healthy (200) or degraded (503). */
async function healthAnswers(httpUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${httpUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200 && res.status !== 503) return false;
    await res.json();
    return true;
  } catch {
    return false;
  }
}
