/**
 * The park simulator's engine: given a park model, a seed and a start time, it
 * generates the MQTT messages every sensor of the park sends up to a simulated
 * instant. No I/O and no wall clock: the command (apps/park-sim), the tests and
 * the benchmarks drive it with `stepUntil`.
 *
 * Each sensor samples every `intervalS` from a seeded phase. Energy meters
 * hold their power constant between two samples, so the register increase
 * between consecutive readings is exactly P × dt, and the ground truth
 * (ground-truth.ts) is Σ P × overlap per 1-minute window.
 */
import { BuildingModel, DEFAULT_TIME_ZONE, ParkModel, SensorKind, SensorModel, sensorTopic } from '@park/telemetry';
import { anomalyLoadKw, stuckRegister } from './anomalies';
import { drawFaults, DEFAULT_LATE_MS, FaultRates, glitchRegisterValue, malformedPayload, NO_FAULTS, spikePowerKw } from './faults';
import { GroundTruth, TruthTotals, TruthWindow } from './ground-truth';
import {
  buildingLoadKw,
  buildingPeople,
  clearSkyPvFraction,
  cloudFactor,
  CO2_TIME_CONSTANT_MS,
  DEFAULT_LAT_DEG,
  DEFAULT_LON_DEG,
  EmissionSource,
  emissionRateKgPerH,
  emissionSourceOf,
  outdoorCo2Ppm,
  ParkLocalTime,
  pvPeakKw,
  steadyCo2Ppm,
  zoneWeight,
} from './load-profiles';
import { hash32, hashString, Prng, signedHash, unitHash } from './prng';
import { Scenario, scenarioActive, ScenarioKind } from './scenarios';

// Math functions as module constants: global lookups are slow inside the vm
// contexts Jest runs tests in (Node 20), and these run several times per reading.
const { exp, max, min, round } = Math;
const { stringify } = JSON;

/** How a message came about; `malformed` ones must be rejected by the gateway. */
export type SimMessageKind = 'reading' | 'malformed' | 'duplicate' | 'late';

/** One MQTT message the simulated park sends. */
export interface SimMessage {
  topic: string;
  /** The JSON payload (contract §3), or a spoiled one for `malformed`. */
  payload: string;
  /** The reading's own time (`ts` in the payload), epoch ms. */
  tsMs: number;
  /** Simulated time at which the message is sent: `tsMs`, or later when `late`. */
  sendAtMs: number;
  kind: SimMessageKind;
  park: string;
  building: string;
  sensor: string;
  sensorKind: SensorKind;
  /** `malformed` only: the rejection reason the gateway must give. */
  expect?: 'bad_json' | 'bad_field';
}

export interface ParkSimulatorOptions {
  /** Seed of every random choice; the same seed and start give the same run. */
  seed: number;
  /** Simulated start, epoch ms. The first reading of each sensor follows within one interval. */
  startMs: number;
  /** Probability per reading of each fault; absent ones are 0. */
  faults?: Partial<FaultRates>;
  /** Delay of `late` readings, ms (default 90 000). */
  lateMs?: number;
  scenarios?: readonly Scenario[];
  /**
   * Registers to continue from, by `building/sensor` (energy and emission
   * registers): the value a meter last reported and when. The simulated
   * meter goes on counting from there, so a restarted simulation continues
   * the stored series instead of starting another (see `resumeState` in the
   * sim command). Sensors not listed start from their seeded value.
   */
  registers?: Readonly<Record<string, { value: number; atMs: number }>>;
}

/** What the simulator did so far. */
export interface SimStats {
  /** Readings sampled (sent or not). */
  sampled: number;
  /** Messages carrying a valid reading: on time, late and duplicate copies. */
  sent: number;
  /** Messages the gateway must reject (malformed). */
  malformed: number;
  /** Second copies of duplicated readings. */
  duplicates: number;
  /** Readings delayed by `lateMs`. */
  late: number;
  /** Readings not sent because of a dropout fault. */
  dropouts: number;
  /** Readings not sent because their building was `silent`. */
  silenced: number;
  /** Readings whose `power_kw` was a spike. */
  spikes: number;
  /** Register resets. */
  resets: number;
  /** Register readings sent with an absurd value (the register itself went on). */
  glitches: number;
}

