/**
 * Simulated history straight into InfluxDB (for the demo, the trends tests
 * and Grafana): the simulator's readings and the vital signs the gateway's
 * engine derives from them, encoded by the gateway's own line protocol
 * (apps/gateway/src/influx/line-protocol.ts), written in batches. Readings
 * older than the gateway's 7-day acceptance horizon are fine here: nothing
 * goes through ingest. Alarms are not written (they are facts of a live
 * moment; a backfill has none).
 */
import { Scenario } from '@park/park-sim';
import { ParkIndex } from '@park/telemetry';
import { readingLine, vitalsLines } from '../../apps/gateway/src/influx/line-protocol';
import { HistorySimulator } from './sim-history';

export interface BackfillOptions {
  seed: number;
  fromMs: number;
  toMs: number;
  scenarios?: readonly Scenario[];
  /** Write the raw readings too (default true); vitals only is ~10× fewer lines. */
  readings?: boolean;
  /** Writes one batch of lines (joined by the caller); must throw on failure. */
  write: (lines: string[]) => Promise<void>;
  onProgress?: (tMs: number, readings: number) => void;
}

const BATCH = 20_000;

/** Backfills a park; resolves with the numbers of readings and vitals points written. */
export async function backfillInflux(index: ParkIndex, o: BackfillOptions): Promise<{ readings: number; vitalsPoints: number }> {
  let pending: string[] = [];
  let vitalsPoints = 0;
  const withReadings = o.readings ?? true;
  const h = new HistorySimulator(index, {
    seed: o.seed,
    fromMs: o.fromMs,
    toMs: o.toMs,
    scenarios: o.scenarios,
    onReadings: (rs) => {
      if (!withReadings) return;
      for (const r of rs) {
        const line = readingLine(r, index.sensors.get(`${r.building}/${r.sensor}`));
        if (line) pending.push(line);
      }
    },
    onVitals: (v) => {
      const lines = vitalsLines(v, 60_000);
      vitalsPoints += lines.length;
      pending.push(...lines);
    },
  });
  // The simulation is synchronous: write what each simulated hour made before the next.
  for (let t = o.fromMs; !h.done; ) {
    t += 3_600_000;
    h.advanceTo(t);
    while (pending.length >= BATCH || (h.done && pending.length > 0)) {
      const batch = pending.slice(0, BATCH);
      pending = pending.slice(BATCH);
      await o.write(batch);
    }
    o.onProgress?.(Math.min(t, o.toMs), h.readings);
  }
  return { readings: h.readings, vitalsPoints };
}
