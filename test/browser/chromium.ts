/**
 * Headless Chromium for the viewer's browser tests and benchmark: the
 * system's /usr/bin/chromium driven by playwright-core (never a downloaded
 * browser), software WebGL through SwiftShader, and helpers to read the
 * viewer's test hook (`window.__twin`) and the colour of a screen pixel.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HookScreenPoint, TwinHook } from '../../apps/twin-viewer/src/twin.hook';

/** The flags every run uses (no GPU on the test machines: SwiftShader WebGL). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ROOT = path.resolve(__dirname, '..', '..');
const VIEWER = path.join(ROOT, 'apps', 'twin-viewer');
const DIST_PAGES = ['index.html', 'report.html'].map((f) => path.join(ROOT, 'dist', 'twin-viewer', f));

/** Newest mtime under a path (the viewer's sources), to rebuild dist only when stale. */
function newestMtime(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((f) => newestMtime(path.join(p, f))));
}

/** Builds the viewer (dist/twin-viewer, both pages) when its sources are newer than the build. */
export function buildViewerIfStale(): void {
  const built = Math.min(...DIST_PAGES.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)));
  if (built >= newestMtime(VIEWER)) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/twin-viewer/vite.config.mjs', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** The viewer's test hook as seen from node: its data, without the functions (apps/twin-viewer/src/twin.hook.ts). */
export type TwinHookView = Omit<TwinHook, 'projectBuilding' | 'colourOf' | 'gpuMemory' | 'dispose'>;

/** The serialisable part of `window.__twin`. */
export function twinHook(page: Page): Promise<TwinHookView | null> {
  return page.evaluate(() => {
    const t = (globalThis as unknown as { __twin?: TwinHookView }).__twin;
    return t ? (JSON.parse(JSON.stringify(t)) as TwinHookView) : null;
  });
}

/** Waits for `window.__twin.ready` (first frame of the park drawn). */
export async function waitForTwin(page: Page, timeoutMs = 60_000): Promise<TwinHookView> {
  await page.waitForFunction(() => (globalThis as unknown as { __twin?: TwinHook }).__twin?.ready === true, undefined, {
    timeout: timeoutMs,
  });
  return (await twinHook(page)) as TwinHookView;
}

/** Where a building shows, in page CSS px (window.__twin.projectBuilding). */
export function projectBuilding(page: Page, id: string): Promise<HookScreenPoint | null> {
  return page.evaluate((bid) => (globalThis as unknown as { __twin: TwinHook }).__twin.projectBuilding(bid), id);
}

export function colourOf(page: Page, id: string): Promise<string | null> {
  return page.evaluate((bid) => (globalThis as unknown as { __twin: TwinHook }).__twin.colourOf(bid), id);
}

/**
 * The colour the user sees at a page point: a screenshot of the 5 × 5 pixels
 * around it (what the compositor shows: canvas, labels and all), decoded by
 * the browser, averaged. Returns [r, g, b] 0–255.
 */
export async function pixelAt(page: Page, x: number, y: number): Promise<[number, number, number]> {
  const png = await page.screenshot({ clip: { x: Math.round(x) - 2, y: Math.round(y) - 2, width: 5, height: 5 }, scale: 'css', animations: 'allow' });
  return page.evaluate(async (b64) => {
    const img = new (globalThis as unknown as { Image: new () => { src: string; decode(): Promise<void>; width: number; height: number } }).Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const doc = (globalThis as unknown as { document: { createElement(t: string): { width: number; height: number; getContext(k: string): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } } }).document;
    const c = doc.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data;
    // The centre 3 × 3 only: the rim may catch an edge line.
    let r = 0;
    let g = 0;
    let b = 0;
    let n = 0;
    for (let yy = 1; yy < img.height - 1; yy++) {
      for (let xx = 1; xx < img.width - 1; xx++) {
        const o = (yy * img.width + xx) * 4;
        r += d[o];
        g += d[o + 1];
        b += d[o + 2];
        n++;
      }
    }
    return [Math.round(r / n), Math.round(g / n), Math.round(b / n)] as [number, number, number];
  }, png.toString('base64'));
}

/** `#rrggbb` → [r, g, b]. */
export function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Euclidean distance between two colours (0–441). */
export function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Saves a full-page screenshot to test-artifacts/screenshots/<name>.png and returns the path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const file = path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots', `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, animations: 'allow' });
  return file;
}
