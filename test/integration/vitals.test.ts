/**
 * Vital signs against ground truth (contract §5–§7), with the real gateway,
 * its embedded broker and InfluxDB 1.6, on the demo park and the contract's
 * one-minute windows:
 *
 * - the simulator backfills 40 minutes that ended 3 minutes ago (seeded, no
 *   faults) through the broker; those readings are older than the live
 *   windows (late for the live engine), stored, and their windows derived
 *   from storage by the gateway itself (contract §8);
 * - `npm run recompute` over that range derives the same `vitals` points
 *   from the stored readings; their energy, PV and carbon per building and
 *   minute match the simulator's ground truth within 0.1 %;
 * - the history API answers the stored windows and their 15m/1h/1d roll-ups,
 *   and the KPIs of the day.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MqttClient } from 'mqtt';
import { ParkSimulator, SimMessage, TruthWindow } from '@park/park-sim';
import { ParkModel } from '@park/telemetry';
import { processes } from '../support/deploy';
import { Gateway, startGateway } from '../support/gateway';
import { connectDevice, getJson, metric } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';
import { runRecompute } from '../support/commands';

jest.setTimeout(120_000);

const MIN = 60_000;
const DEMO: ParkModel = JSON.parse(fs.readFileSync(path.join(processes.repoRoot, 'apps/gateway/parks/demo.park.json'), 'utf8'));
/** Backfill [T0, T1): 40 simulated minutes that ended 3 minutes ago, minute-aligned. */
const T1 = Math.floor(Date.now() / MIN) * MIN - 3 * MIN;
const T0 = T1 - 40 * MIN;
const SEED = 20261127;
/** Relative tolerance against the ground truth (the 0.1 %). */
const TOLERANCE = 0.001;

let gw: Gateway;
let device: MqttClient;
let sim: ParkSimulator;
let sent: SimMessage[];
/**
 * A database of this file's own. The harness's default name (`gw_<pid>_<n>`)
 * counts per module registry, and jest gives each test file a fresh one: two
 * files run by the same worker would share `gw_<pid>_1`.
 */
const ownDb = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}`;
const q = (influxql: string) => influxQuery(sharedInfluxUrl(), gw.env.INFLUX_DB, influxql);
const iso = (ms: number) => new Date(ms).toISOString();

const recompute = (args: string[]) => runRecompute(args, gw.env);

/** Publishes the simulator's messages as arrays of up to 100 readings per sensor (contract §3), QoS 1. */
async function publishBatched(client: MqttClient, messages: SimMessage[]): Promise<number> {
  const byTopic = new Map<string, string[]>();
  for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.payload]);
  const publishes: Array<Promise<unknown>> = [];
  for (const [topic, payloads] of byTopic) {
    for (let i = 0; i < payloads.length; i += 100) publishes.push(client.publishAsync(topic, `[${payloads.slice(i, i + 100).join(',')}]`, { qos: 1 }));
  }
  await Promise.all(publishes);
  return publishes.length;
}

beforeAll(async () => {
  gw = await startGateway({ name: 'vitals-truth', env: { INFLUX_DB: ownDb('vitals_truth') } });
  device = await connectDevice(gw.mqttUrl, { clientId: 'sim-backfill' });
  sim = new ParkSimulator(DEMO, { seed: SEED, startMs: T0 });
  sent = sim.stepUntil(T1 - 1);
  expect(sent.every((m) => m.kind === 'reading')).toBe(true);
  await publishBatched(device, sent);
  // Every reading stored before anything is derived from them.
  const expected = { energy: 0, carbon: 0, occupancy: 0 };
  for (const m of sent) expected[m.sensorKind]++;
  await waitFor(async () => {
    const [e] = rowsOf(await q(`SELECT count("energy_kwh") FROM energy WHERE park = 'demo'`));
    const [c] = rowsOf(await q(`SELECT count("co2_ppm") AS co2, count("emission_kgco2e") AS em FROM carbon WHERE park = 'demo'`));
    const [o] = rowsOf(await q(`SELECT count("count") FROM occupancy WHERE park = 'demo'`));
    const got = { energy: e?.count, carbon: Number(c?.co2 ?? 0) + Number(c?.em ?? 0), occupancy: o?.count };
    // A throw is "not yet" for waitFor, and its message says how far it got.
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`stored ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    return true;
  }, { what: `${sent.length} backfilled readings in InfluxDB`, timeoutMs: 60_000, intervalMs: 250 });
});

afterAll(async () => {
  await device?.endAsync();
  expect(await gw?.stop()).toBe(0);
});

