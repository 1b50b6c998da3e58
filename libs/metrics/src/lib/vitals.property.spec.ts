import { Reading } from '@park/telemetry';
import fc from 'fast-check';
import { carbon, energy, MIN, people, T0, tpIndex } from '../testing/readings.fixture';
import { computeVitals, computeVitalsDetailed } from './compute-vitals';
import { importKwhOfRamp, registerIncrease } from './energy';
import { ParkVitalsEngine } from './park-vitals.engine';
import { ParkVitals } from './vital-signs';
import { VitalsEvent } from './vitals-event';

const index = tpIndex();
const NEVER_FORGET = 1e12; // revision horizon that keeps every closed window

const closeTo = (got: number, want: number) => Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want));

/** b1's contract is 500 kW: its registers may rise at most 1000 kWh per hour (contract §8). */
const B1_LIMIT_KWH_PER_H = 2 * index.model.buildings[0].contractedKw;
const H = 3_600_000;

/**
 * One meter's register stream: arbitrary intervals (10 ms to 15 min), a load
 * up to 95 % of the plausibility bound, and resets (the register restarts at
 * what it counted since the last reading).
 */
const registerStream = fc
  .record({
    offsetMs: fc.integer({ min: 0, max: 3 * MIN }),
    first: fc.double({ min: 0, max: 1e6, noNaN: true }),
    steps: fc.array(
      fc.record({
        dtMs: fc.oneof(fc.integer({ min: 10, max: 20_000 }), fc.integer({ min: 20_000, max: 15 * MIN })),
        load: fc.double({ min: 0, max: 0.95, noNaN: true }),
        reset: fc.boolean(),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map(({ offsetMs, first, steps }) => {
    let t = T0 + offsetMs;
    let v = first;
    let total = 0;
    const readings: Reading[] = [energy('b1', 'm1', t, { energyKwh: v })];
    for (const s of steps) {
      t += s.dtMs;
      const inc = (s.load * B1_LIMIT_KWH_PER_H * s.dtMs) / H;
      const next = s.reset && inc < v ? inc : v + inc;
      total += registerIncrease(v, next);
      v = next;
      readings.push(energy('b1', 'm1', t, { energyKwh: v }));
    }
    return { readings, total };
  });

/**
 * A plausible register stream (as above, no resets, from at least 10⁵ kWh)
 * with glitches: a `spike` is one reading with a wrong, huge value (up to the
 * largest double, issue 8's `1.7e308`) after which the meter goes on with the
 * true value; a `jump` moves the register to another base for good (a meter
 * swapped or restarted from another starting point). `truth` is what a
 * meter without glitches would count over the intervals that no glitch
 * touches: exactly what contract §8 leaves counted.
 */
const glitchedStream = fc
  .record({
    first: fc.double({ min: 1e5, max: 1e7, noNaN: true }),
    steps: fc.array(
      fc.record({
        dtMs: fc.oneof(fc.integer({ min: 10, max: 20_000 }), fc.integer({ min: 20_000, max: 15 * MIN })),
        load: fc.double({ min: 0, max: 0.95, noNaN: true }),
        glitch: fc.oneof(
          { weight: 6, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('spike' as const), value: fc.oneof(fc.constant(1.7e308), fc.double({ min: 1e9, max: 1e300, noNaN: true })) }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('jump' as const), value: fc.oneof(fc.double({ min: 1e5, max: 1e12, noNaN: true })) }) },
        ),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ first, steps }) => {
    let t = T0 + 7_000;
    let trueValue = first;
    let base = 0; // what a jump added to the register for good
    let truth = 0;
    let prevSpiked = false;
    let largest = first;
    const readings: Reading[] = [energy('b1', 'm1', t, { energyKwh: first })];
    for (const s of steps) {
      t += s.dtMs;
      const inc = (s.load * B1_LIMIT_KWH_PER_H * s.dtMs) / H;
      trueValue += inc;
      let touched: boolean = prevSpiked;
      prevSpiked = false;
      if (s.glitch?.kind === 'jump') {
        base = s.glitch.value - trueValue;
        touched = true;
      }
      let shown = trueValue + base;
      if (s.glitch?.kind === 'spike') {
        shown = s.glitch.value;
        prevSpiked = touched = true;
      }
      if (!touched) truth += inc;
      if (s.glitch?.kind !== 'spike') largest = Math.max(largest, shown);
      readings.push(energy('b1', 'm1', t, { energyKwh: shown }));
    }
    return { readings, truth, largest };
  });

/** A span of whole windows covering every reading. */
function cover(readings: Reading[], windowMs: number) {
  const ts = readings.map((r) => r.tsMs);
  return { fromMs: Math.min(...ts), toMs: Math.max(...ts) + windowMs };
}

const sumEnergy = (vs: ParkVitals[]) => vs.reduce((a, v) => a + v.buildings.b1.energy_kwh, 0);

/** The last published version of each window (closing or revision), oldest first. */
function finalVitals(events: VitalsEvent[]): ParkVitals[] {
  const m = new Map<number, ParkVitals>();
  for (const e of events) if (e.type === 'vitals' || e.type === 'revision') m.set(e.vitals.window.startMs, e.vitals);
  return [...m.values()].sort((a, b) => a.window.startMs - b.window.startMs);
}

const withoutStatus = (v: ParkVitals) => JSON.stringify(v, (k, x) => (k === 'status' ? undefined : x));

describe('properties: energy is conserved', () => {
  it('the energy_kwh of all windows adds up to the register increase, whatever the intervals, gaps and resets', () => {
    fc.assert(
      fc.property(registerStream, ({ readings, total }) => {
        const vs = computeVitals(index, readings, cover(readings, MIN));
        return closeTo(sumEnergy(vs), total);
      }),
    );
  });

  it('any window length splits the same energy (registers and power-only meters)', () => {
    const powerStream = fc.array(
      fc.record({ dtMs: fc.integer({ min: 1, max: 10 * MIN }), powerKw: fc.double({ min: -500, max: 5000, noNaN: true }) }),
      { minLength: 2, maxLength: 30 },
    );
    fc.assert(
      fc.property(registerStream, powerStream, fc.integer({ min: 1000, max: 20 * MIN }), ({ readings, total }, power, windowMs) => {
        let t = T0;
        const pv = power.map((p) => energy('b1', 'pv1', (t += p.dtMs), { powerKw: p.powerKw }));
        let trapezoids = 0;
        for (let i = 1; i < pv.length; i++) {
          const [a, b] = [pv[i - 1], pv[i]];
          trapezoids += importKwhOfRamp(a.tsMs, a.powerKw as number, b.tsMs, b.powerKw as number, a.tsMs, b.tsMs);
        }
        const all = [...readings, ...pv];
        const vs = computeVitals(index, all, cover(all, windowMs), { windowMs });
        return closeTo(sumEnergy(vs), total) && closeTo(vs.reduce((a, v) => a + v.buildings.b1.pv_kwh, 0), trapezoids);
      }),
    );
  });

  it('the live engine loses no energy, however the stream is cut by clock ticks and whatever the lateness', () => {
    fc.assert(
      fc.property(
        registerStream,
        fc.array(fc.integer({ min: 0, max: 5 * MIN }), { minLength: 40, maxLength: 40 }),
        fc.constantFrom(0, 5_000, 30_000, 120_000),
        ({ readings, total }, ticks, allowedLatenessMs) => {
          const engine = new ParkVitalsEngine(index, { allowedLatenessMs, revisionHorizonMs: NEVER_FORGET });
          const events: VitalsEvent[] = [];
          readings.forEach((r, i) => {
            engine.ingest(r);
            // a clock somewhere up to the lateness ahead of the reading: nothing becomes late
            events.push(...engine.advance(r.tsMs + Math.min(ticks[i % ticks.length], allowedLatenessMs)));
          });
          events.push(...engine.flush());
          return closeTo(sumEnergy(finalVitals(events)), total);
        },
      ),
    );
  });
});

describe('properties: implausible register steps (contract §8)', () => {
  const everyField = (v: ParkVitals) => [v.park, ...Object.values(v.buildings)].flatMap((x) => Object.values(x).filter((f) => typeof f === 'number'));

  it('a glitch costs exactly the intervals it touches: the rest of the register counts, from the new value on', () => {
    fc.assert(
      fc.property(glitchedStream, ({ readings, truth, largest }) => {
        const { vitals } = computeVitalsDetailed(index, readings, cover(readings, MIN));
        // Each step is a difference of register values: a few ulps of the largest one per step.
        const tolerance = 1e-9 * Math.max(1, truth) + 4 * readings.length * largest * Number.EPSILON;
        expect(Math.abs(sumEnergy(vitals) - truth)).toBeLessThanOrEqual(tolerance);
      }),
    );
  });

  it('no vitals field is ever non-finite, live or recomputed, whatever the register says', () => {
    fc.assert(
      fc.property(glitchedStream, fc.constantFrom(0, 10_000, 30_000), ({ readings }, allowedLatenessMs) => {
        const engine = new ParkVitalsEngine(index, { allowedLatenessMs, revisionHorizonMs: NEVER_FORGET });
        const events: VitalsEvent[] = [];
        for (const r of readings) {
          engine.ingest(r);
          events.push(...engine.advance(r.tsMs));
        }
        events.push(...engine.flush());
        const live = finalVitals(events);
        const batch = computeVitals(index, readings, rangeOf(live));
        for (const v of [...live, ...batch]) expect(everyField(v).every(Number.isFinite)).toBe(true);
        expect(live.map(withoutStatus)).toEqual(batch.map(withoutStatus));
      }),
    );
  });

  it('the live engine reports each implausible step once, as the recompute finds them', () => {
    fc.assert(
      fc.property(glitchedStream, ({ readings }) => {
        const engine = new ParkVitalsEngine(index, { allowedLatenessMs: 30_000 });
        const events: VitalsEvent[] = [];
        for (const r of readings) {
          engine.ingest(r);
          events.push(...engine.advance(r.tsMs));
        }
        events.push(...engine.flush());
        const reported = events.flatMap((e) => (e.type === 'implausible' ? [e.step] : []));
        const found = computeVitalsDetailed(index, readings, cover(readings, MIN)).implausible.map((x) => x.step);
        expect(reported).toEqual(found);
      }),
    );
  });
});

const SENSORS: Array<[string, string, 'energy' | 'carbon' | 'occupancy']> = [
  ['b1', 'm1', 'energy'],
  ['b1', 'pv1', 'energy'],
  ['b1', 'c1', 'carbon'],
  ['b1', 'o1', 'occupancy'],
  ['b2', 'm1', 'energy'],
  ['b2', 'boiler', 'carbon'],
  ['b2', 'o1', 'occupancy'],
];

/**
 * A time-ordered stream of every kind of reading of testPark, with gaps (steps up to `maxStepMs`), resets,
 * mixed fields and, now and then, two readings of one sensor at the same time (merged as one point).
 */
const parkStreamOf = (maxStepMs: number) => fc
  .array(
    fc.record({
      dtMs: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: 12_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: maxStepMs }) },
      ),
      sensor: fc.integer({ min: 0, max: SENSORS.length - 1 }),
      mode: fc.integer({ min: 0, max: 2 }),
      inc: fc.double({ min: 0, max: 20, noNaN: true }),
      reset: fc.integer({ min: 0, max: 15 }),
      powerKw: fc.double({ min: -100, max: 700, noNaN: true }),
      co2Ppm: fc.integer({ min: 300, max: 2000 }),
      count: fc.integer({ min: 0, max: 15 }),
    }),
    { minLength: 1, maxLength: 80 },
  )
  .map((steps) => {
    let t = T0 + 17_000;
    const registers = SENSORS.map(() => 100);
    return steps.map((st): Reading => {
      t += st.dtMs;
      const [b, id, kind] = SENSORS[st.sensor];
      const bump = () => (registers[st.sensor] = st.reset === 0 ? st.inc : registers[st.sensor] + st.inc);
      if (kind === 'occupancy') return people(b, id, t, st.count);
      if (kind === 'carbon') {
        return carbon(b, id, t, {
          ...(st.mode !== 1 ? { co2Ppm: st.co2Ppm } : {}),
          ...(st.mode !== 0 ? { emissionKgco2e: bump() } : {}),
        });
      }
      return energy(b, id, t, {
        ...(st.mode !== 1 ? { energyKwh: bump() } : {}),
        ...(st.mode !== 0 ? { powerKw: st.powerKw } : {}),
      });
    });
  });

