import { formatChange, formatParkTime, monthTitle, previousMonthLabel } from './report.format';

describe('report formatting', () => {
  it.each([
    [0.052, '+5.2 %'],
    [-0.1234, '−12.3 %'],
    [0, '±0 %'],
    [null, '—'],
    [undefined, '—'],
    [NaN, '—'],
  ])('formatChange(%s) = %s', (v, text) => expect(formatChange(v)).toBe(text));

  it.each([
    ['2026-11', 'November 2026'],
    ['2027-01', 'January 2027'],
    ['bad', 'bad'],
  ])('monthTitle(%s) = %s', (m, t) => expect(monthTitle(m)).toBe(t));

  it.each([
    ['2026-11', '2026-10'],
    ['2027-01', '2026-12'],
  ])('previousMonthLabel(%s) = %s', (m, p) => expect(previousMonthLabel(m)).toBe(p));

  it('formats times in the park zone, not the browser one', () => {
    expect(formatParkTime('2026-11-17T06:15:00.000Z', 'Asia/Shanghai')).toBe('Tue 17 Nov 14:15');
    expect(formatParkTime(undefined, 'Asia/Shanghai')).toBe('—');
  });
});
