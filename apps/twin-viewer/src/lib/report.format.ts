/**
 * Formatting of the monthly report page (contract §8 report): pure, so the
 * figures the page prints are unit-tested.
 */
import { formatNumber, UNKNOWN } from './units.format';

/** A change on the previous month: +0.052 → "+5.2 %", null → "—" (no data then). */
export function formatChange(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return UNKNOWN;
  const pct = Math.round(change * 1000) / 10;
  return `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${formatNumber(Math.abs(pct), 1)} %`;
}

/** A month label `YYYY-MM` as "November 2026". */
export function monthTitle(label: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(label);
  if (!m) return label;
  const names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${names[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

/** `YYYY-MM` of the month before. */
export function previousMonthLabel(label: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(label);
  if (!m) return label;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`;
}

/** A time in the park's zone: "Tue 17 Nov 14:15". */
export function formatParkTime(iso: string | undefined, timeZone: string): string {
  if (!iso) return UNKNOWN;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return UNKNOWN;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(t);
  const get = (k: string) => parts.find((p) => p.type === k)?.value ?? '';
  return `${get('weekday')} ${get('day')} ${get('month')} ${get('hour')}:${get('minute')}`;
}
