import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { InfluxHttpClient } from './influx-http.client';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in InfluxDB on a loopback port: answers what each test scripts. */
function fakeServer(answer: (req: Seen) => { status: number; body?: string; headers?: Record<string, string> }) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, a.headers);
      res.end(a.body ?? '');
    });
  });
  return {
    seen,
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('InfluxHttpClient', () => {
  const clients: InfluxHttpClient[] = [];
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  const client = (url: string, target: Partial<{ db: string; bucket: string; org: string; token: string }> = {}) => {
    const c = new InfluxHttpClient({ url, db: 'park', ...target }, 2000);
    clients.push(c);
    return c;
  };

  it('writes line protocol to /write at ms precision on v1', async () => {
    const srv = fakeServer(() => ({ status: 204 }));
    const c = client(await srv.start());
    try {
      await expect(c.write('m v=1 1\nm v=2 2')).resolves.toEqual({ ok: true });
      expect(srv.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/write?db=park&precision=ms', body: 'm v=1 1\nm v=2 2' })]);
      expect(srv.seen[0].headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(srv.seen[0].headers.authorization).toBeUndefined();
    } finally {
      await srv.stop();
    }
  });

  it('writes to /api/v2/write with bucket, org and token on v2', async () => {
    const srv = fakeServer(() => ({ status: 204 }));
    const c = client(await srv.start(), { bucket: 'tele metry', org: 'acme', token: 's3cret' });
    c.api = 'v2';
    try {
      await expect(c.write('m v=1 1')).resolves.toEqual({ ok: true });
      expect(srv.seen[0].url).toBe('/api/v2/write?bucket=tele%20metry&org=acme&precision=ms');
      expect(srv.seen[0].headers.authorization).toBe('Token s3cret');
    } finally {
      await srv.stop();
    }
  });

  it.each<[number, boolean]>([
    [400, false],
    [413, false],
    [422, false],
    [401, true],
    [403, true],
    [404, true],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i is retryable: %s', async (status, retryable) => {
    const srv = fakeServer(() => ({ status, body: '{"error":"nope"}' }));
    const c = client(await srv.start());
    try {
      await expect(c.write('m v=1 1')).resolves.toEqual({ ok: false, retryable, status, message: 'HTTP ' + status + ': {"error":"nope"}' });
    } finally {
      await srv.stop();
    }
  });

  it('a refused connection is retryable and does not throw', async () => {
    const srv = fakeServer(() => ({ status: 204 }));
    const url = await srv.start();
    await srv.stop();
    const outcome = await client(url).write('m v=1 1');
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(!outcome.ok && outcome.message).toMatch(/ECONNREFUSED/);
  });

  it.each<[string, 'v1' | 'v2' | undefined, 'v1' | 'v2']>([
    ['1.6.7~rc0', undefined, 'v1'],
    ['v1.8.10', undefined, 'v1'],
    ['2.7.4', undefined, 'v2'],
    ['3.0.0', undefined, 'v2'],
    ['1.6.7~rc0', 'v2', 'v2'],
  ])('detects the API of version %s (forced %s) as %s', async (version, forced, api) => {
    const srv = fakeServer(() => ({ status: 204, headers: { 'X-Influxdb-Version': version } }));
    const c = client(await srv.start());
    try {
      await expect(c.detect(forced)).resolves.toBe(api);
      expect(c.api).toBe(api);
      expect(c.version).toBe(version);
      expect(srv.seen[0]).toMatchObject({ method: 'GET', url: '/ping' });
    } finally {
      await srv.stop();
    }
  });

  it('creates the v1 database with a quoted name', async () => {
    const srv = fakeServer(() => ({ status: 200, body: '{"results":[{}]}' }));
    const c = client(await srv.start(), { db: 'my"db' });
    try {
      await c.createDatabase();
      expect(srv.seen[0]).toMatchObject({ method: 'POST', url: '/query' });
      expect(new URLSearchParams(srv.seen[0].body).get('q')).toBe('CREATE DATABASE "my\\"db"');
    } finally {
      await srv.stop();
    }
  });

  it('runs InfluxQL and returns the series', async () => {
    const series = { name: 'energy', tags: { building: 'b1' }, columns: ['time', 'mean'], values: [[1000, 2.5]] };
    const srv = fakeServer((req) => (req.url.includes('bad') ? { status: 200, body: '{"results":[{"error":"syntax error"}]}' } : { status: 200, body: JSON.stringify({ results: [{ series: [series] }, {}] }) }));
    const c = client(await srv.start());
    try {
      await expect(c.query('SELECT mean(power_kw) FROM energy')).resolves.toEqual([series]);
      const url = new URL(srv.seen[0].url, 'http://x');
      expect(url.pathname).toBe('/query');
      expect(Object.fromEntries(url.searchParams)).toEqual({ db: 'park', epoch: 'ms', q: 'SELECT mean(power_kw) FROM energy' });
      await expect(c.query('bad')).rejects.toThrow('InfluxQL error: syntax error');
    } finally {
      await srv.stop();
    }
  });
});
