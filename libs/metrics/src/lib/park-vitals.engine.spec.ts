import { Reading } from '@park/telemetry';
import { carbon, energy, formulaTableReadings, MIN, people, SEC, T0, tpIndex } from '../testing/readings.fixture';
import { computeVitals, computeVitalsDetailed } from './compute-vitals';
import { ParkVitalsEngine } from './park-vitals.engine';
import { windowStartMs } from './window';
import { Alarm, ParkVitals } from './vital-signs';
import { VitalsEvent } from './vitals-event';

const index = tpIndex();
const s = (x: number) => T0 + x * SEC;
const byTime = (a: Reading, b: Reading) => a.tsMs - b.tsMs;

/** Delivers readings one by one, advancing the clock to each reading's time, then flushes. */
function play(engine: ParkVitalsEngine, readings: Reading[], results: string[] = []): VitalsEvent[] {
  const events: VitalsEvent[] = [];
  for (const r of readings) {
    results.push(engine.ingest(r));
    events.push(...engine.advance(r.tsMs));
  }
  events.push(...engine.flush());
  return events;
}

/** The last published version of each window (closing or revision), oldest first. */
function finalVitals(events: VitalsEvent[]): ParkVitals[] {
  const m = new Map<number, ParkVitals>();
  for (const e of events) if (e.type === 'vitals' || e.type === 'revision') m.set(e.vitals.window.startMs, e.vitals);
  return [...m.values()].sort((a, b) => a.window.startMs - b.window.startMs);
}

const ofType = <T extends VitalsEvent['type']>(events: VitalsEvent[], type: T) =>
  events.filter((e): e is Extract<VitalsEvent, { type: T }> => e.type === type);

describe('ParkVitalsEngine.ingest', () => {
  it('accepts, merges, spots duplicates, late and unregistered readings', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 0 });
    expect(engine.ingest(energy('b1', 'm1', s(10), { powerKw: 5 }))).toBe('accepted');
    expect(engine.ingest(energy('b1', 'm1', s(10), { powerKw: 5 }))).toBe('duplicate');
    expect(engine.ingest(energy('b1', 'm1', s(10), { energyKwh: 7 }))).toBe('accepted'); // same point, new field
    expect(engine.ingest(energy('b1', 'zz', s(10), { powerKw: 5 }))).toBe('unregistered');
    expect(engine.ingest({ ...energy('b1', 'm1', s(10), { powerKw: 5 }), park: 'elsewhere' })).toBe('unregistered');
    expect(engine.ingest(energy('b1', 'm1', s(-1), { powerKw: 5 }))).toBe('late'); // before the first window
    expect(engine.ingest(energy('b1', 'pv1', s(61), { powerKw: 5 }))).toBe('accepted');
    engine.advance(s(61));
    expect(engine.openWindowStartMs).toBe(T0 + MIN);
    expect(engine.ingest(energy('b1', 'm1', s(59), { powerKw: 5 }))).toBe('late');
    expect(engine.ingest(energy('b1', 'm1', s(60), { powerKw: 5 }))).toBe('accepted');
  });

  it('opens its first window at the first time seen minus the allowed lateness', () => {
    const engine = new ParkVitalsEngine(index, { allowedLatenessMs: 30 * SEC });
    expect(engine.openWindowStartMs).toBeUndefined();
    engine.ingest(energy('b1', 'm1', s(20), { powerKw: 5 }));
    expect(engine.openWindowStartMs).toBe(T0 - MIN);
    expect(engine.watermarkMs).toBe(-Infinity); // no clock yet
    engine.advance(s(25));
    expect(engine.watermarkMs).toBe(s(-10)); // min(newest reading, clock) − lateness
  });
});

