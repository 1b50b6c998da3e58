import { backoffDelayMs, DEFAULT_BACKOFF } from './reconnect.backoff';

describe('reconnect backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    const top = () => 0.999999;
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelayMs(a, top, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it('spreads each delay over its jitter fraction', () => {
    expect(backoffDelayMs(2, () => 0)).toBe(1400);
    expect(backoffDelayMs(2, () => 0.5)).toBe(1700);
    expect(backoffDelayMs(2, () => 0.999999)).toBe(2000);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelayMs(-3, () => 0, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(100);
  });
});
