import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PAYLOAD_LIMITS, PayloadLimits } from '@park/telemetry';
import { InfluxApi, InfluxTarget } from '../influx/influx.ports';
import { redactUrl } from '../observability/redact';

/**
 * The repository root: the nearest folder above this file whose
 * package.json is ours. Found, not counted, so that the same code works from
 * `apps/gateway/src/config` (tsx, tests) and from the compiled `dist/`.
 */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'park-twin') return dir;
    } catch {
      // no package.json here, or not JSON: keep looking
    }
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '../../../..');
  }
}

/** The bundled demo park (contract §1: default of `PARK_MODEL`). */
export const DEMO_PARK_MODEL = path.join(REPO_ROOT, 'apps/gateway/parks/demo.park.json');

/** Everything the gateway is configured with; only from the environment (contract §1). */
export interface GatewayConfig {
  /** Operators' listener: API, live stream, viewer (`HTTP_HOST`, default `HOST`; contract §8). */
  httpHost: string;
  httpPort: number;
  /** Devices' listeners: MQTT, mqtts, MQTT over WebSocket (`MQTT_HOST`, default `HOST`; contract §8). */
  mqttHost: string;
  /** Plain MQTT over TCP; undefined = `MQTT_PORT=off` (TLS only). */
  mqttPort?: number;
  /**
   * Port of the devices' WebSocket listener (`/mqtt` only) on MQTT_HOST when
   * MQTT_HOST and HTTP_HOST differ (`MQTT_WS_PORT`, default HTTP_PORT).
   * When they are the same, `/mqtt` is served on the HTTP listener (contract §1).
   */
  mqttWsPort: number;
  /** TLS by file (contract §8); undefined = no TLS. */
  tls?: TlsConfig;
  /** Operator authentication (contract §8). */
  api: ApiAuthConfig;
  /** WebSocket `/api/live` limits (issue 8 item 9). */
  live: { maxClients: number };
  /** External broker URL; undefined = embedded aedes. */
  mqttUrl?: string;
  /** Shared-subscription group for external mode (`$share/{group}/park/#`). */
  mqttShareGroup?: string;
  /** Client id of the gateway at the external broker (persistent session). */
  mqttClientId: string;
  mqttAuth: 'required' | 'off';
  deviceCredentialsFile: string;
  /** How the embedded broker survives a login storm (issue 8 finding 6); see {@link DeviceLoginConfig}. */
  deviceLogin: DeviceLoginConfig;
  /** Distinct unregistered sensors stored per park (`UNREGISTERED_MAX`); readings of a new one beyond it are rejected. */
  unregisteredMax: number;
  influx: InfluxTarget & {
    /** Forced API; undefined = detect from `/ping`. */
    api?: InfluxApi;
    /** Lines per write request. */
    batchSize: number;
    /** Longest a line waits in memory before it is sent, ms. */
    flushIntervalMs: number;
    /** Create the v1 database when missing. */
    createDb: boolean;
  };
  /**
   * The write-ahead log (contract §8 durability): `dir` (`WAL_DIR`), its
   * bound (`WAL_MAX_MB`), the segment size (`WAL_SEGMENT_MB`) and the memory
   * the sender keeps of it (`WAL_CACHE_MB`). `legacySpoolDir` (`SPOOL_DIR`):
   * where an older version spooled points; imported into the log at start.
   */
  wal: { dir: string; maxBytes: number; segmentBytes: number; cacheBytes: number; legacySpoolDir: string; fsync: boolean };
  parkModelFiles: string[];
  payloadLimits: PayloadLimits;
  /**
   * Derivation (contract §6, §8): window length, allowed lateness, and how
   * long nothing may arrive from a park before the clock alone closes its
   * windows (a silent park).
   */
  vitals: { windowMs: number; allowedLatenessMs: number; idleMs: number; startHoldMs: number };
  /** Trends (contract §8): how often forecasts are refitted, and how many days of history they learn from. */
  trends: { refitMs: number; historyDays: number };
  viewerDir: string;
  logLevel: string;
  /** Ingest worker threads (`GATEWAY_WORKERS`; 0 = parse on the main thread). */
  workers: number;
}

/** TLS certificate files (PEM) and the mqtts port (contract §8). */
export interface TlsConfig {
  /** `TLS_CERT`: the server certificate chain. */
  certFile: string;
  /** `TLS_KEY`: its private key. */
  keyFile: string;
  /** `TLS_CA`: CA(s) whose client certificates authenticate devices; undefined = no client certificates. */
  caFile?: string;
  /** `MQTT_TLS_PORT`, default 8883. */
  mqttPort: number;
}

/** Operator authentication settings (contract §8). */
export interface ApiAuthConfig {
  /** `API_AUTH`: `required` (default) or `off`. */
  auth: 'required' | 'off';
  /** `API_TOKENS`: the hashed token file. */
  tokensFile: string;
  /** `METRICS_AUTH`: `/metrics` needs a token unless `off`. */
  metricsAuth: 'required' | 'off';
  /** `ALLOWED_ORIGINS`: browser origins besides the gateway's own that may open `/api/live`. */
  allowedOrigins: string[];
}