describe('ParkVitalsEngine: live values equal the recompute', () => {
  it('in-order delivery of the formula table (context seeded, clock at each reading) gives computeVitals exactly, alarms too', () => {
    const all = formulaTableReadings().sort(byTime);
    // 60 s of lateness covers every interval of the table that straddles a window end except the 120 s gap, whose
    // closing reading (+200 s) arrives before its windows close: no revision is needed.
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 60 * SEC });
    engine.seed(all.filter((r) => r.tsMs < T0));
    const events = play(engine, all.filter((r) => r.tsMs >= T0));
    const vitals = ofType(events, 'vitals').map((e) => e.vitals);
    const batch = computeVitalsDetailed(index, all, { fromMs: T0, toMs: T0 + 4 * MIN });
    expect(ofType(events, 'revision')).toEqual([]);
    expect(vitals).toEqual(batch.vitals);
    expect(ofType(events, 'alarm').map((e) => e.alarm)).toEqual(batch.alarms);
    expect(engine.activeAlarms()).toEqual(batch.active);
  });

  it('with less lateness than an interval, the revisions bring the values to the recompute', () => {
    const all = formulaTableReadings().sort(byTime);
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 20 * SEC });
    engine.seed(all.filter((r) => r.tsMs < T0));
    const events = play(engine, all.filter((r) => r.tsMs >= T0));
    expect(ofType(events, 'revision').length).toBeGreaterThan(0);
    const batch = computeVitals(index, all, { fromMs: T0, toMs: T0 + 4 * MIN });
    // Statuses are decided when a window closes and are not revised; here they happen to agree.
    expect(finalVitals(events)).toEqual(batch);
  });

  it('readings out of order within the allowed lateness give the same values', () => {
    const all = formulaTableReadings().sort(byTime);
    // Each reading delayed by 0..25 s (deterministically), lateness 30 s.
    const delayed = all.map((r, i) => ({ r, at: r.tsMs + ((i * 7919) % 26) * SEC })).sort((a, b) => a.at - b.at);
    expect(delayed.map((d) => d.r)).not.toEqual(all);
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC, revisionHorizonMs: 10 * MIN });
    engine.seed(all.filter((r) => r.tsMs < T0));
    const events: VitalsEvent[] = [];
    const results: string[] = [];
    for (const { r, at } of delayed.filter((d) => d.r.tsMs >= T0)) {
      results.push(engine.ingest(r));
      events.push(...engine.advance(at));
    }
    events.push(...engine.flush());
    expect(new Set(results)).toEqual(new Set(['accepted']));
    const numbers = (v: ParkVitals) => JSON.stringify(v, (k, x) => (k === 'status' ? undefined : x));
    expect(finalVitals(events).map(numbers)).toEqual(computeVitals(index, all, { fromMs: T0, toMs: T0 + 4 * MIN }).map(numbers));
  });

  it('a reading delivered twice changes nothing', () => {
    const all = formulaTableReadings().filter((r) => r.tsMs >= T0).sort(byTime);
    const once = play(new ParkVitalsEngine(index, { startMs: T0 }), all);
    const twice = play(new ParkVitalsEngine(index, { startMs: T0 }), all.flatMap((r) => [r, { ...r }]));
    expect(twice).toEqual(once);
  });
});