const parkStream = parkStreamOf(6 * MIN);

/** The longest time between consecutive readings of one interval chain (energy: all readings; carbon: emission readings). */
function longestChainGapMs(readings: Reading[]): number {
  const last = new Map<string, number>();
  let longest = 0;
  for (const r of readings) {
    if (r.kind === 'occupancy' || (r.kind === 'carbon' && r.emissionKgco2e === undefined)) continue;
    const key = `${r.building}/${r.sensor}`;
    const prev = last.get(key);
    if (prev !== undefined) longest = Math.max(longest, r.tsMs - prev);
    last.set(key, r.tsMs);
  }
  return longest;
}

const lateness = fc.constantFrom(0, 10_000, 30_000, 90_000);

/** In-order delivery; after each reading the clock may move up to the lateness ahead of it. */
function playInOrder(readings: Reading[], allowedLatenessMs: number, clockLead: number[]): { events: VitalsEvent[]; results: string[] } {
  const engine = new ParkVitalsEngine(index, { allowedLatenessMs, revisionHorizonMs: NEVER_FORGET });
  const events: VitalsEvent[] = [];
  const results: string[] = [];
  readings.forEach((r, i) => {
    results.push(engine.ingest(r));
    const lead = clockLead[i % clockLead.length];
    if (lead >= 0) events.push(...engine.advance(r.tsMs + Math.min(lead, allowedLatenessMs)));
  });
  events.push(...engine.flush());
  return { events, results };
}

