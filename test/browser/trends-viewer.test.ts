/**
 * The twin looks ahead, and the monthly report prints (contract §8), in
 * real Chromium against the real gateway and InfluxDB:
 *
 * - 14 days of a two-building park are backfilled straight into InfluxDB,
 *   with building b1 running over its contracted capacity all along (the
 *   simulator's `overload` scenario), so its forecast is too;
 * - the HUD's "Next 24 h" tile shows the park's forecast peak and when;
 *   the gateway raises `demand_forecast` for b1 on the first window after
 *   its fit, and the viewer lists it and marks the building;
 * - the building panel's load chart runs past now into the forecast and
 *   its band;
 * - `/report.html` shows the month's figures and prints to one A4 page
 *   (Chromium's `page.pdf`, as the browser's print to PDF).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseScenarios } from '@park/park-sim';
import { indexPark, localTime, ParkModel } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { backfillInflux } from '../support/backfill';
import { startGateway, type Gateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { influxWrite, sharedInfluxUrl, uniqueDb, waitFor } from '../support/services';
import { buildViewerIfStale, launchChromium, saveScreenshot, waitForTwin } from './chromium';

jest.setTimeout(240_000);

const DAY = 86_400_000;
const TO = Math.floor(Date.now() / 60_000) * 60_000;
const park: ParkModel = testPark('tv');

describe('the twin looks ahead; the monthly report prints', () => {
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildViewerIfStale();
    const db = await uniqueDb('trendsview');
    const overload = parseScenarios(['overload:b1']);
    if (!overload.ok) throw new Error(overload.error);
    await backfillInflux(indexPark(park), { seed: 3, fromMs: TO - 14 * DAY, toMs: TO, scenarios: overload.scenarios, readings: false, write: (lines) => influxWrite(sharedInfluxUrl(), db, lines) });
    const file = path.join(ownedDir('trends-viewer'), 'tv.park.json');
    fs.writeFileSync(file, JSON.stringify(park));
    gateway = await startGateway({ name: 'trends-viewer', env: { INFLUX_DB: db, PARK_MODEL: file, VITALS_WINDOW_MS: '5000', VITALS_LATENESS_MS: '1000' } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('shows the forecast peak of the next 24 h against the contracted capacity', async () => {
    await page.goto(`${gateway.httpUrl}/?park=tv`);
    await waitForTwin(page);
    await waitFor(() => page.evaluate(() => window.__twin?.forecastLoaded === true), { what: 'the HUD forecast', timeoutMs: 60_000, intervalMs: 250 });
    const tile = page.locator('[data-testid="hud"] [data-metric="forecast"]');
    expect(await tile.locator('.hud-label').textContent()).toBe('Next 24 h');
    expect(await tile.locator('.hud-value').textContent()).toMatch(/^[\d,.]+ (kW|MW)$/);
    expect(await tile.locator('.hud-sub').textContent()).toMatch(/^peak at (tomorrow )?\d\d:\d\d · \d+ % of contracted$/);
  });

  it('lists the demand_forecast alarm the gateway raises and marks the building', async () => {
    const row = page.locator('[data-testid="alarm-panel"] li.alarm[data-building="b1"][data-rule="demand_forecast"][data-state="active"]');
    await row.waitFor({ state: 'attached', timeout: 60_000 });
    expect(await row.textContent()).toMatch(/load forecast to reach [\d,]+ kW at \w{3} \d\d:\d\d \(park time\), above contracted 500 kW/);
    const marker = page.locator('.label[data-building="b1"] .label-anomaly');
    await marker.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await marker.textContent()).toBe('⚠ Demand forecast');
    expect(await page.locator('.label[data-building="b2"] .label-anomaly').isVisible()).toBe(false);
    await saveScreenshot(page, 'trends-viewer-alarm');
  });

  it("draws the forecast and its band after now in the building's load chart", async () => {
    await page.locator('.building-list button.building[data-building="b1"]').click();
    const panel = page.locator('[data-testid="building-panel"]');
    await panel.waitFor({ state: 'visible' });
    const chart = panel.locator('svg.chart[data-metric="load_kw"]');
    await waitFor(async () => Number((await chart.getAttribute('data-forecast-points', { timeout: 2000 })) ?? 0) === 96, { what: '96 forecast steps in the load chart', timeoutMs: 30_000 });
    expect(await chart.locator('path.forecast-band').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+L.*Z$/);
    expect(await chart.locator('path.forecast-line').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){95}$/);
    expect(await chart.getAttribute('aria-label')).toMatch(/forecast for the next 24 hours peaks at [\d,]+ kW/);
    expect(Number(await panel.locator('svg.chart[data-metric="energy_kwh"]').getAttribute('data-forecast-points'))).toBe(96);
    await chart.scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'trends-viewer-panel');
  });

  it('prints the monthly report on one A4 page with the figures', async () => {
    const t = localTime('Asia/Shanghai', TO - 2 * DAY);
    const month = `${t.year}-${String(t.month).padStart(2, '0')}`;
    const report = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    await report.goto(`${gateway.httpUrl}/report.html?park=tv&month=${month}`);
    await waitFor(() => report.evaluate(() => (window as unknown as { __report?: { ready: boolean } }).__report?.ready === true), { what: 'the report page', timeoutMs: 30_000 });
    expect(await report.evaluate(() => (window as unknown as { __report?: { error: string | null } }).__report?.error)).toBeNull();
    const api = (await (await fetch(`${gateway.httpUrl}/api/parks/tv/report?month=${month}`)).json()) as { park_totals: { energy_kwh: number; peak_demand_kw: number } };
    expect(await report.locator('h1').textContent()).toBe('Test Park');
    expect(await report.locator('[data-figure="energy"] .figure-value').textContent()).toMatch(/^[\d,.]+ (kWh|MWh|GWh)$/);
    expect(await report.locator('[data-figure="peak"] .figure-value').textContent()).toMatch(/^[\d,.]+ (kW|MW)$/);
    expect(await report.locator('[data-figure="carbon"] .figure-sub').textContent()).toMatch(/at 0\.42 kg\/kWh/);
    expect(await report.locator('table.buildings tbody tr').count()).toBe(2);
    const parkRow = report.locator('table.buildings tfoot tr[data-scope="park"]');
    expect(Number((await parkRow.locator('[data-col="energy"]').textContent())?.replace(/,/g, ''))).toBe(Math.round(api.park_totals.energy_kwh));
    expect(Number((await parkRow.locator('[data-col="peak"]').textContent())?.replace(/,/g, ''))).toBe(Math.round(api.park_totals.peak_demand_kw));
    await report.emulateMedia({ media: 'print' });
    expect(await report.locator('.no-print').first().isVisible()).toBe(false);
    const pdf = await report.pdf({ format: 'A4', preferCSSPageSize: true, printBackground: true });
    const dir = path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'monthly-report.pdf'), pdf);
    const text = pdf.toString('latin1');
    expect(text.match(/\/Type\s*\/Page\b/g)).toHaveLength(1);
    const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
    expect(Number(box?.[1])).toBeCloseTo(595.28, 0);
    expect(Number(box?.[2])).toBeCloseTo(841.89, 0);
    await report.close();
  });
});