type Role = 'grid' | 'pv' | 'co2' | 'emission' | 'occupancy';

/** One simulated sensor and its state between samples. */
interface SensorSim {
  building: BuildingModel;
  model: SensorModel;
  role: Role;
  topic: string;
  key: number;
  intervalMs: number;
  nextMs: number;
  prevMs: number | undefined;
  /** grid: share of the building's net import; pv: kWp. */
  size: number;
  /** Cumulative register (energy kWh or emission kg), exact. */
  register: number;
  /** Register increase since the last reading that reached the gateway. */
  sinceSent: number;
  /** Whether a register reading of this sensor has reached the gateway yet. */
  everSent: boolean;
  /** co2: current concentration, ppm (set at the first sample). */
  co2Ppm: number;
  /** co2: site factor; occupancy: zone weight factor. */
  factor: number;
  emission?: EmissionSource;
}

interface PendingLate {
  message: SimMessage;
  seq: number;
}

const HOUR_MS = 3_600_000;

/** Rounds to `digits` decimals (payloads carry meter-like resolutions). */
function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return round(x * f) / f;
}

/**
 * Simulates one park. Create it with a model and options; call `stepUntil`
 * with increasing simulated times to get the messages sent up to then.
 */
export class ParkSimulator {
  readonly stats: SimStats = { sampled: 0, sent: 0, malformed: 0, duplicates: 0, late: 0, dropouts: 0, silenced: 0, spikes: 0, resets: 0, glitches: 0 };
  private readonly sensors: SensorSim[] = [];
  private readonly pvByBuilding = new Map<string, SensorSim[]>();
  private readonly occupancyByBuilding = new Map<string, SensorSim[]>();
  private readonly truthAcc: GroundTruth;
  private readonly faults: FaultRates;
  private readonly lateMs: number;
  private readonly scenarios: readonly Scenario[];
  private readonly seed: number;
  private readonly lat: number;
  private readonly lon: number;
  /** The park's local time (contract §8: the model's `timeZone`): the day its people live. */
  private readonly localTime: ParkLocalTime;
  private pendingLate: PendingLate[] = [];
  /** Registers held by a `stuck` anomaly, by sensor key (anomalies.ts). */
  private readonly frozen = new Map<number, number>();
  private clock: number;
  private seq = 0;

  constructor(
    readonly park: ParkModel,
    private readonly options: ParkSimulatorOptions,
  ) {
    this.seed = options.seed >>> 0;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.lateMs = options.lateMs ?? DEFAULT_LATE_MS;
    this.scenarios = options.scenarios ?? [];
    this.clock = options.startMs;
    this.lat = park.origin?.lat ?? DEFAULT_LAT_DEG;
    this.lon = park.origin?.lon ?? DEFAULT_LON_DEG;
    this.localTime = new ParkLocalTime(park.timeZone ?? DEFAULT_TIME_ZONE);
    this.truthAcc = new GroundTruth(park.id, park.buildings.map((b) => b.id), options.startMs);
    for (const b of park.buildings) this.addBuilding(b);
  }

  /** The simulated time reached by the last `stepUntil`. */
  get clockMs(): number {
    return this.clock;
  }

  /**
   * Samples every sensor up to `tMs` (inclusive) and returns the messages sent
   * in (previous clock, tMs], in sending order. Late readings come out when
   * their delay has passed. Times before the clock are ignored.
   */
  stepUntil(tMs: number): SimMessage[] {
    if (tMs < this.clock) return [];
    this.clock = tMs;
    const out: PendingLate[] = [];
    for (const s of this.sensors) {
      while (s.nextMs <= tMs) {
        this.sample(s, s.nextMs, out);
        s.prevMs = s.nextMs;
        s.nextMs += s.intervalMs;
      }
    }
    if (this.pendingLate.length > 0) {
      const due = this.pendingLate.filter((p) => p.message.sendAtMs <= tMs);
      if (due.length > 0) {
        this.pendingLate = this.pendingLate.filter((p) => p.message.sendAtMs > tMs);
        out.push(...due);
      }
    }
    out.sort((a, b) => a.message.sendAtMs - b.message.sendAtMs || a.seq - b.seq);
    return out.map((p) => p.message);
  }