const rangeOf = (vs: ParkVitals[]) => ({ fromMs: vs[0].window.startMs, toMs: vs[vs.length - 1].window.endMs });

describe('properties: live equals recompute', () => {
  const clockLead = fc.array(fc.integer({ min: -1, max: 90_000 }), { minLength: 1, maxLength: 20 });

  it('for in-order data within the lateness, the published values (revisions applied) are computeVitals exactly', () => {
    fc.assert(
      fc.property(parkStream, lateness, clockLead, (readings, allowedLatenessMs, lead) => {
        const { events, results } = playInOrder(readings, allowedLatenessMs, lead);
        expect(results.filter((r) => r === 'late')).toEqual([]);
        const live = finalVitals(events);
        const batch = computeVitalsDetailed(index, readings, rangeOf(live));
        if (events.some((e) => e.type === 'revision')) {
          // Statuses are decided at closing and not revised: compare the values.
          expect(live.map(withoutStatus)).toEqual(batch.vitals.map(withoutStatus));
        } else {
          expect(live).toEqual(batch.vitals);
          expect(events.flatMap((e) => (e.type === 'alarm' ? [e.alarm] : []))).toEqual(batch.alarms);
        }
      }),
    );
  });

  it('with enough lateness for every interval, there are no revisions and status and alarms match too', () => {
    fc.assert(
      fc.property(parkStreamOf(20_000), clockLead, (readings, lead) => {
        // Every interval closes within 5 min, the clock runs at most 90 s ahead: 7 min of lateness is enough.
        fc.pre(longestChainGapMs(readings) <= 5 * MIN);
        const { events } = playInOrder(readings, 7 * MIN, lead);
        expect(events.filter((e) => e.type === 'revision')).toEqual([]);
        const live = events.flatMap((e) => (e.type === 'vitals' ? [e.vitals] : []));
        const batch = computeVitalsDetailed(index, readings, rangeOf(live));
        expect(live).toEqual(batch.vitals);
        expect(events.flatMap((e) => (e.type === 'alarm' ? [e.alarm] : []))).toEqual(batch.alarms);
      }),
    );
  });

  it('for data out of order within the lateness, the values still come to computeVitals exactly', () => {
    fc.assert(
      fc.property(parkStream, lateness, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }), (readings, allowedLatenessMs, jitter) => {
        const arrivals = readings
          .map((r, i) => ({ r, atMs: r.tsMs + Math.floor(jitter[i % jitter.length] * allowedLatenessMs) }))
          .sort((a, b) => a.atMs - b.atMs);
        const engine = new ParkVitalsEngine(index, { allowedLatenessMs, revisionHorizonMs: NEVER_FORGET });
        const events: VitalsEvent[] = [];
        for (const { r, atMs } of arrivals) {
          expect(engine.ingest(r)).not.toBe('late');
          events.push(...engine.advance(atMs));
        }
        events.push(...engine.flush());
        const live = finalVitals(events);
        const batch = computeVitals(index, readings, rangeOf(live));
        expect(live.map(withoutStatus)).toEqual(batch.map(withoutStatus));
      }),
    );
  });
});

