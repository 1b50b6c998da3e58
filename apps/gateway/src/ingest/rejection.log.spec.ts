import { RejectionEntry, RejectionLog } from './rejection.log';

const entry = (n: number): RejectionEntry => ({ reason: 'bad_json', detail: `d${n}`, topic: `park/p/b/energy/s${n}`, excerpt: `x${n}`, at: new Date(n * 1000).toISOString() });

describe('RejectionLog', () => {
  it('is empty at first', () => {
    expect(new RejectionLog(3).latest()).toEqual([]);
  });

  it('lists newest first', () => {
    const log = new RejectionLog(5);
    for (let n = 1; n <= 3; n++) log.add(entry(n));
    expect(log.latest().map((e) => e.detail)).toEqual(['d3', 'd2', 'd1']);
    expect(log.latest(2).map((e) => e.detail)).toEqual(['d3', 'd2']);
  });

  it('keeps only the latest `capacity` entries', () => {
    const log = new RejectionLog(3);
    for (let n = 1; n <= 8; n++) log.add(entry(n));
    expect(log.latest().map((e) => e.detail)).toEqual(['d8', 'd7', 'd6']);
    expect(log.latest(10)).toHaveLength(3);
  });

  it('defaults to 500 entries', () => {
    const log = new RejectionLog();
    for (let n = 1; n <= 600; n++) log.add(entry(n));
    const latest = log.latest();
    expect(log.capacity).toBe(500);
    expect(latest).toHaveLength(500);
    expect(latest[0].detail).toBe('d600');
    expect(latest[499].detail).toBe('d101');
  });
});
