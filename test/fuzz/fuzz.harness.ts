/**
 * The fuzz harness of issue 8 ("no input crashes it, and none poisons
 * derived data"): seeded cases from fuzz.arbitraries.ts, run against the
 * pure functions in this process and against a real gateway process over
 * MQTT, MQTT over WebSocket, the live stream and HTTP; then the verdict:
 * the gateway still up, no fatal/uncaught line in its log, no unhandled
 * rejection, no 5xx, no dead-lettered point, and every numeric field of
 * every stored point finite and within the contract's ranges.
 *
 * Cases are made in chunks, each from its own seed derived from the run's
 * seed, so any case can be replayed alone (`--replay <category>:<chunk
 * seed>:<index> --now <ms>`); the whole run is replayed by its seed.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import fc from 'fast-check';
import { DEFAULT_PAYLOAD_LIMITS, excerptOf, indexPark, ParkModel, SensorAddress, SensorKind } from '@park/telemetry';
import { MessageProcessor } from '../../apps/gateway/src/ingest/message.processor';
import { Gateway } from '../support/gateway';
import { getJson, metric } from '../support/mqtt';
import { influxQuery, rowsOf } from '../support/services';
import { httpCaseArb, mqttScriptArb, numberText, ParkShape, parkModelArb, payloadArb, topicArb, wsCaseArb } from './fuzz.arbitraries';
import { checkEncodeLine, checkParkModel, checkPayload, checkProcessor, checkTopic, runHttp, runMqtt, runWs } from './fuzz.targets';

export const CATEGORIES = ['pure', 'mqtt', 'http', 'ws'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The gateway the harness fuzzes: device auth on (the default), operator auth off so that every route is reached, short vitals windows so fuzzed readings are derived from at once. */
export const FUZZ_GATEWAY_ENV = {
  MQTT_AUTH: 'required',
  API_AUTH: 'off',
  METRICS_AUTH: 'off',
  VITALS_WINDOW_MS: '5000',
  VITALS_LATENESS_MS: '1000',
  // Windows close from the first second (no start hold, contract §8): a
  // slice of a few seconds must still derive vitals from what it stored.
  VITALS_START_HOLD_MS: '0',
  LOG_LEVEL: 'info',
};

/** Share of the cases per category: the pure functions are cheap, so most cases are theirs. */
export const DEFAULT_MIX: Record<Category, number> = { pure: 0.9, mqtt: 0.06, http: 0.025, ws: 0.015 };

const CHUNK: Record<Category, number> = { pure: 1000, mqtt: 200, http: 100, ws: 100 };
/** How the network cases in flight are shared out (MQTT cases mostly wait for the broker's answer). */
const SHARE: Record<Exclude<Category, 'pure'>, number> = { mqtt: 0.6, http: 0.15, ws: 0.25 };

/** The device the harness logs in as (its credential allows park/<demo>/#). */
export interface FuzzDevice {
  username: string;
  password: string;
}

export interface FuzzTarget {
  gateway: Gateway;
  influxUrl: string;
  device: FuzzDevice;
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** The clock the cases are made around (readings' timestamps); default now. */
  nowMs?: number;
  mix?: Record<Category, number>;
  /** Network cases in flight at once (default 48). */
  concurrency?: number;
  progress?: (line: string) => void;
}

/** Something the harness found: enough to replay it. */
export interface Finding {
  category: Category | 'gateway' | 'store';
  what: string;
  replay?: string;
  input?: string;
}

export interface FuzzReport {
  seed: number;
  nowMs: number;
  cases: Record<Category, number>;
  totalCases: number;
  /** MQTT packets sent (TCP and WebSocket). */
  packets: number;
  httpStatuses: Record<string, number>;
  durationMs: Record<Category, number> & { total: number };
  casesPerS: number;
  findings: Finding[];
  /** Unhandled rejections in this process while the network cases ran. */
  harnessUnhandled: number;
  /** Stored points checked, per measurement: count, and fields out of range. */
  stored: Record<string, { points: number; fields: Record<string, { min: number; max: number }> }>;
  gatewayUp: boolean;
}

/** The park the gateway serves in the harness (the bundled demo). */
export function demoPark(repoRoot: string): { model: ParkModel; shape: ParkShape } {
  const model = JSON.parse(fs.readFileSync(path.join(repoRoot, 'apps/gateway/parks/demo.park.json'), 'utf8')) as ParkModel;
  return { model, shape: { id: model.id, sensors: model.buildings.flatMap((b) => b.sensors.map((s) => ({ building: b.id, kind: s.kind, id: s.id }))) } };
}

/** A chunk's own seed, from the run's seed. */
export function chunkSeed(seed: number, category: Category, chunk: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + Math.imul(CATEGORIES.indexOf(category) + 1, 1_000_003) + Math.imul(chunk + 1, 7919)) >>> 0;
}

