import fc from 'fast-check';
import { localToUtcMs } from '@park/telemetry';
import { coarsenSeries, conformalQuantile, dayTypeOf, fitLoadForecast, forecastLoad, intervalCoverage, mape, observeLoad, ParkCalendar, SeriesPoint } from './load-forecast';

const Q = 900_000;
const DAY = 86_400_000;
const SHANGHAI: ParkCalendar = { timeZone: 'Asia/Shanghai', holidays: new Set() };
// Monday 2026-11-02 00:00 in Shanghai.
const MONDAY = localToUtcMs('Asia/Shanghai', 2026, 11, 2);

/** A small deterministic generator (mulberry32) for noise. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An office-like load: 300 kW at night, 700 kW on weekday working hours, 350 kW at weekends; multiplicative noise. */
function officeKw(calendar: ParkCalendar, tMs: number): number {
  const hour = ((tMs - MONDAY) % DAY) / 3_600_000;
  const type = dayTypeOf(calendar, tMs);
  if (type !== 'weekday') return hour >= 9 && hour < 17 ? 350 : 300;
  return hour >= 8 && hour < 18 ? 700 : 300;
}

function series(days: number, calendar: ParkCalendar, noise: number, seed = 1, fromMs = MONDAY): SeriesPoint[] {
  const r = rng(seed);
  const out: SeriesPoint[] = [];
  for (let t = fromMs; t < fromMs + days * DAY; t += Q) out.push({ tMs: t, value: officeKw(calendar, t) * (1 + noise * (2 * r() - 1)) });
  return out;
}

describe('dayTypeOf', () => {
  it.each([
    ['Monday', MONDAY + 12 * 3_600_000, 'weekday'],
    ['Saturday', MONDAY + 5 * DAY + 3_600_000, 'saturday'],
    ['Sunday', MONDAY + 6 * DAY + 3_600_000, 'sunday'],
    ['a holiday Tuesday', MONDAY + DAY + 3_600_000, 'sunday'],
  ])('%s', (_name, t, type) => {
    expect(dayTypeOf({ timeZone: 'Asia/Shanghai', holidays: new Set(['2026-11-03']) }, t)).toBe(type);
  });

  it('is park time: Sunday 23:00 in Shanghai is Sunday although UTC says 15:00', () => {
    expect(dayTypeOf(SHANGHAI, MONDAY - 3_600_000)).toBe('sunday');
    expect(dayTypeOf({ timeZone: 'UTC', holidays: new Set() }, MONDAY - 3_600_000)).toBe('sunday');
    expect(dayTypeOf({ timeZone: 'America/Los_Angeles', holidays: new Set() }, MONDAY - 3_600_000)).toBe('sunday');
    expect(dayTypeOf({ timeZone: 'America/Los_Angeles', holidays: new Set() }, MONDAY + 12 * 3_600_000)).toBe('sunday');
  });
});

describe('fitLoadForecast', () => {
  it.each([
    [0, 0],
    [3, 3],
    [7.9, 7.9],
  ])('refuses %s days of history, saying how much it has and needs', (days, have) => {
    const r = fitLoadForecast(series(days, SHANGHAI, 0), SHANGHAI, { stepMs: Q });
    expect(r).toEqual({ ok: false, reason: 'too_little_history', haveDays: have, needDays: 8 });
  });

  it('learns weekday, Saturday and Sunday shapes: a noise-free series is forecast exactly', () => {
    const r = fitLoadForecast(series(14, SHANGHAI, 0), SHANGHAI, { stepMs: Q });
    if (!r.ok) throw new Error('fit failed');
    const next = forecastLoad(r.model, MONDAY + 14 * DAY, 96 * 7);
    expect(next).toHaveLength(96 * 7);
    for (const p of next) {
      expect(p.value).toBeCloseTo(officeKw(SHANGHAI, p.tMs), 6);
      expect(p.lo).toBeLessThanOrEqual(p.value);
      expect(p.hi).toBeGreaterThanOrEqual(p.value);
    }
  });

  it('forecasts a holiday like a Sunday', () => {
    const cal: ParkCalendar = { timeZone: 'Asia/Shanghai', holidays: new Set(['2026-11-17']) };
    const r = fitLoadForecast(series(15, cal, 0), cal, { stepMs: Q });
    if (!r.ok) throw new Error('fit failed');
    // Tuesday 17 Nov 2026 is a holiday: 11:00 is at the Sunday level.
    const [p] = forecastLoad(r.model, MONDAY + 15 * DAY + 11 * 3_600_000, 1);
    expect(p.value).toBeCloseTo(350, 6);
  });

  it('on noisy data: small error and an honest 80 % interval', () => {
    const history = series(21, SHANGHAI, 0.08, 7);
    const r = fitLoadForecast(history, SHANGHAI, { stepMs: Q });
    if (!r.ok) throw new Error('fit failed');
    const actual = series(7, SHANGHAI, 0.08, 99, MONDAY + 21 * DAY);
    const f = forecastLoad(r.model, MONDAY + 21 * DAY, 96 * 7);
    expect(mape(f, actual)).toBeLessThan(0.06);
    const cov = intervalCoverage(f, actual);
    expect(cov).toBeGreaterThan(0.7);
    expect(cov).toBeLessThan(0.9);
  });

  it('tolerates gaps and unsorted input', () => {
    const h = series(14, SHANGHAI, 0).filter((_, i) => i % 7 !== 3).reverse();
    const r = fitLoadForecast(h, SHANGHAI, { stepMs: Q });
    expect(r.ok).toBe(true);
  });

  it('fits hourly steps from coarsened quarter-hours', () => {
    const hourly = coarsenSeries(series(14, SHANGHAI, 0), 3_600_000);
    expect(hourly).toHaveLength(14 * 24);
    const r = fitLoadForecast(hourly, SHANGHAI, { stepMs: 3_600_000 });
    if (!r.ok) throw new Error('fit failed');
    const [p] = forecastLoad(r.model, MONDAY + 14 * DAY + 10 * 3_600_000, 1);
    expect(p.value).toBeCloseTo(700, 6);
  });
});

