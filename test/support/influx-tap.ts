/**
 * A transparent HTTP proxy in front of the real InfluxDB that keeps a copy
 * of every line written through it: give each gateway its own tap (as its
 * INFLUX_URL) to see which gateway wrote which point, which InfluxDB itself
 * cannot tell (a point written twice is overwritten).
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface InfluxTap {
  /** http://127.0.0.1:<port>: the INFLUX_URL to give a gateway. */
  url: string;
  /** Every line-protocol line written through the tap, in order. */
  lines: string[];
  close(): Promise<void>;
}

/** Starts a tap forwarding to `targetUrl` (the shared InfluxDB). */
export async function startInfluxTap(targetUrl: string): Promise<InfluxTap> {
  const target = new URL(targetUrl);
  const lines: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && /^\/(write|api\/v2\/write)\b/.test(req.url ?? '')) {
        for (const l of body.toString('utf8').split('\n')) if (l) lines.push(l);
      }
      const fwd = http.request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`tap: ${e.message}`);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lines,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
