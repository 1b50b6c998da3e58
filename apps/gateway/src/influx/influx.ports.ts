/**
 * The gateway's two ports onto InfluxDB (style.md: ports at the edges;
 * influxdb-client-js: contracts at the root, the implementation beside them).
 * The sink writes through a {@link LineWriter}; history, catch-up and
 * recompute read through an {@link InfluxQuery}. `InfluxHttpClient` is the
 * one implementation of both; specs fake the interfaces.
 */

/** How one write request ended. Writers never throw: the outcome says what to do. */
export type WriteOutcome =
  | { ok: true }
  /**
   * Worth retrying later: network error, timeout, 429, 5xx, or an auth or
   * missing-database answer an operator can fix while the data waits on disk.
   * `retryAfterMs`: the server's `Retry-After`, when it sent one.
   */
  | { ok: false; retryable: true; status?: number; message: string; retryAfterMs?: number }
  /** The server refused the batch's content (400, 413...): retrying it as is cannot succeed. */
  | { ok: false; retryable: false; status: number; message: string };

/** Writes line protocol (contract §5, precision ms). */
export interface LineWriter {
  /** One request with `body` (lines joined by `\n`). Never throws. */
  write(body: string): Promise<WriteOutcome>;
}

/** One InfluxQL result series (`/query` JSON). */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs InfluxQL through `/query` (1.x, 2.x v1-compat and 3.x all answer it). */
export interface InfluxQuery {
  /** The series of every statement; rejects with the server's error. Times in epoch ms. */
  query(influxql: string): Promise<InfluxSeries[]>;
}

/** The InfluxDB API a server speaks (contract §1). */
export type InfluxApi = 'v1' | 'v2';

/** Where the points go: a server and its database (v1) or bucket/org/token (v2). */
export interface InfluxTarget {
  url: string;
  /** InfluxDB 1.x database (contract §1 `INFLUX_DB`). */
  db: string;
  bucket?: string;
  org?: string;
  token?: string;
}

/** What the gateway knows of the server, for `/api/health`. */
export interface InfluxServerInfo {
  api: InfluxApi;
  version: string;
}

/** Injection tokens of the influx module. */
export const LINE_WRITER = Symbol('LINE_WRITER');
export const INFLUX_QUERY = Symbol('INFLUX_QUERY');
export const INFLUX_INFO = Symbol('INFLUX_INFO');