type PureCase =
  | { kind: 'payload'; payload: Buffer; address: SensorAddress }
  | { kind: 'processor'; topic: string; payload: Buffer }
  | { kind: 'topic'; topic: string }
  | { kind: 'line'; measurement: string; tags: Record<string, string>; fields: Record<string, number>; tsMs: number }
  | { kind: 'park'; text: string };

function pureArb(shape: ParkShape, model: ParkModel, nowMs: number): fc.Arbitrary<PureCase> {
  const address = fc.constantFrom(...shape.sensors).map((s) => ({ park: shape.id, building: s.building, kind: s.kind as SensorKind, sensor: s.id }));
  const num = numberText.map((t) => JSON.parse(t) as number);
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('payload' as const), payload: payloadArb(nowMs), address }) },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('processor' as const), topic: topicArb(shape), payload: payloadArb(nowMs) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('topic' as const), topic: topicArb(shape) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('line' as const),
        measurement: fc.constantFrom('vitals', 'alarms', 'energy', 'a b,c'),
        tags: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
        fields: fc.dictionary(fc.constantFrom('energy_kwh', 'load_kw', 'peak_kw', 'renewable_share', 'x y', ''), fc.oneof(num, fc.constantFrom(NaN, Infinity, -Infinity, 1.7e308 * 60)), { maxKeys: 5 }),
        tsMs: fc.integer({ min: 0, max: 2 ** 42 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('park' as const), text: parkModelArb(model) }) },
  );
}

function runPure(c: PureCase, processor: MessageProcessor, nowMs: number): string | undefined {
  try {
    switch (c.kind) {
      case 'payload':
        return checkPayload(c.payload, c.address, nowMs);
      case 'processor':
        return checkProcessor(processor, c.topic, c.payload, nowMs);
      case 'topic':
        return checkTopic(c.topic);
      case 'line':
        return checkEncodeLine(c.measurement, c.tags, c.fields, c.tsMs);
      case 'park':
        return checkParkModel(c.text);
    }
  } catch (e) {
    return `threw ${(e as Error).name}: ${excerptOf((e as Error).message)}`;
  }
}

/** A case as text for a report (bytes as a short excerpt). */
function describeCase(c: unknown): string {
  return excerptOf(
    JSON.stringify(c, (_k, v: unknown) => {
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') return excerptOf(Buffer.from((v as { data: number[] }).data), 120);
      return v;
    }),
    400,
  );
}

/** Runs `n` tasks with at most `concurrency` at once. */
async function pool<T>(items: T[], concurrency: number, run: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await run(items[i], i);
      }
    }),
  );
}

