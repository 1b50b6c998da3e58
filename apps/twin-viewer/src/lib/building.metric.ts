/**
 * The value each colour mode shows for a building, and its text. Live modes
 * read the latest `now` (contract §7); carbon reads the last closed window
 * (contract §6) because direct emissions are only known per window; status
 * reads the active alarms.
 */
import type { NowState } from '@park/metrics';
import type { BuildingModel } from '@park/telemetry';
import type { ColourMode } from './colour.scale';
import { STATUS_VALUE } from './colour.scale';
import { buildingStatus, type TwinState } from './live.reducer';
import { formatKw, formatNumber, formatPercent, formatPpm, UNKNOWN } from './units.format';

/** What a building needs from the model for its metrics. */
export type BuildingFacts = Pick<BuildingModel, 'id' | 'floorAreaM2' | 'capacity' | 'contractedKw'>;

/** kg CO2e per hour per 1000 m² of floor, from a window's `carbon_kgco2e`. */
export function carbonIntensity(carbonKg: number, windowMs: number, floorAreaM2: number): number | undefined {
  if (!(windowMs > 0) || !(floorAreaM2 > 0) || !Number.isFinite(carbonKg)) return undefined;
  return (carbonKg * (3_600_000 / windowMs)) / (floorAreaM2 / 1000);
}

/**
 * The number a colour mode maps for a building; undefined when unknown (no
 * `now` yet, no CO2 sensor, no closed window...). Export (negative grid
 * power) counts as 0 % load.
 */
export function metricValue(mode: ColourMode, b: BuildingFacts, state: TwinState): number | undefined {
  const now = state.buildings[b.id];
  switch (mode) {
    case 'load':
      return now && b.contractedKw > 0 ? Math.max(0, now.grid_kw) / b.contractedKw : undefined;
    case 'occupancy':
      return now && b.capacity > 0 ? now.occupancy / b.capacity : undefined;
    case 'co2':
      return now?.co2_ppm;
    case 'sensors':
      // Healthy: online, and its clock not ahead of the gateway's (contract §8).
      return now && now.sensors_total > 0 ? Math.max(0, now.sensors_online - (now.sensors_skewed ?? 0)) / now.sensors_total : undefined;
    case 'carbon': {
      const v = state.vitals?.buildings[b.id];
      const w = state.vitals?.window;
      return v && w ? carbonIntensity(v.carbon_kgco2e, w.endMs - w.startMs, b.floorAreaM2) : undefined;
    }
    case 'status': {
      const s = buildingStatus(state, b.id);
      return s === undefined ? undefined : STATUS_VALUE[s];
    }
  }
}

/** Short text of a building's value in a mode, for labels, the list and the tooltip. */
export function metricText(mode: ColourMode, b: BuildingFacts, state: TwinState): string {
  const now = state.buildings[b.id];
  switch (mode) {
    case 'load':
      return now ? `${formatKw(now.grid_kw)} · ${formatPercent(metricValue('load', b, state))}` : UNKNOWN;
    case 'occupancy':
      return now ? `${formatNumber(now.occupancy)} / ${formatNumber(b.capacity)} · ${formatPercent(metricValue('occupancy', b, state))}` : UNKNOWN;
    case 'co2':
      return formatPpm(now?.co2_ppm);
    case 'sensors':
      return now ? sensorsText(now) : UNKNOWN;
    case 'carbon': {
      const v = metricValue('carbon', b, state);
      return v === undefined ? UNKNOWN : `${formatNumber(v, v < 10 ? 1 : 0)} kg/h·1000 m²`;
    }
    case 'status':
      return buildingStatus(state, b.id) ?? UNKNOWN;
  }
}

/** `online / total online`, and how many sensors have their clock ahead of the gateway's (contract §8), when any. */
export function sensorsText(now: Pick<NowState, 'sensors_online' | 'sensors_total' | 'sensors_skewed'>): string {
  const skewed = now.sensors_skewed ?? 0;
  return `${now.sensors_online} / ${now.sensors_total} online${skewed > 0 ? ` · ${skewed} clock ahead` : ''}`;
}
