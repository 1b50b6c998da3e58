/**
 * Issue 11, "restarts keep history true": the simulator run twice against
 * the real gateway (embedded broker, InfluxDB 1.6, the demo park, one-minute
 * windows), as `npm start` twice does. The second run, started with another
 * seed (another starting point for every register), continues what is
 * stored: its meters go on from their stored registers, and it sends nothing
 * for the period the first run already covered.
 *
 * Before: the second run backfilled that period again from other registers;
 * each meter's series alternated between two values ~1,400 kWh apart, every
 * step down counted as a reset worth the whole register, and the stored
 * vitals showed 109,169 GWh of energy today.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ParkModel } from '@park/telemetry';
import { runSim } from '../support/commands';
import { processes } from '../support/deploy';
import { Gateway, startGateway } from '../support/gateway';
import { metric } from '../support/mqtt';
import { influxQuery, rowsOf, sharedInfluxUrl, waitFor } from '../support/services';

jest.setTimeout(240_000);

const MIN = 60_000;
const DEMO: ParkModel = JSON.parse(fs.readFileSync(path.join(processes.repoRoot, 'apps/gateway/parks/demo.park.json'), 'utf8'));
/** First run: [T0, T1); the second is asked to start at T0 − 10 min and run to its now. */
const T1 = Math.floor(Date.now() / MIN) * MIN - 8 * MIN;
const T0 = T1 - 20 * MIN;

let gw: Gateway;
let first: { code: number | null; stdout: string; stderr: string };
let second: { code: number | null; stdout: string; stderr: string };
let secondStartedAt = 0;
let countBefore: Array<Record<string, unknown>> = [];

const q = (influxql: string) => influxQuery(sharedInfluxUrl(), gw.env.INFLUX_DB, influxql);
const countInFirstRun = async () => rowsOf(await q(`SELECT count(*) FROM energy, carbon, occupancy WHERE park = 'demo' AND time >= ${T0}ms AND time < ${T1}ms`));

beforeAll(async () => {
  gw = await startGateway({ name: 'sim-continue', env: { INFLUX_DB: `sim_continue_${process.pid}_${Date.now().toString(36)}` } });
  const env = { ...(gw.env as Record<string, string>), INFLUX_URL: sharedInfluxUrl(), INFLUX_DB: gw.env.INFLUX_DB };
  const common = ['--url', gw.mqttUrl, '--quiet', '--continue'];
  first = await runSim([...common, '--seed', '1', '--from', String(T0), '--to', String(T1)], env);
  // Everything of the first run stored (the count stops moving) before the second one asks what is stored.
  let last = '';
  await waitFor(
    async () => {
      const now = JSON.stringify(await countInFirstRun());
      const settled = now === last && now !== '[]';
      last = now;
      return settled;
    },
    { what: 'the first run stored', timeoutMs: 60_000, intervalMs: 1_500 },
  );
  countBefore = await countInFirstRun();
  secondStartedAt = Date.now();
  second = await runSim([...common, '--seed', '2', '--from', String(T0 - 10 * MIN), '--to', 'now'], env);
});

afterAll(async () => {
  await gw?.stop();
});

describe('the simulator run twice continues what is stored (issue 11)', () => {
  test('both runs end well; the second says it continues', () => {
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/demo: continuing the stored readings \(newest /);
  });

  test('the second run sent nothing for the period the first one covered', async () => {
    // The second run's readings are acknowledged once durable at the gateway (its write-ahead log), in InfluxDB a moment later.
    await waitFor(async () => (rowsOf(await q(`SELECT last(power_kw) FROM energy WHERE park = 'demo' AND time < ${secondStartedAt}ms`))[0]?.time as number) > T1 + 4 * MIN, {
      what: 'the second run’s readings after the first run’s period stored',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    expect(await countInFirstRun()).toEqual(countBefore);
  });

  test('no register ever goes backwards', async () => {
    const rows = rowsOf(await q(`SELECT energy_kwh FROM energy WHERE park = 'demo' GROUP BY building, sensor`));
    const bySensor = new Map<string, number[]>();
    for (const r of rows) bySensor.set(`${r.building}/${r.sensor}`, [...(bySensor.get(`${r.building}/${r.sensor}`) ?? []), r.energy_kwh as number]);
    expect(bySensor.size).toBeGreaterThan(20);
    const backwards: string[] = [];
    for (const [sensor, values] of bySensor) values.forEach((v, i) => i > 0 && v < values[i - 1] && backwards.push(`${sensor}: ${values[i - 1]} → ${v}`));
    expect(backwards).toEqual([]);
    const emissions = rowsOf(await q(`SELECT emission_kgco2e FROM carbon WHERE park = 'demo' AND emission_kgco2e >= 0 GROUP BY building, sensor`));
    expect(emissions.length).toBeGreaterThan(0);
  });

  test('the derived vital signs stay sane: no step counted as implausible, every window within twice the contract', async () => {
    // The backfilled windows are late for the live engine: the gateway derives them by itself (contract §8).
    const windows = (T1 - T0) / MIN;
    await waitFor(async () => Number(rowsOf(await q(`SELECT count(energy_kwh) FROM vitals WHERE scope = 'park' AND time >= ${T0}ms AND time < ${T1}ms`))[0]?.count ?? 0) === windows, {
      what: 'the first run’s windows derived',
      timeoutMs: 90_000,
      intervalMs: 1_000,
    });
    expect(await metric(gw.httpUrl, 'gateway_readings_implausible_total')).toBe(0);
    const rows = rowsOf(await q(`SELECT load_kw, energy_kwh, carbon_kgco2e FROM vitals WHERE scope = 'building' AND time >= ${T0}ms GROUP BY building`));
    expect(rows.length).toBeGreaterThan(windows * DEMO.buildings.length);
    for (const r of rows) {
      const b = DEMO.buildings.find((x) => x.id === r.building)!;
      expect(Number.isFinite(r.load_kw as number)).toBe(true);
      expect({ building: b.id, time: r.time, ok: (r.load_kw as number) <= 2 * b.contractedKw }).toEqual({ building: b.id, time: r.time, ok: true });
    }
  });
});