describe('observeLoad', () => {
  const fitted = fitLoadForecast(series(14, SHANGHAI, 0), SHANGHAI, { stepMs: Q });
  if (!fitted.ok) throw new Error('fit failed');
  // A noise-free history has no residual autocorrelation (φ = 0); give it some.
  const model = { ...fitted.model, phi: 0.9 };

  it('the noise-free fit has φ = 0', () => expect(fitted.model.phi).toBe(0));

  it('moves the origin and pulls the next steps toward what was seen', () => {
    const t = MONDAY + 14 * DAY + 10 * 3_600_000;
    const moved = observeLoad(model, t, 770); // 10 % above the 700 kW profile
    expect(moved.originMs).toBe(t + Q);
    expect(moved.residual).toBeCloseTo(0.1, 9);
    const [next] = forecastLoad(moved, t + Q, 1);
    expect(next.value).toBeGreaterThan(700);
    expect(next.value).toBeLessThanOrEqual(770);
  });

  it('ignores steps older than the model and non-finite values', () => {
    expect(observeLoad(model, MONDAY, 1e6)).toBe(model);
    expect(observeLoad(model, model.originMs, NaN)).toBe(model);
  });
});

describe('conformalQuantile', () => {
  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], 0.9, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9], 0.1, 1],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 0.9, 18],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 0.1, 2],
    [[], 0.9, 0],
  ])('%j at %s → %s', (s, q, v) => expect(conformalQuantile(s, q)).toBe(v));
});

describe('properties', () => {
  it('a constant load is forecast as itself, inside its interval', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e5, noNaN: true }), (kw) => {
        const h: SeriesPoint[] = [];
        for (let t = MONDAY; t < MONDAY + 9 * DAY; t += 3_600_000) h.push({ tMs: t, value: kw });
        const r = fitLoadForecast(h, SHANGHAI, { stepMs: 3_600_000 });
        if (!r.ok) return false;
        return forecastLoad(r.model, MONDAY + 9 * DAY, 24).every((p) => Math.abs(p.value - kw) <= 1e-9 * kw && p.lo <= p.value && p.value <= p.hi);
      }),
      { numRuns: 20 },
    );
  });

  it('scaling the history scales the forecast and its interval (the method has no units)', () => {
    const base = series(10, SHANGHAI, 0.05, 3).filter((_, i) => i % 4 === 0).map((p) => ({ tMs: p.tMs - (p.tMs % 3_600_000), value: p.value }));
    const r1 = fitLoadForecast(base, SHANGHAI, { stepMs: 3_600_000 });
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), (c) => {
        const r2 = fitLoadForecast(base.map((p) => ({ tMs: p.tMs, value: p.value * c })), SHANGHAI, { stepMs: 3_600_000 });
        if (!r1.ok || !r2.ok) return false;
        const f1 = forecastLoad(r1.model, MONDAY + 10 * DAY, 24);
        const f2 = forecastLoad(r2.model, MONDAY + 10 * DAY, 24);
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
        return f1.every((p, i) => close(f2[i].value, p.value * c) && close(f2[i].lo, p.lo * c) && close(f2[i].hi, p.hi * c));
      }),
      { numRuns: 15 },
    );
  });

  it('coarsening keeps the mean of full coarse steps', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 4, maxLength: 4 * 30 }), (vals) => {
        const n = vals.length - (vals.length % 4);
        const pts = vals.slice(0, n).map((value, i) => ({ tMs: i * Q, value }));
        const c = coarsenSeries(pts, 4 * Q);
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        return Math.abs(mean(c.map((p) => p.value)) - mean(pts.map((p) => p.value))) <= 1e-9 * Math.max(1, mean(pts.map((p) => p.value)));
      }),
    );
  });
});
