import { Alarm, computeVitalsDetailed, ImplausibleStep, ParkVitals } from '@park/metrics';
import { indexPark, KIND_FIELDS, Reading, SENSOR_KINDS } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { vitalsLines } from '../influx/line-protocol';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { MemorySink } from '../testing/memory.sink';
import { DEFAULT_LATE_WINDOWS_OPTIONS, LateWindowsDeriver, LateWindowsHost } from './late-windows.deriver';

const WINDOW_MS = 10_000;
const T0 = Date.parse('2026-11-27T08:00:00.000Z');
const park = indexPark(testPark());

/**
 * InfluxDB at the edge: answers the raw-reading statements from the
 * readings "stored" so far (the table grows as a device uploads); nothing
 * else is stored (no alarms, no neighbours out of the range, no vitals).
 */
class StoredReadings implements InfluxQuery {
  readonly readings: Reading[] = [];
  async query(q: string): Promise<InfluxSeries[]> {
    const m = /^SELECT (.+) FROM "(\w+)" WHERE "park" = '\w+' AND time >= (\d+)ms AND time < (\d+)ms GROUP BY "building", "sensor"$/.exec(q);
    if (!m || !(SENSOR_KINDS as readonly string[]).includes(m[2])) return [];
    const kind = m[2] as Reading['kind'];
    const [fromMs, toMs] = [Number(m[3]), Number(m[4])];
    const fields = KIND_FIELDS[kind];
    const bySensor = new Map<string, Reading[]>();
    for (const r of this.readings) {
      if (r.kind !== kind || r.tsMs < fromMs || r.tsMs >= toMs) continue;
      const key = `${r.building}/${r.sensor}`;
      bySensor.set(key, [...(bySensor.get(key) ?? []), r]);
    }
    return [...bySensor].map(([key, rs]) => ({
      name: kind,
      tags: { building: key.split('/')[0], sensor: key.split('/')[1] },
      columns: ['time', ...fields.map((f) => f.json)],
      values: rs.sort((a, b) => a.tsMs - b.tsMs).map((r) => [r.tsMs, ...fields.map((f) => r[f.prop] ?? null)]),
    }));
  }
}

/** Every sensor of the test park over `[fromMs, toMs)` at its interval; `silent` sensors send nothing over their span. */
function parkReadings(fromMs: number, toMs: number, silent: Array<{ key: string; fromMs: number; toMs: number }> = []): Reading[] {
  const out: Reading[] = [];
  for (const b of park.model.buildings) {
    for (const s of b.sensors) {
      for (let t = fromMs; t < toMs; t += s.intervalS * 1000) {
        if (silent.some((q) => q.key === `${b.id}/${s.id}` && t >= q.fromMs && t < q.toMs)) continue;
        const base: Reading = { park: 'tp', building: b.id, kind: s.kind, sensor: s.id, tsMs: t };
        if (s.kind === 'energy') out.push({ ...base, powerKw: 100, energyKwh: 1000 + ((t - fromMs) / 3_600_000) * 100 });
        else if (s.kind === 'carbon') out.push({ ...base, co2Ppm: 500 });
        else out.push({ ...base, count: 10 });
      }
    }
  }
  return out;
}

function setup(opts: { maxAlarmWaitMs?: number } = {}) {
  const clock = new ManualClock(T0 + 2 * 3_600_000);
  const influx = new StoredReadings();
  const sink = new MemorySink();
  const metrics = new GatewayMetrics();
  const frontierMs = T0 + 2 * 3_600_000;
  const lateAlarms: Alarm[] = [];
  const host: LateWindowsHost = {
    frontierMs: () => frontierMs,
    adoptAlarm: () => true,
    dropAlarm: () => false,
    rederived: (_v: ParkVitals) => undefined,
    lateAlarm: (a) => lateAlarms.push(a),
    implausible: (_p: string, _b: string, _s: string, _x: ImplausibleStep) => undefined,
  };
  const deriver = new LateWindowsDeriver(influx, sink, host, metrics, pino({ level: 'silent' }), clock, {
    ...DEFAULT_LATE_WINDOWS_OPTIONS,
    windowMs: WINDOW_MS,
    settleMs: 1000,
    maxWaitMs: 3000,
    maxAlarmWaitMs: opts.maxAlarmWaitMs ?? 120_000,
  });
  deriver.start();
  /** Moves the clock in small steps, letting the fake I/O (promises) run in between. */
  const drive = async (ms: number, stepMs = 50) => {
    for (let done = 0; done < ms; done += stepMs) {
      clock.advance(stepMs);
      for (let i = 0; i < 50; i++) await Promise.resolve();
    }
  };
  /**
   * A device uploading what it buffered, as the simulator's backfill does:
   * 10-minute chunks, each sensor's part of a chunk in one message, one
   * message every 100 ms (closer than the settle time: the upload never looks
   * finished until it is).
   */
  const upload = async (readings: Reading[], sensorOrder?: string[]) => {
    const chunks = new Map<string, Reading[]>();
    // With a sensor order: one sensor's whole buffer after another's, in that order.
    for (const key of sensorOrder ?? []) for (let c = 0; c < 12; c++) chunks.set(`${key}|${c}`, []);
    for (const r of [...readings].sort((a, b) => a.tsMs - b.tsMs)) {
      const chunk = Math.floor((r.tsMs - T0) / 600_000);
      const key = sensorOrder ? `${r.building}/${r.sensor}|${chunk}` : `${chunk}|${r.building}/${r.sensor}`;
      chunks.set(key, [...(chunks.get(key) ?? []), r]);
    }
    for (const batch of chunks.values()) {
      influx.readings.push(...batch);
      for (const r of batch) deriver.noteLateReading(park, r.building, r.sensor, r.tsMs);
      await drive(100);
    }
  };
  /** Uploads while driving the clock; resolves to the windows derived again before the upload ended. */
  const uploadWatching = async (readings: Reading[], sensorOrder?: string[]): Promise<number> => {
    let done = false;
    void upload(readings, sensorOrder).then(() => (done = true));
    let midUploadWindows = 0;
    while (!done) {
      await drive(50);
      if (!done) midUploadWindows = metrics.rederivedWindows;
    }
    return midUploadWindows;
  };
  /** The stored vitals: the last point written for each window (park scope), by window start. */
  const storedVitals = () => {
    const byStart = new Map<number, string>();
    for (const line of sink.lines) {
      if (!line.startsWith('vitals,') || !line.includes('scope=park')) continue;
      byStart.set(Number(line.slice(line.lastIndexOf(' ') + 1)), line);
    }
    return byStart;
  };
  return { clock, influx, sink, metrics, deriver, drive, upload, uploadWatching, storedVitals, lateAlarms, frontierMs };
}

