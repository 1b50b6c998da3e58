import Ajv, { ErrorObject } from 'ajv';
import { DEFAULT_TIME_ZONE, isTimeZone } from './park-time';
import { EnergySource, SensorKind } from './reading';
import schema from './park-model.schema.json';

/** A sensor as the park model lists it (contract §4). */
export interface SensorModel {
  id: string;
  kind: SensorKind;
  /** energy only; `grid` when absent. */
  source?: EnergySource;
  /** occupancy only: the zone counted, stored as the `zone` tag. */
  zone?: string;
  /** Nominal publishing interval, seconds; 3 × this is the silence limit. */
  intervalS: number;
  /**
   * carbon only: the largest plausible rate of its `emission_kgco2e` register,
   * kg CO2e per hour (contract §8, register plausibility); default
   * {@link DEFAULT_MAX_KG_PER_H}.
   */
  maxKgPerH?: number;
}

/** Contract §8: an emission register's plausible rate when the model gives none, kg CO2e per hour. */
export const DEFAULT_MAX_KG_PER_H = 10_000;

export type BuildingUse = 'office' | 'lab' | 'factory' | 'datacenter' | 'residential' | 'retail' | 'utility' | 'mixed';

/** A building: geometry in metres (local east/north frame) and its sensors. */
export interface BuildingModel {
  id: string;
  name: string;
  use?: BuildingUse;
  /** Closed polygon, [east, north] metres, at least 3 points. */
  footprint: Array<[number, number]>;
  height: number;
  floors: number;
  floorAreaM2: number;
  capacity: number;
  contractedKw: number;
  sensors: SensorModel[];
}

/** A park model file (contract §4). */
export interface ParkModel {
  id: string;
  name: string;
  description?: string;
  landAreaKm2?: number;
  /** kg CO2e per kWh of grid import; defaults to 0.42 (Shanghai, 2022). */
  gridEmissionFactorKgPerKwh?: number;
  /** Annual industrial output, yuan. */
  annualOutputCny?: number;
  /** IANA time zone (contract §8, park time); default {@link DEFAULT_TIME_ZONE}. */
  timeZone?: string;
  /** Days off (public holidays), local dates `YYYY-MM-DD`. */
  holidays?: string[];
  origin?: { lat: number; lon: number };
  boundary?: Array<[number, number]>;
  buildings: BuildingModel[];
}

/** Shanghai's default grid emission factor since 2022 (contract §4). */
export const DEFAULT_GRID_EMISSION_FACTOR = 0.42;

/** The published JSON Schema of park model files. */
export const PARK_MODEL_SCHEMA = schema;

/** One problem in a park model: where it is and what to do. */
export interface ModelProblem {
  /** JSONPath into the file, e.g. `$.buildings[2].sensors[0].intervalS`. */
  path: string;
  message: string;
}

function toJsonPath(instancePath: string): string {
  if (!instancePath) return '$';
  return (
    '$' +
    instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join('')
  );
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return `is missing required property "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `has unknown property "${(e.params as { additionalProperty: string }).additionalProperty}" (check its spelling against the schema)`;
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      if ((e.params as { pattern: string }).pattern.startsWith('^[a-z0-9]')) return `${e.message}: ids are lower-case letters, digits, "_" and "-", starting with a letter or digit, at most 64 characters`;
      return `${e.message}: a local date YYYY-MM-DD`;
    default:
      return e.message ?? e.keyword;
  }
}

let compiled: ReturnType<Ajv['compile']> | undefined;

/**
 * Checks a parsed park model file against the JSON Schema and the rules a
 * schema cannot say (unique ids, source only on energy meters). Returns every
 * problem found, each with a JSON path; an empty list means valid.
 */
export function validateParkModel(doc: unknown): ModelProblem[] {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (!compiled(doc)) {
    return (compiled.errors ?? []).map((e) => ({ path: toJsonPath(e.instancePath), message: describe(e) }));
  }
  const park = doc as ParkModel;
  const problems: ModelProblem[] = [];
  if (park.timeZone !== undefined && !isTimeZone(park.timeZone)) {
    problems.push({ path: '$.timeZone', message: `"${park.timeZone}" is not an IANA time zone name; use one like "Asia/Shanghai" or "Europe/Berlin"` });
  }
  const buildingIds = new Map<string, number>();
  park.buildings.forEach((b, bi) => {
    const prev = buildingIds.get(b.id);
    if (prev !== undefined) {
      problems.push({ path: `$.buildings[${bi}].id`, message: `duplicates the id "${b.id}" of $.buildings[${prev}]; building ids must be unique in a park` });
    } else buildingIds.set(b.id, bi);
    const sensorIds = new Map<string, number>();
    b.sensors.forEach((s, si) => {
      const p = sensorIds.get(s.id);
      if (p !== undefined) {
        problems.push({ path: `$.buildings[${bi}].sensors[${si}].id`, message: `duplicates the id "${s.id}" of sensors[${p}]; sensor ids must be unique in a building` });
      } else sensorIds.set(s.id, si);
      if (s.source !== undefined && s.kind !== 'energy') {
        problems.push({ path: `$.buildings[${bi}].sensors[${si}].source`, message: `"source" applies to energy meters only; remove it from this ${s.kind} sensor` });
      }
      if (s.maxKgPerH !== undefined && s.kind !== 'carbon') {
        problems.push({ path: `$.buildings[${bi}].sensors[${si}].maxKgPerH`, message: `"maxKgPerH" applies to carbon sensors only; remove it from this ${s.kind} sensor` });
      }
      if (s.zone !== undefined && s.kind !== 'occupancy') {
        problems.push({ path: `$.buildings[${bi}].sensors[${si}].zone`, message: `"zone" applies to occupancy sensors only; remove it from this ${s.kind} sensor` });
      }
    });
  });
  return problems;
}

/** A park model with its defaults applied and lookup tables built once. */
export interface ParkIndex {
  model: ParkModel;
  emissionFactor: number;
  /** The park's IANA time zone, the default applied. */
  timeZone: string;
  buildings: Map<string, BuildingModel>;
  /** `building/sensor` → sensor model. */
  sensors: Map<string, SensorModel>;
}

/** Builds the lookup tables of a validated model. */
export function indexPark(model: ParkModel): ParkIndex {
  const buildings = new Map<string, BuildingModel>();
  const sensors = new Map<string, SensorModel>();
  for (const b of model.buildings) {
    buildings.set(b.id, b);
    for (const s of b.sensors) sensors.set(`${b.id}/${s.id}`, s);
  }
  return {
    model,
    emissionFactor: model.gridEmissionFactorKgPerKwh ?? DEFAULT_GRID_EMISSION_FACTOR,
    timeZone: model.timeZone ?? DEFAULT_TIME_ZONE,
    buildings,
    sensors,
  };
}
