/**
 * Contract §8, late readings and time, end to end: the real gateway, its
 * embedded broker and InfluxDB 1.6, the park simulator publishing in real
 * time (5 s windows, 1.5 s of allowed lateness, sensors every second).
 *
 * - Store and forward: building b2's edge box loses its uplink from 10 s to
 *   30 s into the run, while b2 is overloaded (12 s to 24 s); it uploads
 *   what it buffered at 35 s. Live, b2 looked offline and nothing else;
 *   within 60 s of the upload, the windows it buffered for are derived again
 *   from storage, by themselves: they equal a recompute, and the demand
 *   alarm they hold is written and pushed with `late: true`.
 * - Days old: an hour of b3's readings from two days ago arrive; their
 *   windows, never derived, are derived and equal a recompute.
 * - A device clock 290 s ahead: counted, listed in /api/health, and it
 *   closes no window early (no live reading becomes late).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { Alarm, LiveMessage } from '@park/metrics';
import { parseScenarios, ParkSimulator, SimMessage } from '@park/park-sim';
import { ParkModel } from '@park/telemetry';
import { Gateway, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { connectDevice, getJson, metric } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';
import { runRecompute } from '../support/commands';

jest.setTimeout(240_000);

const WINDOW_MS = 5_000;
const LATENESS_MS = 1_500;
const RUN_MS = 50_000;
const OUTAGE = { fromMs: 10_000, toMs: 30_000 };
const UPLOAD_AT_MS = 35_000;
const DAYS_AGO_MS = 2 * 86_400_000;
const HOUR_MS = 3_600_000;
const GLITCH_AT_MS = 40_000;

const rect = (x: number, y: number) => [[x, y], [x + 40, y], [x + 40, y + 20], [x, y + 20]] as Array<[number, number]>;
const every1s = (id: string, kind: 'energy' | 'carbon' | 'occupancy', extra: Record<string, string> = {}) => ({ id, kind, intervalS: 1, ...extra });
const PARK: ParkModel = {
  id: 'lt',
  name: 'Late readings test park',
  buildings: [
    { id: 'b1', name: 'Steady', use: 'office', footprint: rect(0, 0), height: 20, floors: 5, floorAreaM2: 4000, capacity: 200, contractedKw: 800, sensors: [every1s('m1', 'energy'), every1s('c1', 'carbon'), every1s('o1', 'occupancy')] },
    { id: 'b2', name: 'Buffering', use: 'office', footprint: rect(60, 0), height: 20, floors: 5, floorAreaM2: 4000, capacity: 150, contractedKw: 600, sensors: [every1s('m1', 'energy'), every1s('c1', 'carbon'), every1s('o1', 'occupancy')] },
    { id: 'b3', name: 'Days old', use: 'office', footprint: rect(120, 0), height: 20, floors: 5, floorAreaM2: 4000, capacity: 100, contractedKw: 500, sensors: [every1s('m1', 'energy'), every1s('c1', 'carbon')] },
  ],
};

let gw: Gateway;
let device: MqttClient;
let live: WebSocket;
const received: Array<{ atMs: number; msg: LiveMessage }> = [];
/** Start of the run (window-aligned). */
let S = 0;
let uploadedAtMs = 0;

