/**
 * Readings as the contract (docs: shared contract §2–§3) defines them, in the
 * gateway's own names: camelCase with the unit in the name.
 */

/** The three sensor kinds of contract §2; also the InfluxDB measurement names. */
export const SENSOR_KINDS = ['energy', 'carbon', 'occupancy'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

/** Energy meter source (contract §4): grid import or on-site photovoltaics. */
export type EnergySource = 'grid' | 'pv';

/**
 * Why a reading was not stored. Every rejection carries exactly one of these;
 * they are the `reason` label of `gateway_readings_rejected_total`.
 */
export const REJECT_REASONS = [
  'bad_topic',
  'bad_json',
  'bad_field',
  'no_fields',
  'too_large',
  'future_ts',
  'stale_ts',
  'unknown_building',
  'unauthorized',
  // Not in contract §3's list: a reading of a sensor the park model does not
  // list, when the park already has the most unregistered sensors the gateway
  // stores (UNREGISTERED_MAX; issue 8 finding 9, docs/security-devices.md).
  'unregistered_limit',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Where a reading came from, as parsed from its MQTT topic. */
export interface SensorAddress {
  park: string;
  building: string;
  kind: SensorKind;
  sensor: string;
}

/** One validated reading. Only the fields of its kind may be present. */
export interface Reading extends SensorAddress {
  /** Epoch milliseconds (contract §5: precision ms). */
  tsMs: number;
  /** energy: active power now, kW; negative is export. */
  powerKw?: number;
  /** energy: cumulative import register, kWh. */
  energyKwh?: number;
  /** carbon: indoor CO2 concentration, ppm. */
  co2Ppm?: number;
  /** carbon: cumulative direct-emission register, kg CO2e. */
  emissionKgco2e?: number;
  /** occupancy: people present in the sensor's zone now. */
  count?: number;
}

/** A reading (or a whole message) that was refused, with why. */
export interface Rejection {
  reason: RejectReason;
  /** Human-readable detail: which key, which value, which bound. */
  detail: string;
  /** The topic it arrived on. */
  topic: string;
  /** A short excerpt of the offending payload or reading (at most 200 chars). */
  excerpt: string;
}

/** The payload fields of each kind, contract name → Reading property. */
export const KIND_FIELDS: Record<SensorKind, ReadonlyArray<{ json: string; prop: keyof Reading }>> = {
  energy: [
    { json: 'power_kw', prop: 'powerKw' },
    { json: 'energy_kwh', prop: 'energyKwh' },
  ],
  carbon: [
    { json: 'co2_ppm', prop: 'co2Ppm' },
    { json: 'emission_kgco2e', prop: 'emissionKgco2e' },
  ],
  occupancy: [{ json: 'count', prop: 'count' }],
};
