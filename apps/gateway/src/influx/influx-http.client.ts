import * as http from 'node:http';
import * as https from 'node:https';
import { InfluxApi, InfluxQuery, InfluxSeries, InfluxServerInfo, InfluxTarget, LineWriter, WriteOutcome } from './influx.ports';
import { retryAfterMs } from './retry.policy';

/**
 * A small HTTP client for InfluxDB's write and InfluxQL query endpoints, with
 * a keep-alive agent. Both v1 (`/write`, InfluxDB 1.x) and v2
 * (`/api/v2/write`, 1.8+/2.x/3.x/Cloud) writes use the same line protocol at
 * ms precision (contract §1, §5).
 */
export class InfluxHttpClient implements LineWriter, InfluxQuery {
  private readonly agent: http.Agent;
  private readonly base: URL;
  api: InfluxApi = 'v1';
  version = 'unknown';

  constructor(private readonly target: InfluxTarget, private readonly timeoutMs = 10_000) {
    this.base = new URL(target.url);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 4, keepAliveMsecs: 10_000 });
  }

  info(): InfluxServerInfo {
    return { api: this.api, version: this.version };
  }

  /** Pings the server; resolves to its version header, or rejects. */
  async ping(): Promise<{ version: string; build?: string }> {
    const res = await this.request('GET', '/ping', undefined, 3000);
    if (res.status !== 204 && res.status !== 200) throw new Error(`GET /ping answered ${res.status}`);
    return { version: res.headers['x-influxdb-version']?.toString() ?? '', build: res.headers['x-influxdb-build']?.toString() };
  }

  /**
   * Chooses the write API: forced, or detected from `/ping` (InfluxDB 1.x
   * answers `X-Influxdb-Version: 1.*` and is written through `/write`, which
   * every 1.x serves; 2.x, 3.x and Cloud through `/api/v2/write`).
   */
  async detect(forced?: InfluxApi): Promise<InfluxApi> {
    const { version } = await this.ping();
    this.version = version || 'unknown';
    this.api = forced ?? (/^v?1\./.test(version) ? 'v1' : 'v2');
    return this.api;
  }

  /** `CREATE DATABASE` on v1 (idempotent in InfluxDB 1.x). */
  async createDatabase(): Promise<void> {
    const body = `q=${encodeURIComponent(`CREATE DATABASE "${this.target.db.replace(/"/g, '\\"')}"`)}`;
    const res = await this.request('POST', '/query', body, this.timeoutMs, 'application/x-www-form-urlencoded');
    if (res.status !== 200) throw new Error(`CREATE DATABASE answered ${res.status}: ${res.body.slice(0, 300)}`);
  }

  private writePath(): string {
    if (this.api === 'v1') return `/write?db=${encodeURIComponent(this.target.db)}&precision=ms`;
    const bucket = this.target.bucket ?? this.target.db;
    const org = this.target.org ? `&org=${encodeURIComponent(this.target.org)}` : '';
    return `/api/v2/write?bucket=${encodeURIComponent(bucket)}${org}&precision=ms`;
  }

  /** Writes line-protocol text. Never throws: the outcome says what to do. */
  async write(body: string): Promise<WriteOutcome> {
    let res: { status: number; headers: http.IncomingHttpHeaders; body: string };
    try {
      res = await this.request('POST', this.writePath(), body, this.timeoutMs, 'text/plain; charset=utf-8');
    } catch (e) {
      return { ok: false, retryable: true, message: (e as Error).message };
    }
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const message = `HTTP ${res.status}: ${res.body.slice(0, 500)}`;
    // Retry only what can succeed on retry: throttling and server errors.
    if (res.status === 429 || res.status >= 500) return { ok: false, retryable: true, status: res.status, message, retryAfterMs: retryAfterMs(res.headers['retry-after']?.toString(), Date.now()) };
    // 401/403/404 (auth, missing database) are configuration errors that an
    // operator can fix while the spool holds the data: treat as retryable.
    if (res.status === 401 || res.status === 403 || res.status === 404) return { ok: false, retryable: true, status: res.status, message };
    return { ok: false, retryable: false, status: res.status, message };
  }

  /** Runs InfluxQL through `/query` (1.x, 2.x v1-compat and 3.x all answer it). */
  async query(influxql: string): Promise<InfluxSeries[]> {
    const db = this.api === 'v2' ? (this.target.bucket ?? this.target.db) : this.target.db;
    const path = `/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(influxql)}`;
    const res = await this.request('GET', path, undefined, this.timeoutMs);
    if (res.status !== 200) throw new Error(`InfluxQL query answered ${res.status}: ${res.body.slice(0, 300)}`);
    const doc = JSON.parse(res.body) as { results?: Array<{ series?: InfluxSeries[]; error?: string }>; error?: string };
    if (doc.error) throw new Error(`InfluxQL error: ${doc.error}`);
    const out: InfluxSeries[] = [];
    for (const r of doc.results ?? []) {
      if (r.error) throw new Error(`InfluxQL error: ${r.error}`);
      out.push(...(r.series ?? []));
    }
    return out;
  }

  close(): void {
    this.agent.destroy();
  }

  private request(method: string, path: string, body: string | undefined, timeoutMs: number, contentType?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      if (body !== undefined) {
        headers['content-type'] = contentType;
        headers['content-length'] = Buffer.byteLength(body);
      }
      if (this.target.token) headers.authorization = `Token ${this.target.token}`;
      const mod = this.base.protocol === 'https:' ? https : http;
      const req = mod.request(
        { protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, path: (this.base.pathname.replace(/\/$/, '') || '') + path, method, headers, agent: this.agent, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`InfluxDB ${method} ${path.split('?')[0]} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }
}