  /**
   * Moves the simulation to `tMs` without sending anything: every meter
   * counts on (registers, indoor air follow the physics) as if its readings
   * were lost. For a simulation that continues a stored series from a time
   * before the first one it should send. Faults, statistics and the ground
   * truth are untouched.
   */
  skipUntil(tMs: number): void {
    if (tMs < this.clock) return;
    this.clock = tMs;
    for (const s of this.sensors) {
      while (s.nextMs <= tMs) {
        this.advance(s, s.nextMs);
        s.prevMs = s.nextMs;
        s.nextMs += s.intervalMs;
      }
    }
  }

  /**
   * Releases the late readings still held back, stamped to be sent now (the
   * end of a run); their payloads keep their original `ts`.
   */
  flushLate(): SimMessage[] {
    const out = this.pendingLate.map((p) => ({ ...p.message, sendAtMs: this.clock }));
    this.pendingLate = [];
    return out;
  }

  /**
   * Ground-truth windows that can no longer change (every meter has read past
   * their end) and were not drained before. `final: true` drains the rest, up
   * to the last window touched (the end of a run).
   */
  drainTruth(final = false): TruthWindow[] {
    if (final) return this.truthAcc.drain(Infinity);
    let safe = this.clock;
    for (const s of this.sensors) {
      if (s.role === 'grid' || s.role === 'pv' || s.role === 'emission') safe = min(safe, s.prevMs ?? this.options.startMs);
    }
    return this.truthAcc.drain(safe);
  }

  /** Every ground-truth window so far, including the still-open last ones. */
  truth(): TruthWindow[] {
    return this.truthAcc.all();
  }

  /** Ground-truth totals per building so far. */
  truthTotals(): TruthTotals {
    return this.truthAcc.totals();
  }

  private addBuilding(b: BuildingModel): void {
    const grid = b.sensors.filter((s) => s.kind === 'energy' && (s.source ?? 'grid') === 'grid');
    const pvCount = b.sensors.filter((s) => s.kind === 'energy' && s.source === 'pv').length;
    const gridWeights = grid.map((s) => 0.6 + 0.8 * unitHash(this.seed, hashString(`${this.park.id}/${b.id}/${s.id}`), 0x5e));
    const weightSum = gridWeights.reduce((a, w) => a + w, 0);
    for (const m of b.sensors) {
      const key = hashString(`${this.park.id}/${b.id}/${m.id}`);
      const rng = new Prng(hash32(this.seed, key));
      const intervalMs = max(1, round(m.intervalS * 1000)); // the schema allows any intervalS > 0
      const role: Role =
        m.kind === 'energy' ? (m.source === 'pv' ? 'pv' : 'grid') : m.kind === 'occupancy' ? 'occupancy' : emissionSourceOf(b, m.id) ? 'emission' : 'co2';
      const size = role === 'grid' ? gridWeights[grid.indexOf(m)] / weightSum : role === 'pv' ? pvPeakKw(b, pvCount) : 0;
      const register =
        role === 'grid'
          ? roundTo(b.contractedKw * size * rng.range(1500, 15000), 3)
          : role === 'pv'
            ? roundTo(size * rng.range(800, 6000), 3)
            : role === 'emission'
              ? roundTo(rng.range(2e4, 8e5), 3)
              : 0;
      const stored = role === 'grid' || role === 'pv' || role === 'emission' ? this.options.registers?.[`${b.id}/${m.id}`] : undefined;
      const s: SensorSim = {
        building: b,
        model: m,
        role,
        topic: sensorTopic({ park: this.park.id, building: b.id, kind: m.kind, sensor: m.id }),
        key,
        intervalMs,
        // A seeded phase spreads the sensors over their interval, as real ones are.
        nextMs: this.options.startMs + 1 + rng.int(intervalMs),
        // Continuing a stored register: its first increase counts from the stored reading.
        prevMs: stored && stored.atMs <= this.options.startMs ? stored.atMs : undefined,
        size,
        register: stored ? stored.value : register,
        sinceSent: 0,
        everSent: false,
        co2Ppm: NaN,
        factor: role === 'co2' ? rng.range(0.8, 1.25) : rng.range(0.8, 1.2),
        emission: role === 'emission' ? emissionSourceOf(b, m.id) : undefined,
      };
      this.sensors.push(s);
      if (role === 'pv') this.pvByBuilding.set(b.id, [...(this.pvByBuilding.get(b.id) ?? []), s]);
      if (role === 'occupancy') this.occupancyByBuilding.set(b.id, [...(this.occupancyByBuilding.get(b.id) ?? []), s]);
    }
  }

