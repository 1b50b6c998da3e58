/**
 * What the ingest benchmark publishes and to whom (issue 10): a generated
 * park of `buildings` × `meters` energy meters that the load addresses,
 * optionally more registered (silent) meters per building for the memory
 * figures, one probe meter, and how the meters are shared out among
 * publishing connections (one connection, or N devices each owning the meters
 * of part of one building, with a credential limited to that building).
 */

/** The park id of every benchmark topic. */
export const BENCH_PARK = 'bench';
/** The probe's sensor id (building 0), excluded from the load counts. */
export const PROBE_SENSOR = 'probe';

/** The shape of the load. */
export interface LoadShape {
  buildings: number;
  /** Energy meters per building the load publishes to. */
  meters: number;
  /** Registered sensors in the park model (≥ buildings × meters); the rest never publish. */
  registered: number;
}

/** One meter the load publishes to. */
export interface LoadSensor {
  building: string;
  sensor: string;
  topic: string;
  /** Its steady power, kW (the payload varies around it). */
  basePowerKw: number;
}

/** One publishing connection of the load. */
export interface LoadConnection {
  clientId: string;
  /** MQTT username (the device credential) when the target requires one. */
  username?: string;
  /** Topic filters its credential allows (its buildings). */
  publish: string[];
  /** Indexes into {@link loadSensors}, in the order it publishes them round-robin. */
  sensors: number[];
}

export const buildingId = (b: number): string => `b${String(b).padStart(3, '0')}`;
export const meterId = (m: number): string => `m${String(m).padStart(3, '0')}`;

/** The meters the load publishes to, building by building. */
export function loadSensors(shape: LoadShape): LoadSensor[] {
  const sensors: LoadSensor[] = [];
  for (let b = 0; b < shape.buildings; b++) {
    for (let m = 0; m < shape.meters; m++) {
      const building = buildingId(b);
      const sensor = meterId(m);
      sensors.push({ building, sensor, topic: `park/${BENCH_PARK}/${building}/energy/${sensor}`, basePowerKw: 20 + ((b * 7 + m * 13) % 180) });
    }
  }
  return sensors;
}

/** Registered meters per building (the load's first `meters` of each, then silent ones). */
export function metersPerBuilding(shape: LoadShape): number {
  return Math.max(shape.meters, Math.ceil(shape.registered / shape.buildings));
}

/**
 * The park model (contract section 4) the gateway loads: buildings on a grid,
 * each with its meters (interval 60 s, so that the pauses between rates do
 * not raise offline alarms) and a contracted capacity well above their power
 * (no demand alarms; every register step plausible, contract section 8).
 */
export function benchParkModel(shape: LoadShape): Record<string, unknown> {
  const perBuilding = metersPerBuilding(shape);
  const side = Math.ceil(Math.sqrt(shape.buildings));
  const buildings = Array.from({ length: shape.buildings }, (_, b) => {
    const x = (b % side) * 40;
    const y = Math.floor(b / side) * 40;
    const sensors: Array<Record<string, unknown>> = Array.from({ length: perBuilding }, (_, m) => ({ id: meterId(m), kind: 'energy', source: 'grid', intervalS: 60 }));
    if (b === 0) sensors.push({ id: PROBE_SENSOR, kind: 'energy', source: 'grid', intervalS: 60 });
    return {
      id: buildingId(b),
      name: `Bench building ${b}`,
      use: 'office',
      footprint: [[x, y], [x + 30, y], [x + 30, y + 30], [x, y + 30]],
      height: 20,
      floors: 5,
      floorAreaM2: 4500,
      capacity: 300,
      contractedKw: perBuilding * 500,
      sensors,
    };
  });
  return { id: BENCH_PARK, name: 'Benchmark park (generated)', landAreaKm2: 1, buildings };
}

/** One connection publishing to every meter (the "one MQTT client"). */
export function singleConnection(shape: LoadShape, clientId = 'bench-load'): LoadConnection[] {
  return [{ clientId, username: clientId, publish: [`park/${BENCH_PARK}/#`], sensors: Array.from({ length: shape.buildings * shape.meters }, (_, i) => i) }];
}

/**
 * `devices` connections sharing the meters: meter k (building-major order)
 * belongs to device ⌊k × devices / meters⌋, so 1,000 devices over 250 × 20
 * meters own 5 meters of one building each. Each device's client id is its
 * username (contract section 8) and its credential allows only the
 * buildings of its meters. With more devices than meters the extra ones
 * own none (idle devices) and are allowed one building each.
 */
export function deviceConnections(shape: LoadShape, devices: number): LoadConnection[] {
  const total = shape.buildings * shape.meters;
  const width = String(devices - 1).length;
  const connections: LoadConnection[] = Array.from({ length: devices }, (_, d) => ({ clientId: `dev${String(d).padStart(Math.max(4, width), '0')}`, publish: [], sensors: [] }));
  for (let k = 0; k < total; k++) connections[Math.floor((k * devices) / total)].sensors.push(k);
  connections.forEach((c, d) => {
    c.username = c.clientId;
    const buildings = c.sensors.length > 0 ? [...new Set(c.sensors.map((k) => Math.floor(k / shape.meters)))] : [d % shape.buildings];
    c.publish = buildings.map((b) => `park/${BENCH_PARK}/${buildingId(b)}/#`);
  });
  return connections;
}