/**
 * Runs a fuzz campaign against `target`. Resolves with the report; never
 * rejects for what the gateway does (that is a finding).
 */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions, repoRoot: string): Promise<FuzzReport> {
  const nowMs = options.nowMs ?? Date.now();
  const mix = options.mix ?? DEFAULT_MIX;
  const say = options.progress ?? (() => undefined);
  const { model, shape } = demoPark(repoRoot);
  const processor = new MessageProcessor([indexPark(model)], DEFAULT_PAYLOAD_LIMITS);
  const totalWeight = CATEGORIES.reduce((s, c) => s + mix[c], 0);
  const planned = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round((options.cases * mix[c]) / totalWeight)])) as Record<Category, number>;
  const report: FuzzReport = {
    seed: options.seed,
    nowMs,
    cases: { pure: 0, mqtt: 0, http: 0, ws: 0 },
    totalCases: 0,
    packets: 0,
    httpStatuses: {},
    durationMs: { pure: 0, mqtt: 0, http: 0, ws: 0, total: 0 },
    casesPerS: 0,
    findings: [],
    harnessUnhandled: 0,
    stored: {},
    gatewayUp: true,
  };
  const started = performance.now();
  // Only what the gateway logs from now on is judged (its log may hold earlier runs).
  const logFrom = fs.existsSync(target.gateway.logFile) ? fs.statSync(target.gateway.logFile).size : 0;
  const find = (f: Finding) => {
    if (report.findings.length < 200) report.findings.push(f);
  };

  // 1. The pure functions, in this process.
  {
    const t0 = performance.now();
    const arb = pureArb(shape, model, nowMs);
    for (let k = 0; report.cases.pure < planned.pure; k++) {
      const seed = chunkSeed(options.seed, 'pure', k);
      const n = Math.min(CHUNK.pure, planned.pure - report.cases.pure);
      fc.sample(arb, { seed, numRuns: n }).forEach((c, i) => {
        const problem = runPure(c, processor, nowMs);
        if (problem) find({ category: 'pure', what: `${c.kind}: ${problem}`, replay: `pure:${seed}:${i}`, input: describeCase(c) });
      });
      report.cases.pure += n;
      if (k % 50 === 49) say(`pure: ${report.cases.pure} cases, ${Math.round(report.cases.pure / ((performance.now() - t0) / 1000))}/s`);
    }
    report.durationMs.pure = performance.now() - t0;
  }

  // 2. The real gateway: MQTT, HTTP and WebSocket cases side by side.
  const onUnhandled = () => report.harnessUnhandled++;
  process.on('unhandledRejection', onUnhandled);
  const httpPort = Number(new URL(target.gateway.httpUrl).port);
  const mqttPort = Number(target.gateway.env.MQTT_PORT);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let caseNo = 0;
  const network = async (category: Exclude<Category, 'pure'>) => {
    const t0 = performance.now();
    const arb: fc.Arbitrary<unknown> = category === 'mqtt' ? mqttScriptArb(shape, nowMs, target.device) : category === 'http' ? httpCaseArb(shape) : wsCaseArb(shape, nowMs, target.device);
    for (let k = 0; report.cases[category] < planned[category] && target.gateway.running; k++) {
      const seed = chunkSeed(options.seed, category, k);
      const n = Math.min(CHUNK[category], planned[category] - report.cases[category]);
      const cases = fc.sample(arb, { seed, numRuns: n });
      await pool(cases, Math.max(1, Math.round((options.concurrency ?? 48) * SHARE[category])), async (c, i) => {
        const no = caseNo++;
        if (category === 'mqtt') {
          const sent = await runMqtt(mqttPort, c as never, target.device, no);
          report.packets += sent;
        } else if (category === 'ws') {
          const sent = await runWs(httpPort, c as never, target.device, no);
          report.packets += sent;
        } else {
          const outcome = await runHttp(httpPort, c as never, agent);
          const key = String(outcome.status ?? 'none');
          report.httpStatuses[key] = (report.httpStatuses[key] ?? 0) + 1;
          if (outcome.serverError) find({ category, what: outcome.serverError, replay: `http:${seed}:${i}`, input: describeCase(c) });
        }
      });
      report.cases[category] += n;
      if (!target.gateway.running) find({ category: 'gateway', what: `the gateway exited during ${category} chunk ${k}`, replay: `${category}:${seed}:*`, input: describeCase(cases.slice(0, 3)) });
      if (k % 20 === 19) say(`${category}: ${report.cases[category]} cases, ${Math.round(report.cases[category] / ((performance.now() - t0) / 1000))}/s`);
    }
    report.durationMs[category] = performance.now() - t0;
  };
  await Promise.all([network('mqtt'), network('http'), network('ws')]);
  agent.destroy();
  process.off('unhandledRejection', onUnhandled);

  report.totalCases = CATEGORIES.reduce((s, c) => s + report.cases[c], 0);
  report.durationMs.total = performance.now() - started;
  report.casesPerS = Math.round(report.totalCases / (report.durationMs.total / 1000));

  // 3. The verdict: the gateway, its log, what it stored.
  await verdict(target, report, find, logFrom);
  return report;
}

