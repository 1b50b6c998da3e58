import { Alarm, NowSnapshot, ParkVitals } from '@park/metrics';
import { Reading } from '@park/telemetry';
import { EventBus } from './event.bus';

/**
 * The gateway's event map: what its features tell each other, and nothing
 * else (docs/architecture.md, "the bus"). Producers: ingest (`readings`),
 * vitals (`vitals`, `alarm`, `now`), trends (`alarm`). Consumers: vitals
 * (`readings`; the trends rules' `alarm`s, for `status`), trends
 * (`readings`, `vitals`), the live stream (`vitals`, `alarm`, `now`).
 */
export interface GatewayEvents {
  /**
   * Readings ingest accepted from one message (registered and unregistered
   * sensors), in arrival order, already on their way to InfluxDB.
   */
  readings: readonly Reading[];
  /**
   * The vital signs of one window of a park: a window that just closed
   * (`revision: false`), or one published before and derived again because
   * readings completed it (`revision: true`, same window, corrected values).
   */
  vitals: { vitals: ParkVitals; revision: boolean };
  /** One alarm transition (raised or cleared), with the window end as its time. */
  alarm: { alarm: Alarm };
  /**
   * The instantaneous state of a park (contract §7 `now`): on change, at most
   * every tick, and at least once a second. Derived only while someone
   * subscribes ({@link EventBus.hasSubscribers}).
   */
  now: { parkId: string; atMs: number; state: NowSnapshot };
}

/** The gateway's bus. */
export type GatewayBus = EventBus<GatewayEvents>;
