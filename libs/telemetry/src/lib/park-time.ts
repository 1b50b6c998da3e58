/**
 * Park time (contract §8): calendar periods (a day, a month, the night hours)
 * are the park's, in the IANA time zone of its model (`timeZone`, default
 * `Asia/Shanghai`). Pure: the platform's `Intl` time-zone data does the
 * arithmetic, so daylight-saving zones get 23- and 25-hour days right.
 */

/** The default park time zone (contract §8): China Standard Time, UTC+8 all year. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** A wall-clock time in a zone. `month` 1–12, `weekday` 0 = Sunday. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone name this platform knows. */
export function isTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `timeZone` at epoch ms `atMs`. */
export function localTime(timeZone: string, atMs: number): LocalTime {
  const t: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(timeZone).formatToParts(atMs)) {
    if (p.type === 'weekday') t.weekday = WEEKDAYS[p.value] ?? 0;
    else if (p.type in t) (t as unknown as Record<string, number>)[p.type] = Number(p.value);
  }
  return t;
}

/** Local time minus UTC at `atMs`, ms (e.g. 28,800,000 in Shanghai). */
export function zoneOffsetMs(timeZone: string, atMs: number): number {
  const t = localTime(timeZone, atMs);
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return wall - Math.floor(atMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in `timeZone`. A time that does not
 * exist (skipped by a daylight-saving jump) is taken after the jump; a time
 * that happens twice is its first occurrence. Month and day may overflow
 * (`day` 32 is the next month), as with `Date.UTC`.
 */
export function localToUtcMs(timeZone: string, year: number, month: number, day: number, hour = 0, minute = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offset at the guess, then at the corrected guess: two steps settle
  // every real zone (offsets change at most once within a few hours).
  let utc = wall - zoneOffsetMs(timeZone, wall);
  utc = wall - zoneOffsetMs(timeZone, utc);
  // Of two candidates around a repeated hour, the earlier one.
  const earlier = wall - zoneOffsetMs(timeZone, utc - 3_600_000);
  if (earlier < utc && wallOf(timeZone, earlier) === wall) return earlier;
  return utc;
}

function wallOf(timeZone: string, atMs: number): number {
  const t = localTime(timeZone, atMs);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
}

/** Start of the local day that holds `atMs`. */
export function startOfLocalDay(timeZone: string, atMs: number): number {
  const t = localTime(timeZone, atMs);
  return localToUtcMs(timeZone, t.year, t.month, t.day);
}

/** Start of the local day `days` days after the one that starts at (or holds) `atMs`. */
export function addLocalDays(timeZone: string, atMs: number, days: number): number {
  const t = localTime(timeZone, atMs);
  return localToUtcMs(timeZone, t.year, t.month, t.day + days);
}

/** Start of the local month that holds `atMs`. */
export function startOfLocalMonth(timeZone: string, atMs: number): number {
  const t = localTime(timeZone, atMs);
  return localToUtcMs(timeZone, t.year, t.month, 1);
}

/** Start of the local year that holds `atMs`. */
export function startOfLocalYear(timeZone: string, atMs: number): number {
  return localToUtcMs(timeZone, localTime(timeZone, atMs).year, 1, 1);
}

/** `YYYY-MM-DD` of the local day that holds `atMs` (the form of the model's `holidays`). */
export function localDate(timeZone: string, atMs: number): string {
  const t = localTime(timeZone, atMs);
  return `${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
}

/** One local day: `[startMs, endMs)`, 23, 24 or 25 hours long. */
export interface LocalDay {
  startMs: number;
  endMs: number;
  /** Local time minus UTC at its start, ms. */
  offsetMs: number;
}

/** The local days that overlap `[fromMs, toMs)`, in order (the first may start before `fromMs`). */
export function localDays(timeZone: string, fromMs: number, toMs: number): LocalDay[] {
  const out: LocalDay[] = [];
  if (fromMs >= toMs) return out;
  let start = startOfLocalDay(timeZone, fromMs);
  while (start < toMs) {
    const end = addLocalDays(timeZone, start, 1);
    out.push({ startMs: start, endMs: end, offsetMs: zoneOffsetMs(timeZone, start) });
    start = end;
  }
  return out;
}