describe('ParkVitalsEngine: intervals completed after their window closed', () => {
  // b2/m1 reads every 10 s and drives the watermark; b1/m1 is silent from +50 s to +170 s (12 kWh over 120 s).
  const stream = (): Reading[] => {
    const rs: Reading[] = [energy('b1', 'm1', s(50), { energyKwh: 0 }), energy('b1', 'm1', s(170), { energyKwh: 12 })];
    for (let t = 0; t <= 200; t += 10) rs.push(energy('b2', 'm1', s(t), { powerKw: 60 }));
    return rs.sort(byTime);
  };

  it('revises the closed windows the interval reaches back into, keeping their status', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 10 * SEC });
    const events = play(engine, stream());
    const revisions = ofType(events, 'revision').map((e) => e.vitals);
    expect(revisions.map((v) => [(v.window.startMs - T0) / MIN, v.buildings.b1.energy_kwh])).toEqual([
      [0, 1], // 10 s of 120 s
      [1, 6],
    ]);
    const closedW0 = ofType(events, 'vitals')[0].vitals;
    expect(closedW0.buildings.b1.energy_kwh).toBe(0);
    expect(revisions[0].buildings.b1.load_kw).toBe(60);
    expect(revisions[0].buildings.b1.carbon_kgco2e).toBeCloseTo(0.42, 12);
    expect(revisions[0].buildings.b1.status).toBe(closedW0.buildings.b1.status);
    expect(revisions[0].park.energy_kwh).toBe(1 + closedW0.buildings.b2.energy_kwh);
    // revisions come before the windows closed by the same call
    const order = events.map((e) => (e.type === 'vitals' || e.type === 'revision' ? `${e.type}:${(e.vitals.window.startMs - T0) / MIN}` : e.type));
    expect(order.filter((x) => x !== 'alarm')).toEqual(['vitals:0', 'vitals:1', 'revision:0', 'revision:1', 'vitals:2', 'vitals:3']);
    const numbers = (v: ParkVitals) => JSON.stringify(v, (k, x) => (k === 'status' ? undefined : x));
    expect(finalVitals(events).map(numbers)).toEqual(computeVitals(index, stream(), { fromMs: T0, toMs: T0 + 4 * MIN }).map(numbers));
  });

  it('beyond the revision horizon, asks for a recompute instead', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 10 * SEC, revisionHorizonMs: MIN });
    const events = play(engine, stream());
    expect(ofType(events, 'recompute-needed')).toEqual([
      { type: 'recompute-needed', parkId: 'tp', building: 'b1', sensor: 'm1', fromMs: T0, toMs: T0 + MIN },
    ]);
    expect(ofType(events, 'revision').map((e) => [(e.vitals.window.startMs - T0) / MIN, e.vitals.buildings.b1.energy_kwh])).toEqual([[1, 6]]);
  });
});

describe('ParkVitalsEngine: the clock', () => {
  it('closes windows while every sensor is silent, and raises offline', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC });
    for (const r of [energy('b1', 'm1', s(5), { powerKw: 1 }), energy('b1', 'pv1', s(5), { powerKw: 1 }), carbon('b1', 'c1', s(5), { co2Ppm: 500 }), people('b1', 'o1', s(5), 1)]) {
      engine.ingest(r);
    }
    expect(engine.advance(s(60))).toEqual([]); // the watermark (30 s) has not reached the first window's end
    const events = engine.advance(s(300));
    const vitals = ofType(events, 'vitals').map((e) => e.vitals);
    expect(vitals.map((v) => (v.window.startMs - T0) / MIN)).toEqual([0, 1, 2, 3]);
    // At +60 s the meters (limit 30 s) are offline, c1 (180 s) and o1 (90 s) online; c1 lasts longest.
    expect(vitals.map((v) => v.buildings.b1.online_ratio)).toEqual([1 / 2, 1 / 4, 1 / 4, 0]);
    expect(vitals.every((v) => v.buildings.b1.energy_kwh === 0)).toBe(true);
    const alarms = ofType(events, 'alarm').map((e) => e.alarm).filter((a) => a.building === 'b1');
    expect(alarms.map((a: Alarm) => `${(a.tsMs - T0) / MIN} ${a.rule}:${a.severity}:${a.state}`)).toEqual([
      '1 offline:warn:raised',
      '2 offline:warn:cleared',
      '2 offline:critical:raised',
    ]);
  });

  it('flush closes the window holding the newest reading', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC });
    engine.ingest(energy('b1', 'm1', s(10), { powerKw: 1 }));
    engine.ingest(energy('b1', 'm1', s(130), { powerKw: 1 }));
    expect(ofType(engine.flush(), 'vitals').map((e) => (e.vitals.window.startMs - T0) / MIN)).toEqual([0, 1, 2]);
    expect(engine.openWindowStartMs).toBe(T0 + 3 * MIN);
  });
});

