import { Writable } from 'node:stream';
import { Alarm, LiveMessage } from '@park/metrics';
import { indexPark, Reading } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { loadConfig } from '../config/gateway-config';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';
import { LIVE_GAP_MS, NOW_MAX_INTERVAL_MS, TICK_MS, VitalsService } from './vitals.service';
import { MemorySink } from '../testing/memory.sink';
import { SOLE_OWNER } from '../cluster/park-ownership';
import { testBus } from '../testing/test-bus';

const WINDOW_MS = 10_000;
const LATENESS_MS = 2_000;
/** Window-aligned; the clock starts half a second later. */
const T0 = Date.parse('2026-11-27T08:00:00.000Z');


/** InfluxDB at the edge: records the statements; answers from a table or fails. */
class FakeInflux implements InfluxQuery {
  readonly queries: string[] = [];
  constructor(private readonly answer: (q: string) => InfluxSeries[] | Error = () => []) {}
  async query(q: string): Promise<InfluxSeries[]> {
    this.queries.push(q);
    const a = this.answer(q);
    if (a instanceof Error) throw a;
    return a;
  }
}

const e = (building: string, sensor: string, tsMs: number, f: Pick<Reading, 'powerKw' | 'energyKwh'>): Reading => ({ park: 'tp', building, kind: 'energy', sensor, tsMs, ...f });

/** A numeric field of a line-protocol line. */
const fieldOf = (line: string, key: string): number => Number(new RegExp(`[ ,]${key}=([^, ]+)`).exec(line)?.[1]);

/**
 * The service on a manual clock, with what it publishes on the bus recorded
 * as the live stream would send it (closed windows, alarms, `now`).
 */
function setup(answer?: (q: string) => InfluxSeries[] | Error, { idleMs = 0, env = {}, sink = new MemorySink() }: { idleMs?: number; env?: Record<string, string>; sink?: MemorySink } = {}) {
  const clock = new ManualClock(T0 + 500);
  const registry = new ParkRegistry([indexPark(testPark())]);
  const bus = testBus();
  const influx = new FakeInflux(answer);
  const metrics = new GatewayMetrics();
  const logs: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => (logs.push(JSON.parse(chunk.toString())), cb()) }));
  // Idle 0: the clock alone moves the watermark (never past itself), so windows close on it whether readings come or not.
  const config = loadConfig({ VITALS_WINDOW_MS: String(WINDOW_MS), VITALS_LATENESS_MS: String(LATENESS_MS), VITALS_IDLE_MS: String(idleMs), VITALS_START_HOLD_MS: '0', ...env });
  const svc = new VitalsService(registry, bus, sink, influx, metrics, log, config, clock, SOLE_OWNER);
  const sent: Array<{ parkId: string; msg: LiveMessage; atMs: number }> = [];
  const record = (parkId: string, msg: LiveMessage) => sent.push({ parkId, msg, atMs: clock.now() });
  bus.subscribe('vitals', ({ vitals, revision }) => revision || record(vitals.parkId, { type: 'vitals', ...vitals }));
  bus.subscribe('alarm', ({ alarm }) => record(alarm.parkId, { type: 'alarm', alarm }));
  bus.subscribe('now', ({ parkId, atMs, state }) => record(parkId, { type: 'now', parkId, t: new Date(atMs).toISOString(), park: state.park, buildings: state.buildings }));
  /** Moves the clock; the service's tick timer runs on it. */
  const advanceTo = (tMs: number) => clock.advanceTo(tMs);
  const readings = (r: Reading[]) => bus.publish('readings', r);
  const of = <T extends LiveMessage['type']>(type: T) => sent.filter((s) => s.msg.type === type).map((s) => ({ ...s, msg: s.msg as Extract<LiveMessage, { type: T }> }));
  /** What a live client's snapshot is made of (live.hub.ts builds the message). */
  const snapshot = () => ({ now: svc.now('tp', clock.now()), vitals: svc.latest('tp') ?? null, alarms: svc.activeAlarms('tp') });
  /** Moves the clock in small steps, letting the fake I/O (promises) of background work run in between. */
  const drive = async (ms: number, stepMs = 50) => {
    for (let done = 0; done < ms; done += stepMs) {
      clock.advance(stepMs);
      for (let i = 0; i < 30; i++) await Promise.resolve();
    }
  };
  /** Drives the clock (as `drive`) until `p` settles; resolves to its value. */
  const until = async <T>(p: Promise<T>, maxMs = 60_000): Promise<T> => {
    let done = false;
    const settled = p.finally(() => (done = true));
    for (let ms = 0; !done && ms < maxMs; ms += 50) {
      clock.advance(50);
      for (let i = 0; i < 100 && !done; i++) await Promise.resolve();
    }
    return settled;
  };
  return { clock, registry, bus, sink, influx, metrics, logs, svc, sent, advanceTo, drive, until, of, readings, snapshot };
}

