import { BuildingModel, KIND_FIELDS, ParkIndex, Reading, SensorKind, SensorModel } from '@park/telemetry';
import { IntervalRule, intervalRuleFor } from './energy';
import { silenceLimitMs } from './occupancy';
import { SampleField } from './reading-series';

/** A sensor of the model, with what the derivation needs to know about it. */
export interface SensorSlot {
  /** Position in the park's sensor list (model order). */
  index: number;
  building: string;
  buildingIndex: number;
  model: SensorModel;
  kind: SensorKind;
  /** Energy meters only: `grid` unless the model says `pv`. */
  source?: 'grid' | 'pv';
  limitMs: number;
  /** How its cumulative quantity is derived (energy: kWh, carbon: kg CO2e), with its plausibility bound (contract §8). */
  rule?: IntervalRule;
  /** The reading fields of its kind (contract §3). */
  fields: readonly SampleField[];
}

/** A building with its sensors grouped by role (indexes into `ParkLayout.sensors`). */
export interface BuildingSlot {
  id: string;
  model: BuildingModel;
  sensors: number[];
  grid: number[];
  pv: number[];
  carbon: number[];
  occupancy: number[];
}

/** A park model arranged for the derivation: everything in model order. */
export interface ParkLayout {
  index: ParkIndex;
  parkId: string;
  sensors: SensorSlot[];
  buildings: BuildingSlot[];
  /** Grid meters of the whole park, for the park's `peak_kw`. */
  grid: number[];
  /** building id → sensor id → index into `sensors` (nested: no key string built per reading). */
  byId: Map<string, Map<string, number>>;
}

const FIELDS_OF_KIND = Object.fromEntries(
  Object.entries(KIND_FIELDS).map(([kind, fields]) => [kind, fields.map((f) => f.prop as SampleField)]),
) as Record<SensorKind, SampleField[]>;

/** Arranges a park index for the derivation. */
export function parkLayout(index: ParkIndex): ParkLayout {
  const sensors: SensorSlot[] = [];
  const byId = new Map<string, Map<string, number>>();
  const grid: number[] = [];
  const buildings = index.model.buildings.map((b, buildingIndex): BuildingSlot => {
    const slot: BuildingSlot = { id: b.id, model: b, sensors: [], grid: [], pv: [], carbon: [], occupancy: [] };
    const ids = new Map<string, number>();
    byId.set(b.id, ids);
    for (const s of b.sensors) {
      const i = sensors.length;
      const source = s.kind === 'energy' ? (s.source ?? 'grid') : undefined;
      sensors.push({
        index: i,
        building: b.id,
        buildingIndex,
        model: s,
        kind: s.kind,
        source,
        limitMs: silenceLimitMs(s),
        rule: intervalRuleFor(s, b),
        fields: FIELDS_OF_KIND[s.kind],
      });
      ids.set(s.id, i);
      slot.sensors.push(i);
      if (source === 'grid') {
        slot.grid.push(i);
        grid.push(i);
      } else if (source === 'pv') slot.pv.push(i);
      else if (s.kind === 'carbon') slot.carbon.push(i);
      else slot.occupancy.push(i);
    }
    return slot;
  });
  return { index, parkId: index.model.id, sensors, buildings, grid, byId };
}

/**
 * The model's sensor a reading comes from, or undefined when the model does
 * not list it: another park, an unregistered sensor (contract §4: stored and
 * counted by the gateway, ignored by the vital signs) or a sensor that
 * publishes under another kind than the model gives it.
 */
export function slotOf(layout: ParkLayout, r: Reading): SensorSlot | undefined {
  if (r.park !== layout.parkId) return undefined;
  const i = layout.byId.get(r.building)?.get(r.sensor);
  if (i === undefined) return undefined;
  const slot = layout.sensors[i];
  return slot.kind === r.kind ? slot : undefined;
}
