/**
 * Colour scales of the twin: one per vital sign the manager can colour the
 * park by. Pure (no DOM, no WebGL) so the thresholds are unit-tested against
 * the contract's alarm table (contract §6).
 *
 * A scale is a list of bands, lowest first. A value falls in the first band
 * whose upper bound admits it; inside a band the colour is interpolated from
 * `from` to `to`. The warn and critical bands use the same bounds and the same
 * comparison (`>` or `<`) as the alarm rules, so a building turns amber or red
 * exactly when the matching alarm would fire on the same value: the bounds are
 * read from `ALARM_THRESHOLDS` of `@park/metrics`, the table the gateway's
 * alarm rules use, never copied here.
 */
import { ALARM_THRESHOLDS, type RuleThresholds } from '@park/metrics';

/** What the buildings are coloured by. */
export type ColourMode = 'load' | 'carbon' | 'occupancy' | 'co2' | 'sensors' | 'status';

export const COLOUR_MODES: readonly ColourMode[] = ['load', 'carbon', 'occupancy', 'co2', 'sensors', 'status'];

/** The one colour of "critical": status critical, load over contract, CO2 > 1500 ppm... */
export const CRITICAL_HEX = '#e53935';
/** The one colour of "warn". */
export const WARN_HEX = '#fb8c00';
/** Healthy. */
export const OK_HEX = '#43a047';
/** A building whose value for the chosen scale is unknown. */
export const NO_DATA_HEX = '#90a4ae';

/** 0–255 colour components; callers pass a scratch object so nothing is allocated per building. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** One band of a scale. */
export interface ColourBand {
  /** Upper bound of the band; `Infinity` for the last one. */
  upTo: number;
  /** true: the band admits `value <= upTo`; false: `value < upTo`. */
  inclusive: boolean;
  /** Colour at the band's lower bound (or the whole band when equal to `to`). */
  from: string;
  /** Colour at the band's upper bound. */
  to: string;
  /** Legend text, with the unit where it helps. */
  label: string;
}

/** A scale: what it measures, in which unit, and its bands. */
export interface ColourScale {
  mode: ColourMode;
  /** Short name for the selector. */
  name: string;
  /** Legend title. */
  title: string;
  /** Unit of the values, for the legend. */
  unit: string;
  /** Where the first band starts (the values below it are clamped to it). */
  min: number;
  bands: readonly ColourBand[];
}

const band = (upTo: number, inclusive: boolean, from: string, to: string, label: string): ColourBand => ({ upTo, inclusive, from, to, label });

/**
 * Whether a band that ends at an alarm threshold admits the threshold itself:
 * an `above` rule fires on value > threshold, so the threshold is still below
 * the alarm; a `below` rule fires on value < threshold, so it is not.
 */
const belowAlarm = (t: RuleThresholds): boolean => t.direction === 'above';

/** 0.9 → "90", for band labels. */
const pct = (ratio: number): string => String(Math.round(ratio * 100));

/** The usual "good indoor air" target, ppm: a colour step only, no alarm (contract §6 starts at the limit). */
const CO2_GOOD_PPM = 800;

const { demand, crowding, co2, offline } = ALARM_THRESHOLDS;

/**
 * Status categories are encoded as numbers so one code path colours every
 * mode: 0 ok, 1 warn, 2 critical.
 */
export const STATUS_VALUE = { ok: 0, warn: 1, critical: 2 } as const;

/** The scales, by mode. */
export const SCALES: Readonly<Record<ColourMode, ColourScale>> = {
  // contract §6 `demand`: warn load > 0.9 × contracted, critical > contracted (values are shares of contractedKw).
  load: {
    mode: 'load',
    name: 'Load vs contract',
    title: 'Grid load now ÷ contracted capacity',
    unit: '% of contracted kW',
    min: 0,
    bands: [
      band(demand.warn, belowAlarm(demand), '#26a69a', '#d4e157', `0–${pct(demand.warn)} %`),
      band(demand.critical, belowAlarm(demand), WARN_HEX, WARN_HEX, `${pct(demand.warn)}–${pct(demand.critical)} % (warn)`),
      band(Infinity, true, CRITICAL_HEX, CRITICAL_HEX, `> ${pct(demand.critical)} % over contract`),
    ],
  },
  // No alarm rule: a sequential scale that stays clear of the alarm colours.
  carbon: {
    mode: 'carbon',
    name: 'Carbon intensity',
    title: 'Carbon intensity, last closed window',
    unit: 'kg CO₂e per hour per 1000 m² floor',
    min: 0,
    bands: [
      band(20, true, '#e0f2f1', '#80cbc4', '0–20'),
      band(60, true, '#80cbc4', '#7e57c2', '20–60'),
      band(160, true, '#7e57c2', '#311b92', '60–160'),
      band(Infinity, true, '#311b92', '#311b92', '> 160'),
    ],
  },
  // contract §6 `crowding`: warn rate > 1.0, critical > 1.2.
  occupancy: {
    mode: 'occupancy',
    name: 'Occupancy',
    title: 'People present ÷ capacity',
    unit: '% of capacity',
    min: 0,
    bands: [
      band(crowding.warn, belowAlarm(crowding), '#e3f2fd', '#1e88e5', `0–${pct(crowding.warn)} %`),
      band(crowding.critical, belowAlarm(crowding), WARN_HEX, WARN_HEX, `${pct(crowding.warn)}–${pct(crowding.critical)} % (warn)`),
      band(Infinity, true, CRITICAL_HEX, CRITICAL_HEX, `> ${pct(crowding.critical)} % crowded`),
    ],
  },
  // GB/T 18883-2022: 1000 ppm is the indoor limit (contract §6 `co2` warn),
  // 800 ppm is the usual "good air" target, > 1500 ppm critical.
  co2: {
    mode: 'co2',
    name: 'Air quality (CO₂)',
    title: 'Indoor CO₂ now (GB/T 18883-2022)',
    unit: 'ppm',
    min: 400,
    bands: [
      band(CO2_GOOD_PPM, false, OK_HEX, OK_HEX, `< ${CO2_GOOD_PPM} good`),
      band(co2.warn, belowAlarm(co2), '#9ccc65', '#fdd835', `${CO2_GOOD_PPM}–${co2.warn}`),
      band(co2.critical, belowAlarm(co2), WARN_HEX, '#f4511e', `${co2.warn}–${co2.critical} over limit`),
      band(Infinity, true, CRITICAL_HEX, CRITICAL_HEX, `> ${co2.critical}`),
    ],
  },
  // contract §6 `offline`: warn ratio < 0.9, critical < 0.5.
  sensors: {
    mode: 'sensors',
    name: 'Sensor health',
    title: 'Healthy sensors (online, clock not ahead of the gateway) ÷ sensors in the model',
    unit: '% online',
    min: 0,
    bands: [
      band(offline.critical, belowAlarm(offline), CRITICAL_HEX, CRITICAL_HEX, `< ${pct(offline.critical)} %`),
      band(offline.warn, belowAlarm(offline), WARN_HEX, WARN_HEX, `${pct(offline.critical)}–${pct(offline.warn)} % (warn)`),
      band(1, true, '#9ccc65', OK_HEX, `${pct(offline.warn)}–100 %`),
    ],
  },
  status: {
    mode: 'status',
    name: 'Status',
    title: 'Worst active alarm',
    unit: '',
    min: 0,
    bands: [
      band(STATUS_VALUE.ok, true, OK_HEX, OK_HEX, 'ok'),
      band(STATUS_VALUE.warn, true, WARN_HEX, WARN_HEX, 'warn'),
      band(Infinity, true, CRITICAL_HEX, CRITICAL_HEX, 'critical'),
    ],
  },
};