describe('VitalsService: catch-up of the windows missed while the gateway was down', () => {
  /** b1/m1 stored: 360 kW all along, a register reading every 10 s from `fromMs` (1 kWh per 10 s window). */
  const storedMeter = (lastStored: number, fromMs: number) => (q: string): InfluxSeries[] => {
    if (q.includes('last("energy_kwh")')) return [{ name: 'vitals', columns: ['time', 'last'], values: [[lastStored, 1]] }];
    const range = /time >= (\d+)ms AND time < (\d+)ms/.exec(q);
    if (q.includes('FROM "energy"') && q.includes('GROUP BY') && range) {
      const values: unknown[][] = [];
      for (let ts = fromMs; ts <= T0; ts += 10_000) if (ts >= Number(range[1]) && ts < Number(range[2])) values.push([ts, 360, 100 + ((ts - fromMs) / 3_600_000) * 360]);
      return [{ name: 'energy', tags: { building: 'b1', sensor: 'm1' }, columns: ['time', 'power_kw', 'energy_kwh'], values }];
    }
    return [];
  };
  const parkWindows = (t: ReturnType<typeof setup>, beforeMs: number) =>
    t.sink.lines.filter((l) => l.startsWith('vitals,park=tp,scope=park,') && Number(l.split(' ').pop()) < beforeMs).map((l) => [Number(l.split(' ').pop()), fieldOf(l, 'energy_kwh')]);

  it('a short gap: the engine starts at the first missed window and derives them itself (devices deliver what they buffered into open windows)', async () => {
    const lastStored = T0 - 6 * WINDOW_MS;
    const t = setup(storedMeter(lastStored, T0 - 8 * WINDOW_MS));
    await t.svc.start();
    t.advanceTo(T0 + LATENESS_MS);
    expect(t.of('vitals').map((m) => m.msg.window.startMs)).toEqual([T0 - 5 * WINDOW_MS, T0 - 4 * WINDOW_MS, T0 - 3 * WINDOW_MS, T0 - 2 * WINDOW_MS, T0 - WINDOW_MS]);
    for (const [, kwh] of parkWindows(t, T0)) expect(kwh).toBeCloseTo(1, 9);
    expect(t.logs.some((l) => /missed while no gateway derived the park/.test(l.msg))).toBe(true);
    await t.until(t.svc.stop());
  });

  it('a long gap: what lies beyond LIVE_GAP_MS is derived from the stored readings before the engine starts', async () => {
    const lastStored = T0 - LIVE_GAP_MS - 6 * WINDOW_MS;
    const t = setup(storedMeter(lastStored, lastStored - 2 * WINDOW_MS));
    // The gap is derived before the engine starts (the clock lets the derivation breathe between chunks).
    await t.until(t.svc.start());
    const liveFrom = T0 - WINDOW_MS - LIVE_GAP_MS;
    const fromStorage = parkWindows(t, liveFrom);
    expect(fromStorage.map(([ms]) => ms)).toEqual([1, 2, 3, 4].map((k) => lastStored + k * WINDOW_MS));
    for (const [, kwh] of fromStorage) expect(kwh).toBeCloseTo(1, 9);
    expect(t.logs.some((l) => /deriving missed vitals windows from the stored readings/.test(l.msg))).toBe(true);
    // The engine takes it from there: its first window is the first one not derived from storage.
    t.advanceTo(T0 + LATENESS_MS);
    expect(t.of('vitals')[0].msg.window.startMs).toBe(liveFrom);
    await t.until(t.svc.stop());
  });

  it('does nothing on a database without vitals', async () => {
    const t = setup();
    await t.svc.start();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(t.sink.lines).toEqual([]);
    t.svc.stop();
  });
});

