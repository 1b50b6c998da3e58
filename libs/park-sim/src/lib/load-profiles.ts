/**
 * The physics of the simulated park: pure functions of time, building and
 * seed. No state, no I/O: the same (seed, building, tMs) always gives the same
 * value, which is what makes a simulated run reproducible and lets tests probe
 * single instants (office at 03:00 vs 10:00, PV at midnight).
 *
 * Time of day is the park's local time (contract §8, park time: the park
 * model's `timeZone`, Shanghai by default), the frame in which the park's
 * people live. Shapes are hour knots interpolated linearly; the numbers are
 * plausible for a Shanghai high-tech park, not survey data.
 */
import { BuildingModel, BuildingUse, DEFAULT_TIME_ZONE, zoneOffsetMs } from '@park/telemetry';
import { hashString, unitHash, valueNoise } from './prng';

// Math functions as module constants: global lookups are slow inside the vm
// contexts Jest runs tests in (Node 20), and these run several times per reading.
const { PI, abs, cos, floor, max, min, pow, sin } = Math;

/** Shanghai, when the park model has no `origin`. */
export const DEFAULT_LAT_DEG = 31.2;
export const DEFAULT_LON_DEG = 121.47;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * A park's local time (contract §8, park time): the UTC offset of its IANA
 * zone at an instant. The offset is looked up once per hour of time asked
 * (zones change offset on the hour) and kept for the next calls, which come
 * in time order: no Intl call per reading.
 */
export class ParkLocalTime {
  private bucket = NaN;
  private offset = 0;

  constructor(readonly timeZone: string) {}

  offsetMs(tMs: number): number {
    const bucket = floor(tMs / HOUR_MS);
    if (bucket !== this.bucket) {
      this.bucket = bucket;
      this.offset = zoneOffsetMs(this.timeZone, bucket * HOUR_MS);
    }
    return this.offset;
  }
}

/** The default park time, Asia/Shanghai (UTC+8 all year). */
export const SHANGHAI_TIME = new ParkLocalTime(DEFAULT_TIME_ZONE);

