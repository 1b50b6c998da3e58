import { Alarm, NowSnapshot, ParkVitals } from '@park/metrics';
import { Reading } from '@park/telemetry';
import { EventBus } from './event.bus';

/**
 * The gateway's event map: what its features tell each other, and nothing
 * else (docs/architecture.md, "the bus"). Producers: ingest (`readings`),
 * vitals (`vitals`, `alarm`, `now`, `derivation-stopped`), trends (`alarm`),
 * cluster (`forwarded-readings`). Consumers: vitals (`readings`,
 * `forwarded-readings`; the trends rules' `alarm`s, for `status`), trends
 * (`readings`, `vitals`), the live stream (`vitals`, `alarm`, `now`),
 * cluster (`readings`, `derivation-stopped`).
 */
export interface GatewayEvents {
  /**
   * Readings ingest accepted from one message (registered and unregistered
   * sensors), in arrival order, already on their way to InfluxDB.
   */
  readings: readonly Reading[];
  /**
   * Readings another gateway ingested (and stored) for a park this gateway
   * derives (contract §8, scale-out): for the derivation only.
   */
  'forwarded-readings': readonly Reading[];
  /**
   * This gateway stopped deriving a park (it is handing it over): every
   * window before `untilMs` it closed is written (the sink was flushed); it
   * derived none from `untilMs` on.
   */
  'derivation-stopped': { parkId: string; untilMs: number };
  /**
   * The vital signs of one window of a park: a window that just closed
   * (`revision: false`), or one published before and derived again because
   * readings completed it or arrived for it late (`revision: true`, same
   * window, corrected values). Published only by the gateway that derives
   * the park.
   */
  vitals: { vitals: ParkVitals; revision: boolean };
  /** One alarm transition (raised or cleared), with the window end as its time; `alarm.late` when found in a re-derived window. */
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