describe('VitalsService: windows close on the clock', () => {
  it('closes a window once the clock passes its end plus the allowed lateness, writes its vitals points and broadcasts it', async () => {
    const t = setup();
    await t.svc.start();
    // First window: the one holding start − lateness, [T0 − 10 s, T0).
    t.advanceTo(T0 + LATENESS_MS - 1);
    expect(t.of('vitals')).toEqual([]);
    t.advanceTo(T0 + LATENESS_MS);
    const v = t.of('vitals');
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ parkId: 'tp', atMs: T0 + LATENESS_MS, msg: { type: 'vitals', parkId: 'tp', window: { startMs: T0 - WINDOW_MS, endMs: T0 } } });
    const vitalsLines = t.sink.lines.filter((l) => l.startsWith('vitals,'));
    expect(vitalsLines.map((l) => l.split(' ')[0])).toEqual([
      'vitals,park=tp,scope=park,window=10s',
      'vitals,building=b1,park=tp,scope=building,window=10s',
      'vitals,building=b2,park=tp,scope=building,window=10s',
    ]);
    for (const l of vitalsLines) expect(l.endsWith(` ${T0 - WINDOW_MS}`)).toBe(true);
    const { type, ...closed } = v[0].msg;
    expect(type).toBe('vitals');
    expect(t.svc.latest('tp')).toEqual(closed);
    // One window per window length from then on.
    t.advanceTo(T0 + 3 * WINDOW_MS + LATENESS_MS);
    expect(t.of('vitals').map((m) => m.msg.window.startMs)).toEqual([T0 - WINDOW_MS, T0, T0 + WINDOW_MS, T0 + 2 * WINDOW_MS]);
    t.svc.stop();
  });

  it('reads the active alarms and recent readings from InfluxDB at start and derives the first windows from them', async () => {
    // b1/m1 reported every 10 s before start, at 600 kW: the look-back gives
    // the first live windows the register values they count from.
    const restored: Alarm = { parkId: 'tp', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised', value: 600, threshold: 500, message: 'restored', tsMs: T0 - 60_000 };
    const t = setup((q) => {
      if (q.includes('FROM "alarms"')) return [{ name: 'alarms', tags: { building: 'b1', rule: 'demand', severity: 'critical' }, columns: ['time', 'state', 'value', 'threshold', 'message'], values: [[restored.tsMs, 'raised', 600, 500, 'restored']] }];
      if (q.includes('FROM "energy"')) return [{ name: 'energy', tags: { building: 'b1', sensor: 'm1' }, columns: ['time', 'power_kw', 'energy_kwh'], values: [[T0 - 11_500, 600, 1000 - (600 * 10) / 3600], [T0 - 1_500, 600, 1000]] }];
      return [];
    });
    await t.svc.start();
    // The start-up reads: the active alarms, the last stored window, the readings.
    expect(t.influx.queries.map((q) => /FROM "(\w+)"/.exec(q)?.[1])).toEqual(['alarms', 'vitals', 'energy', 'carbon', 'occupancy']);
    expect(t.svc.activeAlarms('tp')).toEqual([restored]);
    // 600 kW held over the first live window: 600 × 10 s = 1.6667 kWh.
    t.readings([e('b1', 'm1', T0 + 8_500, { powerKw: 600, energyKwh: 1000 + (600 * 10) / 3600 })]);
    t.readings([e('b1', 'm1', T0 + 18_500, { powerKw: 600, energyKwh: 1000 + (600 * 20) / 3600 })]);
    t.advanceTo(T0 + WINDOW_MS + LATENESS_MS);
    const windows = t.of('vitals').map((m) => m.msg);
    expect(windows.map((w) => w.window.startMs)).toEqual([T0 - WINDOW_MS, T0]);
    for (const w of windows) {
      expect(w.buildings.b1.energy_kwh).toBeCloseTo((600 * 10) / 3600, 9);
      expect(w.buildings.b1.load_kw).toBeCloseTo(600, 9);
      expect(w.buildings.b1.status).toBe('critical');
    }
    // The condition still holds: the restored alarm is not raised again.
    expect(t.of('alarm').filter((a) => a.msg.alarm.rule === 'demand')).toEqual([]);
    expect(t.svc.activeAlarms('tp').filter((a) => a.rule === 'demand')).toEqual([restored]);
    t.svc.stop();
  });

  it('starts without history when InfluxDB cannot answer, and says so', async () => {
    const t = setup(() => new Error('connect ECONNREFUSED 127.0.0.1:8086'));
    await t.svc.start();
    expect(t.logs.find((l) => l.level === 40)?.msg).toMatch(/vitals start without history/);
    t.advanceTo(T0 + LATENESS_MS);
    expect(t.of('vitals')).toHaveLength(1);
    t.svc.stop();
  });
});