describe('ParkVitalsEngine: bounded state', () => {
  it('keeps per sensor only the open windows readings and a few anchors, and the revision horizon of windows', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC, revisionHorizonMs: 10 * MIN });
    let maxSamples = 0;
    for (let t = 0; t < 3 * 3600; t += 10) {
      engine.ingest(energy('b1', 'm1', s(t), { energyKwh: t, powerKw: 50 }));
      engine.ingest(energy('b2', 'm1', s(t), { powerKw: 20 }));
      if (t % 60 === 0) engine.ingest(carbon('b2', 'boiler', s(t), { emissionKgco2e: t, co2Ppm: 600 }));
      if (t % 30 === 0) engine.ingest(people('b1', 'o1', s(t), 3));
      engine.advance(s(t));
      maxSamples = Math.max(maxSamples, engine.stats().samples);
    }
    // 30 s lateness + one open window: ~10 readings per meter, plus an anchor per field.
    expect(maxSamples).toBeLessThan(40);
    expect(engine.stats().closedWindows).toBe(10);
  });
});

describe('ParkVitalsEngine.now', () => {
  it('sums the latest power, counts live occupancy, averages the latest CO2, counts sensors online', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0 });
    for (const r of [
      energy('b1', 'm1', s(0), { powerKw: 100 }),
      energy('b1', 'm1', s(10), { powerKw: 120 }),
      energy('b1', 'pv1', s(10), { powerKw: 30 }),
      energy('b2', 'm1', s(5), { powerKw: 40 }),
      carbon('b1', 'c1', s(0), { co2Ppm: 800 }),
      carbon('b2', 'boiler', s(8), { co2Ppm: 1000, emissionKgco2e: 1 }),
      people('b1', 'o1', s(0), 25),
      people('b2', 'o1', s(-100), 9), // late: before the first window, so never seen
    ]) {
      engine.ingest(r);
    }
    const now = engine.now(s(40));
    expect(now.buildings.b1).toEqual({ grid_kw: 120, pv_kw: 30, occupancy: 25, co2_ppm: 800, sensors_online: 4, sensors_total: 4, latest_ts_ms: s(10) });
    expect(now.buildings.b2).toEqual({ grid_kw: 40, pv_kw: 0, occupancy: 0, co2_ppm: 1000, sensors_online: 1, sensors_total: 3, latest_ts_ms: s(8) });
    expect(now.park).toEqual({ grid_kw: 160, pv_kw: 30, occupancy: 25, co2_ppm: 900, sensors_online: 5, sensors_total: 7, latest_ts_ms: s(10) });
    // Later, the occupancy sensor is silent beyond 90 s and counts 0; power is held.
    expect(engine.now(s(150)).buildings.b1).toMatchObject({ grid_kw: 120, occupancy: 0, sensors_online: 1 }); // c1 only
  });

  it('a park with no readings yet', () => {
    expect(new ParkVitalsEngine(index).now(T0).park).toEqual({ grid_kw: 0, pv_kw: 0, occupancy: 0, sensors_online: 0, sensors_total: 7 });
  });
});

/** Every sensor of testPark reporting at its interval from T0 for `minutes`, with plausible values. */
function steadyPark(minutes: number): Reading[] {
  const out: Reading[] = [];
  for (let t = 0; t < minutes * 60; t++) {
    if (t % 10 === 0) {
      out.push(energy('b1', 'm1', s(t), { energyKwh: 1000 + t * 0.1, powerKw: 360 }));
      out.push(energy('b1', 'pv1', s(t), { powerKw: 40 + (t % 7) }));
      out.push(energy('b2', 'm1', s(t), { powerKw: 90 + (t % 5) }));
    }
    if (t % 30 === 0) {
      out.push(people('b1', 'o1', s(t), 50 + (t % 11)));
      out.push(people('b2', 'o1', s(t), 3));
    }
    if (t % 60 === 0) {
      out.push(carbon('b1', 'c1', s(t), { co2Ppm: 700 + (t % 13) }));
      out.push(carbon('b2', 'boiler', s(t), { emissionKgco2e: 10 + t / 600, co2Ppm: 600 }));
    }
  }
  return out;
}

