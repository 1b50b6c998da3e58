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

const MAX_UNREGISTERED = 1000;

/** The parks served, and what the gateway learned about their sensors. */
export class ParkRegistry {
  private readonly parks = new Map<string, ParkIndex>();
  private readonly unregistered = new Map<string, UnregisteredSensor>();

  constructor(parks: ParkIndex[]) {
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

  /** Records a reading from an unregistered sensor (bounded table). */
  noteUnregistered(park: string, building: string, kind: string, sensor: string, n: number, nowMs: number): void {
    const key = `${park}/${building}/${kind}/${sensor}`;
    const now = new Date(nowMs).toISOString();
    const seen = this.unregistered.get(key);
    if (seen) {
      seen.readings += n;
      seen.lastSeen = now;
    } else if (this.unregistered.size < MAX_UNREGISTERED) {
      this.unregistered.set(key, { park, building, kind, sensor, readings: n, firstSeen: now, lastSeen: now });
    }
  }

  unregisteredSensors(): UnregisteredSensor[] {
    return [...this.unregistered.values()];
  }
}
