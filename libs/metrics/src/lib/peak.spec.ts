import { peakKw, PowerMeter } from './peak';

const S = 1000;
const W = { startMs: 60 * S, endMs: 120 * S };
const meter = (points: Array<[number, number]>, limitMs = 30 * S): PowerMeter => ({
  series: points.map(([t, p]) => ({ tsMs: t * S, powerKw: p })),
  limitMs,
});

describe('peak_kw: highest sum of the grid meters latest power in the window (sample and hold)', () => {
  it.each<[string, PowerMeter[], number]>([
    ['no meter', [], 0],
    ['no reading at all', [meter([])], 0],
    ['held values only (from before the window)', [meter([[55, 100]]), meter([[58, 50]])], 150],
    [
      'the sum at each reading instant',
      // start: 100+50; 70 s: 200+50; 80 s: 200+300; 90 s: 50+300
      [meter([[55, 100], [70, 200], [90, 50]]), meter([[58, 50], [80, 300]])],
      500,
    ],
    ['the held value at the window start can be the peak', [meter([[55, 900], [65, 10]])], 900],
    ['readings at one instant count together', [meter([[55, 0], [70, 100]]), meter([[55, 0], [70, 100]])], 200],
    ['a meter silent beyond 3 × interval at the window start holds nothing', [meter([[20, 1000]]), meter([[58, 50]])], 50],
    ['a meter that falls silent inside the window stops counting (900 if held)', [meter([[55, 400], [61, 400]]), meter([[55, 10], [62, 10], [100, 500]])], 500],
    ['export makes sums negative; the highest still wins', [meter([[55, -40], [70, -20]])], -20],
    ['readings from the next window do not count', [meter([[55, 10], [120, 999]])], 10],
  ])('%s', (_name, meters, expected) => {
    expect(peakKw(meters, W)).toBe(expected);
  });
});
