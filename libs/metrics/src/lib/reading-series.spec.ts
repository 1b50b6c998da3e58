import { insertSample, lastIndexBefore, latestWith, sampleOf, Series, trimSeries } from './reading-series';

const ts = (s: Series) => s.map((x) => x.tsMs);

describe('reading series', () => {
  it('keeps samples sorted whatever the arrival order', () => {
    const s: Series = [];
    for (const t of [50, 10, 30, 20, 40]) expect(insertSample(s, { tsMs: t, count: t })).toBe('inserted');
    expect(ts(s)).toEqual([10, 20, 30, 40, 50]);
  });

  it('treats a second reading at the same time as the same point: identical is a duplicate, new values merge (later wins)', () => {
    const s: Series = [{ tsMs: 10, powerKw: 5 }];
    expect(insertSample(s, { tsMs: 10, powerKw: 5 })).toBe('duplicate');
    expect(insertSample(s, { tsMs: 10, energyKwh: 100 })).toBe('merged');
    expect(insertSample(s, { tsMs: 10, powerKw: 6 })).toBe('merged');
    expect(s).toEqual([{ tsMs: 10, powerKw: 6, energyKwh: 100 }]);
  });

  it('copies only the fields asked for', () => {
    const r = { park: 'p', building: 'b', kind: 'energy' as const, sensor: 's', tsMs: 1, powerKw: 2, count: 3 };
    expect(sampleOf(r, ['powerKw', 'energyKwh'])).toEqual({ tsMs: 1, powerKw: 2 });
    expect(sampleOf(r)).toEqual({ tsMs: 1, powerKw: 2, count: 3 });
  });

  it('finds the latest sample with a field before a time, within a look-back', () => {
    const s: Series = [{ tsMs: 10, powerKw: 1 }, { tsMs: 20, energyKwh: 5 }, { tsMs: 30, powerKw: 3 }];
    expect(lastIndexBefore(s, 30)).toBe(1);
    expect(lastIndexBefore(s, 10)).toBe(-1);
    expect(latestWith(s, 'powerKw', 30)?.tsMs).toBe(10);
    expect(latestWith(s, 'powerKw', 31)?.tsMs).toBe(30);
    expect(latestWith(s, 'powerKw', 30, 15)).toBeUndefined();
    expect(latestWith(s, 'count', 100)).toBeUndefined();
  });

  it('trims to what later windows need: everything from the cut, and before it the latest sample and the latest with each field', () => {
    const s: Series = [
      { tsMs: 10, powerKw: 1, energyKwh: 1 },
      { tsMs: 20, powerKw: 2 },
      { tsMs: 30, energyKwh: 3 },
      { tsMs: 40, energyKwh: 4 },
      { tsMs: 50, powerKw: 5 },
      { tsMs: 60, energyKwh: 6 },
    ];
    trimSeries(s, 45, ['powerKw', 'energyKwh']);
    expect(ts(s)).toEqual([20, 40, 50, 60]);
    trimSeries(s, 45, ['powerKw', 'energyKwh']);
    expect(ts(s)).toEqual([20, 40, 50, 60]);
    trimSeries(s, 100, ['powerKw', 'energyKwh']);
    expect(ts(s)).toEqual([50, 60]);
  });
});
