/**
 * Typed access to the deploy/ library (deploy/lib/*.cjs) from the tests.
 *
 * The library is CommonJS so that both the ESM scripts (deploy/*.mjs, which
 * import it natively) and jest can load it: jest 30 runs tests as CommonJS in
 * a sandbox that cannot load ES modules on Node < 24.9 without
 * --experimental-vm-modules. The types below describe its JSDoc'd exports.
 */

/** A server child started by deploy/lib/process.cjs `startServer`. */
export interface ManagedServer {
  url: string;
  port: number;
  dataDir: string;
  configFile: string;
  logFile: string;
  /** The running server process; changes on restart(). */
  pid: number;
  /** SIGTERM (the server saves its data), then SIGKILL after timeoutMs (default 10 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** Stop, then start again on the same ports and data dir. */
  restart(): Promise<void>;
  /** Resolves when the current process exits. */
  exited(): Promise<ChildExit>;
}

/** A private InfluxDB 1.x server (deploy/lib/influxdb.cjs); `url` is http://127.0.0.1:port. */
export interface InfluxdbServer extends ManagedServer {
  /** The backup/restore RPC port, chosen free so servers do not clash. */
  rpcPort: number;
}

/** A private Mosquitto broker (deploy/lib/mosquitto.cjs); `url` is mqtt://127.0.0.1:port. */
export type MosquittoServer = ManagedServer;

/** One series of an InfluxQL answer. */
export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Time format of query answers: epoch units, or null for RFC 3339 strings. */
export type Epoch = 'ns' | 'u' | 'ms' | 's' | 'm' | 'h' | null;

interface ChildLike {
  pid?: number;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
}

/** How a tracked child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const packages = require('../../deploy/lib/packages.cjs') as {
  ensureDebianPackages(packages: Array<'influxdb' | 'mosquitto' | 'chromium' | 'openssl'>, options?: { log?: (line: string) => void }): Record<string, string>;
  programOf(pkg: 'influxdb' | 'mosquitto' | 'chromium' | 'openssl'): string;
};

export const influxdb = require('../../deploy/lib/influxdb.cjs') as {
  startInfluxdb(options?: {
    port?: number;
    dataDir?: string;
    bindHost?: string;
    rpcPort?: number;
    logLevel?: string;
    readyTimeoutMs?: number;
  }): Promise<InfluxdbServer>;
  ping(url: string, timeoutMs?: number): Promise<{ status: number; version: string | null } | undefined>;
  query(url: string, db: string | undefined, influxql: string, options?: { epoch?: Epoch }): Promise<Series[]>;
  createDatabase(url: string, db: string): Promise<void>;
  writeLines(url: string, db: string, lines: string | string[], options?: { precision?: 'ns' | 'u' | 'ms' | 's' }): Promise<void>;
  quoteIdent(name: string): string;
};

export const mosquitto = require('../../deploy/lib/mosquitto.cjs') as {
  startMosquitto(options?: {
    port?: number;
    dataDir?: string;
    bindHost?: string;
    persistence?: boolean;
    configExtra?: string;
    readyTimeoutMs?: number;
  }): Promise<MosquittoServer>;
};

export const ports = require('../../deploy/lib/ports.cjs') as {
  freePort(host?: string): Promise<number>;
  isListening(port: number, host?: string, timeoutMs?: number): Promise<boolean>;
  canBind(port: number, host?: string): Promise<boolean>;
};

export const processes = require('../../deploy/lib/process.cjs') as {
  repoRoot: string;
  dataRoot: string;
  track<T extends ChildLike>(child: T, detached?: boolean): T & { exited: Promise<ChildExit> };
  stopChild(child: ChildLike & { exited: Promise<ChildExit> }, timeoutMs?: number): Promise<ChildExit>;
  stopPid(pid: number, timeoutMs?: number): Promise<'stopped' | 'killed' | 'not running'>;
  isAlive(pid: number): boolean;
  logTail(logFile?: string, lines?: number): string;
};
