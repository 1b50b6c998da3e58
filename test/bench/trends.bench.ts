/**
 * Accuracy of the trends (contract §8; docs/trends.md), measured on the
 * simulator. Not a speed benchmark: the figures do not depend on the machine.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/trends.bench.ts [--quick]
 *
 * 1. Forecast: for several start days and seeds, 14 days of simulated
 *    history (demo park, every sensor at its model interval) are derived
 *    into one-minute vitals by the gateway's engine, rolled up to quarter
 *    hours as the gateway's refit query does, and fitted; the forecast of
 *    the next day (15 min and 1 h steps) is compared with the simulator's
 *    ground truth: MAPE per building and park, coverage of the 80 % interval.
 * 2. Anomalies: a run with injected anomalies (stuck registers, base-load
 *    creep, a planned weekday peak) after 14 clean days, through the same
 *    `ParkTrendsEngine` as the gateway (refitted every `REFIT_H` hours):
 *    detection rate per anomaly and false alarms per building-day.
 *
 * `--quick` runs one short case to check that the bench works.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Alarm, coarsenSeries, fitLoadForecast, forecastLoad, intervalCoverage, mape, ParkTrendsEngine, PARK_SCOPE, QUARTER_MS, TREND_RULES } from '@park/metrics';
import { plannedPeakHours, Scenario, stuckMeterOf } from '@park/park-sim';
import { indexPark, localToUtcMs, ParkIndex, ParkModel } from '@park/telemetry';
import { HistorySimulator, QuarterLoads, QuarterTruth } from '../support/sim-history';

const DAY = 86_400_000;
const H = 3_600_000;
const REFIT_H = 6;
const quick = process.argv.includes('--quick');
const demo = indexPark(JSON.parse(fs.readFileSync(path.join(__dirname, '../../apps/gateway/parks/demo.park.json'), 'utf8')) as ParkModel);
const tz = demo.timeZone;

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

/** One forecast case: train `trainDays`, forecast the next day. */
function forecastCase(index: ParkIndex, seed: number, startMs: number, trainDays: number) {
  const loads = new QuarterLoads();
  const truth = new QuarterTruth();
  const endTrain = startMs + trainDays * DAY;
  const h = new HistorySimulator(index, { seed, fromMs: startMs, toMs: endTrain + DAY, onVitals: (v, revision) => revision || loads.addVitals(v), onTruth: (w) => truth.add(w) });
  h.advanceTo(endTrain + DAY);
  const calendar = { timeZone: index.timeZone, holidays: new Set(index.model.holidays ?? []) };
  const rows: Array<{ scope: string; mape15: number; mape1h: number; cover15: number; cover1h: number; n: number }> = [];
  for (const scope of [PARK_SCOPE, ...index.model.buildings.map((b) => b.id)]) {
    const hist = loads.series(scope, startMs, endTrain);
    const actual = truth.series(scope, endTrain, endTrain + DAY);
    const q = fitLoadForecast(hist, calendar, { stepMs: QUARTER_MS });
    const hr = fitLoadForecast(coarsenSeries(hist, H), calendar, { stepMs: H });
    if (!q.ok || !hr.ok) throw new Error(`fit failed for ${scope}`);
    const f15 = forecastLoad(q.model, endTrain, 96);
    const f1h = forecastLoad(hr.model, endTrain, 24);
    const actual1h = coarsenSeries(actual, H);
    rows.push({ scope: scope || 'park', mape15: mape(f15, actual), mape1h: mape(f1h, actual1h), cover15: intervalCoverage(f15, actual), cover1h: intervalCoverage(f1h, actual1h), n: actual.length });
  }
  return { rows, readings: h.readings };
}