/** Checks after the run: up, clean log, nothing dead-lettered, every stored number finite and in range. */
async function verdict(target: FuzzTarget, report: FuzzReport, find: (f: Finding) => void, logFrom: number): Promise<void> {
  const gw = target.gateway;
  report.gatewayUp = gw.running && (await getJson(`${gw.httpUrl}/api/health`).then((r) => r.status === 200 || r.status === 503, () => false));
  if (!report.gatewayUp) find({ category: 'gateway', what: 'the gateway is not running or not answering /api/health after the run' });
  const log = fs.readFileSync(gw.logFile).subarray(logFrom).toString('utf8');
  for (const line of log.split('\n')) {
    if (/"level":60|uncaughtException|unhandledRejection|Maximum call stack|a bus subscriber failed/.test(line)) find({ category: 'gateway', what: `log: ${excerptOf(line, 400)}` });
  }
  if (!report.gatewayUp) return;
  // Everything accepted reaches InfluxDB first.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && (await metric(gw.httpUrl, 'gateway_write_backlog_lines').catch(() => 0)) > 0) await new Promise((r) => setTimeout(r, 250));
  const deadLettered = await metric(gw.httpUrl, 'gateway_points_dead_lettered_total');
  if (deadLettered > 0) find({ category: 'store', what: `${deadLettered} points refused by InfluxDB (dead-lettered): see the gateway log` });
  const db = gw.env.INFLUX_DB;
  const measurements = rowsOf(await influxQuery(target.influxUrl, db, 'SHOW MEASUREMENTS')).map((r) => String(r.name));
  for (const m of measurements) {
    const count = rowsOf(await influxQuery(target.influxUrl, db, `SELECT count(*) FROM "${m}"`))[0] ?? {};
    const extremes = rowsOf(await influxQuery(target.influxUrl, db, `SELECT max(*), min(*) FROM "${m}"`))[0] ?? {};
    const points = Math.max(0, ...Object.values(count).filter((v): v is number => typeof v === 'number'));
    const fields: Record<string, { min: number; max: number }> = {};
    for (const [k, v] of Object.entries(extremes)) {
      const mm = /^(max|min)_(.+)$/.exec(k);
      if (!mm || typeof v !== 'number') continue;
      (fields[mm[2]] ??= { min: v, max: v })[mm[1] as 'min' | 'max'] = v;
    }
    report.stored[m] = { points, fields };
    for (const [field, { min, max }] of Object.entries(fields)) {
      const problem = rangeProblem(m, field, min, max);
      if (problem) find({ category: 'store', what: `${m}.${field}: ${problem}` });
    }
  }
}

/** What contract §3/§5/§6 allow a stored field to hold. */
function rangeProblem(measurement: string, field: string, min: number, max: number): string | undefined {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return `non-finite (${min}..${max})`;
  const within = (lo: number, hi: number) => (min < lo || max > hi ? `${min}..${max} outside ${lo}..${hi}` : undefined);
  const raw: Record<string, [number, number]> = { power_kw: [-1e6, 1e6], energy_kwh: [0, Number.MAX_VALUE], co2_ppm: [0, 50_000], emission_kgco2e: [0, Number.MAX_VALUE], count: [0, 100_000] };
  if (['energy', 'carbon', 'occupancy'].includes(measurement) && raw[field]) return within(...raw[field]);
  if (measurement === 'vitals') {
    const ratios = ['renewable_share', 'online_ratio'];
    if (ratios.includes(field)) return within(0, 1);
    if (field === 'occupancy_rate' || field === 'occupancy' || field === 'pv_kwh' || field.endsWith('_kwh') || field.endsWith('kgco2e')) return within(0, Number.MAX_VALUE);
    if (field.startsWith('co2_ppm')) return within(0, 50_000);
  }
  return undefined;
}

/** Regenerates one case of a chunk, for a replay. */
export function caseOf(category: Category, seed: number, index: number, nowMs: number, repoRoot: string, device: FuzzDevice): unknown {
  const { model, shape } = demoPark(repoRoot);
  const arb: fc.Arbitrary<unknown> = category === 'pure' ? pureArb(shape, model, nowMs) : category === 'mqtt' ? mqttScriptArb(shape, nowMs, device) : category === 'http' ? httpCaseArb(shape) : wsCaseArb(shape, nowMs, device);
  return fc.sample(arb, { seed, numRuns: index + 1 })[index];
}

/** Runs one regenerated case (pure: in this process; others: against the target). */
export async function replay(category: Category, c: unknown, target: FuzzTarget | undefined, nowMs: number, repoRoot: string): Promise<string> {
  if (category === 'pure') {
    const { model } = demoPark(repoRoot);
    return runPure(c as PureCase, new MessageProcessor([indexPark(model)], DEFAULT_PAYLOAD_LIMITS), nowMs) ?? 'no problem';
  }
  if (!target) return 'needs a gateway';
  const httpPort = Number(new URL(target.gateway.httpUrl).port);
  if (category === 'mqtt') await runMqtt(Number(target.gateway.env.MQTT_PORT), c as never, target.device, 0);
  else if (category === 'ws') await runWs(httpPort, c as never, target.device, 0);
  else return JSON.stringify(await runHttp(httpPort, c as never, new http.Agent()));
  return target.gateway.running ? 'the gateway is still running' : 'the gateway exited';
}