describe('backfill and recompute against the simulator’s ground truth (contract §6)', () => {
  let truth: TruthWindow[];
  let stored: Array<Record<string, unknown>>;

  beforeAll(() => {
    truth = sim.truth().filter((w) => Date.parse(w.windowStart) >= T0 && Date.parse(w.windowStart) < T1);
  });

  test('the backfilled readings are late for the live engine: stored, and their windows derived from storage by the gateway itself (contract §8)', async () => {
    expect(await metric(gw.httpUrl, 'gateway_readings_late_total')).toBe(sent.length);
    await waitFor(async () => rowsOf(await q(`SELECT count("energy_kwh") FROM vitals WHERE time >= ${T0}ms AND time < ${T1}ms`))[0]?.count === 40 * (DEMO.buildings.length + 1), {
      what: 'the backfilled windows derived by the gateway',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  test('recompute --dry-run derives the windows and writes nothing', async () => {
    const select = `SELECT * FROM vitals WHERE time >= ${T0}ms AND time < ${T1}ms GROUP BY scope, building`;
    const before = rowsOf(await q(select));
    const res = await recompute(['--from', iso(T0), '--to', iso(T1), '--dry-run']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout.trim())).toEqual({ park: 'demo', from: iso(T0), to: iso(T1), windows: 40, readings: sent.length, written: false });
    expect(rowsOf(await q(select))).toEqual(before);
  });

  test('recompute writes one vitals point per building and one for the park per minute', async () => {
    const res = await recompute(['--from', iso(T0), '--to', iso(T1), '--park', 'demo']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout.trim())).toMatchObject({ park: 'demo', windows: 40, written: true });
    stored = rowsOf(await q(`SELECT * FROM vitals WHERE time >= ${T0}ms AND time < ${T1}ms`));
    expect(stored.filter((r) => r.scope === 'building')).toHaveLength(40 * DEMO.buildings.length);
    expect(stored.filter((r) => r.scope === 'park')).toHaveLength(40);
    expect(new Set(stored.map((r) => r.window))).toEqual(new Set(['1m']));
    expect(stored.filter((r) => r.scope === 'park').every((r) => r.building === null)).toBe(true);
  });

  test('energy_kwh per building and minute equals the ground truth within 0.1 %', () => {
    const byKey = new Map(stored.filter((r) => r.scope === 'building').map((r) => [`${r.building}@${r.time}`, r]));
    let compared = 0;
    let worst = 0;
    for (const w of truth) {
      const row = byKey.get(`${w.building}@${Date.parse(w.windowStart)}`);
      expect(row).toBeDefined();
      // Windows with meaningful energy: every building of the demo park draws tens of kWh a minute.
      if (w.energy_kwh < 0.1) continue;
      const rel = Math.abs((row!.energy_kwh as number) - w.energy_kwh) / w.energy_kwh;
      worst = Math.max(worst, rel);
      expect(rel).toBeLessThanOrEqual(TOLERANCE);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(0.9 * 40 * DEMO.buildings.length);
    console.log(`energy_kwh vs ground truth: ${compared} building-minutes compared, worst relative error ${worst.toExponential(2)}`);
  });

  test('pv_kwh and carbon_kgco2e (grid factor × energy + direct-emission registers) match the ground truth too', () => {
    const byKey = new Map(stored.filter((r) => r.scope === 'building').map((r) => [`${r.building}@${r.time}`, r]));
    const factor = DEMO.gridEmissionFactorKgPerKwh ?? 0.42;
    let carbonCompared = 0;
    for (const w of truth) {
      const row = byKey.get(`${w.building}@${Date.parse(w.windowStart)}`)!;
      // PV is compared when the sun shines on the backfilled period (daytime at the park).
      if (w.pv_kwh >= 0.01) expect(Math.abs((row.pv_kwh as number) - w.pv_kwh)).toBeLessThanOrEqual(TOLERANCE * w.pv_kwh);
      else expect(row.pv_kwh as number).toBeLessThan(0.01 + TOLERANCE);
      const carbon = w.energy_kwh * factor + w.emission_kgco2e;
      if (carbon < 0.1) continue;
      expect(Math.abs((row.carbon_kgco2e as number) - carbon)).toBeLessThanOrEqual(TOLERANCE * carbon);
      carbonCompared++;
    }
    expect(carbonCompared).toBeGreaterThanOrEqual(0.9 * 40 * DEMO.buildings.length);
  });

  test('per-building totals over the range equal the simulator’s', () => {
    const totals = new Map<string, number>();
    for (const r of stored.filter((x) => x.scope === 'building')) totals.set(r.building as string, (totals.get(r.building as string) ?? 0) + (r.energy_kwh as number));
    for (const b of DEMO.buildings) {
      const expected = truth.filter((w) => w.building === b.id).reduce((a, w) => a + w.energy_kwh, 0);
      expect(Math.abs(totals.get(b.id)! - expected)).toBeLessThanOrEqual(TOLERANCE * expected);
    }
  });

  test('the park scope is the sum of its buildings; load is energy per window hour', () => {
    const park = stored.filter((r) => r.scope === 'park');
    for (const p of park) {
      const buildings = stored.filter((r) => r.scope === 'building' && r.time === p.time);
      const sum = buildings.reduce((a, r) => a + (r.energy_kwh as number), 0);
      expect(p.energy_kwh as number).toBeCloseTo(sum, 6);
      expect(p.load_kw as number).toBeCloseTo((p.energy_kwh as number) * 60, 6);
      expect(p.online_ratio).toBe(1);
    }
  });

  test('recompute again gives the same points (it overwrites, it does not add)', async () => {
    const res = await recompute(['--from', iso(T0), '--to', iso(T1)]);
    expect(res.code).toBe(0);
    const again = rowsOf(await q(`SELECT * FROM vitals WHERE time >= ${T0}ms AND time < ${T1}ms`));
    expect(again).toEqual(stored);
  });

  test('bad recompute arguments stop it with a message', async () => {
    const res = await recompute(['--from', 'yesterday-ish']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/"yesterday-ish" is not a time/);
  });
});

describe('history API on the stored windows (contract §7)', () => {
  type Point = { t: string; value: number | string };
  const history = async (params: Record<string, string>) => {
    const res = await getJson<Point[]>(`${gw.httpUrl}/api/parks/demo/history?${new URLSearchParams(params)}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const range = { from: iso(T0), to: iso(T1) };
  /** The 1m points whose time falls in the bucket [t, t + everyMs). */
  const inBucket = (points: Point[], t: string, everyMs: number) => points.filter((p) => Date.parse(p.t) >= Date.parse(t) && Date.parse(p.t) < Date.parse(t) + everyMs);

  test('every=1m answers the stored windows', async () => {
    const points = await history({ metric: 'energy_kwh', building: 'b01', ...range, every: '1m' });
    const stored = rowsOf(await q(`SELECT energy_kwh FROM vitals WHERE building = 'b01' AND time >= ${T0}ms AND time < ${T1}ms`));
    expect(points).toEqual(stored.map((r) => ({ t: iso(r.time as number), value: r.energy_kwh })));
    expect(points).toHaveLength(40);
  });

  test.each([
    ['15m', 15 * MIN],
    ['1h', 60 * MIN],
  ])('every=%s: energy sums, load averages, peak maxes the 1m windows of each bucket', async (every, everyMs) => {
    const minute = {
      energy: await history({ metric: 'energy_kwh', building: 'b06', ...range }),
      load: await history({ metric: 'load_kw', building: 'b06', ...range }),
      peak: await history({ metric: 'peak_kw', building: 'b06', ...range }),
    };
    const rolled = {
      energy: await history({ metric: 'energy_kwh', building: 'b06', ...range, every }),
      load: await history({ metric: 'load_kw', building: 'b06', ...range, every }),
      peak: await history({ metric: 'peak_kw', building: 'b06', ...range, every }),
    };
    expect(rolled.energy.length).toBeGreaterThanOrEqual(Math.floor((40 * MIN) / everyMs));
    for (const p of rolled.energy) {
      expect(Date.parse(p.t) % everyMs).toBe(0);
      const values = inBucket(minute.energy, p.t, everyMs).map((x) => x.value as number);
      expect(values.length).toBeGreaterThan(0);
      expect(p.value as number).toBeCloseTo(values.reduce((a, b) => a + b, 0), 6);
    }
    expect(rolled.energy.reduce((a, p) => a + (p.value as number), 0)).toBeCloseTo(minute.energy.reduce((a, p) => a + (p.value as number), 0), 6);
    for (const p of rolled.load) {
      const values = inBucket(minute.load, p.t, everyMs).map((x) => x.value as number);
      expect(p.value as number).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
    }
    for (const p of rolled.peak) expect(p.value).toBe(Math.max(...inBucket(minute.peak, p.t, everyMs).map((x) => x.value as number)));
  });

  test('every=1h: renewable_share is recomputed from summed energies; status is the worst', async () => {
    const energy = await history({ metric: 'energy_kwh', building: 'b02', ...range });
    const pv = await history({ metric: 'pv_kwh', building: 'b02', ...range });
    const share = await history({ metric: 'renewable_share', building: 'b02', ...range, every: '1h' });
    for (const p of share) {
      const e = inBucket(energy, p.t, 60 * MIN).reduce((a, x) => a + (x.value as number), 0);
      const s = inBucket(pv, p.t, 60 * MIN).reduce((a, x) => a + (x.value as number), 0);
      expect(p.value as number).toBeCloseTo(s / (e + s), 9);
    }
    const status = await history({ metric: 'status', ...range, every: '1h' });
    const minuteStatus = await history({ metric: 'status', ...range });
    const rank = { ok: 0, warn: 1, critical: 2 } as Record<string, number>;
    for (const p of status) {
      const worst = inBucket(minuteStatus, p.t, 60 * MIN).reduce((w, x) => (rank[x.value as string] > rank[w] ? (x.value as string) : w), 'ok');
      expect(p.value).toBe(worst);
    }
    expect(status.length).toBeGreaterThan(0);
  });

  test('every=1d: buckets start at the park’s local midnight (16:00 UTC) and sum the day’s windows', async () => {
    const from = T0 - 2 * 86_400_000;
    const minute = await history({ metric: 'energy_kwh', from: iso(from), to: iso(T1) });
    const days = await history({ metric: 'energy_kwh', from: iso(from), to: iso(T1), every: '1d' });
    expect(days.length).toBeGreaterThan(0);
    for (const d of days) {
      expect(d.t).toMatch(/T16:00:00\.000Z$/);
      const values = inBucket(minute, d.t, 86_400_000).map((x) => x.value as number);
      expect(d.value as number).toBeCloseTo(values.reduce((a, b) => a + b, 0), 6);
    }
  });

  test('bad parameters answer 400 naming the parameter; an unknown park 404', async () => {
    for (const [params, parameter] of [
      [{ metric: 'energy_kwh', every: '5m' }, 'every'],
      [{ metric: 'nope' }, 'metric'],
      [{ metric: 'energy_kwh', building: 'b99' }, 'building'],
      [{ metric: 'energy_kwh', from: 'not-a-time' }, 'from'],
    ] as Array<[Record<string, string>, string]>) {
      const res = await getJson<{ parameter: string }>(`${gw.httpUrl}/api/parks/demo/history?${new URLSearchParams(params)}`);
      expect(res.status).toBe(400);
      expect(res.body.parameter).toBe(parameter);
    }
    expect((await getJson(`${gw.httpUrl}/api/parks/nowhere/history?metric=energy_kwh`)).status).toBe(404);
  });

  test('KPIs of the day: the expected keys, totals of the stored windows, output per km² against the target 80', async () => {
    const { status, body: k } = await getJson<Record<string, unknown> & { from: string; to: string; output_per_km2: Record<string, unknown> }>(`${gw.httpUrl}/api/parks/demo/kpis?period=day`);
    expect(status).toBe(200);
    expect(Object.keys(k).sort()).toEqual([
      'carbon_intensity_kg_per_m2_yr', 'carbon_kgco2e', 'carbon_per_person_kg_yr', 'energy_kwh', 'energy_per_person_kwh_yr', 'eui_kwh_per_m2_yr',
      'from', 'output_per_km2', 'peak_demand_kw', 'period', 'period_hours', 'pv_kwh', 'scope', 'to',
      ...(k.renewable_share === undefined ? [] : ['renewable_share']),
    ].sort());
    expect(k).toMatchObject({ period: 'day', scope: 'park' });
    expect(k.from).toMatch(/T16:00:00\.000Z$/);
    // 1.05e10 yuan on 1.2 km²: 87.5 × 10⁸ yuan per km².
    expect(k.output_per_km2).toEqual({ value: 87.5, target: 80, striving: 85, meets_target: true, meets_striving: true });
    const day = await history({ metric: 'energy_kwh', from: k.from, to: k.to });
    expect(k.energy_kwh as number).toBeCloseTo(day.reduce((a, p) => a + (p.value as number), 0), 6);
    const building = await getJson<Record<string, unknown>>(`${gw.httpUrl}/api/parks/demo/kpis?period=month&building=b08`);
    expect(building.body).toMatchObject({ period: 'month', scope: 'building', building: 'b08' });
    expect(building.body.output_per_km2).toBeUndefined();
    expect((await getJson<{ parameter: string }>(`${gw.httpUrl}/api/parks/demo/kpis?period=week`)).body.parameter).toBe('period');
  });
});
