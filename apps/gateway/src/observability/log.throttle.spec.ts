import { ManualClock } from '../core/clock';
import { LogThrottle } from './log.throttle';

describe('LogThrottle', () => {
  it('lets maxLines through per period and reports the rest once, when the period ends', () => {
    const clock = new ManualClock(0);
    const reports: number[] = [];
    const t = new LogThrottle(3, 10_000, clock, (n) => reports.push(n));
    const taken = Array.from({ length: 10 }, () => t.take());
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(reports).toEqual([]);
    clock.advance(9_999);
    expect(reports).toEqual([]);
    clock.advance(1);
    expect(reports).toEqual([7]);
    // a new period lets lines through again
    expect([t.take(), t.take(), t.take(), t.take()]).toEqual([true, true, true, false]);
    clock.advance(20_000);
    expect(reports).toEqual([7, 1]);
  });

  it('reports nothing when nothing was held back', () => {
    const clock = new ManualClock(0);
    const reports: number[] = [];
    const t = new LogThrottle(2, 1000, clock, (n) => reports.push(n));
    t.take();
    clock.advance(5000);
    t.take();
    expect(reports).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