/** Delivers each reading when its time comes (`arrivals`: extra readings by delivery time), the clock ticking every second. */
function liveRun(readings: Reading[], minutes: number, arrivals: Map<number, Reading[]> = new Map()) {
  const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC });
  const events: VitalsEvent[] = [];
  const results: string[] = [];
  let i = 0;
  for (let t = 0; t <= minutes * 60 + 120; t++) {
    for (; i < readings.length && readings[i].tsMs <= s(t); i++) results.push(engine.ingest(readings[i]));
    for (const r of arrivals.get(s(t)) ?? []) results.push(engine.ingest(r));
    events.push(...engine.advance(s(t)));
  }
  return { engine, events, results };
}

describe('ParkVitalsEngine: a device clock ahead of the gateway (contract §8 "time")', () => {
  it('one reading stamped 290 s ahead, in the middle of a live run, changes no other window', () => {
    const readings = steadyPark(20);
    const plain = liveRun(readings, 20);
    const skewed = carbon('b1', 'c1', s(600 + 290), { co2Ppm: 1900 });
    const withSkew = liveRun(readings, 20, new Map([[s(600), [skewed]]]));
    expect(withSkew.results.filter((r) => r === 'late')).toEqual([]);
    const a = ofType(plain.events, 'vitals').map((e) => e.vitals);
    const b = ofType(withSkew.events, 'vitals').map((e) => e.vitals);
    expect(b.map((v) => v.window.startMs)).toEqual(a.map((v) => v.window.startMs));
    const own = windowStartMs(skewed.tsMs);
    const differing = b.filter((v, k) => JSON.stringify(v) !== JSON.stringify(a[k])).map((v) => v.window.startMs);
    expect(differing).toEqual([own]); // its own window only: the CO2 reading counts there
    // The alarms too: the CO2 excursion of its own window is the only difference.
    const alarms = ofType(withSkew.events, 'alarm').map((e) => e.alarm);
    expect(alarms.filter((x) => x.rule !== 'co2')).toEqual(ofType(plain.events, 'alarm').map((e) => e.alarm));
    expect(alarms.filter((x) => x.rule === 'co2').map((x) => `${x.state}@${x.tsMs - own}`)).toEqual(['raised@60000', 'cleared@120000']);
  });

  it('the watermark is min(newest reading, clock) − lateness: the skewed reading does not move it', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC });
    engine.ingest(energy('b1', 'm1', s(100), { powerKw: 1 }));
    engine.advance(s(100));
    expect(engine.watermarkMs).toBe(s(70));
    engine.ingest(energy('b1', 'pv1', s(390), { powerKw: 1 }));
    engine.advance(s(101));
    expect(engine.watermarkMs).toBe(s(71));
    // Readings slow to arrive hold it back: the clock runs on, the newest reading does not.
    engine.advance(s(130));
    expect(engine.watermarkMs).toBe(s(100));
  });

  it('`now` counts the sensors whose latest reading is ahead of the clock', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0 });
    engine.ingest(energy('b1', 'm1', s(10), { powerKw: 1 }));
    engine.ingest(carbon('b1', 'c1', s(200), { co2Ppm: 700 }));
    expect(engine.now(s(20)).buildings.b1.sensors_skewed).toBe(1);
    expect(engine.now(s(20)).park.sensors_skewed).toBe(1);
    expect(engine.now(s(200)).buildings.b1.sensors_skewed).toBeUndefined();
  });
});

describe('ParkVitalsEngine: sensors starting', () => {
  it('when the park’s data begins, a sensor not heard yet within its silence limit is starting, not offline (online_ratio stays as the contract says)', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 0 });
    // b1's meters report from the start every 10 s; its CO2 sensor (60 s) first at +100 s, its counter (30 s) never.
    const events: VitalsEvent[] = [];
    for (let t = 0; t <= 240; t += 10) {
      for (const id of ['m1', 'pv1']) engine.ingest(energy('b1', id, s(t), { powerKw: 10 }));
      if (t >= 100) engine.ingest(carbon('b1', 'c1', s(t), { co2Ppm: 600 }));
      events.push(...engine.advance(s(t)));
    }
    const b1 = ofType(events, 'vitals').map((e) => e.vitals.buildings.b1.online_ratio);
    expect(b1).toEqual([0.5, 0.75, 0.75, 0.75]); // the contract's ratio, whatever starting means
    const offline = ofType(events, 'alarm').map((e) => e.alarm).filter((a) => a.building === 'b1' && a.rule === 'offline');
    // The counter's limit (90 s) passed without a reading: offline from the window ending at 120 s on, never before.
    expect(offline.map((a) => `${(a.tsMs - T0) / SEC} ${a.severity} ${a.state}`)).toEqual(['120 warn raised']);
  });
});

