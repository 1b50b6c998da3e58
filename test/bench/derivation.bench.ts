/**
 * Micro-benchmark of the vital-signs derivation (libs/metrics): synthetic
 * readings for the demo park fed through ParkVitalsEngine the way the
 * gateway does (ingest each reading, advance the clock every simulated
 * second, read `now` every second), at the demo load and at 10× (ten times
 * the sensors; ten times the rate), plus a recompute of the same data.
 *
 *   npx tsx --tsconfig tsconfig.base.json test/bench/derivation.bench.ts [readingsPerScenario]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { indexPark, ParkModel, Reading, validateParkModel } from '@park/telemetry';
import { computeVitals, ParkVitalsEngine } from '@park/metrics';

const DEMO = resolve(__dirname, '../../apps/gateway/parks/demo.park.json');
const T0 = Date.UTC(2025, 10, 27, 8);

function loadDemo(): ParkModel {
  const doc = JSON.parse(readFileSync(DEMO, 'utf8'));
  const problems = validateParkModel(doc);
  if (problems.length) throw new Error(`${DEMO}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
  return doc as ParkModel;
}

/** `copies` copies of every building (ids suffixed), or the same park with intervals divided by `rate`. */
function scale(model: ParkModel, copies: number, rate: number): ParkModel {
  const buildings = [];
  for (let c = 0; c < copies; c++) {
    for (const b of model.buildings) {
      buildings.push({
        ...b,
        id: copies > 1 ? `${b.id}-${c}` : b.id,
        sensors: b.sensors.map((s) => ({ ...s, intervalS: s.intervalS / rate })),
      });
    }
  }
  return { ...model, buildings };
}

/** Deterministic pseudo-random numbers (mulberry32), so every run feeds the same data. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every sensor at its interval (random phase), time-ordered, for `durationMs`. */
function synthesize(model: ParkModel, durationMs: number): Reading[] {
  const rnd = prng(42);
  const out: Reading[] = [];
  for (const b of model.buildings) {
    for (const s of b.sensors) {
      const stepMs = s.intervalS * 1000;
      let register = rnd() * 1e6;
      for (let t = T0 + Math.floor(rnd() * stepMs); t < T0 + durationMs; t += stepMs) {
        const base = { park: model.id, building: b.id, kind: s.kind, sensor: s.id, tsMs: Math.round(t) };
        if (s.kind === 'energy') {
          const powerKw = b.contractedKw * (0.3 + 0.5 * rnd()) / 2;
          register += (powerKw * stepMs) / 3_600_000;
          out.push({ ...base, powerKw, energyKwh: register });
        } else if (s.kind === 'carbon') {
          register += rnd();
          out.push(s.id.startsWith('c') ? { ...base, co2Ppm: 500 + 900 * rnd() } : { ...base, co2Ppm: 450, emissionKgco2e: register });
        } else {
          out.push({ ...base, count: Math.floor(rnd() * (b.capacity / 3)) });
        }
      }
    }
  }
  return out.sort((a, b) => a.tsMs - b.tsMs);
}

interface Run {
  /** Time spent in ingest, in advance (closing windows), in now, ns. */
  ingestNs: number;
  advanceNs: number;
  nowNs: number;
  ticks: number;
  windows: number;
  maxSamples: number;
}

const since = (t: bigint): number => Number(process.hrtime.bigint() - t);

/** The gateway's loop: ingest each reading as it comes; every second of event time, advance and read `now`. */
function feed(model: ParkModel, readings: Reading[]): Run {
  const engine = new ParkVitalsEngine(indexPark(model), { startMs: T0, allowedLatenessMs: 30_000 });
  const run: Run = { ingestNs: 0, advanceNs: 0, nowNs: 0, ticks: 0, windows: 0, maxSamples: 0 };
  let nextTickMs = T0 + 1000;
  let t: bigint;
  for (const r of readings) {
    while (r.tsMs >= nextTickMs) {
      t = process.hrtime.bigint();
      const events = engine.advance(nextTickMs);
      run.advanceNs += since(t);
      t = process.hrtime.bigint();
      engine.now(nextTickMs);
      run.nowNs += since(t);
      for (const e of events) if (e.type === 'vitals') run.windows++;
      if (run.ticks++ % 60 === 0) run.maxSamples = Math.max(run.maxSamples, engine.stats().samples);
      nextTickMs += 1000;
    }
    t = process.hrtime.bigint();
    engine.ingest(r);
    run.ingestNs += since(t);
  }
  t = process.hrtime.bigint();
  for (const e of engine.flush()) if (e.type === 'vitals') run.windows++;
  run.advanceNs += since(t);
  return run;
}

function scenario(name: string, model: ParkModel, readingsWanted: number): void {
  const sensors = model.buildings.reduce((n, b) => n + b.sensors.length, 0);
  const perMinute = model.buildings.reduce((n, b) => n + b.sensors.reduce((m, s) => m + 60 / s.intervalS, 0), 0);
  const durationMs = Math.max(10, Math.ceil(readingsWanted / perMinute)) * 60_000;
  const readings = synthesize(model, durationMs);
  feed(model, readings.slice(0, Math.min(readings.length, 20_000))); // warm-up (JIT)
  const run = feed(model, readings);
  const n = readings.length;
  const derivationNs = (run.ingestNs + run.advanceNs) / n;
  const allNs = (run.ingestNs + run.advanceNs + run.nowNs) / n;
  const liveRate = perMinute / 60;
  const t = process.hrtime.bigint();
  const batch = computeVitals(indexPark(model), readings, { fromMs: T0, toMs: T0 + durationMs });
  const batchMs = since(t) / 1e6;
  const f = (x: number) => Math.round(x).toLocaleString('en');
  console.log(
    [
      `${name}: ${sensors} sensors, ${liveRate.toFixed(1)} readings/s live; ${f(n)} readings over ${durationMs / 60_000} min of event time`,
      `  ingest + window closing: ${derivationNs.toFixed(0)} ns/reading = ${f(1e9 / derivationNs)} readings/s ` +
        `(ingest ${(run.ingestNs / n).toFixed(0)} ns/reading; closing ${(run.advanceNs / 1e3 / run.windows).toFixed(0)} µs/window incl. idle ticks)`,
      `  with now() every second: ${allNs.toFixed(0)} ns/reading = ${f(1e9 / allNs)} readings/s, ${f(1e9 / allNs / liveRate)}× real time ` +
        `(now: ${(run.nowNs / 1e3 / run.ticks).toFixed(1)} µs/call)`,
      `  state: at most ${run.maxSamples} samples held (${(run.maxSamples / sensors).toFixed(1)} per sensor); ${run.windows} windows`,
      `  recompute (computeVitals) of the same readings: ${batch.length} windows in ${batchMs.toFixed(0)} ms = ${f((n / batchMs) * 1000)} readings/s`,
    ].join('\n'),
  );
}

const wanted = Number(process.argv[2] ?? 200_000);
const demo = loadDemo();
console.log(`derivation benchmark, node ${process.version}, ~${wanted} readings per scenario`);
scenario('demo', demo, wanted);
scenario('10x sensors', scale(demo, 10, 1), wanted * 2);
scenario('10x rate', scale(demo, 1, 10), wanted * 2);
