/**
 * Benchmark of the twin viewer's renderer, in headless Chromium (SwiftShader
 * WebGL: a CPU renderer, so the figures are an upper bound of what a GPU
 * machine sees):
 *  - time to first frame (navigation start → first frame with the park);
 *  - main-thread time per live update: one `now` message for every building
 *    (JSON parse + reducer + recolouring + panels), and the render it causes,
 *    measured in the page with performance.now().
 * For the demo park and for a generated park of 500 buildings.
 *
 * Not a test of the gateway: the bench serves the built viewer
 * (dist/twin-viewer) with a tiny static server and answers /api from the
 * generated model, so only the viewer is measured.
 *
 * Run: npx tsx test/bench/viewer.bench.ts [--updates 60] [--build] [--screenshots]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Kpis, LiveMessage, NowState } from '@park/metrics';
import type { BuildingModel, ParkModel } from '@park/telemetry';
import type { TwinHook } from '../../apps/twin-viewer/src/twin.hook';
import { launchChromium, saveScreenshot, twinHook, waitForTwin } from '../browser/chromium';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'twin-viewer');
const args = process.argv.slice(2);
const UPDATES = Number(args[args.indexOf('--updates') + 1]) > 0 && args.includes('--updates') ? Number(args[args.indexOf('--updates') + 1]) : 60;

/** Deterministic PRNG (mulberry32) so every run benchmarks the same park. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A park of `n` buildings on a street grid: rectangles and L-shapes, 2 to 30 floors. */
export function generatedPark(n: number, seed = 42): ParkModel {
  const rnd = prng(seed);
  const cols = Math.ceil(Math.sqrt(n * 1.4));
  const pitch = 90;
  const buildings: BuildingModel[] = [];
  for (let i = 0; i < n; i++) {
    const e0 = (i % cols) * pitch;
    const n0 = Math.floor(i / cols) * pitch;
    const w = 25 + rnd() * 50;
    const d = 20 + rnd() * 45;
    const footprint: Array<[number, number]> =
      rnd() < 0.2
        ? [[e0, n0], [e0 + w, n0], [e0 + w, n0 + d * 0.45], [e0 + w * 0.45, n0 + d * 0.45], [e0 + w * 0.45, n0 + d], [e0, n0 + d]]
        : [[e0, n0], [e0 + w, n0], [e0 + w, n0 + d], [e0, n0 + d]];
    const floors = 2 + Math.floor(rnd() * 28);
    const area = w * d * floors;
    buildings.push({
      id: `g${String(i + 1).padStart(3, '0')}`,
      name: `Block ${i + 1}`,
      use: 'office',
      footprint,
      height: floors * 4,
      floors,
      floorAreaM2: Math.round(area),
      capacity: Math.round(area / 12),
      contractedKw: Math.round(area * 0.08),
      sensors: [
        { id: 'm01', kind: 'energy', source: 'grid', intervalS: 10 },
        { id: 'c01', kind: 'carbon', intervalS: 60 },
        { id: 'o01', kind: 'occupancy', intervalS: 30 },
      ],
    });
  }
  return { id: 'gen500', name: `Generated park (${n} buildings)`, landAreaKm2: (cols * pitch * Math.ceil(n / cols) * pitch) / 1e6, buildings };
}

