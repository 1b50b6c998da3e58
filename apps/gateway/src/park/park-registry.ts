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

/** The parks served, and what the gateway learned about their sensors. */
export class ParkRegistry {
  private readonly parks = new Map<string, ParkIndex>();
  private readonly unregistered = new Map<string, UnregisteredSensor>();
  private readonly unregisteredPerPark = new Map<string, number>();

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
}
