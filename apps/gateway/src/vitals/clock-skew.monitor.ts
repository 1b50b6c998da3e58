import { Reading } from '@park/telemetry';
import { Clock } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';

/**
 * Contract §8, time: a reading stamped ahead of the gateway clock when it
 * arrives is stored (ingest accepts up to MAX_FUTURE_S ahead) but is a sign
 * of a device clock running fast. Each one is counted
 * (`gateway_readings_clock_skew_total`) and its sensor listed in
 * `/api/health`; the derivation makes sure it never moves the watermark.
 * Watches what this gateway ingests, whichever gateway derives the park.
 */
export class ClockSkewMonitor {
  private unsubscribe?: Unsubscribe;

  constructor(
    private readonly bus: GatewayBus,
    private readonly registry: ParkRegistry,
    private readonly metrics: GatewayMetrics,
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe('readings', (readings) => this.check(readings));
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private check(readings: readonly Reading[]): void {
    const nowMs = this.clock.now();
    for (const r of readings) {
      if (r.tsMs <= nowMs) continue;
      this.metrics.clockSkewReadings++;
      this.registry.noteSkewed(r.park, r.building, r.sensor, r.tsMs - nowMs, nowMs);
    }
  }
}
