import { indexPark, Reading } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { ManualClock } from '../core/clock';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';
import { testBus } from '../testing/test-bus';
import { ClockSkewMonitor } from './clock-skew.monitor';

const T0 = Date.parse('2026-11-27T08:00:00.000Z');
const r = (sensor: string, tsMs: number): Reading => ({ park: 'tp', building: 'b1', kind: 'carbon', sensor, tsMs, co2Ppm: 700 });

describe('ClockSkewMonitor (contract §8, time)', () => {
  it('counts each reading stamped ahead of the gateway clock and lists its sensor; readings on time or behind are fine', () => {
    const bus = testBus();
    const registry = new ParkRegistry([indexPark(testPark())]);
    const metrics = new GatewayMetrics();
    const monitor = new ClockSkewMonitor(bus, registry, metrics, new ManualClock(T0));
    monitor.start();
    bus.publish('readings', [r('c1', T0 - 5_000), r('c1', T0), r('c2', T0 + 290_000), r('c2', T0 + 1)]);
    expect(metrics.clockSkewReadings).toBe(2);
    expect(registry.skewedSensors()).toEqual([{ park: 'tp', building: 'b1', sensor: 'c2', readings: 2, lastAheadMs: 1, maxAheadMs: 290_000, lastSeen: new Date(T0).toISOString() }]);
    expect(metrics.render()).toContain('gateway_readings_clock_skew_total 2');
    monitor.stop();
    bus.publish('readings', [r('c2', T0 + 5)]);
    expect(metrics.clockSkewReadings).toBe(2);
  });
});
