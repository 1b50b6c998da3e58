/**
 * A steady stream of plausible readings for every sensor of a park model,
 * published over MQTT like the devices would (contract §2–§3), so the
 * viewer under test shows a live, healthy park: every sensor online, loads
 * at a chosen share of each building's contracted capacity. A test moves one
 * building's load with `setLoad` and watches the viewer react.
 */
import type { MqttClient } from 'mqtt';
import type { BuildingModel, ParkModel } from '@park/telemetry';

export class ParkFeed {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly registers = new Map<string, number>();
  private readonly loads = new Map<string, number>();
  private lastTickMs = 0;
  /** Readings published so far. */
  published = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly park: ParkModel,
    private readonly options: { periodMs?: number; defaultLoad?: number } = {},
  ) {}

  /** Grid load of a building from the next tick on, as a share of its contracted kW (1.3 = 30 % over). */
  setLoad(buildingId: string, share: number): void {
    this.loads.set(buildingId, share);
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.periodMs ?? 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Publishes one reading per sensor, all stamped now. */
  tick(): void {
    const ts = Date.now();
    const dtH = this.lastTickMs ? (ts - this.lastTickMs) / 3_600_000 : 0;
    this.lastTickMs = ts;
    this.park.buildings.forEach((b, bi) => this.publishBuilding(b, bi, ts, dtH));
  }

  private publishBuilding(b: BuildingModel, bi: number, ts: number, dtH: number): void {
    const share = this.loads.get(b.id) ?? this.options.defaultLoad ?? 0.3 + 0.4 * (((bi * 37) % 13) / 13);
    const grid = b.sensors.filter((s) => s.kind === 'energy' && (s.source ?? 'grid') === 'grid');
    const occupancy = b.sensors.filter((s) => s.kind === 'occupancy');
    for (const s of b.sensors) {
      const key = `${b.id}/${s.id}`;
      let payload: Record<string, number>;
      if (s.kind === 'energy') {
        const powerKw = s.source === 'pv' ? 0.04 * b.contractedKw : (share * b.contractedKw) / Math.max(1, grid.length);
        const register = (this.registers.get(key) ?? 10_000 * (bi + 1)) + powerKw * dtH;
        this.registers.set(key, register);
        payload = { ts, power_kw: round(powerKw), energy_kwh: round(register) };
      } else if (s.kind === 'carbon') {
        if (/boiler|genset/.test(s.id)) {
          const register = (this.registers.get(key) ?? 500) + 40 * dtH;
          this.registers.set(key, register);
          payload = { ts, emission_kgco2e: round(register) };
        } else payload = { ts, co2_ppm: 520 + ((bi * 53) % 260) };
      } else {
        payload = { ts, count: Math.round((b.capacity * 0.45) / Math.max(1, occupancy.length)) };
      }
      this.client.publish(`park/${this.park.id}/${b.id}/${s.kind}/${s.id}`, JSON.stringify(payload), { qos: 0 });
      this.published++;
    }
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
