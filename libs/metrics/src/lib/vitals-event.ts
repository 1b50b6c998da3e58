import { ImplausibleStep } from './energy';
import { Alarm, ParkVitals } from './vital-signs';

/**
 * What the live derivation emits, in order. The gateway turns `vitals` and
 * `alarm` into the live-stream messages of contract §7 and InfluxDB points
 * (§5); `revision` overwrites the stored point of an earlier window;
 * `recompute-needed` is operator information (a log line).
 */
export type VitalsEvent =
  /** A window closed: its vital signs, with `status` from the alarms it decided. */
  | { type: 'vitals'; vitals: ParkVitals }
  /** An alarm transition decided by the window just before it in the stream. */
  | { type: 'alarm'; alarm: Alarm }
  /**
   * An already closed window's cumulative values changed because a reading
   * completed an interval reaching back into it (e.g. a meter back after a
   * gap longer than the allowed lateness). Same window, same `status`; the
   * energy, load, PV, renewable share and carbon fields are the corrected ones.
   */
  | { type: 'revision'; vitals: ParkVitals }
  /**
   * Part of an interval fell into windows closed longer ago than the revision
   * horizon: those windows' stored values lack it until the recompute
   * command is run over `[fromMs, toMs)`.
   */
  | { type: 'recompute-needed'; parkId: string; building: string; sensor: string; fromMs: number; toMs: number }
  /**
   * Contract §8: a reading made a register step (into it or out of it) that
   * implies more than the register's bound; the step counts 0. Reported once,
   * when the reading is ingested.
   */
  | { type: 'implausible'; parkId: string; building: string; sensor: string; step: ImplausibleStep };