describe('LateWindowsDeriver: an upload still under way (contract §8, late readings)', () => {
  it('writes the vitals while it lasts, and raises no alarm for sensors whose part of the upload has not come yet', async () => {
    const t = setup();
    const readings = parkReadings(T0, T0 + 2 * 3_600_000);
    // While the upload goes on (about 8 s of clock), runs happen every maxWait.
    expect(await t.uploadWatching(readings)).toBeGreaterThan(0);
    await t.drive(5000);
    expect(t.deriver.isIdle).toBe(true);
    // No alarm: every sensor reported throughout.
    expect(t.lateAlarms).toEqual([]);
    expect(t.sink.lines.filter((l) => l.startsWith('alarms,'))).toEqual([]);
    // The stored vitals equal a recompute of the stored readings.
    const expected = computeVitalsDetailed(park, readings, { fromMs: T0, toMs: t.frontierMs }, { windowMs: WINDOW_MS });
    const stored = t.storedVitals();
    const want = new Map<number, string>();
    for (const v of expected.vitals) {
      const line = vitalsLines(v, WINDOW_MS).find((l) => l.includes('scope=park')) ?? '';
      want.set(Number(line.slice(line.lastIndexOf(' ') + 1)), line);
    }
    expect(want.size).toBe(2 * 360);
    expect(stored).toEqual(want);
  });

  it('the same when it uploads sensor after sensor (the sensors still to come are not known yet)', async () => {
    const t = setup();
    const readings = parkReadings(T0, T0 + 2 * 3_600_000);
    // b2's meter first; b2's other sensors last: while b1 uploads, b2 has one sensor of three (below the 50 % of `offline`).
    expect(await t.uploadWatching(readings, ['b2/m1', 'b1/m1', 'b1/pv1', 'b1/c1', 'b1/o1', 'b2/boiler', 'b2/o1'])).toBeGreaterThan(0);
    await t.drive(5000);
    expect(t.deriver.isIdle).toBe(true);
    expect(t.lateAlarms).toEqual([]);
    expect(t.sink.lines.filter((l) => l.startsWith('alarms,'))).toEqual([]);
  });

  it('settles the alarms after maxAlarmWaitMs even while late readings keep coming', async () => {
    const t = setup({ maxAlarmWaitMs: 6000 });
    const silentFrom = T0 + 30 * 60_000;
    // The first hour, with b2's meter silent for 20 minutes.
    await t.upload(parkReadings(T0, T0 + 3_600_000, [{ key: 'b2/m1', fromMs: silentFrom, toMs: silentFrom + 20 * 60_000 }]));
    // Then a trickle of the second hour: one message every 100 ms, for longer than maxAlarmWaitMs.
    const trickle = parkReadings(T0 + 3_600_000, T0 + 2 * 3_600_000).sort((a, b) => a.tsMs - b.tsMs);
    let raisedAt: number | undefined;
    for (let i = 0; i < trickle.length && raisedAt === undefined; i += 5) {
      const batch = trickle.slice(i, i + 5);
      t.influx.readings.push(...batch);
      for (const r of batch) t.deriver.noteLateReading(park, r.building, r.sensor, r.tsMs);
      await t.drive(100);
      if (t.lateAlarms.some((a) => a.state === 'raised')) raisedAt = t.clock.now();
    }
    expect(raisedAt).toBeDefined();
    const raised = t.lateAlarms.filter((a) => a.state === 'raised');
    expect(raised.every((a) => a.building === 'b2' && a.tsMs > silentFrom && a.tsMs < silentFrom + 20 * 60_000)).toBe(true);
  });

  it('still raises, once, late, an alarm the uploaded readings do show (a meter silent for 20 minutes)', async () => {
    const t = setup();
    const silentFrom = T0 + 30 * 60_000;
    const readings = parkReadings(T0, T0 + 2 * 3_600_000, [{ key: 'b2/m1', fromMs: silentFrom, toMs: silentFrom + 20 * 60_000 }]);
    await t.upload(readings);
    await t.drive(5000);
    expect(t.deriver.isIdle).toBe(true);
    const raised = t.lateAlarms.filter((a) => a.state === 'raised');
    expect(raised.length).toBeGreaterThan(0);
    expect(raised.every((a) => a.late && a.building === 'b2' && a.tsMs > silentFrom && a.tsMs < silentFrom + 20 * 60_000)).toBe(true);
    // One episode per rule and severity: raised, then cleared when the meter is back.
    const keys = raised.map((a) => `${a.rule}/${a.severity}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(t.lateAlarms.filter((a) => a.state === 'cleared')).toHaveLength(raised.length);
  });
});