  private active(kind: ScenarioKind, b: BuildingModel, tMs: number): boolean {
    return this.scenarios.length > 0 && scenarioActive(this.scenarios, kind, this.park.id, b.id, this.options.startMs, tMs);
  }

  /** PV output of one meter at `tMs`, kW (3 decimals). */
  private pvKw(s: SensorSim, tMs: number): number {
    const sun = clearSkyPvFraction(tMs, this.lat, this.lon);
    if (sun === 0) return 0;
    const panelNoise = 1 + 0.01 * signedHash(this.seed, s.key, tMs);
    return roundTo(s.size * sun * cloudFactor(this.seed, this.park.id, tMs, this.localTime) * panelNoise, 3);
  }

  /** Grid import of one grid meter at `tMs`, kW (3 decimals; negative: export). */
  private gridKw(s: SensorSim, tMs: number): number {
    const b = s.building;
    let net: number;
    if (this.active('overload', b, tMs)) {
      net = 1.3 * b.contractedKw * (1 + 0.02 * signedHash(this.seed, s.key, tMs, 0x0f));
    } else {
      let pv = 0;
      for (const p of this.pvByBuilding.get(b.id) ?? []) pv += this.pvKw(p, tMs);
      net = anomalyLoadKw(this.scenarios, this.park.id, b, this.options.startMs, tMs, buildingLoadKw(this.seed, this.park.id, b, tMs, this.localTime), this.localTime) - pv;
    }
    return roundTo(s.size * net * (1 + 0.01 * signedHash(this.seed, s.key, tMs)), 3);
  }

  /** People in the building at `tMs` (continuous). */
  private people(b: BuildingModel, tMs: number): number {
    if (this.active('crowding', b, tMs)) return 1.3 * b.capacity * (1 + 0.02 * signedHash(this.seed, hashString(b.id), tMs));
    return buildingPeople(this.seed, this.park.id, b, tMs, this.localTime);
  }

  private occupancyCount(s: SensorSim, tMs: number): number {
    const zones = this.occupancyByBuilding.get(s.building.id)!;
    let total = 0;
    for (const z of zones) total += zoneWeight(z.model.zone, tMs, this.localTime) * z.factor;
    const share = (zoneWeight(s.model.zone, tMs, this.localTime) * s.factor) / total;
    const jitter = 1 + 0.03 * signedHash(this.seed, s.key, tMs);
    return max(0, round(this.people(s.building, tMs) * share * jitter));
  }

  private co2(s: SensorSim, tMs: number): number {
    const b = s.building;
    if (this.active('co2', b, tMs)) {
      // Ventilation failure with a full floor: the concentration is simply there.
      s.co2Ppm = 1800 + 40 * signedHash(this.seed, s.key, tMs, 0xc0);
    } else {
      const crowding = b.capacity > 0 ? this.people(b, tMs) / b.capacity : 0;
      const steady = steadyCo2Ppm(outdoorCo2Ppm(this.seed, this.park.id, tMs), crowding, s.factor);
      s.co2Ppm = s.prevMs === undefined
        ? steady
        : steady + (s.co2Ppm - steady) * exp(-(tMs - s.prevMs) / CO2_TIME_CONSTANT_MS);
    }
    return roundTo(max(0, s.co2Ppm + 4 * signedHash(this.seed, s.key, tMs)), 1);
  }