/** Hours since local midnight, in [0, 24). */
export function localHour(tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  const local = tMs + zone.offsetMs(tMs);
  return (((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
}

/** Local day number since the epoch (changes at local midnight). */
export function localDayIndex(tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  return floor((tMs + zone.offsetMs(tMs)) / DAY_MS);
}

export type DayKind = 'weekday' | 'saturday' | 'sunday';

/** Weekday or weekend day, local time (public holidays are not modelled). */
export function dayKind(tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): DayKind {
  // 1970-01-01 was a Thursday: day index 0 → weekday 4 (0 = Sunday).
  const dow = (((localDayIndex(tMs, zone) + 4) % 7) + 7) % 7;
  return dow === 0 ? 'sunday' : dow === 6 ? 'saturday' : 'weekday';
}

/** [hour, value] knots from 0 to 24, interpolated linearly. */
type Knots = ReadonlyArray<readonly [number, number]>;

/** A daily shape: one table per day kind. */
interface DailyShape {
  weekday: Knots;
  saturday: Knots;
  sunday: Knots;
}

export function interpolate(knots: Knots, hour: number): number {
  for (let i = 1; i < knots.length; i++) {
    const [h1, v1] = knots[i];
    if (hour <= h1) {
      const [h0, v0] = knots[i - 1];
      return h1 === h0 ? v1 : v0 + ((v1 - v0) * (hour - h0)) / (h1 - h0);
    }
  }
  return knots[knots.length - 1][1];
}

function weekendBoth(weekday: Knots, weekend: Knots): DailyShape {
  return { weekday, saturday: weekend, sunday: weekend };
}

/**
 * Gross electrical load as a fraction of the building's contracted capacity.
 * Typical buildings run at 30-70 % of contract; a data centre is flat near
 * 60 %; a factory follows two day shifts and a reduced night shift.
 */
const LOAD_SHAPES: Record<BuildingUse, DailyShape> = {
  office: weekendBoth(
    [[0, 0.3], [6, 0.3], [7, 0.38], [8, 0.55], [9, 0.66], [11.5, 0.68], [12, 0.6], [13, 0.58], [13.5, 0.66], [17, 0.64], [18, 0.5], [19, 0.42], [21, 0.35], [22, 0.31], [24, 0.3]],
    [[0, 0.28], [8, 0.29], [10, 0.34], [16, 0.34], [18, 0.3], [24, 0.28]],
  ),
  lab: weekendBoth(
    [[0, 0.45], [7, 0.46], [9, 0.62], [12, 0.66], [13, 0.62], [17, 0.65], [19, 0.56], [22, 0.48], [24, 0.45]],
    [[0, 0.43], [10, 0.48], [17, 0.48], [24, 0.43]],
  ),
  factory: {
    weekday: [[0, 0.42], [7.75, 0.42], [8, 0.68], [12, 0.7], [15.75, 0.68], [16, 0.58], [16.25, 0.68], [20, 0.69], [23.75, 0.66], [24, 0.42]],
    saturday: [[0, 0.42], [7.75, 0.42], [8, 0.66], [15.75, 0.66], [16, 0.4], [24, 0.35]],
    sunday: [[0, 0.35], [24, 0.35]],
  },
  datacenter: weekendBoth(
    // Cooling follows the afternoon heat; IT load itself is flat.
    [[0, 0.59], [6, 0.585], [14, 0.62], [18, 0.61], [24, 0.59]],
    [[0, 0.59], [6, 0.585], [14, 0.62], [18, 0.61], [24, 0.59]],
  ),
  retail: weekendBoth(
    // Canteens and shops: breakfast, lunch and dinner peaks.
    [[0, 0.28], [6, 0.3], [7, 0.42], [9, 0.4], [11, 0.62], [12, 0.7], [13.5, 0.52], [16, 0.45], [17.5, 0.62], [19, 0.6], [21, 0.45], [22.5, 0.32], [24, 0.28]],
    [[0, 0.28], [8, 0.3], [11, 0.5], [12.5, 0.55], [14, 0.42], [18, 0.52], [20, 0.45], [22, 0.32], [24, 0.28]],
  ),
  residential: weekendBoth(
    [[0, 0.35], [5, 0.32], [6.5, 0.45], [8, 0.5], [9, 0.38], [17, 0.4], [19, 0.62], [21, 0.68], [23, 0.5], [24, 0.35]],
    [[0, 0.38], [8, 0.45], [10, 0.52], [18, 0.6], [21, 0.66], [23, 0.5], [24, 0.38]],
  ),
  utility: weekendBoth(
    [[0, 0.4], [6, 0.45], [8, 0.55], [18, 0.55], [20, 0.45], [24, 0.4]],
    [[0, 0.4], [8, 0.44], [18, 0.44], [24, 0.4]],
  ),
  mixed: weekendBoth(
    [[0, 0.32], [7, 0.4], [9, 0.6], [12, 0.66], [14, 0.6], [18, 0.58], [21, 0.45], [24, 0.32]],
    [[0, 0.3], [10, 0.42], [13, 0.46], [19, 0.44], [24, 0.3]],
  ),
};

/** Share of the building's capacity present (people), by use. */
const PRESENCE_SHAPES: Record<BuildingUse, DailyShape> = {
  office: weekendBoth(
    [[0, 0.01], [6, 0.01], [7, 0.05], [8, 0.35], [9, 0.8], [11.5, 0.85], [12, 0.7], [13, 0.72], [14, 0.85], [17, 0.8], [18, 0.45], [19, 0.2], [21, 0.06], [22, 0.02], [24, 0.01]],
    [[0, 0.01], [9, 0.04], [11, 0.1], [16, 0.1], [18, 0.04], [24, 0.01]],
  ),
  lab: weekendBoth(
    [[0, 0.03], [7, 0.05], [8.5, 0.45], [10, 0.8], [12, 0.65], [13, 0.78], [17, 0.75], [19, 0.4], [22, 0.1], [24, 0.03]],
    [[0, 0.03], [10, 0.2], [17, 0.2], [20, 0.05], [24, 0.03]],
  ),
  factory: {
    weekday: [[0, 0.3], [7.75, 0.3], [8, 0.85], [15.75, 0.85], [16, 0.7], [23.75, 0.7], [24, 0.3]],
    saturday: [[0, 0.3], [7.75, 0.3], [8, 0.8], [15.75, 0.8], [16, 0.05], [24, 0.05]],
    sunday: [[0, 0.05], [24, 0.05]],
  },
  datacenter: weekendBoth(
    [[0, 0.25], [8, 0.3], [9, 0.75], [17, 0.75], [18, 0.3], [24, 0.25]],
    [[0, 0.25], [24, 0.25]],
  ),
  retail: weekendBoth(
    [[0, 0], [6.5, 0], [7, 0.1], [8.5, 0.15], [9, 0.05], [11, 0.15], [11.5, 0.75], [12.25, 0.95], [13, 0.6], [13.5, 0.15], [17, 0.15], [17.5, 0.5], [18.5, 0.55], [19.5, 0.2], [21, 0.05], [22, 0], [24, 0]],
    [[0, 0], [10, 0.1], [12, 0.45], [13.5, 0.1], [18, 0.35], [19.5, 0.1], [21, 0], [24, 0]],
  ),
  residential: weekendBoth(
    [[0, 0.92], [6, 0.92], [7.5, 0.8], [9, 0.35], [17, 0.35], [19, 0.75], [22, 0.9], [24, 0.92]],
    [[0, 0.92], [9, 0.8], [11, 0.55], [17, 0.6], [20, 0.85], [24, 0.92]],
  ),
  utility: weekendBoth(
    [[0, 0.25], [8, 0.3], [9, 0.9], [17, 0.9], [18, 0.3], [24, 0.25]],
    [[0, 0.25], [24, 0.25]],
  ),
  mixed: weekendBoth(
    [[0, 0.02], [7, 0.08], [9, 0.6], [12, 0.75], [14, 0.65], [18, 0.5], [21, 0.15], [24, 0.02]],
    [[0, 0.02], [10, 0.25], [14, 0.3], [19, 0.2], [24, 0.02]],
  ),
};

/** A lobby holds few people except at arrival, lunch and departure. */
const LOBBY_WEIGHT: DailyShape = weekendBoth(
  [[0, 0.3], [7.5, 0.3], [8.5, 0.16], [9.5, 0.08], [11.75, 0.07], [12.25, 0.14], [13, 0.08], [17.25, 0.07], [18, 0.16], [19, 0.1], [24, 0.3]],
  [[0, 0.3], [10, 0.12], [18, 0.12], [24, 0.3]],
);

function shapeAt(shape: DailyShape, tMs: number, zone: ParkLocalTime): number {
  return interpolate(shape[dayKind(tMs, zone)], localHour(tMs, zone));
}

/** The use of a building; the park model's default is `office`. */
export function buildingUse(b: BuildingModel): BuildingUse {
  return b.use ?? 'office';
}

/** Deterministic gross-load shape, fraction of contracted kW (no noise). */
export function loadFraction(use: BuildingUse, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  return shapeAt(LOAD_SHAPES[use], tMs, zone);
}

/** Deterministic presence shape, fraction of capacity (no noise). */
export function presenceFraction(use: BuildingUse, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  return shapeAt(PRESENCE_SHAPES[use], tMs, zone);
}

/**
 * Relative weight of a zone in splitting the building's people among its
 * occupancy sensors: lobbies and entrances get a small, rush-hour-shaped
 * share; event spaces half a normal zone; other zones one each.
 */
export function zoneWeight(zone: string | undefined, tMs: number, time: ParkLocalTime = SHANGHAI_TIME): number {
  const z = zone ?? '';
  if (/lobby|entrance|reception|hall/.test(z)) return shapeAt(LOBBY_WEIGHT, tMs, time);
  if (/event/.test(z)) return 0.5;
  return 1;
}

/**
 * Gross electrical load of a building, kW: its use's daily shape × contracted
 * capacity × a per-building scale (0.92-1.08) × slow fluctuations (±6 % over
 * ~15 min, ±2 % over ~2 min). Includes what on-site PV supplies.
 */
export function buildingLoadKw(seed: number, parkId: string, b: BuildingModel, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  const key = hashString(`${parkId}/${b.id}/load`);
  const scale = 0.92 + 0.16 * unitHash(seed, key, 1);
  const slow = 0.06 * valueNoise(seed, key, tMs, 15 * 60_000);
  const fast = 0.02 * valueNoise(seed, key + 1, tMs, 2 * 60_000);
  return b.contractedKw * loadFraction(buildingUse(b), tMs, zone) * scale * (1 + slow + fast);
}

/**
 * People in a building (continuous; occupancy sensors round their share):
 * capacity × presence shape × (1 ± 5 % slow fluctuation), never negative.
 */
export function buildingPeople(seed: number, parkId: string, b: BuildingModel, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  const key = hashString(`${parkId}/${b.id}/people`);
  const wobble = 0.05 * valueNoise(seed, key, tMs, 5 * 60_000);
  return max(0, b.capacity * presenceFraction(buildingUse(b), tMs, zone) * (1 + wobble));
}

/**
 * Calendar date of a day number since 1970-01-01 (H. Hinnant's
 * civil_from_days): plain arithmetic, no Date object per reading.
 */
export function civilDate(days: number): { year: number; month: number; day: number; dayOfYear: number } {
  const z = days + 719_468;
  const era = floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = floor((doe - floor(doe / 1460) + floor(doe / 36_524) - floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
  const mp = floor((5 * doy + 2) / 153);
  const day = doy - floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  // doy counts from 1 March (0); 1 March is day 60 of a common year, 61 of a leap year.
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dayOfYear = month >= 3 ? doy + 60 + (leap ? 1 : 0) : doy - 305;
  return { year, month, day, dayOfYear };
}

/** Solar declination (radians) on a day of the year, Cooper's formula. */
function declinationRad(tMs: number): number {
  const { dayOfYear } = civilDate(floor(tMs / DAY_MS));
  return ((23.44 * PI) / 180) * sin((2 * PI * (284 + dayOfYear)) / 365);
}

/** Sine of the sun's elevation at a place and time (negative: below the horizon). */
export function sunElevationSin(tMs: number, latDeg: number, lonDeg: number): number {
  const utcHour = (((tMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const solarHour = utcHour + lonDeg / 15; // mean solar time; the equation of time (±16 min) is ignored
  const omega = ((solarHour - 12) * 15 * PI) / 180;
  const phi = (latDeg * PI) / 180;
  const delta = declinationRad(tMs);
  return sin(phi) * sin(delta) + cos(phi) * cos(delta) * cos(omega);
}

/**
 * Clear-sky PV output as a fraction of peak (kWp): zero with the sun below the
 * horizon, a bell over the day (sunrise ≈ 06:00, sunset ≈ 18:00 local at the
 * equinoxes in Shanghai; longer days in summer), ×0.85 system losses.
 */
export function clearSkyPvFraction(tMs: number, latDeg = DEFAULT_LAT_DEG, lonDeg = DEFAULT_LON_DEG): number {
  const s = sunElevationSin(tMs, latDeg, lonDeg);
  if (s <= 0) return 0;
  // Longer air mass at low sun: output falls faster than sin(elevation).
  return 0.85 * pow(s, 1.2);
}

/**
 * The sky over the park, 0.08-1 of clear-sky irradiance: each local day draws
 * a clearness (clear, broken or overcast) and passing clouds wobble around it
 * every few minutes. One sky per park: all PV meters see the same clouds.
 */
export function cloudFactor(seed: number, parkId: string, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  const key = hashString(`${parkId}/sky`);
  const u = unitHash(seed, key, localDayIndex(tMs, zone));
  const clearness = u < 0.45 ? 0.9 + 0.1 * u : u < 0.8 ? 0.55 + 0.35 * (u - 0.45) / 0.35 : 0.15 + 0.25 * (u - 0.8) / 0.2;
  // Broken skies wobble most; clear and overcast ones little.
  const passing = 0.8 * clearness * (1 - clearness) * valueNoise(seed, key + 1, tMs, 7 * 60_000) + 0.02 * valueNoise(seed, key + 2, tMs, 60_000);
  return min(1, max(0.08, clearness + passing));
}

/** Shoelace area of a footprint polygon, m². */
export function footprintAreaM2(footprint: ReadonlyArray<readonly [number, number]>): number {
  let a = 0;
  for (let i = 0; i < footprint.length; i++) {
    const [x1, y1] = footprint[i];
    const [x2, y2] = footprint[(i + 1) % footprint.length];
    a += x1 * y2 - x2 * y1;
  }
  return abs(a) / 2;
}

/**
 * Peak power of one PV meter's array, kWp: half the roof covered at
 * 0.15 kWp/m², shared among the building's PV meters, kept within 100-250 kWp
 * (a typical rooftop array per inverter group).
 */
export function pvPeakKw(b: BuildingModel, pvMeters: number): number {
  const roof = footprintAreaM2(b.footprint);
  return min(250, max(100, (roof * 0.5 * 0.15) / max(1, pvMeters)));
}

/** What kind of direct-emission source a carbon sensor measures. */
export type EmissionSource = 'boiler' | 'genset';

/**
 * Which carbon sensors are direct-emission registers (contract §3,
 * `emission_kgco2e`): ids that name a boiler or generator, and every carbon
 * sensor of a `utility` building. Others measure indoor CO2.
 */
export function emissionSourceOf(b: BuildingModel, sensorId: string): EmissionSource | undefined {
  if (/genset|generator|diesel|^gen(\d|[-_]|$)/.test(sensorId)) return 'genset';
  if (/boiler|furnace|chp|burner|heater/.test(sensorId)) return 'boiler';
  return buildingUse(b) === 'utility' ? 'boiler' : undefined;
}

/** Shanghai has no district heating; boilers heat from mid-November to mid-March. */
function heatingSeason(tMs: number, zone: ParkLocalTime): boolean {
  const { month, day } = civilDate(localDayIndex(tMs, zone));
  return month === 12 || month === 1 || month === 2 || (month === 11 && day >= 15) || (month === 3 && day < 15);
}

const BOILER_HOT_WATER: Knots = [[0, 0.2], [5.5, 0.2], [6.5, 0.45], [9, 0.35], [11, 0.5], [13, 0.35], [17, 0.45], [20, 0.35], [22, 0.25], [24, 0.2]];
const BOILER_HEATING: DailyShape = weekendBoth(
  [[0, 0.1], [5, 0.1], [6, 0.9], [9, 0.7], [17, 0.6], [20, 0.3], [22, 0.1], [24, 0.1]],
  [[0, 0.1], [7, 0.4], [18, 0.3], [24, 0.1]],
);

/**
 * Direct emission rate, kg CO2e per hour. A gas boiler (≈ 1.2 MW thermal,
 * ≈ 250 kg CO2e/h flat out: natural gas ≈ 2 kg CO2/m³) makes hot water all
 * year and heats in winter; a diesel generator idles except a 20-minute test
 * run at 10:00 on weekdays (≈ 180 kg CO2e/h at 60 % of 500 kW).
 */
export function emissionRateKgPerH(source: EmissionSource, seed: number, key: number, tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  const hour = localHour(tMs, zone);
  if (source === 'genset') {
    return dayKind(tMs, zone) === 'weekday' && hour >= 10 && hour < 10 + 20 / 60 ? 180 * (1 + 0.03 * valueNoise(seed, key, tMs, 60_000)) : 0;
  }
  let load = interpolate(BOILER_HOT_WATER, hour);
  if (heatingSeason(tMs, zone)) load += shapeAt(BOILER_HEATING, tMs, zone);
  return 250 * min(1, load) * (1 + 0.05 * valueNoise(seed, key, tMs, 10 * 60_000));
}

/** Outdoor CO2 in the park, ppm: ~420 with a little traffic-driven wobble. */
export function outdoorCo2Ppm(seed: number, parkId: string, tMs: number): number {
  return 425 + 10 * valueNoise(seed, hashString(`${parkId}/outdoor-co2`), tMs, 30 * 60_000);
}

/**
 * Steady-state indoor CO2 for a given crowding: outdoor + 500 ppm at design
 * occupancy. 500 ppm is the rise from 0.018 m³/h of CO2 per seated adult in
 * 36 m³/h of fresh air per person (GB 50736 office rate); `siteFactor`
 * (0.8-1.25 per sensor) stands for meeting rooms vs open atria.
 */
export function steadyCo2Ppm(outdoorPpm: number, peoplePerCapacity: number, siteFactor: number): number {
  return outdoorPpm + 500 * peoplePerCapacity * siteFactor;
}

/** CO2 relaxes toward its steady state with this time constant (air exchange ≈ 2/h). */
export const CO2_TIME_CONSTANT_MS = 30 * 60_000;
