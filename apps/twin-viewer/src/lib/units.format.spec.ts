import { formatAge, formatKgCo2e, formatKw, formatKwh, formatNumber, formatPercent, formatPpm, UNKNOWN } from './units.format';

describe('unit formatting', () => {
  it.each([
    [formatKw, 0, '0 kW'],
    [formatKw, 7.456, '7.46 kW'],
    [formatKw, 850.4, '850 kW'],
    [formatKw, 9999, '9,999 kW'],
    [formatKw, 12_500, '12.5 MW'],
    [formatKw, -120, '-120 kW'],
    [formatKwh, 812.2, '812 kWh'],
    [formatKwh, 12_500, '12.5 MWh'],
    [formatKwh, 25_000_000, '25 GWh'],
    [formatKgCo2e, 420.4, '420 kg CO₂e'],
    [formatKgCo2e, 12_345, '12.3 t CO₂e'],
    [formatPercent, 0.823, '82 %'],
    [formatPercent, 1.3, '130 %'],
    [formatPpm, 712.4, '712 ppm'],
  ] as const)('%p(%p) = %p', (f, v, text) => {
    expect(f(v)).toBe(text);
  });

  it('says unknown rather than zero', () => {
    for (const f of [formatKw, formatKwh, formatKgCo2e, formatPercent, formatPpm, formatNumber]) {
      expect(f(undefined)).toBe(UNKNOWN);
      expect(f(null)).toBe(UNKNOWN);
      expect(f(NaN)).toBe(UNKNOWN);
    }
  });

  it('says how old data is', () => {
    expect(formatAge(4_200)).toBe('4 s ago');
    expect(formatAge(185_000)).toBe('3 min ago');
    expect(formatAge(3 * 3_600_000)).toBe('3 h ago');
  });
});