const ownDb = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}`;
const q = (influxql: string) => influxQuery(sharedInfluxUrl(), gw.env.INFLUX_DB, influxql);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const alarms = () => received.flatMap((r) => (r.msg.type === 'alarm' ? [r.msg.alarm] : []));
const brief = (a: Alarm) => `${a.state} ${a.severity} ${a.building}/${a.rule}${a.late ? ' late' : ''}`;
const publish = (m: SimMessage) => device.publishAsync(m.topic, m.payload, { qos: 1 });

/** The vitals stored for [from, to), as comparable rows (every field, by scope and building). */
async function storedVitals(fromMs: number, toMs: number): Promise<Array<Record<string, unknown>>> {
  return rowsOf(await q(`SELECT * FROM vitals WHERE park = 'lt' AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY scope, building`));
}

/** Runs `npm run recompute` over [from, to) and asserts that it changed nothing stored. */
async function expectRecomputeChangesNothing(fromMs: number, toMs: number): Promise<number> {
  const before = await storedVitals(fromMs, toMs);
  const res = await runRecompute(['--from', String(fromMs), '--to', String(toMs), '--park', 'lt'], gw.env);
  expect(res.code).toBe(0);
  const after = await storedVitals(fromMs, toMs);
  expect(after.length).toBe(((toMs - fromMs) / WINDOW_MS) * (PARK.buildings.length + 1));
  expect(after).toEqual(before);
  return after.length;
}

beforeAll(async () => {
  const modelFile = path.join(ownedDir('vitals-late'), 'lt.park.json');
  fs.writeFileSync(modelFile, JSON.stringify(PARK, null, 2));
  gw = await startGateway({ name: 'vitals-late', env: { INFLUX_DB: ownDb('vitals_late'), PARK_MODEL: modelFile, VITALS_WINDOW_MS: String(WINDOW_MS), VITALS_LATENESS_MS: String(LATENESS_MS) } });
  device = await connectDevice(gw.mqttUrl, { clientId: 'sim-late' });
  live = new WebSocket(`${gw.liveUrl}?park=lt`);
  live.on('message', (data) => received.push({ atMs: Date.now(), msg: JSON.parse(data.toString()) }));
  await new Promise((resolve, reject) => live.once('open', resolve).once('error', reject));

  S = Math.ceil((Date.now() + 1_000) / WINDOW_MS) * WINDOW_MS;
  const scenarios = parseScenarios([`overload:b2@12-24`]);
  if (!scenarios.ok) throw new Error(scenarios.error);
  const sim = new ParkSimulator(PARK, { seed: 11, startMs: S, scenarios: scenarios.scenarios });
  const buffered: SimMessage[] = [];
  let skewSent = false;
  let glitchSent = false;
  while (Date.now() < S + RUN_MS) {
    const now = Date.now();
    for (const m of sim.stepUntil(Math.min(now, S + RUN_MS - 1))) {
      const inOutage = m.building === 'b2' && m.tsMs >= S + OUTAGE.fromMs && m.tsMs < S + OUTAGE.toMs;
      if (inOutage) buffered.push(m);
      else void publish(m);
    }
    // b1's meter, once, with a valid but absurd register (issue 8: 1.7e308 killed a window).
    if (!glitchSent && now >= S + GLITCH_AT_MS) {
      glitchSent = true;
      void device.publishAsync('park/lt/b1/energy/m1', JSON.stringify({ ts: S + GLITCH_AT_MS - 500, energy_kwh: 1.7e308 }), { qos: 1 });
    }
    // b1's CO2 sensor, once, with its clock 290 s ahead.
    if (!skewSent && now >= S + 20_000) {
      skewSent = true;
      void device.publishAsync('park/lt/b1/carbon/c1', JSON.stringify({ ts: now + 290_000, co2_ppm: 650 }), { qos: 1 });
    }
    if (buffered.length > 0 && now >= S + UPLOAD_AT_MS) {
      uploadedAtMs = Date.now();
      await Promise.all(buffered.splice(0).map(publish));
    }
    await sleep(100);
  }
  // An hour of b3's readings from two days ago (its meter and CO2 sensor had no uplink then).
  const old = new ParkSimulator({ ...PARK, buildings: [PARK.buildings[2]] }, { seed: 12, startMs: S - DAYS_AGO_MS });
  const oldMessages = old.stepUntil(S - DAYS_AGO_MS + HOUR_MS);
  for (let i = 0; i < oldMessages.length; i += 200) await Promise.all(oldMessages.slice(i, i + 200).map(publish));
});

afterAll(async () => {
  live?.terminate();
  await device?.endAsync();
  expect(await gw?.stop()).toBe(0);
});

describe('store and forward: an edge box uploads 20 s it buffered (contract §8, late readings)', () => {
  const from = () => S + WINDOW_MS;
  const to = () => S + UPLOAD_AT_MS - WINDOW_MS;

  test('within 60 s of the upload its windows are derived again, by themselves, and equal a recompute', async () => {
    // b2 was silent live from 10 s to 30 s: its energy in those windows was 0 (or a linear spread at best).
    await waitFor(
      async () => {
        const rows = await storedVitals(S + 15_000, S + 25_000);
        const b2 = rows.filter((r) => r.building === 'b2');
        return b2.length === 2 && b2.every((r) => (r.online_ratio as number) === 1) && alarms().some((a) => a.late);
      },
      { what: 'b2’s buffered windows derived again, with its sensors online and the late demand alarm', timeoutMs: 60_000, intervalMs: 250 },
    );
    const firstLate = received.find((r) => r.msg.type === 'alarm' && r.msg.alarm.late);
    console.log(`upload → windows derived again and the late alarm pushed: ${(firstLate?.atMs ?? NaN) - uploadedAtMs} ms`);
    expect(await metric(gw.httpUrl, 'gateway_readings_late_total')).toBeGreaterThan(0);
    expect(await expectRecomputeChangesNothing(from(), to())).toBeGreaterThan(0);
  });

  test('the demand alarm they hold is written and pushed with its window time and late: true; the live offline alarm stays', async () => {
    const b2 = alarms().filter((a) => a.building === 'b2');
    const lateDemand = b2.filter((a) => a.rule === 'demand' && a.late);
    // The overload (12 s to 24 s) reached the critical level: raised and cleared, late, at window ends.
    const critical = lateDemand.filter((a) => a.severity === 'critical');
    expect(critical.map(brief)).toEqual(['raised critical b2/demand late', 'cleared critical b2/demand late']);
    expect(critical[0].tsMs).toBeGreaterThan(S + 12_000);
    expect(critical[0].tsMs).toBeLessThanOrEqual(S + 20_000);
    expect(critical[1].tsMs).toBeGreaterThan(S + 24_000);
    for (const a of lateDemand) expect((a.tsMs - S) % WINDOW_MS).toBe(0);
    // Each late episode is whole (a raise, then its clear), and shares no window with a live one of its severity (episodes hold over [raise, clear)).
    const live = b2.filter((a) => a.rule === 'demand' && !a.late);
    for (const sev of ['warn', 'critical'] as const) {
      const times = lateDemand.filter((a) => a.severity === sev);
      expect(times.map((a) => a.state)).toEqual(times.length ? ['raised', 'cleared'] : []);
      const liveRaised = live.filter((a) => a.severity === sev && a.state === 'raised');
      for (const l of liveRaised) if (times.length) expect(l.tsMs >= times[1].tsMs || l.tsMs < times[0].tsMs).toBe(true);
    }
    // Facts of the moment: live saw b2 go offline and come back.
    expect(b2.filter((a) => a.rule === 'offline' && !a.late && a.tsMs > S + WINDOW_MS).map((a) => a.state)).toEqual(['raised', 'cleared']);
    const stored = rowsOf(await q(`SELECT * FROM alarms WHERE park = 'lt' AND building = 'b2' AND rule = 'demand' AND late = true`));
    expect(stored.map((r) => `${r.state} ${r.severity} @${r.time}`).sort()).toEqual(lateDemand.map((a) => `${a.state} ${a.severity} @${a.tsMs}`).sort());
  });

  test('no offline alarm when the gateway started before the devices', () => {
    expect(alarms().filter((a) => a.rule === 'offline' && a.tsMs <= S + WINDOW_MS)).toEqual([]);
  });

  test('live windows kept closing during the upload', () => {
    const lags = received
      .filter((r) => r.msg.type === 'vitals' && (r.msg as { window: { endMs: number } }).window.endMs > S + UPLOAD_AT_MS)
      .map((r) => r.atMs - (r.msg as { window: { endMs: number } }).window.endMs);
    console.log(`window end → live vitals after the upload: p50 ${pct(lags, 50)} ms, max ${Math.max(...lags)} ms (lateness ${LATENESS_MS} ms)`);
    expect(lags.length).toBeGreaterThanOrEqual(2);
  });
});

describe('days old: an hour from two days ago (contract §8, up to the 7-day horizon)', () => {
  test('its windows, never derived live, are derived and equal a recompute', async () => {
    const from = S - DAYS_AGO_MS;
    const to = from + HOUR_MS - 10 * WINDOW_MS;
    await waitFor(async () => rowsOf(await q(`SELECT count(energy_kwh) FROM vitals WHERE park = 'lt' AND scope = 'park' AND time >= ${from}ms AND time < ${to}ms`))[0]?.count === (to - from) / WINDOW_MS, {
      what: 'the old windows derived',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    expect(await expectRecomputeChangesNothing(from, to)).toBeGreaterThan(0);
  });
});

describe('a register glitch: energy_kwh = 1.7e308 (contract §8, register plausibility; issue 8)', () => {
  test('counts 0: counted, listed, and every stored vitals field stays finite', async () => {
    expect(await metric(gw.httpUrl, 'gateway_readings_implausible_total')).toBe(2); // into the glitch, and out of it
    const health = await getJson<{ implausibleSensors: Array<Record<string, unknown>> }>(`${gw.httpUrl}/api/health`);
    expect(health.body.implausibleSensors).toEqual([expect.objectContaining({ park: 'lt', building: 'b1', sensor: 'm1', field: 'energy_kwh', steps: 2 })]);
    const rows = await storedVitals(S - 60_000, S + RUN_MS + 60_000);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && k !== 'time') expect({ k, finite: Number.isFinite(v) && Math.abs(v) < 1e12 }).toEqual({ k, finite: true });
    }
    // b1's load around the glitch stays what its meter says (two seconds of the window count 0).
    const around = rows.filter((r) => r.building === 'b1' && (r.time as number) === S + GLITCH_AT_MS - WINDOW_MS);
    expect(around[0].load_kw as number).toBeLessThan(PARK.buildings[0].contractedKw);
  });
});

describe('a device clock 290 s ahead (contract §8, time)', () => {
  test('is counted and listed, and made no live reading late', async () => {
    expect(await metric(gw.httpUrl, 'gateway_readings_clock_skew_total')).toBe(1);
    const health = await getJson<{ skewedSensors: Array<{ sensor: string; maxAheadMs: number }> }>(`${gw.httpUrl}/api/health`);
    expect(health.body.skewedSensors).toEqual([expect.objectContaining({ park: 'lt', building: 'b1', sensor: 'c1', readings: 1 })]);
    expect(health.body.skewedSensors[0].maxAheadMs).toBeGreaterThan(280_000);
    // Late readings: only b2's buffered ones and the two-days-old hour.
    const late = await metric(gw.httpUrl, 'gateway_readings_late_total');
    const buffered = rowsOf(await q(`SELECT count(*) FROM energy, carbon, occupancy WHERE park = 'lt' AND building = 'b2' AND time >= ${S + OUTAGE.fromMs}ms AND time < ${S + OUTAGE.toMs}ms`));
    const old = rowsOf(await q(`SELECT count(*) FROM energy, carbon WHERE park = 'lt' AND time < ${S - DAYS_AGO_MS + 2 * HOUR_MS}ms`));
    const count = (rows: Array<Record<string, unknown>>) => rows.reduce((n, r) => n + Math.max(...Object.entries(r).filter(([k]) => k.startsWith('count_')).map(([, v]) => Number(v ?? 0))), 0);
    expect(late).toBeLessThanOrEqual(count(buffered) + count(old));
  });
});
