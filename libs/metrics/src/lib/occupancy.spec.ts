import { addCo2Readings, countAt, emptyCo2Stats, onlineAt, silenceLimitMs } from './occupancy';
import { Series } from './reading-series';

const S = 1000;

describe('silence rule (contract §6: > 3 × intervalS is offline)', () => {
  it('is three intervals', () => {
    expect(silenceLimitMs({ id: 'o1', kind: 'occupancy', intervalS: 30 })).toBe(90 * S);
  });

  const s: Series = [{ tsMs: 10 * S, count: 12 }, { tsMs: 100 * S, count: 30 }];
  it.each([
    // at, online, count
    [11, true, 12],
    [100, true, 12], // a reading at the window end belongs to the next window
    [101, true, 30],
    [190, true, 30], // exactly 3 intervals old: still online
    [191, false, 0], // silent for more than 3 intervals: counts 0
    [5, false, 0],
  ])('at %d s: online %s, count %d', (at, online, count) => {
    expect(onlineAt(s, at * S, 90 * S)).toBe(online);
    expect(countAt(s, at * S, 90 * S)).toBe(count);
  });

  it('a sensor that never reported is offline and counts 0', () => {
    expect(onlineAt([], 1, 90 * S)).toBe(false);
    expect(countAt([], 1, 90 * S)).toBe(0);
  });
});

describe('CO2 statistics of a window', () => {
  it('take every co2 reading in [start, end) once', () => {
    const acc = emptyCo2Stats();
    addCo2Readings(acc, [{ tsMs: 59 * S, co2Ppm: 5000 }, { tsMs: 60 * S, co2Ppm: 800 }, { tsMs: 90 * S, emissionKgco2e: 1 }, { tsMs: 100 * S, co2Ppm: 1200 }, { tsMs: 120 * S, co2Ppm: 9000 }], { startMs: 60 * S, endMs: 120 * S });
    addCo2Readings(acc, [{ tsMs: 61 * S, co2Ppm: 1000 }], { startMs: 60 * S, endMs: 120 * S });
    expect(acc).toEqual({ sumPpm: 3000, n: 3, maxPpm: 1200 });
  });
});