describe('ParkVitalsEngine: a silent park', () => {
  it('does not derive the windows that ended before the first reading it ever had (it started before its devices)', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC, idleMs: 5 * MIN });
    engine.advance(s(1));
    for (let t = 150; t < 300; t += 10) {
      engine.ingest(energy('b1', 'm1', s(t), { powerKw: 1 }));
      engine.ingest(energy('b2', 'm1', s(t), { powerKw: 1 }));
    }
    const events = engine.advance(s(300));
    // [0, 60) and [60, 120) had nothing at all; the window of the first reading, [120, 180), is derived.
    expect(ofType(events, 'vitals').map((e) => (e.vitals.window.startMs - T0) / MIN)).toEqual([2, 3]);
  });

  it('silent before its devices come, then their first window skipped: the windows after count every interval', () => {
    // Reproduces a run seen end to end: a window closed silent, the next (ending before the first reading) skipped.
    const engine = new ParkVitalsEngine(index, { startMs: T0 - MIN, allowedLatenessMs: 30 * SEC, idleMs: 30 * SEC });
    engine.advance(s(-60));
    expect(ofType(engine.advance(s(31)), 'vitals').map((e) => (e.vitals.window.startMs - T0) / MIN)).toEqual([-1]); // silent
    const readings: Reading[] = [];
    for (let t = 65; t < 300; t += 10) readings.push(energy('b1', 'm1', s(t), { energyKwh: 1000 + t / 10 }));
    const events: VitalsEvent[] = [];
    for (const r of readings) {
      engine.ingest(r);
      events.push(...engine.advance(r.tsMs + 100));
    }
    const vitals = ofType(events, 'vitals').map((e) => e.vitals);
    const batch = computeVitals(index, readings, { fromMs: T0 + MIN, toMs: T0 + 4 * MIN });
    expect(vitals.map((v) => (v.window.startMs - T0) / MIN)).toEqual([1, 2, 3]);
    expect(vitals.map((v) => v.buildings.b1.energy_kwh)).toEqual(batch.map((v) => v.buildings.b1.energy_kwh));
    expect(vitals[1].buildings.b1.energy_kwh).toBeCloseTo(6, 9);
  });

  it('waits for readings, then closes windows on the clock alone once nothing arrived for idleMs', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 30 * SEC, idleMs: 60 * SEC });
    engine.ingest(energy('b1', 'm1', s(5), { powerKw: 1 }));
    expect(engine.advance(s(5))).toEqual([]);
    expect(engine.advance(s(64))).toEqual([]); // 59 s without a reading: windows wait for them
    const closed = ofType(engine.advance(s(65)), 'vitals').map((e) => (e.vitals.window.startMs - T0) / MIN);
    expect(closed).toEqual([]); // silent now: watermark = 65 − 30 s, the first window ends at 60 s
    expect(ofType(engine.advance(s(90)), 'vitals').map((e) => (e.vitals.window.startMs - T0) / MIN)).toEqual([0]);
    // A reading arriving again puts the readings back in charge.
    engine.ingest(energy('b1', 'm1', s(100), { powerKw: 1 }));
    engine.advance(s(200));
    expect(engine.openWindowStartMs).toBe(T0 + MIN);
  });

  it('a gateway that starts before its devices closes nothing until one reports or idleMs passed', () => {
    const engine = new ParkVitalsEngine(index, { startMs: s(-30), allowedLatenessMs: 30 * SEC, idleMs: 60 * SEC });
    for (let t = 0; t < 59; t++) expect(engine.advance(s(t))).toEqual([]);
    // Old (backfilled) readings arrive: late for the engine, but the park is not silent.
    for (let t = 59; t < 200; t++) {
      expect(engine.ingest(energy('b1', 'm1', s(t - 3600), { powerKw: 1 }))).toBe('late');
      expect(engine.advance(s(t))).toEqual([]);
    }
  });
});