/** Parses `#rrggbb` into `out`. */
export function hexToRgb(hex: string, out: Rgb): Rgb {
  const n = parseInt(hex.slice(1, 7), 16);
  out.r = (n >> 16) & 255;
  out.g = (n >> 8) & 255;
  out.b = n & 255;
  return out;
}

/** `#rrggbb` of 0–255 components (rounded and clamped). */
export function rgbToHex(r: number, g: number, b: number): string {
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0');
  return `#${c(r)}${c(g)}${c(b)}`;
}

// Parsed band colours, cached per scale so colouring allocates nothing.
const parsed = new Map<ColourBand, { from: Rgb; to: Rgb }>();
function bandRgb(b: ColourBand): { from: Rgb; to: Rgb } {
  let p = parsed.get(b);
  if (!p) {
    p = { from: hexToRgb(b.from, { r: 0, g: 0, b: 0 }), to: hexToRgb(b.to, { r: 0, g: 0, b: 0 }) };
    parsed.set(b, p);
  }
  return p;
}

/** The band a value falls in; `undefined` for a missing or non-finite value. */
export function bandOf(scale: ColourScale, value: number | undefined): ColourBand | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  for (const b of scale.bands) {
    if (value < b.upTo || (b.inclusive && value === b.upTo)) return b;
  }
  return scale.bands[scale.bands.length - 1];
}

/**
 * Writes the colour of `value` on `scale` into `out` (0–255 components).
 * Missing or non-finite values get {@link NO_DATA_HEX}. Allocation-free.
 */
export function colourInto(scale: ColourScale, value: number | undefined, out: Rgb): Rgb {
  const b = bandOf(scale, value);
  if (!b) return hexToRgb(NO_DATA_HEX, out);
  const { from, to } = bandRgb(b);
  const i = scale.bands.indexOf(b);
  const lo = i === 0 ? scale.min : scale.bands[i - 1].upTo;
  const hi = b.upTo;
  let t = 0;
  if (Number.isFinite(hi) && hi > lo) t = Math.max(0, Math.min(1, ((value as number) - lo) / (hi - lo)));
  out.r = Math.round(from.r + (to.r - from.r) * t);
  out.g = Math.round(from.g + (to.g - from.g) * t);
  out.b = Math.round(from.b + (to.b - from.b) * t);
  return out;
}

/** `#rrggbb` of `value` on `scale` (allocates a string: for the UI, not the frame loop). */
export function colourHex(scale: ColourScale, value: number | undefined): string {
  const c = colourInto(scale, value, { r: 0, g: 0, b: 0 });
  return rgbToHex(c.r, c.g, c.b);
}

/** One entry of a legend: a swatch (solid or gradient) and its text. */
export interface LegendEntry {
  /** CSS background of the swatch. */
  swatch: string;
  label: string;
}

/** The legend of a scale: title, unit, one entry per band plus "no data". */
export interface Legend {
  title: string;
  unit: string;
  entries: LegendEntry[];
}

/** Builds the legend of a scale, highest band first (the way a reader scans "how bad"). */
export function legendOf(scale: ColourScale): Legend {
  const entries: LegendEntry[] = scale.bands
    .map((b) => ({ swatch: b.from === b.to ? b.from : `linear-gradient(90deg, ${b.from}, ${b.to})`, label: b.label }))
    .reverse();
  entries.push({ swatch: NO_DATA_HEX, label: 'no data' });
  return { title: scale.title, unit: scale.unit, entries };
}
