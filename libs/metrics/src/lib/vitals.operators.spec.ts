import { Reading } from '@park/telemetry';
import { concat, from, ignoreElements, map, merge, Observable, take, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { carbon, energy, formulaTableReadings, people, T0, tpIndex } from '../testing/readings.fixture';
import { ParkVitalsEngine } from './park-vitals.engine';
import { nowSnapshots, vitalsWindows } from './vitals.operators';
import { VitalsEvent } from './vitals-event';

const index = tpIndex();
const SEC = 1000;

/** Readings emitted at their own timestamp on the virtual clock, the stream completing at `endMs`. */
function atTheirTime(readings: Array<{ at: number; r: Reading }>, endMs: number): Observable<Reading> {
  return concat(merge(...readings.map(({ at, r }) => timer(at).pipe(map(() => r)))), timer(endMs - Math.max(...readings.map((x) => x.at))).pipe(ignoreElements()));
}

const describeEvent = (e: VitalsEvent): string => {
  switch (e.type) {
    case 'vitals':
    case 'revision':
      return `${e.type} ${e.vitals.window.startMs / SEC}s b1 online ${e.vitals.buildings.b1.online_ratio}`;
    case 'alarm':
      return `alarm ${e.alarm.building}/${e.alarm.rule}:${e.alarm.severity}:${e.alarm.state} at ${e.alarm.tsMs / SEC}s`;
    case 'late':
      return `late ${e.reading.sensor} #${e.lateTotal}`;
    case 'recompute-needed':
      return `recompute ${e.building}/${e.sensor}`;
  }
};

describe('vitalsWindows (rxjs, driven by an injected scheduler)', () => {
  it('ticks close windows on the virtual clock while sensors are silent, report late readings, flush on completion', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(() => {
      const readings = atTheirTime(
        [
          { at: 5 * SEC, r: energy('b1', 'm1', 5 * SEC, { powerKw: 10 }) },
          { at: 5 * SEC, r: energy('b1', 'pv1', 5 * SEC, { powerKw: 1 }) },
          { at: 5 * SEC, r: carbon('b1', 'c1', 5 * SEC, { co2Ppm: 600 }) },
          { at: 5 * SEC, r: people('b1', 'o1', 5 * SEC, 3) },
          { at: 100 * SEC, r: people('b1', 'o1', 20 * SEC, 4) }, // 80 s behind: older than the open window
        ],
        200 * SEC,
      );
      const seen: string[] = [];
      readings
        .pipe(vitalsWindows(index, { scheduler, tickMs: SEC, allowedLatenessMs: 30 * SEC, startMs: 0 }))
        .subscribe({ next: (e) => seen.push(`${scheduler.now() / SEC}s: ${describeEvent(e)}`), complete: () => seen.push(`${scheduler.now() / SEC}s: complete`) });
      scheduler.flush();
      expect(seen).toEqual([
        '90s: vitals 0s b1 online 0.5',
        '90s: alarm b1/offline:warn:raised at 60s',
        '90s: alarm b2/offline:critical:raised at 60s',
        '100s: late o1 #1',
        '150s: vitals 60s b1 online 0.25',
        '150s: alarm b1/offline:warn:cleared at 120s',
        '150s: alarm b1/offline:critical:raised at 120s',
        '200s: complete', // watermark 170 s: the window [120 s, 180 s) stays open; flush has nothing newer to close
      ]);
    });
  });

  it('without a clock (virtual time stays 0), reading times close the windows: same events as the engine, then flush', () => {
    const all = formulaTableReadings()
      .filter((r) => r.tsMs >= T0)
      .sort((a, b) => a.tsMs - b.tsMs);
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const events: VitalsEvent[] = [];
    scheduler.run(() => {
      from(all)
        .pipe(vitalsWindows(index, { scheduler, startMs: T0, allowedLatenessMs: 60 * SEC }))
        .subscribe((e) => events.push(e));
    });
    const engine = new ParkVitalsEngine(index, { startMs: T0, allowedLatenessMs: 60 * SEC });
    const direct: VitalsEvent[] = [];
    for (const r of all) {
      engine.ingest(r);
      direct.push(...engine.advance(0));
    }
    direct.push(...engine.flush());
    expect(events).toEqual(direct);
    const vitals = events.flatMap((e) => (e.type === 'vitals' ? [e.vitals] : []));
    expect(vitals.map((v) => v.window.startMs - T0)).toEqual([0, 60_000, 120_000, 180_000]);
  });

  it('nowSnapshots samples the shared engine every period, stamped with the scheduler time', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ expectObservable }) => {
      const engine = new ParkVitalsEngine(index, { startMs: 0 });
      engine.ingest(energy('b1', 'm1', 0, { powerKw: 42 }));
      const grid = nowSnapshots(engine, { scheduler, periodMs: 1000 }).pipe(
        take(3),
        map((n) => `${n.tMs}:${n.park.grid_kw}:${n.park.sensors_online}`),
      );
      // m1 (limit 30 s) stays online; nothing else reported
      expectObservable(grid).toBe('1s a 999ms b 999ms (c|)', { a: '1000:42:1', b: '2000:42:1', c: '3000:42:1' });
    });
  });
});
