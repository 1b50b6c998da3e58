/**
 * The twin viewer end to end: real gateway (served at `/`), real embedded
 * MQTT broker, real InfluxDB, real headless Chromium (SwiftShader WebGL).
 * Devices are played by a ParkFeed publishing plausible readings for every
 * sensor of the demo park once a second.
 *
 * One page is shared through the steps (load → overload → building panel →
 * gateway frozen → gateway killed and restarted), as a park manager would
 * use it; the steps run in order and build on each other.
 *
 * Vital-sign windows are shortened with VITALS_WINDOW_MS so the demand alarm
 * (decided on closed windows, contract §6) arrives in seconds; the load
 * colouring itself comes from `now` messages (contract §7) and does not
 * depend on it. Screenshots of each state go to test-artifacts/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ParkModel } from '@park/telemetry';
import { startGateway, type Gateway } from '../support/gateway';
import { waitFor } from '../support/services';
import type { TwinHook } from '../../apps/twin-viewer/src/twin.hook';
import { buildViewerIfStale, colourDistance, colourOf, hexRgb, launchChromium, pixelAt, projectBuilding, saveScreenshot, twinHook, waitForTwin } from './chromium';
import { ParkFeed } from './park-feed';

const ROOT = path.resolve(__dirname, '..', '..');
const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'apps/gateway/parks/demo.park.json'), 'utf8')) as ParkModel;

/** The viewer's critical colour (apps/twin-viewer/src/lib/colour.scale.ts CRITICAL_HEX). */
const CRITICAL = '#e53935';
/** The building pushed over its contract: a large low roof, in plain view from the overview. */
const OVERLOADED = 'b07';
/** Colours the user sees on a roof are the applied colour up to antialiasing and JPEG-free PNG rounding. */
const SAME_COLOUR = 30;

jest.setTimeout(240_000);

/** Waits until a locator's text passes `ok` (jest has no auto-waiting locator assertions). */
function textOf(locator: Locator, ok: (text: string) => boolean, what: string): Promise<string> {
  return waitFor(async () => {
    const t = (await locator.textContent({ timeout: 2000 })) ?? '';
    return ok(t) ? t : null;
  }, { what, timeoutMs: 20_000 });
}

/** The colour on screen at a building's visible roof point. */
async function roofPixel(page: Page, id: string): Promise<[number, number, number]> {
  const at = await waitFor(async () => {
    const p = await projectBuilding(page, id);
    return p?.visible ? p : null;
  }, { what: `${id} visible on the canvas` });
  return pixelAt(page, at.pageX, at.pageY);
}

