import { layoutChart, niceDomain, niceStep, parseHistory, type ChartBox } from './history.chart';

const box: ChartBox = { width: 300, height: 120, left: 40, right: 10, top: 10, bottom: 20 };
const H = 3_600_000;
const FROM = Date.parse('2025-11-26T08:00:00Z');
const TO = FROM + 24 * H;
const Q = 15 * 60_000;

describe('history chart scaling', () => {
  it.each([
    [10, 4, 2.5],
    [100, 4, 25],
    [7, 4, 2],
    [0.9, 4, 0.25],
    [1234, 4, 500],
  ])('niceStep(%p, %p) = %p', (range, count, step) => {
    expect(niceStep(range, count)).toBeCloseTo(step);
  });

  it('rounds the domain out to ticks', () => {
    expect(niceDomain(0, 1234)).toEqual({ min: 0, max: 1500, step: 500, ticks: [0, 500, 1000, 1500] });
    expect(niceDomain(412, 1009).ticks).toEqual([400, 600, 800, 1000, 1200]);
  });

  it('gives a flat series a domain around it', () => {
    const d = niceDomain(50, 50);
    expect(d.min).toBeLessThanOrEqual(25);
    expect(d.max).toBeGreaterThanOrEqual(75);
    expect(niceDomain(0, 0)).toMatchObject({ min: 0, max: 1 });
  });

  it('parses, sorts and keeps nulls as gaps', () => {
    expect(
      parseHistory([
        { t: new Date(FROM + Q).toISOString(), value: 2 },
        { t: 'garbage', value: 3 },
        { t: new Date(FROM).toISOString(), value: null },
      ]),
    ).toEqual([
      { tMs: FROM, value: null },
      { tMs: FROM + Q, value: 2 },
    ]);
  });

  it('maps time to x over the plot and values to y from the baseline up', () => {
    const series = [
      { tMs: FROM, value: 0 },
      { tMs: FROM + 12 * H, value: 500 },
      { tMs: TO, value: 1000 },
    ];
    const c = layoutChart(series, { fromMs: FROM, toMs: TO, everyMs: 12 * H, box });
    expect(c.points.map((p) => [p.x, p.y])).toEqual([
      [40, 100],
      [165, 55],
      [290, 10],
    ]);
    expect(c.line).toBe('M40 100L165 55L290 10');
    expect(c.area).toBe('M40 100L40 100L165 55L290 10L290 100Z');
    expect(c.yTicks.map((t) => t.value)).toEqual([0, 250, 500, 750, 1000]);
    expect(c.last).toEqual({ tMs: TO, value: 1000 });
  });

  it('breaks the line at a missing window and at a null', () => {
    const series = [
      { tMs: FROM, value: 1 },
      { tMs: FROM + Q, value: 2 },
      { tMs: FROM + 4 * Q, value: 3 }, // two windows missing
      { tMs: FROM + 5 * Q, value: null },
      { tMs: FROM + 6 * Q, value: 4 },
    ];
    const c = layoutChart(series, { fromMs: FROM, toMs: TO, everyMs: Q, box });
    expect(c.line.match(/M/g)).toHaveLength(3);
    expect(c.points).toHaveLength(4);
  });

  it('includes the reference line in the domain and places it', () => {
    const c = layoutChart([{ tMs: FROM, value: 100 }], { fromMs: FROM, toMs: TO, everyMs: Q, box, reference: 1500 });
    expect(c.yMax).toBeGreaterThanOrEqual(1500);
    expect(c.referenceY).toBeGreaterThanOrEqual(box.top);
    expect(c.referenceY).toBeLessThan(box.height - box.bottom);
  });

  it('keeps negative values (export) on the axis', () => {
    const c = layoutChart(
      [
        { tMs: FROM, value: -50 },
        { tMs: FROM + Q, value: 100 },
      ],
      { fromMs: FROM, toMs: TO, everyMs: Q, box },
    );
    expect(c.yMin).toBeLessThanOrEqual(-50);
    expect(c.yTicks.some((t) => t.value === 0)).toBe(true);
  });

  it('puts hour ticks every 6 h (shifted by the local offset), and draws nothing without data', () => {
    const c = layoutChart([], { fromMs: FROM, toMs: TO, everyMs: Q, box, tickOffsetMs: -8 * H });
    expect(c.line).toBe('');
    expect(c.points).toHaveLength(0);
    expect(c.last).toBeUndefined();
    expect(c.xTicks.length).toBe(4);
    for (const t of c.xTicks) expect(((t.tMs + 8 * H) / H) % 6).toBe(0);
  });

  describe('with a forecast after now (contract §8)', () => {
    const now = FROM + 12 * H;
    const steps = [0, 1, 2, 3].map((k) => ({ tMs: now + k * Q, value: 100 + 10 * k, lo: 80 + 10 * k, hi: 120 + 10 * k }));

    it('draws its line and band right of now, and its band counts in the y domain', () => {
      const c = layoutChart([{ tMs: FROM, value: 50 }], { fromMs: FROM, toMs: TO, everyMs: Q, box, forecast: steps, nowMs: now });
      expect(c.forecast?.points).toBe(4);
      expect(c.forecast?.line.match(/[ML]/g)).toHaveLength(4);
      expect(c.forecast?.band.startsWith('M')).toBe(true);
      expect(c.forecast?.band.endsWith('Z')).toBe(true);
      expect(c.yMax).toBeGreaterThanOrEqual(150);
      const xs = [...(c.forecast?.line.matchAll(/[ML]([\d.]+) /g) ?? [])].map((m) => Number(m[1]));
      for (const x of xs) expect(x).toBeGreaterThan(c.forecast!.nowX);
      expect(c.forecast?.peak).toEqual({ tMs: now + 3 * Q, value: 130 });
    });

    it.each([
      ['none given', undefined, undefined],
      ['an empty forecast', [], 0],
      ['steps outside the chart', [{ tMs: TO + H, value: 1, lo: 0, hi: 2 }], 0],
      ['non-finite steps', [{ tMs: now, value: NaN, lo: 0, hi: 2 }], 0],
    ])('%s', (_n, forecast, points) => {
      const c = layoutChart([], { fromMs: FROM, toMs: TO, everyMs: Q, box, forecast, nowMs: now });
      expect(c.forecast?.points).toBe(points);
    });
  });
});