export function nowMessage(park: ParkModel, rnd: () => number, tMs: number): LiveMessage {
  const buildings: Record<string, NowState> = {};
  const total: NowState = { grid_kw: 0, pv_kw: 0, occupancy: 0, co2_ppm: 0, sensors_online: 0, sensors_total: 0, latest_ts_ms: tMs };
  for (const b of park.buildings) {
    const s: NowState = {
      grid_kw: b.contractedKw * (0.2 + rnd() * 0.95),
      pv_kw: rnd() * 40,
      occupancy: Math.round(b.capacity * rnd() * 1.1),
      co2_ppm: 450 + rnd() * 900,
      sensors_online: b.sensors.length - (rnd() < 0.05 ? 1 : 0),
      sensors_total: b.sensors.length,
      latest_ts_ms: tMs,
    };
    buildings[b.id] = s;
    total.grid_kw += s.grid_kw;
    total.pv_kw += s.pv_kw;
    total.occupancy += s.occupancy;
    total.sensors_online += s.sensors_online;
    total.sensors_total += s.sensors_total;
  }
  total.co2_ppm = 700;
  return { type: 'now', parkId: park.id, t: new Date(tMs).toISOString(), park: total, buildings };
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml' };

/** Static viewer + the read-only API routes the viewer calls, answered from the models. */
export function serve(parks: ParkModel[]): Promise<{ url: string; sockets: Set<WebSocket>; close(): Promise<void> }> {
  const byId = new Map(parks.map((p) => [p.id, p]));
  const json = (res: http.ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = u.pathname.match(/^\/api\/parks(?:\/([^/]+))?(?:\/([a-z]+))?$/);
    if (m) {
      if (!m[1]) return json(res, parks.map((p) => ({ id: p.id, name: p.name, buildings: p.buildings.length, sensors: p.buildings.reduce((s, b) => s + b.sensors.length, 0) })));
      const park = byId.get(decodeURIComponent(m[1]));
      if (!park) return json(res, { statusCode: 404, message: `unknown park ${m[1]}` }, 404);
      switch (m[2]) {
        case undefined:
          return json(res, park);
        case 'vitals':
          return json(res, { window: null, park: null, buildings: {} });
        case 'alarms':
          return json(res, []);
        case 'kpis': {
          const kpis: Kpis & { period: string } = { period: 'day', scope: 'park', period_hours: 12, energy_kwh: 48_250, pv_kwh: 3_630, carbon_kgco2e: 20_265, peak_demand_kw: 9_800, renewable_share: 0.07 };
          return json(res, kpis);
        }
        case 'history': {
          const from = Date.parse(u.searchParams.get('from') ?? '');
          const to = Date.parse(u.searchParams.get('to') ?? '');
          const out = [];
          for (let t = from; t < to; t += 15 * 60_000) out.push({ t: new Date(t).toISOString(), value: 400 + 300 * Math.sin((t / 3_600_000 / 24) * 2 * Math.PI) });
          return json(res, out);
        }
      }
      return json(res, { message: 'not found' }, 404);
    }
    const file = path.join(DIST, u.pathname === '/' ? 'index.html' : path.normalize(u.pathname));
    if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  const wss = new WebSocketServer({ server, path: '/api/live' });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    const parkId = new URL(req.url ?? '', 'http://x').searchParams.get('park') ?? '';
    const park = byId.get(parkId);
    if (!park) return ws.close(4404, 'unknown park');
    const first = nowMessage(park, prng(1), Date.now()) as Extract<LiveMessage, { type: 'now' }>;
    const snapshot: LiveMessage = { type: 'snapshot', parkId, t: first.t, now: { park: first.park, buildings: first.buildings }, vitals: null, alarms: [] };
    ws.send(JSON.stringify(snapshot));
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        sockets,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.terminate();
            wss.close();
            server.close(() => r());
          }),
      });
    }),
  );
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

async function main(): Promise<void> {
  if (args.includes('--build') || !fs.existsSync(path.join(DIST, 'index.html'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/twin-viewer/vite.config.mjs', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  }
  const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'apps/gateway/parks/demo.park.json'), 'utf8')) as ParkModel;
  const gen = generatedPark(500);
  const server = await serve([demo, gen]);
  const browser = await launchChromium();
  const rows: string[] = [];
  try {
    for (const park of [demo, gen]) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      await page.goto(`${server.url}/?park=${park.id}`);
      const hook = await waitForTwin(page);
      const firstFrameMs = hook.stats.firstFrameMs;
      const rnd = prng(7);
      const handle: number[] = [];
      const update: number[] = [];
      const render: number[] = [];
      // Let the start-up requests settle so they do not land inside a measured update.
      await page.waitForTimeout(500);
      for (let k = 0; k < UPDATES; k++) {
        const before = (await twinHook(page)) as NonNullable<Awaited<ReturnType<typeof twinHook>>>;
        const msg = JSON.stringify(nowMessage(park, rnd, Date.now()));
        for (const s of server.sockets) s.send(msg);
        await page.waitForFunction(
          ([u, r]) => {
            const st = (globalThis as unknown as { __twin: TwinHook }).__twin.stats;
            return st.updates > u && st.renders > r;
          },
          [before.stats.updates, before.stats.renders] as const,
          { timeout: 10_000 },
        );
        const after = (await twinHook(page)) as NonNullable<Awaited<ReturnType<typeof twinHook>>>;
        handle.push(after.stats.lastMessageMs);
        update.push(after.stats.lastUpdateMs);
        render.push(after.stats.lastRenderMs);
      }
      if (args.includes('--screenshots')) console.log('screenshot:', await saveScreenshot(page, `bench-${park.id}`));
      const h = stats(handle);
      const u = stats(update);
      const r = stats(render);
      const total = stats(handle.map((x, i) => x + render[i]));
      rows.push(
        `${park.id.padEnd(7)} ${String(park.buildings.length).padStart(4)} bldgs | first frame ${firstFrameMs.toFixed(0).padStart(5)} ms | ` +
          `message (parse+apply) median ${h.median.toFixed(2)} p95 ${h.p95.toFixed(2)} ms (apply alone median ${u.median.toFixed(2)}) | ` +
          `render median ${r.median.toFixed(2)} p95 ${r.p95.toFixed(2)} ms | per update total median ${total.median.toFixed(2)} p95 ${total.p95.toFixed(2)} max ${total.max.toFixed(2)} ms | ${UPDATES} updates`,
      );
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`\nviewer bench (headless Chromium ${browser.version()}, SwiftShader WebGL, 1600×900 CSS px)`);
  for (const r of rows) console.log(r);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
