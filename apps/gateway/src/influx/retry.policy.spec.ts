import { ExponentialBackoff, MAX_RETRY_AFTER_MS, retryAfterMs } from './retry.policy';

describe('ExponentialBackoff', () => {
  it.each([
    [0, 250],
    [1, 500],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [5, 5000],
    [30, 5000],
  ])('attempt %d without jitter waits %d ms (doubling, capped)', (attempt, ms) => {
    expect(new ExponentialBackoff({ baseMs: 250, maxMs: 5000, jitter: 0 }).delayMs(attempt)).toBe(ms);
  });

  it('draws each delay in [d·(1−jitter), d]', () => {
    const low = new ExponentialBackoff({ baseMs: 1000, maxMs: 60_000, jitter: 0.5 }, () => 0);
    const high = new ExponentialBackoff({ baseMs: 1000, maxMs: 60_000, jitter: 0.5 }, () => 1);
    expect([low.delayMs(2), high.delayMs(2)]).toEqual([2000, 4000]);
  });

  it('honours Retry-After: never shorter, up to its cap', () => {
    const p = new ExponentialBackoff({ baseMs: 250, maxMs: 5000, jitter: 0 });
    expect(p.delayMs(0, 30_000)).toBe(30_000);
    expect(p.delayMs(4, 1000)).toBe(4000);
    expect(p.delayMs(0, 3_600_000)).toBe(MAX_RETRY_AFTER_MS);
    expect(p.delayMs(0, 0)).toBe(250);
  });
});

describe('retryAfterMs (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-11-27T08:00:00Z');
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['120', 120_000],
    [' 5 ', 5000],
    ['Fri, 27 Nov 2026 08:01:00 GMT', 60_000],
    ['Fri, 27 Nov 2026 07:00:00 GMT', 0],
    ['soon', undefined],
    ['-3', undefined],
  ])('%j is %j ms', (header, ms) => {
    expect(retryAfterMs(header, now)).toBe(ms);
  });
});
