/**
 * The real gateway as a child process, configured only by the environment
 * (contract section 1), for integration and browser tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { ApiTokenStore, readTokensFile, Role } from '../../apps/gateway/src/auth/api-tokens';
import { redactUrl } from '../../apps/gateway/src/observability/redact';
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
   * API_AUTH=off (unless `auth`), API_TOKENS in a fresh folder,
   * LOG_LEVEL=info. A value of undefined removes the variable.
   */
  env?: Record<string, string | undefined>;
  /**
   * Operator authentication on (contract §8, API_AUTH=required): an admin
   * token is made in the gateway's API_TOKENS file before it starts, and
   * handed back as `adminToken`.
   */
  auth?: boolean;
  /** Base name of the log in test-artifacts/logs/ (default gateway-<pid>-<n>). */
  name?: string;
  /** Full log path instead (stdout and stderr, appended across restarts). */
  logFile?: string;
  /** Default 60 000: a cold start on a busy machine takes seconds. */
  readyTimeoutMs?: number;
}

/** A running gateway. */
export interface Gateway {
  /** http://127.0.0.1:HTTP_PORT (https:// when TLS_CERT is set) */
  httpUrl: string;
  /** With `auth`: an admin token of every park. */
  adminToken?: string;
  /** With `auth`: `{ authorization: 'Bearer <admin token>' }`; `{}` without. */
  adminHeaders: Record<string, string>;
  /**
   * Makes an operator token over `POST /api/tokens` (with the admin token),
   * live, and returns it. Only with `auth`.
   */
  addToken(name: string, role: Role, parks?: string[]): Promise<string>;
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
/**
 * Runs the compiled gateway with a configuration expected to stop start-up
 * (ports 0, the shared InfluxDB, API_AUTH off, silent log, then `env`); its
 * exit status and standard error, which must name the file or variable and the fix.
 */
export function startFails(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [DIST.gateway], {
    cwd: processes.repoRoot,
    env: { ...process.env, HTTP_PORT: '0', MQTT_PORT: '0', INFLUX_URL: sharedInfluxUrl(), LOG_LEVEL: 'silent', API_AUTH: 'off', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

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
    API_AUTH: options.auth ? 'required' : 'off',
    API_TOKENS: path.join(ownedDir('gateway'), 'api-tokens.json'),
    LOG_LEVEL: 'info',
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...defaults, ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  const logFile = options.logFile ?? path.join(processes.repoRoot, 'test-artifacts', 'logs', `${options.name ?? `gateway-${process.pid}-${n}`}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const tls = Boolean(env.TLS_CERT);
  const httpUrl = `${tls ? 'https' : 'http'}://${host}:${env.HTTP_PORT}`;
  let adminToken: string | undefined;
  if (options.auth) {
    const store = new ApiTokenStore(readTokensFile(env.API_TOKENS, { mustExist: false }), env.API_TOKENS);
    adminToken = store.add(`test-admin-${n}`, 'admin', undefined, Date.now()).token;
  }
  const adminHeaders: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  type Child = ReturnType<typeof launchChild>;
  let child: Child | undefined;

  function launchChild() {
    fs.appendFileSync(logFile, `--- ${new Date().toISOString()} starting gateway (HTTP ${env.HTTP_PORT}, MQTT ${redactUrl(env.MQTT_URL ?? env.MQTT_PORT)}, db ${env.INFLUX_DB})\n`);
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
    adminToken,
    adminHeaders,
    async addToken(name, role, parks) {
      if (!adminToken) throw new Error('addToken needs startGateway({ auth: true })');
      const res = await fetch(`${httpUrl}/api/tokens`, { method: 'POST', headers: { ...adminHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ name, role, parks }) });
      const body = (await res.json()) as { token?: string };
      if (res.status !== 201 || !body.token) throw new Error(`POST /api/tokens answered ${res.status}: ${JSON.stringify(body)}`);
      return body.token;
    },
    mqttUrl: env.MQTT_URL ?? `mqtt://${host}:${env.MQTT_PORT}`,
    wsUrl: `${tls ? 'wss' : 'ws'}://${host}:${env.HTTP_PORT}/mqtt`,
    liveUrl: `${tls ? 'wss' : 'ws'}://${host}:${env.HTTP_PORT}/api/live`,
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

/**
 * GET /api/health answers with JSON, healthy (200) or degraded (503). Over
 * HTTPS the certificate is not checked here: this only asks whether the
 * process is up; the TLS tests check the certificate themselves.
 */
function healthAnswers(httpUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL('/api/health', httpUrl);
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { timeout: 2000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          JSON.parse(body);
          resolve(res.statusCode === 200 || res.statusCode === 503);
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
