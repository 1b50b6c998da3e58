import { overlapMs, windowHours, windowSpan, windowsInRange, windowStartMs } from './window';

describe('tumbling windows (contract §6)', () => {
  it.each([
    [0, 0],
    [59_999, 0],
    [60_000, 60_000],
    [1_764_201_645_123, 1_764_201_600_000],
  ])('window of %d starts at %d', (ts, start) => {
    expect(windowStartMs(ts)).toBe(start);
  });

  it('lists the windows of a range, the unaligned start included, the end exclusive', () => {
    expect(windowsInRange({ fromMs: 30_000, toMs: 180_000 })).toEqual([
      { startMs: 0, endMs: 60_000 },
      { startMs: 60_000, endMs: 120_000 },
      { startMs: 120_000, endMs: 180_000 },
    ]);
    expect(windowsInRange({ fromMs: 60_000, toMs: 60_000 })).toEqual([]);
    expect(windowsInRange({ fromMs: 0, toMs: 100 }, 50)).toEqual([
      { startMs: 0, endMs: 50 },
      { startMs: 50, endMs: 100 },
    ]);
  });

  it('a one-minute window is 1/60 h', () => {
    expect(windowHours({ startMs: 0, endMs: 60_000 })).toBeCloseTo(1 / 60, 15);
  });

  it.each([
    // a, b, window, overlap
    [10, 50, [0, 60], 40],
    [30, 90, [0, 60], 30],
    [30, 90, [60, 120], 30],
    [0, 60, [60, 120], 0], // ends exactly where the window starts
    [60, 120, [0, 60], 0], // starts exactly where the window ends
    [-100, 500, [0, 60], 60],
  ])('interval (%d, %d) overlaps %j by %d ms', (a, b, [s, e], ms) => {
    expect(overlapMs(a, b, { startMs: s, endMs: e })).toBe(ms);
  });

  it('spans the windows an interval overlaps', () => {
    expect(windowSpan(30, 210, 0, 60)).toEqual([0, 3]);
    expect(windowSpan(30, 180, 0, 60)).toEqual([0, 2]);
    expect(windowSpan(60, 120, 0, 60)).toEqual([1, 1]);
    expect(windowSpan(130, 170, 60, 60)).toEqual([1, 1]);
  });
});
