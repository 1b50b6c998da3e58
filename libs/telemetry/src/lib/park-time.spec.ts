import fc from 'fast-check';
import { addLocalDays, DEFAULT_TIME_ZONE, isTimeZone, localDate, localDays, localTime, localToUtcMs, startOfLocalDay, startOfLocalMonth, startOfLocalYear, zoneOffsetMs } from './park-time';

const H = 3_600_000;
const utc = (iso: string) => Date.parse(iso);

describe('park time (contract §8)', () => {
  it('defaults to Asia/Shanghai, UTC+8 all year', () => {
    expect(DEFAULT_TIME_ZONE).toBe('Asia/Shanghai');
    expect(zoneOffsetMs('Asia/Shanghai', utc('2026-01-15T00:00:00Z'))).toBe(8 * H);
    expect(zoneOffsetMs('Asia/Shanghai', utc('2026-07-15T00:00:00Z'))).toBe(8 * H);
  });

  it.each([
    ['Asia/Shanghai', true],
    ['Europe/Berlin', true],
    ['America/New_York', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    [42, false],
  ])('%j is a time zone: %s', (tz, ok) => {
    expect(isTimeZone(tz)).toBe(ok);
  });

  it.each<[string, string, number]>([
    ['Europe/Berlin', '2026-01-15T12:00:00Z', 1],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', 2],
    ['America/New_York', '2026-01-15T12:00:00Z', -5],
    ['America/New_York', '2026-07-15T12:00:00Z', -4],
    ['Asia/Kolkata', '2026-07-15T12:00:00Z', 5.5],
    ['Asia/Kathmandu', '2026-07-15T12:00:00Z', 5.75],
  ])('%s at %s is %d h from UTC', (tz, at, hours) => {
    expect(zoneOffsetMs(tz, utc(at))).toBe(hours * H);
  });

  it('starts the local day at local midnight, in Shanghai and New York', () => {
    expect(startOfLocalDay('Asia/Shanghai', utc('2026-11-27T20:00:00Z'))).toBe(utc('2026-11-27T16:00:00Z'));
    expect(startOfLocalDay('Asia/Shanghai', utc('2026-11-27T15:59:59Z'))).toBe(utc('2026-11-26T16:00:00Z'));
    expect(startOfLocalDay('America/New_York', utc('2026-11-27T03:00:00Z'))).toBe(utc('2026-11-26T05:00:00Z'));
  });

  it('has a 23-hour and a 25-hour day in Berlin (daylight saving)', () => {
    const spring = startOfLocalDay('Europe/Berlin', utc('2026-03-29T12:00:00Z'));
    expect(addLocalDays('Europe/Berlin', spring, 1) - spring).toBe(23 * H);
    const autumn = startOfLocalDay('Europe/Berlin', utc('2026-10-25T12:00:00Z'));
    expect(addLocalDays('Europe/Berlin', autumn, 1) - autumn).toBe(25 * H);
  });

  it('takes a skipped wall time after the jump, and a repeated one at its first occurrence', () => {
    // 02:30 does not exist in Berlin on 29 March 2026; it happens twice on 25 October.
    expect(localToUtcMs('Europe/Berlin', 2026, 3, 29, 2, 30)).toBe(utc('2026-03-29T01:30:00Z'));
    expect(localToUtcMs('Europe/Berlin', 2026, 10, 25, 2, 30)).toBe(utc('2026-10-25T00:30:00Z'));
  });

  it('starts months and years in park time', () => {
    expect(startOfLocalMonth('Asia/Shanghai', utc('2026-11-30T20:00:00Z'))).toBe(utc('2026-11-30T16:00:00Z'));
    expect(startOfLocalMonth('Europe/Berlin', utc('2026-11-15T00:00:00Z'))).toBe(utc('2026-10-31T23:00:00Z'));
    expect(startOfLocalYear('America/New_York', utc('2026-06-01T00:00:00Z'))).toBe(utc('2026-01-01T05:00:00Z'));
  });

  it('gives the local date and time', () => {
    expect(localDate('Asia/Shanghai', utc('2026-11-27T16:30:00Z'))).toBe('2026-11-28');
    expect(localTime('Asia/Shanghai', utc('2026-11-27T16:30:00Z'))).toEqual({ year: 2026, month: 11, day: 28, hour: 0, minute: 30, second: 0, weekday: 6 });
  });

  it.each(['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'])('in %s every instant lies in its local day, which starts at 00:00 (property)', (tz) => {
    fc.assert(
      fc.property(fc.integer({ min: utc('2000-01-01T00:00:00Z'), max: utc('2040-01-01T00:00:00Z') }), (t) => {
        const start = startOfLocalDay(tz, t);
        const next = addLocalDays(tz, start, 1);
        expect(start).toBeLessThanOrEqual(t);
        expect(next).toBeGreaterThan(t);
        expect(next - start).toBeGreaterThanOrEqual(23 * H);
        expect(next - start).toBeLessThanOrEqual(25 * H);
        expect(localTime(tz, start)).toMatchObject({ hour: 0, minute: 0 });
        expect(localDate(tz, start)).toBe(localDate(tz, t));
      }),
      { numRuns: 300 },
    );
  });
});

describe('localDays', () => {
  it('lists the days that overlap a range, with their lengths and offsets', () => {
    const days = localDays('Europe/Berlin', utc('2026-03-28T12:00:00Z'), utc('2026-03-30T12:00:00Z'));
    expect(days.map((d) => [new Date(d.startMs).toISOString(), (d.endMs - d.startMs) / H, d.offsetMs / H])).toEqual([
      ['2026-03-27T23:00:00.000Z', 24, 1],
      ['2026-03-28T23:00:00.000Z', 23, 1],
      ['2026-03-29T22:00:00.000Z', 24, 2],
    ]);
    expect(localDays('Asia/Shanghai', utc('2026-11-27T00:00:00Z'), utc('2026-11-27T00:00:00Z'))).toEqual([]);
  });
});