describe('twin viewer in the browser', () => {
  let gateway: Gateway;
  let client: MqttClient;
  let feed: ParkFeed;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildViewerIfStale();
    // Operator authentication on (contract §8): the viewer signs in with the
    // admin token the harness made before the gateway started.
    gateway = await startGateway({ name: 'twin-viewer', auth: true, env: { MQTT_AUTH: 'off', VITALS_WINDOW_MS: '5000', VITALS_LATENESS_MS: '1000' } });
    client = await mqtt.connectAsync(gateway.mqttUrl, { clientId: `viewer-feed-${process.pid}`, reconnectPeriod: 500 });
    feed = new ParkFeed(client, demo);
    feed.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  });

  afterAll(async () => {
    feed?.stop();
    await client?.endAsync();
    await browser?.close();
    await gateway?.stop();
  });

  /** Signs a browser context in the way a script would: POST /api/session; the context keeps the cookie. */
  async function signIn(ctx: BrowserContext): Promise<void> {
    const res = await ctx.request.post(`${gateway.httpUrl}/api/session`, { data: { token: gateway.adminToken } });
    expect(res.status()).toBe(200);
  }

  it('asks for a token, refuses a bad one, and then relies on the HttpOnly session cookie (contract §8)', async () => {
    await page.goto(`${gateway.httpUrl}/`);
    const dialog = page.getByRole('dialog', { name: 'Sign in to the park twin' });
    await dialog.waitFor({ state: 'visible', timeout: 60_000 });
    const field = page.getByLabel('Operator token');
    expect(await field.evaluate((e) => e === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    await field.fill('ptk_0000000000000000_' + 'A'.repeat(43));
    await field.press('Enter');
    await expect(page.getByRole('alert').filter({ hasText: 'not valid' }).textContent()).resolves.toMatch(/not valid/);
    await field.fill(gateway.adminToken!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const hook = await waitForTwin(page);
    expect(hook.signedIn).toBe(true);
    // The token is kept nowhere the page's scripts can read; the cookie is HttpOnly.
    const stored = await page.evaluate(() => {
      const g = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number }; document: { cookie: string } };
      return { local: g.localStorage.length, session: g.sessionStorage.length, cookie: g.document.cookie };
    });
    expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['park_session', true, 'Strict']]);
    expect(cookies[0].value).not.toContain(gateway.adminToken!.slice(22));
  });

  it('loads the demo park and draws every building', async () => {
    await page.goto(`${gateway.httpUrl}/`);
    const hook = await waitForTwin(page);
    expect(hook.parkId).toBe('demo');
    expect(hook.error).toBeNull();
    expect(hook.buildingCount).toBe(demo.buildings.length);
    expect(await page.locator('.building-list button.building').count()).toBe(demo.buildings.length);

    // The canvas is not blank: a good share of its pixels differ from the background.
    const lit = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { width: number; height: number } & object } }).document;
      const src = doc.querySelector('canvas.twin-canvas');
      const c = (doc as unknown as { createElement(t: string): { width: number; height: number; getContext(k: string): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } }).createElement('canvas');
      c.width = src.width;
      c.height = src.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(src, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let differing = 0;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) {
        // Background #0d141b.
        if (Math.abs(d[i] - 13) + Math.abs(d[i + 1] - 20) + Math.abs(d[i + 2] - 27) > 40) differing++;
        colours.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
      }
      return { share: differing / (d.length / 4), colours: colours.size };
    });
    expect(lit.share).toBeGreaterThan(0.03);
    expect(lit.colours).toBeGreaterThan(20);

    // Live data arrives: the stale banner goes away and every building gets a colour from `now`.
    await page.locator('[data-testid="stale-banner"]').waitFor({ state: 'hidden', timeout: 20_000 });
    await textOf(page.locator('[data-testid="hud"] [data-metric="load"] .hud-value'), (t) => /\d/.test(t), 'HUD load figure');
    await saveScreenshot(page, 'viewer-overview');
  });

  it('turns an overloaded building the critical colour, lists its demand alarm, and restores it', async () => {
    const before = await colourOf(page, OVERLOADED);
    expect(before).not.toBe(CRITICAL);

    feed.setLoad(OVERLOADED, 1.3);
    // From `now` (at least once a second, contract §7): seconds, not a window.
    await waitFor(async () => (await colourOf(page, OVERLOADED)) === CRITICAL, { what: `${OVERLOADED} coloured critical`, timeoutMs: 15_000 });
    // What the user sees on the roof. Polled: a window straddling the jump may
    // raise a short-lived warn alarm whose amber pulse tints the roof until
    // the critical one supersedes it.
    const seen = await waitFor(
      async () => {
        const rgb = await roofPixel(page, OVERLOADED);
        return colourDistance(rgb, hexRgb(CRITICAL)) < SAME_COLOUR ? rgb : null;
      },
      { what: `${OVERLOADED}'s roof showing ${CRITICAL}`, timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(colourDistance(seen, hexRgb(CRITICAL))).toBeLessThan(SAME_COLOUR);
    await textOf(page.locator(`.building-list button[data-building="${OVERLOADED}"] .value`), (t) => t.includes('130 %'), 'list value 130 %');

    // The demand alarm is decided on a closed window, then pushed as an `alarm` message.
    // (A window straddling the jump may raise warn first; critical supersedes it.)
    const row = page.locator(`[data-testid="alarm-panel"] li.alarm[data-building="${OVERLOADED}"][data-rule="demand"][data-state="active"][data-severity="critical"]`);
    await row.first().waitFor({ timeout: 30_000 });
    // The critical highlight pulses in the critical colour: the roof stays critical.
    expect(colourDistance(await roofPixel(page, OVERLOADED), hexRgb(CRITICAL))).toBeLessThan(SAME_COLOUR);
    await textOf(page.locator('[data-testid="hud"] [data-metric="alarms"] .hud-value'), (t) => Number(t) >= 1, 'HUD active alarm count');
    // Newest first: the demand alarm is the newest active entry of the panel.
    expect(await page.locator('[data-testid="alarm-panel"] li.alarm[data-state="active"]').first().getAttribute('data-building')).toBe(OVERLOADED);
    await saveScreenshot(page, 'viewer-overload-alarm');

    feed.setLoad(OVERLOADED, 0.4);
    await waitFor(async () => (await colourOf(page, OVERLOADED)) !== CRITICAL, { what: `${OVERLOADED} back from critical`, timeoutMs: 15_000 });
    const demandRows = `[data-testid="alarm-panel"] li.alarm[data-building="${OVERLOADED}"][data-rule="demand"]`;
    await page.locator(`${demandRows}[data-state="cleared"]`).first().waitFor({ timeout: 30_000 });
    // (On the way down a straddling window may pass through warn; wait until nothing is active.)
    await waitFor(async () => (await page.locator(`${demandRows}[data-state="active"]`).count()) === 0, { what: 'no active demand alarm', timeoutMs: 30_000 });
    // Alarm cleared: no more highlight, the roof shows the applied (normal) colour.
    const applied = (await colourOf(page, OVERLOADED)) as string;
    expect(applied).not.toBe(CRITICAL);
    const after = await roofPixel(page, OVERLOADED);
    expect(colourDistance(after, hexRgb(applied))).toBeLessThan(SAME_COLOUR);
    expect(colourDistance(after, hexRgb(CRITICAL))).toBeGreaterThan(100);
    await saveScreenshot(page, 'viewer-overload-cleared');
  });

  it('opens a building panel with 24 h history charts on click, and from the keyboard list', async () => {
    const target = 'b06';
    const p = await waitFor(async () => {
      const q = await projectBuilding(page, target);
      return q?.visible ? q : null;
    }, { what: `${target} visible` });
    await page.mouse.click(p.pageX, p.pageY);
    const panel = page.locator('[data-testid="building-panel"]');
    await panel.waitFor({ state: 'visible' });
    expect(await panel.getAttribute('data-building')).toBe(target);
    expect(await panel.locator('.panel-title').textContent()).toBe(demo.buildings.find((b) => b.id === target)?.name);

    // The history API has the windows this test has produced so far; reopen until the charts show them.
    const points = await waitFor(
      async () => {
        const n = Number((await panel.locator('svg.chart[data-metric="load_kw"]').getAttribute('data-points', { timeout: 2000 })) ?? 0);
        if (n > 0) return n;
        await page.keyboard.press('Escape');
        await page.mouse.click(p.pageX, p.pageY);
        return 0;
      },
      { what: 'load chart with data points', timeoutMs: 40_000, intervalMs: 2000 },
    );
    expect(points).toBeGreaterThan(0);
    // All five charts (they load in parallel).
    await waitFor(async () => (await panel.locator('svg.chart').count()) === 5, { what: 'five history charts', timeoutMs: 15_000 });
    expect(await panel.locator('svg.chart[data-metric="load_kw"] path.line').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+/);
    await textOf(panel.locator('[data-value="load"]').first(), (t) => t.includes('kW'), 'panel load now');
    await saveScreenshot(page, 'viewer-building-panel');

    // Keyboard: Escape closes; the list selects with arrows and Enter.
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.locator('.building-list button.building').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await panel.getAttribute('data-building')) === demo.buildings[1].id, { what: 'panel of the second building' });
    await page.keyboard.press('Escape');
  });

  it('calls the data stale when the stream stays open but silent for more than 3 s', async () => {
    const banner = page.locator('[data-testid="stale-banner"]');
    // A frozen gateway: the TCP connection stays up, no `now` arrives.
    process.kill(gateway.pid, 'SIGSTOP');
    try {
      await banner.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await banner.getAttribute('data-connection')).toBe('open');
      expect(await banner.textContent()).toMatch(/No live update for \d+ s/);
    } finally {
      process.kill(gateway.pid, 'SIGCONT');
    }
    await banner.waitFor({ state: 'hidden', timeout: 20_000 });
  });

  it('shows the stale state when the live stream dies and recovers when it is back', async () => {
    await gateway.kill();
    const banner = page.locator('[data-testid="stale-banner"]');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect((await twinHook(page))?.stale).toBe(true);
    expect(await page.locator('#conn-status').getAttribute('data-state')).toBe('stale');
    await saveScreenshot(page, 'viewer-stale');

    await gateway.restart();
    // Backoff is capped at 10 s; the feed's MQTT client reconnects on its own.
    await banner.waitFor({ state: 'hidden', timeout: 45_000 });
    const hook = await twinHook(page);
    expect(hook?.stale).toBe(false);
    expect(Date.now() - (hook?.lastNowAt ?? 0)).toBeLessThan(5_000);
    await saveScreenshot(page, 'viewer-recovered');
  });

  it('shows the sign-in form again when the session ends, and goes on after sign-in (contract §8)', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      await signIn(ctx);
      const p = await ctx.newPage();
      await p.goto(`${gateway.httpUrl}/`);
      await waitForTwin(p);
      // Logged out elsewhere (the cookie is gone, the server forgot the session).
      expect((await ctx.request.delete(`${gateway.httpUrl}/api/session`)).status()).toBe(204);
      // The next request (a building's history) is a 401: the form comes back.
      await p.locator('.building-list button.building').first().click();
      const dialog = p.getByRole('dialog', { name: 'Sign in to the park twin' });
      await dialog.waitFor({ state: 'visible', timeout: 20_000 });
      expect(await p.locator('#login-help').textContent()).toMatch(/session has ended/);
      expect((await twinHook(p))?.signedIn).toBe(false);
      await p.getByLabel('Operator token').fill(gateway.adminToken!);
      await p.getByLabel('Operator token').press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      expect((await twinHook(p))?.signedIn).toBe(true);
      await p.locator('[data-testid="stale-banner"]').waitFor({ state: 'hidden', timeout: 20_000 });
    } finally {
      await ctx.close();
    }
  });

  it('explains that WebGL is unavailable and still shows the figures', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signIn(ctx);
    await ctx.addInitScript(() => {
      const proto = (globalThis as unknown as { HTMLCanvasElement: { prototype: { getContext(k: string, ...a: unknown[]): unknown } } }).HTMLCanvasElement.prototype;
      const original = proto.getContext;
      proto.getContext = function (this: unknown, kind: string, ...rest: unknown[]) {
        return kind === 'webgl2' || kind === 'webgl' ? null : original.call(this, kind, ...rest);
      };
    });
    const p = await ctx.newPage();
    await p.goto(`${gateway.httpUrl}/`);
    await p.locator('#webgl-error').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await p.locator('#webgl-error').textContent()).toContain('WebGL 2');
    await p.locator('[data-testid="stale-banner"]').waitFor({ state: 'hidden', timeout: 20_000 });
    await textOf(p.locator('[data-testid="hud"] [data-metric="load"] .hud-value'), (t) => /\d/.test(t), 'HUD load figure without WebGL');
    expect((await twinHook(p))?.buildingCount).toBe(0);
    await saveScreenshot(p, 'viewer-no-webgl');
    await ctx.close();
  });

  it('releases GPU memory, the live socket, timers and frames on dispose()', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signIn(ctx);
    // Before any page script: count the page's timers, animation frames and
    // WebSockets, which are pending, and how many timer/frame callbacks ran.
    await ctx.addInitScript(() => {
      type Fn = (...a: unknown[]) => void;
      const g = globalThis as unknown as Record<string, unknown> & { WebSocket: new (url: string) => { readyState: number } };
      const timeouts = new Set<unknown>();
      const intervals = new Set<unknown>();
      const frames = new Set<unknown>();
      const sockets: Array<{ readyState: number }> = [];
      let ran = 0;
      const wrap = <K extends string>(name: K, pending: Set<unknown>, once: boolean) => {
        const original = g[name] as (fn: Fn, ...rest: unknown[]) => unknown;
        g[name] = (fn: Fn, ...rest: unknown[]) => {
          const id: unknown = original.call(g, (...a: unknown[]) => {
            if (once) pending.delete(id);
            ran++;
            fn(...a);
          }, ...rest);
          pending.add(id);
          return id;
        };
      };
      wrap('setTimeout', timeouts, true);
      wrap('setInterval', intervals, false);
      wrap('requestAnimationFrame', frames, true);
      // clearTimeout and clearInterval share one pool of ids in browsers.
      for (const name of ['clearTimeout', 'clearInterval', 'cancelAnimationFrame']) {
        const original = g[name] as (id: unknown) => void;
        g[name] = (id: unknown) => {
          timeouts.delete(id);
          intervals.delete(id);
          frames.delete(id);
          original.call(g, id);
        };
      }
      const Ws = g.WebSocket;
      g.WebSocket = class extends Ws {
        constructor(url: string) {
          super(url);
          sockets.push(this);
        }
      };
      g.__probe = () => ({ timeouts: timeouts.size, intervals: intervals.size, frames: frames.size, ran, openSockets: sockets.filter((w) => w.readyState !== 3).length, sockets: sockets.length });
    });
    type Probe = { timeouts: number; intervals: number; frames: number; ran: number; openSockets: number; sockets: number };
    const probe = (p: Page) => p.evaluate(() => (globalThis as unknown as { __probe(): Probe }).__probe());
    const gpu = (p: Page) => p.evaluate(() => (globalThis as unknown as { __twin: TwinHook }).__twin.gpuMemory());

    const p = await ctx.newPage();
    await p.goto(`${gateway.httpUrl}/`);
    await waitForTwin(p);
    await p.locator('[data-testid="stale-banner"]').waitFor({ state: 'hidden', timeout: 20_000 });
    // Running: the park is on the GPU, the socket is open, the stale check and the socket's silence check tick.
    const before = await gpu(p);
    expect(before?.geometries).toBeGreaterThan(0);
    expect(before?.textures).toBeGreaterThan(0);
    expect(before?.programs).toBeGreaterThan(0);
    const running = await probe(p);
    expect(running.openSockets).toBe(1);
    expect(running.intervals).toBeGreaterThanOrEqual(2);

    await p.evaluate(() => (globalThis as unknown as { __twin: TwinHook }).__twin.dispose());
    expect(await gpu(p)).toEqual({ geometries: 0, textures: 0, programs: 0 });
    expect(await p.locator('canvas.twin-canvas').count()).toBe(0);
    const stopped = await twinHook(p);
    expect(stopped?.disposed).toBe(true);
    const justAfter = await probe(p);
    expect(justAfter).toMatchObject({ timeouts: 0, intervals: 0, frames: 0 });

    // The feed goes on publishing and the gateway pushes `now` every second;
    // over several stale-check and silence-check periods nothing may run.
    await p.waitForTimeout(2500);
    const later = await probe(p);
    expect(later).toEqual({ ...justAfter, openSockets: 0 });
    const after = await twinHook(p);
    expect(after?.stats.updates).toBe(stopped?.stats.updates);
    expect(after?.stats.renders).toBe(stopped?.stats.renders);
    await ctx.close();
  });
});
