import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParkModel, parsePayload, parseTopic, Reading } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { WINDOW_MS } from './ground-truth';
import { presenceFraction } from './load-profiles';
import { ParkSimulator, SimMessage } from './park.simulator';

const demo: ParkModel = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../apps/gateway/parks/demo.park.json'), 'utf8'));
/** Wednesday 26 November 2025, 09:00 in Shanghai. */
const WED_9H = Date.parse('2025-11-26T09:00:00+08:00');
const HOUR = 3_600_000;
const max0 = (x: number) => Math.max(0, x);

function run(model: ParkModel, options: Partial<ConstructorParameters<typeof ParkSimulator>[1]>, spanMs: number, stepMs = 60_000) {
  const sim = new ParkSimulator(model, { seed: 1, startMs: WED_9H, ...options });
  const start = sim.clockMs;
  const messages: SimMessage[] = [];
  for (let t = start + stepMs; t <= start + spanMs; t += stepMs) messages.push(...sim.stepUntil(t));
  return { sim, messages };
}

/** Parses a message as the gateway would, at the simulated time it was sent. */
function parse(m: SimMessage) {
  const topic = parseTopic(m.topic);
  if (!topic.ok) throw new Error(topic.detail);
  return parsePayload(m.payload, topic.address, m.topic, m.sendAtMs);
}

/** Valid readings per sensor topic, in ts order, as a gateway stores them (duplicates merged). */
function readingsByTopic(messages: SimMessage[]): Map<string, Reading[]> {
  const out = new Map<string, Map<number, Reading>>();
  for (const m of messages) {
    for (const r of parse(m).readings) {
      const byTs = out.get(m.topic) ?? new Map<number, Reading>();
      byTs.set(r.tsMs, r);
      out.set(m.topic, byTs);
    }
  }
  return new Map([...out].map(([t, byTs]) => [t, [...byTs.values()].sort((a, b) => a.tsMs - b.tsMs)]));
}

/**
 * Contract §6 energy rule, written independently of the simulator: each
 * register increase (a decrease is a reset: the new value is the increase) is
 * spread linearly over the time between the two readings.
 */
function spreadRegisters(readings: Reading[], field: 'energyKwh' | 'emissionKgco2e'): Map<number, number> {
  const perWindow = new Map<number, number>();
  for (let i = 1; i < readings.length; i++) {
    const a = readings[i - 1];
    const b = readings[i];
    const inc = b[field]! >= a[field]! ? b[field]! - a[field]! : b[field]!;
    for (let w = Math.floor(a.tsMs / WINDOW_MS) * WINDOW_MS; w < b.tsMs; w += WINDOW_MS) {
      const overlap = Math.min(b.tsMs, w + WINDOW_MS) - Math.max(a.tsMs, w);
      if (overlap > 0) perWindow.set(w, (perWindow.get(w) ?? 0) + (inc * overlap) / (b.tsMs - a.tsMs));
    }
  }
  return perWindow;
}

/** Per building and window, what the contract's spreading gives from the published registers. */
function energyFromReadings(model: ParkModel, messages: SimMessage[]) {
  const out = new Map<string, { energy_kwh: number; pv_kwh: number; emission_kgco2e: number }>();
  for (const [topic, rs] of readingsByTopic(messages)) {
    const { building, kind, sensor } = rs[0];
    const sm = model.buildings.find((b) => b.id === building)!.sensors.find((s) => s.id === sensor)!;
    const field = kind === 'energy' ? (sm.source === 'pv' ? 'pv_kwh' : 'energy_kwh') : 'emission_kgco2e';
    if (kind === 'occupancy' || (kind === 'carbon' && rs[0].emissionKgco2e === undefined)) continue;
    for (const [w, v] of spreadRegisters(rs, kind === 'energy' ? 'energyKwh' : 'emissionKgco2e')) {
      const key = `${building}@${w}`;
      const acc = out.get(key) ?? { energy_kwh: 0, pv_kwh: 0, emission_kgco2e: 0 };
      acc[field] += v;
      out.set(key, acc);
    }
    expect(topic).toContain(building);
  }
  return out;
}