describe('VitalsService: revisions', () => {
  it('overwrites the stored points of closed windows when a meter back after a gap completes an interval into them, without a second live message', async () => {
    const t = setup();
    await t.svc.start();
    // b2/m1: 360 kW, then silent from +1 s to +25 s (longer than the lateness).
    t.advanceTo(T0 + 1_000);
    t.readings([e('b2', 'm1', T0 + 1_000, { energyKwh: 100 })]);
    t.advanceTo(T0 + 2 * WINDOW_MS + LATENESS_MS - TICK_MS);
    const written = (startMs: number) => t.sink.lines.filter((l) => l.startsWith('vitals,building=b2,') && l.endsWith(` ${startMs}`));
    expect(written(T0)).toHaveLength(1);
    expect(fieldOf(written(T0)[0], 'energy_kwh')).toBe(0);
    const messages = t.of('vitals').length;
    t.readings([e('b2', 'm1', T0 + 25_000, { energyKwh: 100 + (360 * 24) / 3600 })]);
    t.advanceTo(T0 + 2 * WINDOW_MS + LATENESS_MS);
    // 9 s of the interval fall into the closed [T0, T0+10 s): rewritten. The
    // next window closes with its 10 s already in.
    expect(written(T0)).toHaveLength(2);
    expect(fieldOf(written(T0)[1], 'energy_kwh')).toBeCloseTo(0.9, 9);
    expect(written(T0 + WINDOW_MS)).toHaveLength(1);
    expect(fieldOf(written(T0 + WINDOW_MS)[0], 'energy_kwh')).toBeCloseTo(1, 9);
    // The window closed by this tick is the only new live message.
    expect(t.of('vitals').slice(messages).map((m) => m.msg.window.startMs)).toEqual([T0 + WINDOW_MS]);
    t.svc.stop();
  });
});

describe('VitalsService: the `now` stream (contract §7)', () => {
  it('sends `now` at least once a second without readings', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 10_500);
    const times = t.of('now').map((m) => m.atMs);
    expect(times.length).toBeGreaterThanOrEqual(10);
    expect(times[0]).toBe(T0 + 500 + TICK_MS);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThanOrEqual(NOW_MAX_INTERVAL_MS);
    t.svc.stop();
  });

  it('sends `now` on the next tick after new readings, with their values, and no more than once a tick', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 2_000);
    const before = t.of('now').length;
    const lastNowAt = t.of('now').at(-1)!.atMs;
    t.readings([e('b1', 'm1', T0 + 1_900, { powerKw: 321.5 })]);
    t.readings([e('b1', 'pv1', T0 + 1_950, { powerKw: 12 })]);
    t.advanceTo(T0 + 2_000 + TICK_MS);
    const now = t.of('now');
    expect(now).toHaveLength(before + 1);
    const msg = now.at(-1)!;
    expect(msg.atMs - lastNowAt).toBeLessThan(NOW_MAX_INTERVAL_MS);
    expect(msg.msg).toMatchObject({ type: 'now', parkId: 'tp', t: new Date(T0 + 2_250).toISOString() });
    expect(msg.msg.buildings.b1).toMatchObject({ grid_kw: 321.5, pv_kw: 12, sensors_online: 2, sensors_total: 4, latest_ts_ms: T0 + 1_950 });
    expect(msg.msg.park).toMatchObject({ grid_kw: 321.5, pv_kw: 12, sensors_online: 2, sensors_total: 7 });
    t.svc.stop();
  });

  it('the snapshot holds the instantaneous state, the latest window and the active alarms', async () => {
    const t = setup();
    await t.svc.start();
    expect(t.snapshot()).toMatchObject({ vitals: null, alarms: [] });
    t.readings([e('b2', 'm1', T0 + 600, { powerKw: 77 })]);
    t.advanceTo(T0 + LATENESS_MS);
    const snap = t.snapshot();
    expect(snap.now?.buildings.b2.grid_kw).toBe(77);
    expect(snap.vitals?.window).toEqual({ startMs: T0 - WINDOW_MS, endMs: T0 });
    // Every sensor was silent in that window: offline, critical, for both buildings.
    expect(snap.alarms.map((a) => `${a.building}/${a.rule}/${a.severity}`).sort()).toEqual(['b1/offline/critical', 'b2/offline/critical']);
    expect(snap.alarms[0].tsMs).toBe(T0);
    t.svc.stop();
  });
});

