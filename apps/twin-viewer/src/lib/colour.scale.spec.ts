import { ALARM_THRESHOLDS, severityOf, type VitalsAlarmRule } from '@park/metrics';
import {
  bandOf,
  COLOUR_MODES,
  colourHex,
  colourInto,
  CRITICAL_HEX,
  hexToRgb,
  legendOf,
  NO_DATA_HEX,
  OK_HEX,
  rgbToHex,
  SCALES,
  STATUS_VALUE,
  WARN_HEX,
  type ColourMode,
} from './colour.scale';

describe('colour scales', () => {
  it('round-trips hex colours', () => {
    expect(rgbToHex(229, 57, 53)).toBe('#e53935');
    expect(hexToRgb('#e53935', { r: 0, g: 0, b: 0 })).toEqual({ r: 229, g: 57, b: 53 });
    expect(rgbToHex(-4, 300, 12.6)).toBe('#00ff0d');
  });

  // The warn and critical colours must appear exactly where contract §6
  // raises the matching alarm, with the same strictness of comparison.
  it.each([
    ['load', 0, '#26a69a'],
    ['load', 0.9, '#d4e157'],
    ['load', 0.9001, WARN_HEX],
    ['load', 1.0, WARN_HEX],
    ['load', 1.0001, CRITICAL_HEX],
    ['load', 1.3, CRITICAL_HEX],
    ['occupancy', 1.0, '#1e88e5'],
    ['occupancy', 1.1, WARN_HEX],
    ['occupancy', 1.2, WARN_HEX],
    ['occupancy', 1.21, CRITICAL_HEX],
    ['co2', 420, OK_HEX],
    ['co2', 799, OK_HEX],
    ['co2', 1000, '#fdd835'],
    ['co2', 1001, WARN_HEX],
    ['co2', 1500, '#f4511e'],
    ['co2', 1501, CRITICAL_HEX],
    ['sensors', 1, OK_HEX],
    ['sensors', 0.9, '#9ccc65'],
    ['sensors', 0.89, WARN_HEX],
    ['sensors', 0.5, WARN_HEX],
    ['sensors', 0.49, CRITICAL_HEX],
    ['sensors', 0, CRITICAL_HEX],
    ['status', STATUS_VALUE.ok, OK_HEX],
    ['status', STATUS_VALUE.warn, WARN_HEX],
    ['status', STATUS_VALUE.critical, CRITICAL_HEX],
    ['carbon', 0, '#e0f2f1'],
    ['carbon', 20, '#80cbc4'],
    ['carbon', 500, '#311b92'],
  ] as const)('%s %p → %s', (mode, value, hex) => {
    expect(colourHex(SCALES[mode], value)).toBe(hex);
  });

  // The same bounds as the gateway's alarm rules, read from the same table:
  // a sweep across each rule's thresholds must give the alarm colour exactly
  // where `severityOf` (libs/metrics, the rule evaluation) gives that severity.
  it.each<[ColourMode, VitalsAlarmRule]>([
    ['load', 'demand'],
    ['occupancy', 'crowding'],
    ['co2', 'co2'],
    ['sensors', 'offline'],
  ])('%s bands turn warn/critical where the %s rule does', (mode, rule) => {
    const t = ALARM_THRESHOLDS[rule];
    const probes = [t.warn, t.critical].flatMap((x) => [x * 0.5, x - 1e-6 * x, x, x + 1e-6 * x, x * 1.5]);
    for (const value of probes) {
      const b = bandOf(SCALES[mode], value);
      const shown = b?.from === CRITICAL_HEX ? 'critical' : b?.from === WARN_HEX ? 'warn' : undefined;
      expect([value, shown]).toEqual([value, severityOf(value, t)]);
    }
  });

  it.each<[ColourMode, string[]]>([
    ['load', ['> 100 % over contract', '90–100 % (warn)', '0–90 %', 'no data']],
    ['occupancy', ['> 120 % crowded', '100–120 % (warn)', '0–100 %', 'no data']],
    ['co2', ['> 1500', '1000–1500 over limit', '800–1000', '< 800 good', 'no data']],
    ['sensors', ['90–100 %', '50–90 % (warn)', '< 50 %', 'no data']],
  ])('labels the %s legend with the contract §6 bounds', (mode, labels) => {
    expect(legendOf(SCALES[mode]).entries.map((e) => e.label)).toEqual(labels);
  });

  it('interpolates inside a band', () => {
    // Halfway through the load ramp: halfway between its end colours.
    const mid = colourInto(SCALES.load, 0.45, { r: 0, g: 0, b: 0 });
    const a = hexToRgb('#26a69a', { r: 0, g: 0, b: 0 });
    const b = hexToRgb('#d4e157', { r: 0, g: 0, b: 0 });
    expect(mid).toEqual({ r: Math.round((a.r + b.r) / 2), g: Math.round((a.g + b.g) / 2), b: Math.round((a.b + b.b) / 2) });
  });

  it('clamps below the scale minimum and colours unknown values as no data', () => {
    expect(colourHex(SCALES.load, -0.5)).toBe('#26a69a');
    for (const mode of COLOUR_MODES) {
      expect(colourHex(SCALES[mode], undefined)).toBe(NO_DATA_HEX);
      expect(colourHex(SCALES[mode], NaN)).toBe(NO_DATA_HEX);
      expect(colourHex(SCALES[mode], Infinity)).toBe(NO_DATA_HEX);
      // Above the top band (a ratio over 100 % online): the top band's colour.
      expect(bandOf(SCALES[mode], 1e9)).toBe(SCALES[mode].bands[SCALES[mode].bands.length - 1]);
    }
  });

  it('reuses the caller’s output object', () => {
    const out = { r: 1, g: 2, b: 3 };
    expect(colourInto(SCALES.status, 2, out)).toBe(out);
    expect(out).toEqual({ r: 229, g: 57, b: 53 });
  });

  it('has a legend with units for every mode, worst band first, and a no-data entry', () => {
    for (const mode of COLOUR_MODES) {
      const legend = legendOf(SCALES[mode]);
      expect(legend.title.length).toBeGreaterThan(0);
      expect(legend.entries).toHaveLength(SCALES[mode].bands.length + 1);
      expect(legend.entries[legend.entries.length - 1]).toEqual({ swatch: NO_DATA_HEX, label: 'no data' });
    }
    expect(legendOf(SCALES.load).unit).toBe('% of contracted kW');
    expect(legendOf(SCALES.co2).unit).toBe('ppm');
    expect(legendOf(SCALES.load).entries[0]).toEqual({ swatch: CRITICAL_HEX, label: '> 100 % over contract' });
    expect(legendOf(SCALES.load).entries[2].swatch).toBe('linear-gradient(90deg, #26a69a, #d4e157)');
  });
});
