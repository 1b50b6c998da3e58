/**
 * Real services for the integration and browser tests: the run's shared
 * InfluxDB (started by global-setup.ts), private InfluxDB and Mosquitto
 * servers for tests that stop or restart them, and polling.
 */
import fs from 'node:fs';
import { influxdb, mosquitto, type Epoch, type InfluxdbServer, type MosquittoServer, type Series } from './deploy';
import { MODULE_RUN, ownedDir } from './leftovers';

export type { InfluxdbServer, MosquittoServer, Series };

/** A private server that can also remove its data dir. */
export type Disposable<T> = T & {
  /** Stops the server and deletes its data dir. */
  dispose(): Promise<void>;
};

/**
 * The shared InfluxDB of this test run (INFLUX_URL, set by global-setup.ts).
 * Tests share it through unique databases (uniqueDb).
 */
export function sharedInfluxUrl(): string {
  const url = process.env.INFLUX_URL;
  if (!url) {
    throw new Error('INFLUX_URL is not set: run through jest --selectProjects integration|browser, whose globalSetup starts InfluxDB');
  }
  return url;
}

/**
 * A private InfluxDB on free ports with a fresh data dir, for tests that
 * stop and restart it (a database outage). Dispose it in afterAll.
 */
export async function startInflux(): Promise<Disposable<InfluxdbServer>> {
  const dataDir = ownedDir('influx');
  const server = await influxdb.startInfluxdb({ dataDir });
  return Object.assign(server, {
    async dispose() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/**
 * A private Mosquitto broker (anonymous, loopback, persistence on) on a free
 * port, for tests of the external-broker mode (MQTT_URL). Dispose it in
 * afterAll.
 */
export async function startMosquitto(options: { configExtra?: string; persistence?: boolean } = {}): Promise<Disposable<MosquittoServer>> {
  const dataDir = ownedDir('mosquitto');
  const server = await mosquitto.startMosquitto({ ...options, dataDir });
  return Object.assign(server, {
    async dispose() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

let dbCounter = 0;

/**
 * Creates a fresh database on the shared InfluxDB and returns its name
 * (`<prefix>_<pid>_<n>`), so tests never see each other's points.
 * @param prefix letters, digits and `_`
 * @param url default: the shared InfluxDB
 */
export async function uniqueDb(prefix = 'test', url = sharedInfluxUrl()): Promise<string> {
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) throw new Error(`uniqueDb prefix must be letters, digits or _, got "${prefix}"`);
  dbCounter += 1;
  const name = `${prefix}_${process.pid}_${MODULE_RUN}_${dbCounter}`;
  await influxdb.createDatabase(url, name);
  return name;
}

/**
 * Runs InfluxQL (POST /query) and returns the series of all statements.
 * Times are epoch milliseconds unless `epoch` says otherwise (null: RFC 3339).
 */
export function influxQuery(url: string, db: string | undefined, influxql: string, options: { epoch?: Epoch } = {}): Promise<Series[]> {
  return influxdb.query(url, db, influxql, options);
}

/** Writes line protocol through /write (precision ms unless told). */
export function influxWrite(url: string, db: string, lines: string | string[], options: { precision?: 'ns' | 'u' | 'ms' | 's' } = {}): Promise<void> {
  return influxdb.writeLines(url, db, lines, options);
}

/** Series as plain rows: `[{time: ..., tag: ..., field: ...}]`. */
export function rowsOf(series: Series[]): Array<Record<string, unknown>> {
  return series.flatMap((s) =>
    s.values.map((values) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((column, i) => [column, values[i]])) })),
  );
}

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** What we wait for, for the timeout message ("3 points in energy"). */
  what: string;
  /** Default 10 000. */
  timeoutMs?: number;
  /** Default 100. */
  intervalMs?: number;
}

/**
 * Polls `fn` until it returns a value other than undefined, null or false,
 * and resolves to that value. A throw counts as "not yet". On timeout, fails
 * with `what`, the last value and the last error.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, { what, timeoutMs = 10_000, intervalMs = 100 }: WaitOptions): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last !== undefined && last !== null && last !== false) return last as Exclude<T, undefined | null | false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `last value: ${describe(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}