describe('ParkSimulator', () => {
  it('is deterministic for a seed, and differs for another seed', () => {
    const a = run(demo, { seed: 7 }, 10 * 60_000).messages;
    const b = run(demo, { seed: 7 }, 10 * 60_000).messages;
    const c = run(demo, { seed: 8 }, 10 * 60_000).messages;
    expect(a.length).toBeGreaterThan(500);
    expect(b).toEqual(a);
    expect(c.map((m) => m.payload)).not.toEqual(a.map((m) => m.payload));
  });

  it('gives the same messages however finely it is stepped', () => {
    const faults = { dropout: 0.05, late: 0.05, duplicate: 0.05, reset: 0.01, malformed: 0.02, spike: 0.01 };
    const coarse = run(testPark(), { faults, lateMs: 30_000 }, 20 * 60_000, 20 * 60_000).messages;
    const fine = run(testPark(), { faults, lateMs: 30_000 }, 20 * 60_000, 700).messages;
    expect(fine).toEqual(coarse);
  });

  it('publishes every sensor of the model on its contract topic at its interval', () => {
    const { messages } = run(demo, {}, 10 * 60_000);
    const topics = new Set(messages.map((m) => m.topic));
    const expected = demo.buildings.flatMap((b) => b.sensors.map((s) => `park/demo/${b.id}/${s.kind}/${s.id}`));
    expect([...topics].sort()).toEqual(expected.sort());
    const m01 = messages.filter((m) => m.topic === 'park/demo/b01/energy/m01').map((m) => m.tsMs);
    expect(m01.length).toBe(60);
    for (let i = 1; i < m01.length; i++) expect(m01[i] - m01[i - 1]).toBe(10_000);
    expect(m01[0]).toBeGreaterThan(WED_9H);
    expect(m01[0]).toBeLessThanOrEqual(WED_9H + 10_000);
  });

  it('sends payloads the contract accepts, with the fields of each kind', () => {
    const { messages } = run(demo, {}, 30 * 60_000);
    const fieldsBySensor = new Map<string, Set<string>>();
    const problems: unknown[] = [];
    for (const m of messages) {
      const r = parse(m);
      if (r.rejections.length > 0 || r.readings.length !== 1 || r.readings[0].tsMs !== m.tsMs) problems.push(m);
      const keys = Object.keys(JSON.parse(m.payload)).sort().join(',');
      fieldsBySensor.set(m.topic, (fieldsBySensor.get(m.topic) ?? new Set()).add(keys));
    }
    expect(problems).toEqual([]);
    for (const b of demo.buildings) {
      for (const s of b.sensors) {
        const expected =
          s.kind === 'energy' ? 'energy_kwh,power_kw,ts' : s.kind === 'occupancy' ? 'count,ts' : /boiler|genset/.test(s.id) ? 'emission_kgco2e,ts' : 'co2_ppm,ts';
        expect([`${b.id}/${s.id}`, [...fieldsBySensor.get(`park/demo/${b.id}/${s.kind}/${s.id}`)!]]).toEqual([`${b.id}/${s.id}`, [expected]]);
      }
    }
  });

  it('grows each register by exactly power × time between consecutive readings', () => {
    const { messages } = run(demo, {}, 2 * HOUR);
    let worst = 0;
    let checked = 0;
    for (const [, rs] of readingsByTopic(messages)) {
      if (rs[0].kind !== 'energy') continue;
      for (let i = 1; i < rs.length; i++) {
        const dtH = (rs[i].tsMs - rs[i - 1].tsMs) / HOUR;
        const expected = max0(rs[i].powerKw!) * dtH;
        worst = Math.max(worst, Math.abs(rs[i].energyKwh! - rs[i - 1].energyKwh! - expected));
        checked++;
      }
    }
    expect(checked).toBe(33 * (2 * 360 - 1)); // 33 meters, every interval of 2 h
    expect(worst).toBeLessThan(2e-6); // registers are published to 1e-6 kWh
  });

  it('produces a ground truth equal to the contract spreading of the published registers', () => {
    const { sim, messages } = run(demo, {}, 3 * HOUR);
    const fromReadings = energyFromReadings(demo, messages);
    const truth = sim.drainTruth(true);
    // Windows 09:00 .. 11:59: every reading interval ends by 12:00.
    expect(truth.length).toBe(demo.buildings.length * 3 * 60);
    let compared = 0;
    for (const t of truth) {
      const r = fromReadings.get(`${t.building}@${Date.parse(t.windowStart)}`) ?? { energy_kwh: 0, pv_kwh: 0, emission_kgco2e: 0 };
      expect(t.energy_kwh).toBeCloseTo(r.energy_kwh, 4);
      expect(t.pv_kwh).toBeCloseTo(r.pv_kwh, 4);
      expect(t.emission_kgco2e).toBeCloseTo(r.emission_kgco2e, 4);
      if (t.energy_kwh > 0) compared++;
    }
    expect(compared).toBeGreaterThan(13 * 170);
  });

  it('keeps totals under dropouts, late readings and resets, though single windows move', () => {
    const faults = { dropout: 0.1, reset: 0.01, late: 0.05, duplicate: 0.05 };
    const { sim, messages } = run(demo, { faults }, 2 * HOUR);
    expect(sim.stats.resets).toBeGreaterThan(5);
    const fromReadings = energyFromReadings(demo, messages);
    const truth = sim.truth();
    const totals = new Map<string, number>();
    const readingTotals = new Map<string, number>();
    let differing = 0;
    for (const t of truth) {
      const r = fromReadings.get(`${t.building}@${Date.parse(t.windowStart)}`);
      totals.set(t.building, (totals.get(t.building) ?? 0) + t.energy_kwh + t.pv_kwh + t.emission_kgco2e);
      readingTotals.set(t.building, (readingTotals.get(t.building) ?? 0) + (r ? r.energy_kwh + r.pv_kwh + r.emission_kgco2e : 0));
      if (r && Math.abs(r.energy_kwh - t.energy_kwh) > 1e-3) differing++;
    }
    expect(differing).toBeGreaterThan(0);
    // A meter's readings lost at the very end are the only energy the gateway cannot see yet.
    for (const [b, total] of totals) {
      expect(readingTotals.get(b)! / total).toBeGreaterThan(0.995);
      expect(readingTotals.get(b)! / total).toBeLessThan(1 + 1e-6); // registers are published to 1e-6
    }
  });

  it('lets registers decrease only at resets, and then to the energy since the last reading', () => {
    const { sim, messages } = run(demo, { faults: { reset: 0.02 } }, HOUR);
    let decreases = 0;
    for (const [, rs] of readingsByTopic(messages)) {
      const field = rs[0].kind === 'energy' ? 'energyKwh' : rs[0].kind === 'carbon' && rs[0].emissionKgco2e !== undefined ? 'emissionKgco2e' : undefined;
      if (!field) continue;
      for (let i = 1; i < rs.length; i++) {
        if (rs[i][field]! < rs[i - 1][field]!) {
          decreases++;
          if (field === 'energyKwh') {
            expect(rs[i].energyKwh!).toBeCloseTo((max0(rs[i].powerKw!) * (rs[i].tsMs - rs[i - 1].tsMs)) / HOUR, 5);
          }
        }
      }
    }
    expect(decreases).toBe(sim.stats.resets);
    expect(decreases).toBeGreaterThan(20);
  });

  it('continues stored registers: a second run goes on from where the first one’s meters stopped', () => {
    const first = run(demo, { seed: 5 }, HOUR).messages;
    const last = new Map<string, { value: number; atMs: number }>();
    for (const [, rs] of readingsByTopic(first)) {
      const r = rs[rs.length - 1];
      const value = r.energyKwh ?? r.emissionKgco2e;
      if (value !== undefined) last.set(`${r.building}/${r.sensor}`, { value, atMs: r.tsMs });
    }
    const resumeMs = Math.max(...[...last.values()].map((x) => x.atMs));
    // Stopped for an hour: the meters counted on meanwhile (skipped, nothing sent), then it sends again.
    const sim = new ParkSimulator(demo, { seed: 6, startMs: resumeMs, registers: Object.fromEntries(last) });
    sim.skipUntil(resumeMs + HOUR);
    const second = sim.stepUntil(resumeMs + HOUR + 10 * 60_000);
    expect(second.every((m) => m.tsMs > resumeMs + HOUR)).toBe(true);
    for (const [, rs] of readingsByTopic(second)) {
      const r = rs[0];
      const before = last.get(`${r.building}/${r.sensor}`);
      const value = r.energyKwh ?? r.emissionKgco2e;
      if (!before || value === undefined) continue;
      // Never backwards; up by what the meter drew in the hour it was not heard (well under twice its contract).
      expect(value).toBeGreaterThanOrEqual(before.value);
      const contract = demo.buildings.find((b) => b.id === r.building)!.contractedKw;
      expect(value - before.value).toBeLessThan((2 * contract * (r.tsMs - before.atMs)) / HOUR + 1e-6);
    }
  });

  it('glitch: one reading carries an absurd register value; the register itself goes on (contract §8)', () => {
    const clean = run(demo, {}, HOUR).messages;
    const { sim, messages } = run(demo, { faults: { glitch: 0.01 } }, HOUR);
    expect(sim.stats.glitches).toBeGreaterThan(20);
    const cleanByKey = new Map(clean.map((m) => [`${m.topic}@${m.tsMs}`, m.payload]));
    let glitched = 0;
    for (const m of messages) {
      if (m.payload === cleanByKey.get(`${m.topic}@${m.tsMs}`)) continue;
      glitched++;
      const [got, want] = [JSON.parse(m.payload), JSON.parse(cleanByKey.get(`${m.topic}@${m.tsMs}`)!)];
      const field = 'energy_kwh' in got ? 'energy_kwh' : 'emission_kgco2e';
      expect(got[field] - want[field]).toBeGreaterThan(1e6);
      expect({ ...got, [field]: want[field] }).toEqual(want); // nothing else changed
    }
    // Only the glitched readings differ: the readings after them carry the true register.
    expect(glitched).toBe(sim.stats.glitches);
  });

  it('has the same physics with and without faults', () => {
    const clean = run(demo, {}, HOUR).messages.filter((m) => m.kind === 'reading');
    const faulty = run(demo, { faults: { dropout: 0.2, spike: 0.05, late: 0.1, malformed: 0.05 } }, HOUR + 120_000).messages;
    const byKey = new Map(clean.map((m) => [`${m.topic}@${m.tsMs}`, JSON.parse(m.payload)]));
    let same = 0;
    const differences: string[] = [];
    for (const m of faulty) {
      if (m.kind === 'malformed' || !byKey.has(`${m.topic}@${m.tsMs}`)) continue;
      const a = byKey.get(`${m.topic}@${m.tsMs}`);
      const b = JSON.parse(m.payload);
      for (const k of ['co2_ppm', 'count', 'energy_kwh', 'emission_kgco2e']) if (a[k] !== b[k]) differences.push(`${m.topic}@${m.tsMs} ${k}`);
      same++;
    }
    expect(differences).toEqual([]);
    expect(same).toBeGreaterThan(clean.length * 0.6);
  });

  it('injects faults at about the asked rates', () => {
    const faults = { dropout: 0.02, spike: 0.01, reset: 0.005, late: 0.02, duplicate: 0.03, malformed: 0.01 };
    const { sim, messages } = run(demo, { faults }, 6 * HOUR, 600_000);
    const s = sim.stats;
    const n = s.sampled;
    expect(n).toBeGreaterThan(90_000);
    const energySamples = messages.filter((m) => m.sensorKind === 'energy').length;
    expect(s.dropouts / n).toBeGreaterThan(0.02 * 0.85);
    expect(s.dropouts / n).toBeLessThan(0.02 * 1.15);
    expect(s.malformed / n).toBeGreaterThan(0.01 * 0.8);
    expect(s.malformed / n).toBeLessThan(0.01 * 1.2);
    expect(s.late / n).toBeGreaterThan(0.02 * 0.85);
    expect(s.late / n).toBeLessThan(0.02 * 1.15);
    expect(s.duplicates / n).toBeGreaterThan(0.03 * 0.85);
    expect(s.duplicates / n).toBeLessThan(0.03 * 1.15);
    expect(s.spikes / energySamples).toBeGreaterThan(0.01 * 0.75);
    expect(s.spikes / energySamples).toBeLessThan(0.01 * 1.25);
    expect(s.resets).toBeGreaterThan(0);
    expect(messages.filter((m) => m.kind === 'duplicate')).toHaveLength(s.duplicates);
    expect(messages.filter((m) => m.kind === 'malformed')).toHaveLength(s.malformed);
  });

  it('makes malformed payloads the gateway rejects with the announced reason, and spikes it accepts', () => {
    const { messages } = run(demo, { faults: { malformed: 0.05, spike: 0.05 } }, HOUR);
    const malformed = messages.filter((m) => m.kind === 'malformed');
    expect(new Set(malformed.map((m) => m.expect))).toEqual(new Set(['bad_json', 'bad_field']));
    for (const m of malformed) {
      const r = parse(m);
      expect(r.readings).toEqual([]);
      expect(r.rejections.map((x) => x.reason)).toEqual([m.expect]);
    }
    const spikes = messages.filter((m) => m.kind === 'reading' && m.sensorKind === 'energy').filter((m) => {
      const b = demo.buildings.find((x) => x.id === m.building)!;
      return JSON.parse(m.payload).power_kw > 5 * b.contractedKw;
    });
    expect(spikes.length).toBeGreaterThan(10);
    spikes.forEach((m) => expect(parse(m).rejections).toEqual([]));
  });

  it('sends late readings lateMs after their ts, and duplicates as identical payloads', () => {
    const { messages } = run(demo, { faults: { late: 0.05, duplicate: 0.05 }, lateMs: 90_000 }, HOUR);
    const late = messages.filter((m) => m.kind === 'late');
    expect(late.length).toBeGreaterThan(50);
    expect(new Set(late.map((m) => m.sendAtMs - m.tsMs))).toEqual(new Set([90_000]));
    expect(messages.findIndex((m, i) => i > 0 && m.sendAtMs < messages[i - 1].sendAtMs)).toBe(-1);
    const copies = new Map<string, number>();
    messages.forEach((m) => copies.set(m.topic + m.payload, (copies.get(m.topic + m.payload) ?? 0) + 1));
    for (const d of messages.filter((m) => m.kind === 'duplicate')) expect(copies.get(d.topic + d.payload)).toBe(2);
  });

  it('releases held-back late readings at the end of a run', () => {
    const { sim, messages } = run(demo, { faults: { late: 0.1 }, lateMs: 3_600_000 }, 10 * 60_000);
    expect(messages.filter((m) => m.kind === 'late')).toEqual([]);
    const rest = sim.flushLate();
    expect(rest).toHaveLength(sim.stats.late);
    rest.forEach((m) => expect(m.sendAtMs).toBe(sim.clockMs));
    expect(sim.flushLate()).toEqual([]);
  });

  it('spreads occupancy over the zones: integers summing to about capacity × presence', () => {
    const { messages } = run(demo, {}, HOUR); // 09:00-10:00 on a weekday
    const at10 = messages.filter((m) => m.sensorKind === 'occupancy' && m.tsMs > WED_9H + HOUR - 30_000);
    for (const b of demo.buildings.filter((x) => x.sensors.some((s) => s.kind === 'occupancy'))) {
      const counts = at10.filter((m) => m.building === b.id).map((m) => JSON.parse(m.payload).count as number);
      counts.forEach((c) => expect(Number.isInteger(c)).toBe(true));
      const sum = counts.reduce((a, c) => a + c, 0);
      const expected = b.capacity * presenceFraction(b.use ?? 'office', WED_9H + HOUR);
      expect(Math.abs(sum - expected)).toBeLessThanOrEqual(0.1 * expected + counts.length);
    }
  });

  it('follows the day: office load and people higher at 10:00 than 03:00, PV zero at night', () => {
    const night = Date.parse('2025-11-26T03:00:00+08:00');
    const sample = (startMs: number) => {
      const sim = new ParkSimulator(demo, { seed: 3, startMs });
      return sim.stepUntil(startMs + 60_000);
    };
    const value = (ms: SimMessage[], topic: string, key: string) => JSON.parse(ms.find((m) => m.topic === topic)!.payload)[key];
    const n = sample(night);
    const d = sample(WED_9H + HOUR);
    expect(value(d, 'park/demo/b01/energy/m01', 'power_kw')).toBeGreaterThan(1.5 * value(n, 'park/demo/b01/energy/m01', 'power_kw'));
    expect(value(d, 'park/demo/b01/occupancy/o02', 'count')).toBeGreaterThan(10 * value(n, 'park/demo/b01/occupancy/o02', 'count') + 10);
    expect(value(n, 'park/demo/b02/energy/pv1', 'power_kw')).toBe(0);
    expect(value(d, 'park/demo/b02/energy/pv1', 'power_kw')).toBeGreaterThan(0);
  });

  it('keeps indoor CO2 realistic: 420-1100 ppm on a normal weekday', () => {
    const some = { ...demo, buildings: demo.buildings.filter((b) => ['b03', 'b09', 'b12', 'b13'].includes(b.id)) };
    const { messages } = run(some, { startMs: Date.parse('2025-11-26T00:00:00+08:00') }, 24 * HOUR, HOUR);
    const co2 = messages.filter((m) => m.payload.includes('co2_ppm')).map((m) => JSON.parse(m.payload).co2_ppm as number);
    expect(co2.length).toBeGreaterThan(1000);
    expect(Math.min(...co2)).toBeGreaterThan(400);
    expect(Math.max(...co2)).toBeLessThan(1100);
  });

  describe('scenarios', () => {
    const grid = (ms: SimMessage[], b: string, from: number, to: number) => {
      const sel = ms.filter((m) => m.building === b && m.sensorKind === 'energy' && !m.sensor.startsWith('pv') && m.tsMs >= from && m.tsMs < to);
      const perSensor = new Map<string, number[]>();
      sel.forEach((m) => perSensor.set(m.sensor, [...(perSensor.get(m.sensor) ?? []), JSON.parse(m.payload).power_kw]));
      return [...perSensor.values()].reduce((a, v) => a + v.reduce((x, y) => x + y, 0) / v.length, 0);
    };

    it('overload pushes grid import to ~130 % of contract inside its window only', () => {
      const { messages, sim } = run(demo, { scenarios: [{ kind: 'overload', building: 'b01', fromS: 600, toS: 1200 }] }, 1_800_000);
      const b01 = demo.buildings[0];
      expect(grid(messages, 'b01', WED_9H + 620_000, WED_9H + 1_200_000) / b01.contractedKw).toBeCloseTo(1.3, 1);
      expect(grid(messages, 'b01', WED_9H, WED_9H + 600_000) / b01.contractedKw).toBeLessThan(0.75);
      const truth = sim.truth().filter((t) => t.building === 'b01' && Date.parse(t.windowStart) === WED_9H + 900_000)[0];
      expect(truth.energy_kwh * 60).toBeCloseTo(1.3 * b01.contractedKw, -2);
    });

    it('co2 holds a building near 1800 ppm', () => {
      const { messages } = run(demo, { scenarios: [{ kind: 'co2', building: 'b03', fromS: 0, toS: Infinity }] }, 600_000);
      const co2 = messages.filter((m) => m.building === 'b03' && m.payload.includes('co2_ppm')).map((m) => JSON.parse(m.payload).co2_ppm);
      expect(co2.length).toBeGreaterThan(5);
      co2.forEach((c) => expect(Math.abs(c - 1800)).toBeLessThan(60));
    });

    it('crowding fills a building to ~1.3 × capacity', () => {
      const { messages } = run(demo, { scenarios: [{ kind: 'crowding', building: 'b02', fromS: 0, toS: Infinity }] }, 60_000);
      const counts = messages.filter((m) => m.building === 'b02' && m.sensorKind === 'occupancy').map((m) => JSON.parse(m.payload).count);
      expect(counts).toHaveLength(4);
      const latest = counts.slice(-2).reduce((a, c) => a + c, 0);
      expect(latest / demo.buildings[1].capacity).toBeCloseTo(1.3, 1);
    });

    it('silent stops a building publishing while its registers keep counting', () => {
      const { messages, sim } = run(demo, { scenarios: [{ kind: 'silent', building: 'b05', fromS: 120, toS: 600 }] }, 900_000);
      const b05 = messages.filter((m) => m.building === 'b05');
      expect(b05.filter((m) => m.tsMs >= WED_9H + 121_000 && m.tsMs < WED_9H + 600_000)).toEqual([]);
      expect(b05.filter((m) => m.tsMs >= WED_9H + 600_000).length).toBeGreaterThan(50);
      expect(sim.stats.silenced).toBeGreaterThan(160); // 480 s of 3 meters at 10 s, 2 CO2 at 60 s, 1 counter at 30 s
      const m01 = b05.filter((m) => m.sensor === 'm01').map((m) => JSON.parse(m.payload));
      const gap = m01.findIndex((r, i) => i > 0 && r.ts - m01[i - 1].ts > 60_000);
      const inc = m01[gap].energy_kwh - m01[gap - 1].energy_kwh;
      expect(inc).toBeGreaterThan(0.5 * 2400 * 0.3 * ((m01[gap].ts - m01[gap - 1].ts) / HOUR) * 0.5);
    });
  });

  it('drains only windows that can no longer change', () => {
    const sim = new ParkSimulator(testPark(), { seed: 2, startMs: WED_9H });
    sim.stepUntil(WED_9H + 5 * 60_000);
    const first = sim.drainTruth();
    expect(first.length).toBe(2 * 4); // 2 buildings × windows 09:00-09:03 (intervals up to 60 s)
    sim.stepUntil(WED_9H + 10 * 60_000);
    const next = sim.drainTruth();
    expect(Date.parse(next[0].windowStart)).toBe(WED_9H + 4 * 60_000);
    expect(sim.drainTruth()).toEqual([]);
  });
});