/**
 * The embedded broker's defences against a login storm (issue 8 finding 6;
 * docs/security-devices.md): every number bounds what an unauthenticated peer
 * can make the gateway spend.
 */
export interface DeviceLoginConfig {
  /** `MQTT_AUTH_CACHE_S`: how long a verified password is remembered (0 = never; every login pays scrypt). */
  cacheTtlMs: number;
  /** `MQTT_AUTH_CONCURRENCY`: password checks (scrypt, 32 MiB each) running at once. */
  maxConcurrent: number;
  /** `MQTT_AUTH_QUEUE`: password checks waiting for a slot; beyond it a login is refused at once with CONNACK 0x03. */
  maxQueued: number;
  /** `MQTT_CONNECT_RATE`: connection attempts per second per remote address (0 = no limit). */
  connectRatePerS: number;
  /** `MQTT_CONNECT_BURST`: attempts an address may make at once before the rate applies. */
  connectBurst: number;
}

/** A configuration error: names the variable (or file), the value and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`environment variable ${name}="${raw}" is invalid: expected an integer in ${min}..${max} (default ${def}); fix or unset it`);
  }
  return v;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T | undefined): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`environment variable ${name}="${raw}" is invalid: expected one of ${allowed.join(', ')}; fix or unset it`);
  }
  return raw as T;
}

function url(env: Env, name: string, def: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`environment variable ${name}="${redactUrl(raw)}" is not a URL; expected e.g. ${protocols[0]}//127.0.0.1`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`environment variable ${name}="${redactUrl(raw)}" has protocol ${u.protocol}; expected one of ${protocols.join(', ')}`);
  }
  return raw.replace(/\/+$/, '');
}

function tlsConfig(env: Env): TlsConfig | undefined {
  const cert = env.TLS_CERT || undefined;
  const key = env.TLS_KEY || undefined;
  const ca = env.TLS_CA || undefined;
  if (!cert && !key) {
    if (ca) throw new ConfigError('environment variable TLS_CA is set but TLS_CERT and TLS_KEY are not: client certificates need TLS; set TLS_CERT and TLS_KEY too, or unset TLS_CA');
    return undefined;
  }
  if (!cert || !key) {
    const missing = cert ? 'TLS_KEY' : 'TLS_CERT';
    throw new ConfigError(`environment variable ${missing} is not set but ${cert ? 'TLS_CERT' : 'TLS_KEY'} is: TLS needs both the certificate (TLS_CERT) and its private key (TLS_KEY), as PEM files; set ${missing} or unset both`);
  }
  return { certFile: path.resolve(cert), keyFile: path.resolve(key), caFile: ca ? path.resolve(ca) : undefined, mqttPort: int(env, 'MQTT_TLS_PORT', 8883, 0, 65535) };
}

/** A comma-separated list of browser origins (`scheme://host[:port]`), normalised as browsers send them. */
function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw.split(',').map((o) => o.trim()).filter((o) => o.length > 0).map((o) => {
    let u: URL | undefined;
    try {
      u = new URL(o);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o.replace(/\/+$/, '')) {
      throw new ConfigError(`environment variable ${name} has "${o}", which is not an origin; expected scheme://host[:port] such as https://twin.example.com, comma-separated`);
    }
    return u.origin;
  });
}

function vitalsConfig(env: Env): GatewayConfig['vitals'] {
  const allowedLatenessMs = int(env, 'VITALS_LATENESS_MS', 30_000, 0, 3_600_000);
  return {
    windowMs: int(env, 'VITALS_WINDOW_MS', 60_000, 1000, 3_600_000),
    allowedLatenessMs,
    // Default: as long as the allowed lateness (a park silent for longer gets its windows closed by the clock).
    idleMs: int(env, 'VITALS_IDLE_MS', allowedLatenessMs, 0, 3_600_000),
    // After a park is taken up, no window closes for this long: devices reconnect and send what they buffered.
    startHoldMs: int(env, 'VITALS_START_HOLD_MS', 10_000, 0, 600_000),
  };
}