describe('VitalsService: alarms', () => {
  it('broadcasts and writes each transition once: demand raised while the load holds above contract, cleared when it ends', async () => {
    const t = setup();
    await t.svc.start();
    // b1/m1 (contract 500 kW): 600 kW for three windows, then 300 kW. The
    // first window counts from the first reading, at +1 s: 540 kW on average.
    let register = 5000;
    for (let ts = T0 + 1_000; ts < T0 + 6 * WINDOW_MS; ts += 1_000) {
      const kw = ts < T0 + 3 * WINDOW_MS ? 600 : 300;
      register += (kw * 1) / 3600;
      t.advanceTo(ts);
      // The other sensors of b1 report too, so that only the demand rule decides its status.
      t.readings([
        e('b1', 'm1', ts, { powerKw: kw, energyKwh: register }),
        e('b1', 'pv1', ts, { powerKw: 0 }),
        { park: 'tp', building: 'b1', kind: 'carbon', sensor: 'c1', tsMs: ts, co2Ppm: 600 },
        { park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: ts, count: 40 },
      ]);
    }
    t.advanceTo(T0 + 6 * WINDOW_MS + LATENESS_MS);
    const demand = t.of('alarm').filter((a) => a.msg.alarm.rule === 'demand').map((a) => a.msg.alarm);
    expect(demand.map((a) => `${a.state} ${a.severity} ${a.building} @${(a.tsMs - T0) / 1000}s`)).toEqual(['raised critical b1 @10s', 'cleared critical b1 @40s']);
    expect(demand[0]).toMatchObject({ parkId: 'tp', threshold: 500 });
    // Written as `alarms` points, one per transition, at the transition time.
    const lines = t.sink.lines.filter((l) => l.startsWith('alarms,') && l.includes('rule=demand'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^alarms,building=b1,park=tp,rule=demand,severity=critical .*state="raised".* ${T0 + 10_000}$`));
    expect(lines[1]).toMatch(new RegExp(`state="cleared".* ${T0 + 40_000}$`));
    // The window that decided it carries the status.
    const statusOf = (startMs: number) => t.of('vitals').find((m) => m.msg.window.startMs === startMs)!.msg.buildings.b1.status;
    expect([T0, T0 + 10_000, T0 + 20_000, T0 + 30_000].map(statusOf)).toEqual(['critical', 'critical', 'critical', 'ok']);
    t.svc.stop();
  });
});

describe('VitalsService: readings', () => {
  it('counts readings older than the oldest open window as late, and ignores parks it does not serve', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 20_000);
    t.readings([e('b1', 'm1', T0 - 30_000, { powerKw: 1 }), { ...e('b1', 'm1', T0 + 19_000, { powerKw: 2 }), park: 'other' }]);
    expect(t.metrics.lateReadings).toBe(1);
    t.svc.stop();
  });

  it('stop() closes what the clock allows and takes no more readings', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 5_000);
    t.clock.jump(T0 + WINDOW_MS + LATENESS_MS);
    const stopped = t.svc.stop();
    expect(t.of('vitals').map((m) => m.msg.window.startMs)).toEqual([T0 - WINDOW_MS, T0]);
    await stopped;
    expect(t.clock.pending).toBe(0);
    const nowCount = t.of('now').length;
    t.readings([e('b1', 'm1', T0 + 12_500, { powerKw: 5 })]);
    expect(t.snapshot()).toMatchObject({ now: { buildings: { b1: { grid_kw: 0 } } } });
    expect(t.of('now')).toHaveLength(nowCount);
  });
});

describe('VitalsService: stop', () => {
  /** InfluxDB hangs: a flush never resolves (a SIGSTOPped server, a dead route). */
  class HangingSink extends MemorySink {
    override flush(): Promise<void> {
      return new Promise(() => undefined);
    }
  }

  it('never waits on a hanging InfluxDB past its bound, and names the late windows it left underived', async () => {
    const t = setup(undefined, { sink: new HangingSink() });
    await t.svc.start();
    t.advanceTo(T0 + 3 * WINDOW_MS);
    // A reading for a window closed long ago: a late-window run starts and waits for the sink.
    t.readings([e('b1', 'm1', T0 + 1_000, { powerKw: 5, energyKwh: 10 })]);
    await t.drive(20_000);
    expect(t.svc.late.isIdle).toBe(false);
    const startedMs = t.clock.now();
    await t.until(t.svc.stop(5_000));
    expect(t.clock.now() - startedMs).toBeGreaterThanOrEqual(5_000);
    expect(t.clock.now() - startedMs).toBeLessThan(6_000);
    const warn = t.logs.find((l) => /late windows not derived again before the stop/.test(l.msg)) as { msg: string; from: string } | undefined;
    expect(warn?.msg).toContain('npm run recompute -- --park tp --from ');
    expect(Date.parse(warn?.from ?? '')).toBeLessThanOrEqual(T0 + 1_000);
  });
});

describe('VitalsService: contract §8', () => {
  it('a gateway that starts before its devices closes no window (and raises no offline) until they report or the park stays silent for VITALS_IDLE_MS', async () => {
    const t = setup(undefined, { idleMs: 60_000 });
    await t.svc.start();
    t.advanceTo(T0 + 30_000);
    expect(t.of('vitals')).toEqual([]);
    // Devices appear 30 s in: the windows before their first reading held nothing and are not derived;
    // their readings close the windows from then on.
    for (let ts = T0 + 30_000; ts <= T0 + 60_000; ts += 1_000) {
      t.advanceTo(ts);
      t.readings([e('b1', 'm1', ts, { powerKw: 100 }), e('b1', 'pv1', ts, { powerKw: 0 }), e('b2', 'm1', ts, { powerKw: 50 })]);
    }
    expect(t.of('vitals').map((m) => m.msg.window.startMs)).toEqual([T0 + 3 * WINDOW_MS, T0 + 4 * WINDOW_MS]);
    // b2's occupancy counter (every 30 s) and boiler (every 60 s) have not reported yet: starting, not offline.
    expect(t.of('alarm').filter((a) => a.msg.alarm.rule === 'offline')).toEqual([]);
    // Then silence: after VITALS_IDLE_MS without a reading the clock alone closes the windows; once b2's
    // meter is silent beyond its limit (30 s), b2 is offline (its other sensors, still starting, do not count).
    t.advanceTo(T0 + 60_000 + 60_000 + WINDOW_MS + LATENESS_MS);
    expect(t.of('vitals').map((m) => m.msg.window.startMs).at(-1)).toBe(T0 + 12 * WINDOW_MS);
    const b2 = t.of('alarm').filter((a) => a.msg.alarm.rule === 'offline' && a.msg.alarm.building === 'b2').map((a) => a.msg.alarm);
    expect(b2.map((a) => `${a.state} ${a.severity}`)).toEqual(['raised critical']);
    expect(b2[0].tsMs).toBeGreaterThan(T0 + 60_000 + 30_000);
    await t.svc.stop();
  });

  it('counts an implausible register step once and lists its sensor', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 1_000);
    t.readings([e('b1', 'm1', T0 + 1_000, { energyKwh: 1000 })]);
    t.readings([e('b1', 'm1', T0 + 2_000, { energyKwh: 1.7e308 })]);
    t.readings([e('b1', 'm1', T0 + 3_000, { energyKwh: 1000.2 })]);
    t.advanceTo(T0 + 2 * WINDOW_MS + LATENESS_MS);
    // Into the glitch and out of it (a "reset" to the true value, far more than 1000 kWh in a second).
    expect(t.metrics.implausibleReadings).toBe(2);
    expect(t.registry.implausibleSensors()).toEqual([
      { park: 'tp', building: 'b1', sensor: 'm1', field: 'energy_kwh', steps: 2, last: { t: new Date(T0 + 3_000).toISOString(), increase: 1000.2, limit: 1000 / 3600 } },
    ]);
    const lines = t.sink.lines.filter((l) => l.startsWith('vitals,building=b1'));
    for (const l of lines) expect(l).not.toMatch(/e\+30|Infinity|NaN/);
    expect(t.logs.filter((l) => /implausible register step/.test(l.msg))).toHaveLength(2);
    await t.svc.stop();
  });

  it('a glitching meter logs at most 20 implausible steps per 10 s, then one line with how many more; every step is still counted', async () => {
    const t = setup();
    await t.svc.start();
    t.advanceTo(T0 + 1_000);
    // 100 readings 10 ms apart, the register alternating between two series 1000 kWh apart.
    for (let i = 0; i < 100; i++) t.readings([e('b1', 'm1', T0 + 1_000 + i * 10, { energyKwh: i % 2 === 0 ? 1000 : 2000 })]);
    t.advanceTo(T0 + 2 * WINDOW_MS + LATENESS_MS);
    expect(t.metrics.implausibleReadings).toBe(99);
    expect(t.logs.filter((l) => /^implausible register step/.test(l.msg))).toHaveLength(20);
    t.advanceTo(T0 + 4 * WINDOW_MS);
    expect(t.logs.filter((l) => /79 more implausible register steps were not logged one by one/.test(l.msg))).toHaveLength(1);
    await t.svc.stop();
  });
});