  /**
   * Advances sensor `s` to `tMs` (its registers and indoor air) and returns
   * what it reads then, with the register field and the rate that drove it.
   */
  private advance(s: SensorSim, tMs: number): { reading: Record<string, number>; registerField?: 'energy_kwh' | 'emission_kgco2e'; truthField?: 'energy_kwh' | 'pv_kwh' | 'emission_kgco2e'; ratePerH: number } {
    const dtH = s.prevMs === undefined ? 0 : (tMs - s.prevMs) / HOUR_MS;
    const reading: Record<string, number> = { ts: tMs };
    let truthField: 'energy_kwh' | 'pv_kwh' | 'emission_kgco2e' | undefined;
    let ratePerH = 0;
    let registerField: 'energy_kwh' | 'emission_kgco2e' | undefined;
    switch (s.role) {
      case 'grid': {
        const p = this.gridKw(s, tMs);
        ratePerH = max(0, p); // the import register does not count export
        reading.power_kw = p;
        truthField = 'energy_kwh';
        registerField = 'energy_kwh';
        break;
      }
      case 'pv': {
        ratePerH = this.pvKw(s, tMs);
        reading.power_kw = ratePerH;
        truthField = 'pv_kwh';
        registerField = 'energy_kwh';
        break;
      }
      case 'emission':
        ratePerH = emissionRateKgPerH(s.emission!, this.seed, s.key, tMs, this.localTime);
        truthField = 'emission_kgco2e';
        registerField = 'emission_kgco2e';
        break;
      case 'co2':
        reading.co2_ppm = this.co2(s, tMs);
        break;
      case 'occupancy':
        reading.count = this.occupancyCount(s, tMs);
        break;
    }
    if (registerField) {
      const increase = ratePerH * dtH;
      s.register += increase;
      s.sinceSent += increase;
    }
    return { reading, registerField, truthField, ratePerH };
  }

  /** Samples sensor `s` at `tMs`: advances its state and queues what it sends. */
  private sample(s: SensorSim, tMs: number, out: PendingLate[]): void {
    const b = s.building;
    const { reading, registerField, truthField, ratePerH } = this.advance(s, tMs);
    // Truth starts at the meter's first reading the gateway got (ground-truth.ts).
    if (registerField && s.everSent && truthField) this.truthAcc.add(b.id, truthField, s.prevMs!, tMs, ratePerH);
    this.stats.sampled++;

    if (this.active('silent', b, tMs)) {
      this.stats.silenced++;
      return;
    }
    const faults = drawFaults(this.faults, this.seed, s.key, tMs, { power: 'power_kw' in reading, register: registerField !== undefined });
    if (faults.dropout) {
      this.stats.dropouts++;
      return;
    }
    if (registerField) {
      if (faults.reset && s.everSent && s.sinceSent < s.register - s.sinceSent) {
        // The meter restarted from 0 just after its last reading that got
        // through, so the gateway sees a decrease and counts the new value as
        // the increase from 0 (contract §6): no energy is lost.
        s.register = s.sinceSent;
        this.stats.resets++;
      }
      reading[registerField] = roundTo(s.register, 6);
      if (s.role === 'grid') reading.energy_kwh = stuckRegister(this.frozen, this.scenarios, this.park.id, b, s.model.id, s.key, this.options.startMs, tMs, reading.energy_kwh);
      if (faults.glitch) {
        reading[registerField] = glitchRegisterValue(reading[registerField], unitHash(this.seed, s.key, tMs, 0x91));
        this.stats.glitches++;
      }
    }
    if (faults.spike) {
      reading.power_kw = spikePowerKw(b.contractedKw, unitHash(this.seed, s.key, tMs, 0x5c));
      this.stats.spikes++;
    }
    const base = {
      topic: s.topic,
      tsMs: tMs,
      park: this.park.id,
      building: b.id,
      sensor: s.model.id,
      sensorKind: s.model.kind,
    };
    if (faults.malformed) {
      const bad = malformedPayload(reading, unitHash(this.seed, s.key, tMs, 0xbb));
      this.stats.malformed++;
      out.push({ seq: this.seq++, message: { ...base, payload: bad.payload, sendAtMs: tMs, kind: 'malformed', expect: bad.expect } });
      return;
    }
    if (registerField) {
      s.sinceSent = 0;
      s.everSent = true;
    }
    const payload = stringify(reading);
    const sendAtMs = faults.late ? tMs + this.lateMs : tMs;
    const first: SimMessage = { ...base, payload, sendAtMs, kind: faults.late ? 'late' : 'reading' };
    const copies = faults.duplicate ? [first, { ...first, kind: 'duplicate' as const }] : [first];
    this.stats.sent += copies.length;
    if (faults.duplicate) this.stats.duplicates++;
    if (faults.late) this.stats.late++;
    for (const message of copies) {
      if (faults.late) this.pendingLate.push({ seq: this.seq++, message });
      else out.push({ seq: this.seq++, message });
    }
  }
}