function runForecasts(): void {
  // Start days: a Monday, a Wednesday and a Saturday of November 2026 (park time), two seeds.
  const cases = quick ? [{ seed: 1, start: localToUtcMs(tz, 2026, 11, 2) }] : [
    { seed: 1, start: localToUtcMs(tz, 2026, 11, 2) },
    { seed: 2, start: localToUtcMs(tz, 2026, 11, 4) },
    { seed: 3, start: localToUtcMs(tz, 2026, 11, 7) },
  ];
  const trainDays = quick ? 8 : 14;
  const all = new Map<string, Array<{ mape15: number; mape1h: number; cover15: number; cover1h: number }>>();
  for (const c of cases) {
    const started = Date.now();
    const { rows, readings } = forecastCase(demo, c.seed, c.start, trainDays);
    const fdate = new Date(c.start + trainDays * DAY + 8 * H).toISOString().slice(0, 10);
    console.log(`\nforecast case: seed ${c.seed}, ${trainDays} days from ${new Date(c.start + 8 * H).toISOString().slice(0, 10)}, forecast day ${fdate} (${readings} readings, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    console.log('scope   MAPE 15m  MAPE 1h   cover 15m  cover 1h');
    for (const r of rows) {
      console.log(`${r.scope.padEnd(6)}  ${pct(r.mape15).padStart(8)}  ${pct(r.mape1h).padStart(8)}  ${pct(r.cover15).padStart(9)}  ${pct(r.cover1h).padStart(8)}`);
      all.set(r.scope, [...(all.get(r.scope) ?? []), r]);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\nforecast summary over ${cases.length} case(s): mean per scope`);
  console.log('scope   MAPE 15m  MAPE 1h   cover 15m  cover 1h');
  for (const [scope, rs] of all) console.log(`${scope.padEnd(6)}  ${pct(mean(rs.map((r) => r.mape15))).padStart(8)}  ${pct(mean(rs.map((r) => r.mape1h))).padStart(8)}  ${pct(mean(rs.map((r) => r.cover15))).padStart(9)}  ${pct(mean(rs.map((r) => r.cover1h))).padStart(8)}`);
  const buildings = [...all.entries()].filter(([s]) => s !== 'park').flatMap(([, rs]) => rs);
  console.log(`buildings pooled: MAPE 15m ${pct(mean(buildings.map((r) => r.mape15)))}, coverage 15m ${pct(mean(buildings.map((r) => r.cover15)))}, coverage 1h ${pct(mean(buildings.map((r) => r.cover1h)))}`);
}

/** An injected anomaly and how a detection of it is recognised. */
interface Injected {
  rule: (typeof TREND_RULES)[number];
  building: string;
  /** The span in which an alarm counts as detecting it. */
  fromMs: number;
  toMs: number;
  label: string;
}

function runAnomalies(): void {
  const start = localToUtcMs(tz, 2026, 11, 2); // a Monday
  const cleanDays = 14;
  const evalDays = quick ? 3 : 8;
  const evalFrom = start + cleanDays * DAY;
  const evalTo = evalFrom + evalDays * DAY;
  const s = (ms: number) => (ms - start) / 1000;
  const scenarios: Scenario[] = [];
  const injected: Injected[] = [];
  // Stuck registers: 2 h each, at different hours (day and night) on different buildings.
  const stuckAt = quick ? [[0, 10, 'b01']] : [
    [0, 10, 'b01'], [0, 23, 'b08'], [1, 3, 'b13'], [1, 15, 'b06'], [2, 8, 'b11'], [2, 20, 'b04'],
    [3, 1, 'b09'], [3, 13, 'b02'], [4, 6, 'b12'], [4, 17, 'b10'], [5, 11, 'b03'], [6, 2, 'b05'], [6, 14, 'b07'], [7, 9, 'b08'],
  ] as Array<[number, number, string]>;
  for (const [d, hour, b] of stuckAt as Array<[number, number, string]>) {
    const from = evalFrom + d * DAY + hour * H;
    scenarios.push({ kind: 'stuck', building: b, fromS: s(from), toS: s(from + 2 * H) });
    injected.push({ rule: 'stuck_meter', building: b, fromMs: from, toMs: from + 2 * H + 15 * 60_000, label: `stuck ${b}/${stuckMeterOf(demo.buildings.get(b)!)} day ${d} ${hour}:00` });
  }
  // Base-load creep: 5 days from noon of eval day 1 on two buildings (quick: one).
  for (const b of quick ? ['b08'] : ['b08', 'b01', 'b07']) {
    const from = evalFrom + DAY + 12 * H;
    scenarios.push({ kind: 'creep', building: b, fromS: s(from), toS: s(Math.min(evalTo, from + 5 * DAY)) });
    injected.push({ rule: 'baseload', building: b, fromMs: from, toMs: Math.min(evalTo, from + 5 * DAY) + 8 * H, label: `creep ${b}` });
  }
  // A planned weekday peak, from the start (so the history holds it): each occurrence in the evaluation days is an anomaly to foresee.
  const peakBuilding = 'b06';
  scenarios.push({ kind: 'peak', building: peakBuilding, fromS: 0, toS: s(evalTo) });
  for (let t = evalFrom; t < evalTo; t += QUARTER_MS) {
    if (plannedPeakHours(t) && !plannedPeakHours(t - QUARTER_MS)) injected.push({ rule: 'demand_forecast', building: peakBuilding, fromMs: t - DAY, toMs: t, label: `planned peak ${peakBuilding} ${new Date(t).toISOString()}` });
  }

  const engine = new ParkTrendsEngine(demo, { historyDays: 28 });
  const raised: Alarm[] = [];
  const active = new Map<string, Alarm>();
  const peakCovered = new Set<number>();
  const record = (alarms: Alarm[]) => {
    for (const a of alarms) {
      const key = `${a.building}/${a.rule}`;
      if (a.state === 'raised') {
        active.set(key, a);
        if (a.tsMs >= evalFrom) raised.push(a);
      } else active.delete(key);
    }
  };
  let nextRefit = start + 8 * DAY;
  const started = Date.now();
  const h = new HistorySimulator(demo, {
    seed: 11,
    fromMs: start,
    toMs: evalTo,
    scenarios,
    stepMs: 60_000,
    onReadings: (rs) => rs.forEach((r) => engine.observeReading(r)),
    onVitals: (v, revision) => {
      if (revision) return;
      record(engine.observeVitals(v, v.window.endMs + 30_000));
      // A planned peak is foreseen when demand_forecast is active for it as it begins.
      const t = v.window.startMs;
      if (t >= evalFrom && plannedPeakHours(t) && !plannedPeakHours(t - 60_000) && active.has(`${peakBuilding}/demand_forecast`)) peakCovered.add(t);
    },
    onStep: (t) => {
      if (t >= nextRefit) {
        engine.refit(t);
        record(engine.evaluateDemandForecast(t));
        nextRefit += REFIT_H * H;
      }
    },
  });
  h.advanceTo(evalTo);

  // Detection: an alarm of the rule for the building raised inside the anomaly's span (a planned
  // peak: active at its start). False alarm: a raise matching no anomaly.
  const matched = new Set<Alarm>();
  let detected = 0;
  console.log(`\nanomaly run: ${cleanDays} clean days then ${evalDays} days with anomalies (${h.readings} readings, ${((Date.now() - started) / 1000).toFixed(0)} s), refit every ${REFIT_H} h`);
  const byRule = new Map<string, { n: number; hit: number }>();
  for (const inj of injected) {
    let hit: boolean;
    if (inj.rule === 'demand_forecast') {
      hit = peakCovered.has(inj.toMs);
      raised.filter((a) => a.rule === 'demand_forecast' && a.building === inj.building).forEach((a) => matched.add(a));
    } else {
      const hits = raised.filter((a) => a.rule === inj.rule && a.building === inj.building && a.tsMs >= inj.fromMs && a.tsMs <= inj.toMs);
      hits.forEach((a) => matched.add(a));
      hit = hits.length > 0;
      if (hit && inj.rule === 'stuck_meter') console.log(`  ${inj.label}: detected after ${Math.round((hits[0].tsMs - inj.fromMs) / 60_000)} min`);
      if (hit && inj.rule === 'baseload') console.log(`  ${inj.label}: detected after ${((hits[0].tsMs - inj.fromMs) / DAY).toFixed(1)} days: ${hits[0].message}`);
    }
    if (!hit) console.log(`  MISSED ${inj.label}`);
    if (hit) detected++;
    const r = byRule.get(inj.rule) ?? { n: 0, hit: 0 };
    r.n++;
    if (hit) r.hit++;
    byRule.set(inj.rule, r);
  }
  const falseAlarms = raised.filter((a) => !matched.has(a) && !(a.severity === 'critical' && raised.some((b) => matched.has(b) && b.building === a.building && b.rule === a.rule && Math.abs(b.tsMs - a.tsMs) < 60_000)));
  // An escalation (warn → critical) of a detected anomaly is the same alarm, not a false one.
  const buildingDays = demo.model.buildings.length * evalDays;
  for (const [rule, r] of byRule) console.log(`${rule.padEnd(16)} detected ${r.hit}/${r.n} (${pct(r.hit / r.n)})`);
  console.log(`all anomalies    detected ${detected}/${injected.length} (${pct(detected / injected.length)})`);
  console.log(`false alarms     ${falseAlarms.length} in ${buildingDays} building-days = ${(falseAlarms.length / buildingDays).toFixed(3)} per building-day`);
  for (const a of falseAlarms) console.log(`  false: ${new Date(a.tsMs).toISOString()} ${a.building} ${a.rule} ${a.severity}: ${a.message}`);
}

console.log(`trends accuracy bench (${quick ? 'quick' : 'full'}), node ${process.version}`);
runForecasts();
runAnomalies();