describe('properties: duplicates change nothing', () => {
  it('in a recompute, whatever the order', () => {
    fc.assert(
      fc.property(parkStream, fc.array(fc.nat(), { maxLength: 30 }), (stream, picks) => {
        // Two readings of a sensor at one time with different values are one point whose value depends on the
        // order (later wins): keep one reading per sensor and time, then duplicate and reorder freely.
        const byPoint = new Map(stream.map((r) => [`${r.building}/${r.sensor}@${r.tsMs}`, r]));
        const readings = [...byPoint.values()];
        const range = cover(readings, MIN);
        const dups = picks.map((p) => ({ ...readings[p % readings.length] }));
        const mixed = [...dups, ...readings].reverse();
        expect(computeVitals(index, mixed, range)).toEqual(computeVitals(index, readings, range));
      }),
    );
  });

  it('in the live engine, delivered again right away or one reading later', () => {
    fc.assert(
      fc.property(parkStream, lateness, fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }), (readings, allowedLatenessMs, again) => {
        const once = playInOrder(readings, allowedLatenessMs, [0]).events;
        // A second reading of a sensor at the same time with other values is not a duplicate but an update of
        // the point (merged, later value winning): only re-deliver readings that are alone at their time.
        const key = (r: Reading) => `${r.building}/${r.sensor}@${r.tsMs}`;
        const seen = new Map<string, number>();
        for (const r of readings) seen.set(key(r), (seen.get(key(r)) ?? 0) + 1);
        const alone = (r: Reading) => seen.get(key(r)) === 1;
        const doubled: Reading[] = [];
        readings.forEach((r, i) => {
          doubled.push(r);
          if (again[i % again.length]) {
            if (alone(r)) doubled.push({ ...r });
          } else if (i > 0 && alone(readings[i - 1])) doubled.push({ ...readings[i - 1] });
        });
        const engine = new ParkVitalsEngine(index, { allowedLatenessMs, revisionHorizonMs: NEVER_FORGET });
        const events: VitalsEvent[] = [];
        let clock = -Infinity;
        for (const r of doubled) {
          engine.ingest(r); // a copy arriving after its window closed is late, and changes nothing either
          clock = Math.max(clock, r.tsMs);
          events.push(...engine.advance(clock));
        }
        events.push(...engine.flush());
        expect(events).toEqual(once);
      }),
    );
  });
});
