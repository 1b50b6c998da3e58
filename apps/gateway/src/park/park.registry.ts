import { ParkIndex, SensorModel } from '@park/telemetry';

/** A sensor that publishes but is not in the park model (contract §4). */
export interface UnregisteredSensor {
  park: string;
  building: string;
  kind: string;
  sensor: string;
  readings: number;
  firstSeen: string;
  lastSeen: string;
}

/** Default of `UNREGISTERED_MAX`: distinct unregistered sensors stored per park. */
export const DEFAULT_MAX_UNREGISTERED = 1000;

/** A sensor whose readings were stamped ahead of the gateway clock (contract §8, "time"). */
export interface SkewedSensor {
  park: string;
  building: string;
  sensor: string;
  /** Readings ahead of the clock when they arrived. */
  readings: number;
  /** How far ahead the latest of them was, ms. */
  lastAheadMs: number;
  maxAheadMs: number;
  lastSeen: string;
}

/** A sensor whose register made implausible steps (contract §8, "register plausibility"). */
export interface ImplausibleSensor {
  park: string;
  building: string;
  sensor: string;
  field: string;
  /** Implausible steps (each counted 0). */
  steps: number;
  /** The latest one: when it ended, the increase it implied and the most that could count. */
  last: { t: string; increase: number; limit: number };
}

/** Sensors listed at most as skewed, and as implausible (bounded tables). */
const MAX_LISTED_SENSORS = 1000;

/** Steps remembered so that a step found again (re-derived windows) is not counted twice. */
const MAX_REMEMBERED_STEPS = 10_000;

/** The parks served, and what the gateway learned about their sensors. */
export class ParkRegistry {
  private readonly parks = new Map<string, ParkIndex>();
  private readonly unregistered = new Map<string, UnregisteredSensor>();
  private readonly unregisteredPerPark = new Map<string, number>();
  private readonly skewed = new Map<string, SkewedSensor>();
  private readonly implausible = new Map<string, ImplausibleSensor>();
  private readonly stepsSeen = new Set<string>();

  /**
   * @param maxUnregisteredPerPark distinct unregistered sensors (park,
   *   building, kind, id) a park may have stored: each is a new series in
   *   InfluxDB, so a device inventing sensor ids must not grow them without
   *   bound (issue 8 finding 9).
   */
  constructor(
    parks: ParkIndex[],
    readonly maxUnregisteredPerPark = DEFAULT_MAX_UNREGISTERED,
  ) {
    for (const p of parks) this.parks.set(p.model.id, p);
  }

  get(parkId: string): ParkIndex | undefined {
    return this.parks.get(parkId);
  }

  all(): ParkIndex[] {
    return [...this.parks.values()];
  }

  /** The model's entry for a sensor, undefined when the model does not list it. */
  sensor(park: ParkIndex, building: string, sensor: string): SensorModel | undefined {
    return park.sensors.get(`${building}/${sensor}`);
  }

  /**
   * Records `n` readings of an unregistered sensor, if they may be stored:
   * true for a sensor already seen, or a new one while its park has fewer
   * than `maxUnregisteredPerPark`; false for a new one beyond that (its
   * readings are then rejected, `unregistered_limit`). The sensors seen are
   * remembered for the life of the process.
   */
  noteUnregistered(park: string, building: string, kind: string, sensor: string, n: number, nowMs: number): boolean {
    const key = `${park}/${building}/${kind}/${sensor}`;
    const now = new Date(nowMs).toISOString();
    const seen = this.unregistered.get(key);
    if (seen) {
      seen.readings += n;
      seen.lastSeen = now;
      return true;
    }
    const count = this.unregisteredPerPark.get(park) ?? 0;
    if (count >= this.maxUnregisteredPerPark) return false;
    this.unregisteredPerPark.set(park, count + 1);
    this.unregistered.set(key, { park, building, kind, sensor, readings: n, firstSeen: now, lastSeen: now });
    return true;
  }

  unregisteredSensors(): UnregisteredSensor[] {
    return [...this.unregistered.values()];
  }

  /** Records a reading stamped `aheadMs` ahead of the gateway clock (bounded table). */
  noteSkewed(park: string, building: string, sensor: string, aheadMs: number, nowMs: number): void {
    const key = `${park}/${building}/${sensor}`;
    const seen = this.skewed.get(key);
    const lastSeen = new Date(nowMs).toISOString();
    if (seen) {
      seen.readings++;
      seen.lastAheadMs = aheadMs;
      seen.maxAheadMs = Math.max(seen.maxAheadMs, aheadMs);
      seen.lastSeen = lastSeen;
    } else if (this.skewed.size < MAX_LISTED_SENSORS) {
      this.skewed.set(key, { park, building, sensor, readings: 1, lastAheadMs: aheadMs, maxAheadMs: aheadMs, lastSeen });
    }
  }

  skewedSensors(): SkewedSensor[] {
    return [...this.skewed.values()];
  }

  /**
   * Records an implausible register step ending at `toTsMs`; false when this
   * step was recorded before (the same step found again when its windows are
   * derived again), so that each is counted once.
   */
  noteImplausible(park: string, building: string, sensor: string, field: string, toTsMs: number, increase: number, limit: number): boolean {
    const stepKey = `${park}/${building}/${sensor}/${field}@${toTsMs}`;
    if (this.stepsSeen.has(stepKey)) return false;
    if (this.stepsSeen.size >= MAX_REMEMBERED_STEPS) this.stepsSeen.delete(this.stepsSeen.values().next().value as string);
    this.stepsSeen.add(stepKey);
    const key = `${park}/${building}/${sensor}/${field}`;
    const last = { t: new Date(toTsMs).toISOString(), increase, limit };
    const seen = this.implausible.get(key);
    if (seen) {
      seen.steps++;
      if (toTsMs >= Date.parse(seen.last.t)) seen.last = last;
    } else if (this.implausible.size < MAX_LISTED_SENSORS) {
      this.implausible.set(key, { park, building, sensor, field, steps: 1, last });
    }
    return true;
  }

  implausibleSensors(): ImplausibleSensor[] {
    return [...this.implausible.values()];
  }
}
