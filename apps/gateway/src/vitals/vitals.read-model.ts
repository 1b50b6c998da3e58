import { Alarm, NowSnapshot, ParkVitals } from '@park/metrics';

/**
 * What other features may read of the live derivation (the pull side of the
 * bus: the live stream's snapshot on connect, the vitals and alarms API).
 * Undefined / empty for a park this gateway does not derive.
 */
export interface VitalsReadModel {
  /** The latest closed window of a park. */
  latest(parkId: string): ParkVitals | undefined;
  /** The alarms active after the latest closed window. */
  activeAlarms(parkId: string): Alarm[];
  /** The instantaneous state of a park at `atMs` (contract §7 `now`). */
  now(parkId: string, atMs: number): NowSnapshot | undefined;
}

/** Injection token of the {@link VitalsReadModel}. */
export const VITALS_READ_MODEL = Symbol('VITALS_READ_MODEL');