describe('ParkVitalsEngine: late readings are context of the open windows', () => {
  it('the open windows come out as the recompute of every reading, the late one included', () => {
    const all = steadyPark(6);
    // b1/o1's count at +150 s and b1/m1's register at +150 s reach the engine after their window closed.
    const lateOnes = [people('b1', 'o1', s(175), 99), energy('b1', 'm1', s(175), { energyKwh: 1000 + 17.5 + 1, powerKw: 360 })];
    const onTime = all.filter((r) => !lateOnes.some((l) => l.building === r.building && l.sensor === r.sensor && l.tsMs === r.tsMs));
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 10 * SEC });
    const events: VitalsEvent[] = [];
    let i = 0;
    for (let t = 0; t <= 6 * 60 + 60; t++) {
      for (; i < onTime.length && onTime[i].tsMs <= s(t); i++) engine.ingest(onTime[i]);
      if (t === 200) for (const r of lateOnes) expect(engine.ingest(r)).toBe('late');
      events.push(...engine.advance(s(t)));
    }
    const batch = computeVitals(index, [...onTime, ...lateOnes], { fromMs: T0, toMs: T0 + 6 * MIN });
    const afterLate = ofType(events, 'vitals').map((e) => e.vitals).filter((v) => v.window.startMs >= T0 + 3 * MIN);
    expect(afterLate.length).toBeGreaterThan(0);
    const numbers = (v: ParkVitals) => JSON.stringify(v, (k, x) => (k === 'status' ? undefined : x));
    expect(afterLate.map(numbers)).toEqual(batch.filter((v) => v.window.startMs >= T0 + 3 * MIN).map(numbers));
  });
});

describe('ParkVitalsEngine.adoptAlarm', () => {
  const alarm = (rule: Alarm['rule'], severity: Alarm['severity']): Alarm => ({
    parkId: 'tp', building: 'b1', rule, severity, state: 'raised', value: 1, threshold: 1, message: '', tsMs: T0, late: true,
  });

  it('takes an alarm found late unless the building has one of that rule; the engine then clears it itself', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 0, activeAlarms: [alarm('offline', 'warn')] });
    expect(engine.adoptAlarm(alarm('offline', 'critical'))).toBe(false);
    expect(engine.adoptAlarm(alarm('co2', 'warn'))).toBe(true);
    expect(engine.activeAlarms().map((a) => `${a.rule}:${a.severity}`)).toEqual(['offline:warn', 'co2:warn']);
    engine.ingest(carbon('b1', 'c1', s(10), { co2Ppm: 600 }));
    engine.ingest(carbon('b1', 'c1', s(61), { co2Ppm: 600 }));
    const cleared = ofType(engine.advance(s(61)), 'alarm').map((e) => e.alarm).filter((a) => a.rule === 'co2');
    expect(cleared.map((a) => `${a.state}:${a.severity}:${a.late ?? false}`)).toEqual(['cleared:warn:false']);
  });
});

describe('ParkVitalsEngine.dropAlarm', () => {
  const alarm = (state: Alarm['state'], tsMs: number, severity: Alarm['severity'] = 'warn'): Alarm => ({
    parkId: 'tp', building: 'b1', rule: 'offline', severity, state, value: 1, threshold: 1, message: '', tsMs,
  });

  it('drops the alarm a late clear ended (same building, rule, severity, raised before it), silently', () => {
    const engine = new ParkVitalsEngine(index, { startMs: T0, activeAlarms: [alarm('raised', T0 - MIN)] });
    expect(engine.dropAlarm(alarm('cleared', T0 - 2 * MIN))).toBe(false); // raised after that clear: another episode
    expect(engine.dropAlarm(alarm('cleared', T0, 'critical'))).toBe(false);
    expect(engine.dropAlarm(alarm('cleared', T0))).toBe(true);
    expect(engine.activeAlarms()).toEqual([]);
  });
});