/**
 * Reads the gateway's configuration from the environment (contract §1 plus
 * the tuning knobs documented in docs/configuration.md). Throws ConfigError
 * with the variable, its value and the fix.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const mqttAuth = oneOf(env, 'MQTT_AUTH', ['required', 'off'] as const, 'required')!;
  const shareGroup = env.MQTT_SHARE_GROUP || undefined;
  if (shareGroup !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(shareGroup)) {
    throw new ConfigError(`environment variable MQTT_SHARE_GROUP="${shareGroup}" is invalid: use 1-64 letters, digits, "_" or "-" (no "/", "+" or "#")`);
  }
  const parkModel = env.PARK_MODEL && env.PARK_MODEL.trim() !== '' ? env.PARK_MODEL : DEMO_PARK_MODEL;
  const httpPort = int(env, 'HTTP_PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  return {
    httpHost: env.HTTP_HOST || host,
    httpPort,
    mqttHost: env.MQTT_HOST || host,
    mqttPort: env.MQTT_PORT === 'off' ? undefined : int(env, 'MQTT_PORT', 1883, 0, 65535),
    mqttWsPort: int(env, 'MQTT_WS_PORT', httpPort, 0, 65535),
    tls: tlsConfig(env),
    api: {
      auth: oneOf(env, 'API_AUTH', ['required', 'off'] as const, 'required')!,
      tokensFile: path.resolve(env.API_TOKENS || path.join(REPO_ROOT, '.data/api-tokens.json')),
      metricsAuth: oneOf(env, 'METRICS_AUTH', ['required', 'off'] as const, 'required')!,
      allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
    },
    live: { maxClients: int(env, 'LIVE_MAX_CLIENTS', 500, 1, 100_000) },
    mqttUrl: url(env, 'MQTT_URL', undefined, ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']),
    mqttShareGroup: shareGroup,
    // Stable across restarts (so the external broker's persistent session, with
    // the QoS 1 messages queued while we were away, is resumed) and unique per
    // instance on a host (each needs its own HTTP port).
    mqttClientId: env.MQTT_CLIENT_ID || `park-gateway-${os.hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40)}-${httpPort}`,
    mqttAuth,
    deviceCredentialsFile: path.resolve(env.DEVICE_CREDENTIALS || path.join(REPO_ROOT, '.data/device-credentials.json')),
    deviceLogin: {
      cacheTtlMs: int(env, 'MQTT_AUTH_CACHE_S', 86_400, 0, 30 * 86_400) * 1000,
      // Two of libuv's four threads: the write-ahead log's writes and fsyncs
      // use the same pool, and must not wait behind a storm of scrypts.
      maxConcurrent: int(env, 'MQTT_AUTH_CONCURRENCY', 2, 1, 64),
      maxQueued: int(env, 'MQTT_AUTH_QUEUE', 100, 0, 100_000),
      connectRatePerS: int(env, 'MQTT_CONNECT_RATE', 100, 0, 1_000_000),
      connectBurst: int(env, 'MQTT_CONNECT_BURST', 1000, 1, 1_000_000),
    },
    unregisteredMax: int(env, 'UNREGISTERED_MAX', 1000, 0, 1_000_000),
    influx: {
      url: url(env, 'INFLUX_URL', 'http://127.0.0.1:8086', ['http:', 'https:'])!,
      db: env.INFLUX_DB || 'park',
      bucket: env.INFLUX_BUCKET || undefined,
      org: env.INFLUX_ORG || undefined,
      token: env.INFLUX_TOKEN || undefined,
      api: oneOf(env, 'INFLUX_API', ['v1', 'v2'] as const, undefined),
      batchSize: int(env, 'INFLUX_BATCH_SIZE', 5000, 1, 100_000),
      flushIntervalMs: int(env, 'INFLUX_FLUSH_MS', 100, 1, 60_000),
      createDb: env.INFLUX_CREATE_DB !== 'false',
    },
    wal: {
      dir: path.resolve(env.WAL_DIR || path.join(REPO_ROOT, '.data/wal')),
      maxBytes: int(env, 'WAL_MAX_MB', 10_240, 1, 10_000_000) * 1024 * 1024,
      segmentBytes: int(env, 'WAL_SEGMENT_MB', 64, 1, 1024) * 1024 * 1024,
      cacheBytes: int(env, 'WAL_CACHE_MB', 64, 1, 65_536) * 1024 * 1024,
      legacySpoolDir: path.resolve(env.SPOOL_DIR || path.join(REPO_ROOT, '.data/spool')),
      fsync: oneOf(env, 'WAL_FSYNC', ['on', 'off'] as const, 'on') === 'on',
    },
    // Empty entries ("a.json,") are skipped before resolving: path.resolve('')
    // is the working directory, which would then be read as a park model.
    parkModelFiles: parkModel.split(',').map((p) => p.trim()).filter((p) => p.length > 0).map((p) => path.resolve(p)),
    payloadLimits: {
      maxFutureMs: int(env, 'MAX_FUTURE_S', DEFAULT_PAYLOAD_LIMITS.maxFutureMs / 1000, 0, 365 * 86400) * 1000,
      maxAgeMs: int(env, 'MAX_AGE_S', DEFAULT_PAYLOAD_LIMITS.maxAgeMs / 1000, 1, 10 * 365 * 86400) * 1000,
    },
    vitals: vitalsConfig(env),
    trends: {
      refitMs: int(env, 'TRENDS_REFIT_MS', 3_600_000, 1000, 86_400_000),
      historyDays: int(env, 'TRENDS_HISTORY_DAYS', 28, 8, 366),
    },
    viewerDir: path.resolve(env.VIEWER_DIR || path.join(REPO_ROOT, 'dist/twin-viewer')),
    workers: int(env, 'GATEWAY_WORKERS', os.availableParallelism(), 0, 64),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info')!,
  };
}
