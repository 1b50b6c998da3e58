import { ParkIndex, Reading } from '@park/telemetry';
import { asyncScheduler, interval, map, Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import { NowSnapshot } from './now-state';
import { ParkVitalsEngine, VitalsEngineOptions } from './park-vitals.engine';
import { VitalsEvent } from './vitals-event';

export interface VitalsWindowsOptions extends VitalsEngineOptions {
  /** The clock (its `now()`) and the timer of the ticks; tests pass a TestScheduler. Default: rxjs asyncScheduler. */
  scheduler?: SchedulerLike;
  /** How often the clock advances the engine when no reading arrives, ms (default 1000). */
  tickMs?: number;
}

/**
 * Readings in, vitals events out: each reading is ingested (a late one is
 * reported as a `late` event) and the engine advanced to the scheduler's
 * time; a tick every `tickMs` advances it too, so that windows close and
 * `offline` fires while every sensor is silent. When the readings complete,
 * the remaining windows are flushed and the output completes.
 *
 * Pass an engine to share it (e.g. with {@link nowSnapshots}); pass a park
 * index to get a private one built with `opts`.
 */
export function vitalsWindows(
  source: ParkIndex | ParkVitalsEngine,
  opts: VitalsWindowsOptions = {},
): OperatorFunction<Reading, VitalsEvent> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const tickMs = opts.tickMs ?? 1000;
  return (readings) =>
    new Observable<VitalsEvent>((out) => {
      const engine = source instanceof ParkVitalsEngine ? source : new ParkVitalsEngine(source, opts);
      let lateTotal = 0;
      const emit = (events: VitalsEvent[]): void => {
        for (const e of events) out.next(e);
      };
      const ticks = interval(tickMs, scheduler).subscribe(() => emit(engine.advance(scheduler.now())));
      const input = readings.subscribe({
        next: (r) => {
          if (engine.ingest(r) === 'late') out.next({ type: 'late', parkId: engine.parkId, reading: r, lateTotal: ++lateTotal });
          emit(engine.advance(scheduler.now()));
        },
        error: (err) => out.error(err),
        complete: () => {
          emit(engine.advance(scheduler.now()));
          emit(engine.flush());
          out.complete();
        },
      });
      return () => {
        ticks.unsubscribe();
        input.unsubscribe();
      };
    });
}

/** The engine's instantaneous state every `periodMs` (contract §7: `now` at least once a second), stamped with the scheduler's time. */
export function nowSnapshots(
  engine: ParkVitalsEngine,
  opts: { scheduler?: SchedulerLike; periodMs?: number } = {},
): Observable<NowSnapshot & { parkId: string; tMs: number }> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  return interval(opts.periodMs ?? 1000, scheduler).pipe(
    map(() => {
      const tMs = scheduler.now();
      return { parkId: engine.parkId, tMs, ...engine.now(tMs) };
    }),
  );
}
