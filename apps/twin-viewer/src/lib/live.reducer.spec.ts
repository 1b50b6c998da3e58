import type { Alarm, LiveMessage, NowState, ParkVitals, VitalSigns } from '@park/metrics';
import {
  activeCounts,
  alarmSeverity,
  ALARM_LOG_LIMIT,
  buildingStatus,
  initialTwinState,
  isStale,
  reduceTwin,
  STALE_AFTER_MS,
  type TwinEvent,
  type TwinState,
} from './live.reducer';

const T0 = Date.parse('2025-11-27T08:00:00Z');

const nowState = (grid_kw: number, extra: Partial<NowState> = {}): NowState => ({
  grid_kw,
  pv_kw: 0,
  occupancy: 10,
  co2_ppm: 600,
  sensors_online: 4,
  sensors_total: 4,
  ...extra,
});

const signs = (load_kw: number, status: VitalSigns['status'] = 'ok'): VitalSigns => ({
  energy_kwh: load_kw / 60,
  pv_kwh: 0,
  load_kw,
  peak_kw: load_kw,
  carbon_kgco2e: (load_kw / 60) * 0.42,
  occupancy: 10,
  status,
});

const vitals = (startMs: number, load: number): ParkVitals => ({
  parkId: 'tp',
  window: { startMs, endMs: startMs + 60_000 },
  park: signs(load),
  buildings: { b1: signs(load) },
});

const alarm = (over: Partial<Alarm> = {}): Alarm => ({
  parkId: 'tp',
  building: 'b1',
  rule: 'demand',
  severity: 'critical',
  state: 'raised',
  value: 650,
  threshold: 500,
  message: 'load 650 kW > contracted 500 kW',
  tsMs: T0,
  ...over,
});

const now = (grid: number, parkId = 'tp'): LiveMessage => ({ type: 'now', parkId, t: new Date(T0).toISOString(), park: nowState(grid), buildings: { b1: nowState(grid) } });

function run(events: Array<[TwinEvent, number]>, state: TwinState = initialTwinState('tp')): TwinState {
  return events.reduce((s, [e, clock]) => reduceTwin(s, e, clock), state);
}

describe('live state', () => {
  it('is stale until the first now, live while now messages keep coming, stale after 3 s without', () => {
    let s = initialTwinState('tp');
    expect(isStale(s, T0)).toBe(true);
    s = run([[{ type: 'connection', state: 'open' }, T0], [now(100), T0]], s);
    expect(isStale(s, T0 + 1000)).toBe(false);
    expect(isStale(s, T0 + STALE_AFTER_MS)).toBe(false);
    expect(isStale(s, T0 + STALE_AFTER_MS + 1)).toBe(true);
    s = reduceTwin(s, now(120), T0 + 3500);
    expect(isStale(s, T0 + 4000)).toBe(false);
    expect(s.buildings.b1.grid_kw).toBe(120);
  });

  it('is stale as soon as the socket closes, whatever the last now', () => {
    const s = run([[now(100), T0], [{ type: 'connection', state: 'open' }, T0], [{ type: 'connection', state: 'closed' }, T0 + 10]]);
    expect(isStale(s, T0 + 20)).toBe(true);
  });

  it('takes now, vitals and the active alarms from a snapshot and opens the connection', () => {
    const s = run([
      [
        {
          type: 'snapshot',
          parkId: 'tp',
          t: new Date(T0).toISOString(),
          now: { park: nowState(300), buildings: { b1: nowState(300) } },
          vitals: vitals(T0 - 60_000, 280),
          alarms: [alarm()],
        },
        T0,
      ],
    ]);
    expect(s.connection).toBe('open');
    expect(isStale(s, T0 + 100)).toBe(false);
    expect(s.vitals?.window.startMs).toBe(T0 - 60_000);
    expect(Object.keys(s.active)).toEqual(['b1/demand']);
    expect(s.log).toHaveLength(1);
    expect(buildingStatus(s, 'b1')).toBe('critical');
    expect(buildingStatus(s, 'b2')).toBe('ok');
  });

  it('ignores messages of another park', () => {
    const s0 = initialTwinState('tp');
    expect(reduceTwin(s0, now(1, 'other'), T0)).toBe(s0);
    expect(reduceTwin(s0, { type: 'alarm', alarm: alarm({ parkId: 'other' }) }, T0)).toBe(s0);
  });

  it('never replaces a newer window by an older one', () => {
    const s = run([
      [{ type: 'vitals', ...vitals(T0, 200) }, T0],
      [{ type: 'vitals', ...vitals(T0 - 60_000, 100) }, T0],
    ]);
    expect(s.vitals?.park.load_kw).toBe(200);
    expect(reduceTwin(s, { type: 'vitals-loaded', vitals: vitals(T0 - 120_000, 1) }, T0)).toBe(s);
  });

  it('lists raises newest first and marks a cleared alarm as cleared', () => {
    const co2 = alarm({ rule: 'co2', severity: 'warn', tsMs: T0 + 60_000, value: 1100, threshold: 1000 });
    let s = run([
      [{ type: 'alarm', alarm: alarm() }, T0],
      [{ type: 'alarm', alarm: co2 }, T0],
    ]);
    expect(s.log.map((e) => e.alarm.rule)).toEqual(['co2', 'demand']);
    expect(activeCounts(s)).toEqual({ warn: 1, critical: 1, total: 2 });
    expect(alarmSeverity(s, 'b1')).toBe('critical');
    s = reduceTwin(s, { type: 'alarm', alarm: alarm({ state: 'cleared', tsMs: T0 + 120_000, value: 400 }) }, T0);
    expect(s.log.find((e) => e.alarm.rule === 'demand')).toMatchObject({ ended: 'cleared', endedAtMs: T0 + 120_000 });
    expect(s.log.find((e) => e.alarm.rule === 'co2')?.ended).toBeUndefined();
    expect(alarmSeverity(s, 'b1')).toBe('warn');
    expect(buildingStatus(s, 'b1')).toBe('warn');
  });

  it('applies a redelivered raise once, and marks an escalated raise as superseding the old one', () => {
    const warn = alarm({ severity: 'warn' });
    let s = run([[{ type: 'alarm', alarm: warn }, T0]]);
    expect(reduceTwin(s, { type: 'alarm', alarm: warn }, T0)).toBe(s);
    s = reduceTwin(s, { type: 'alarm', alarm: alarm({ tsMs: T0 + 60_000 }) }, T0);
    expect(s.log.map((e) => [e.alarm.severity, e.ended])).toEqual([
      ['critical', undefined],
      ['warn', 'superseded'],
    ]);
  });

  it('late transitions (contract §8) are history: listed, and never displacing the live alarm of their rule', () => {
    const live = alarm({ tsMs: T0 + 300_000 });
    let s = run([[{ type: 'alarm', alarm: live }, T0]]);
    // A peak found in windows derived again: raised and cleared an hour ago.
    s = reduceTwin(s, { type: 'alarm', alarm: alarm({ tsMs: T0 - 3_600_000, late: true }) }, T0);
    s = reduceTwin(s, { type: 'alarm', alarm: alarm({ state: 'cleared', tsMs: T0 - 3_000_000, late: true }) }, T0);
    expect(Object.values(s.active)).toEqual([live]);
    expect(s.log.map((e) => `${e.alarm.tsMs - T0} ${e.alarm.late ? 'late' : 'live'} ${e.ended ?? 'open'}`)).toEqual(['300000 live open', '-3600000 late cleared']);
    // A late raise with nothing active for its rule is active: the gateway took it over as still holding.
    const co2 = alarm({ rule: 'co2', severity: 'warn', tsMs: T0 - 60_000, late: true });
    s = reduceTwin(s, { type: 'alarm', alarm: co2 }, T0);
    expect(s.active['b1/co2']).toEqual(co2);
    // A late clear of an alarm raised before it ends it (the late readings showed it ended).
    s = reduceTwin(s, { type: 'alarm', alarm: alarm({ state: 'cleared', tsMs: T0 + 400_000, late: true }) }, T0);
    expect(s.active['b1/demand']).toBeUndefined();
  });

  it('lists a clear whose raise it never saw', () => {
    const s = run([[{ type: 'alarm', alarm: alarm({ state: 'cleared' }) }, T0]]);
    expect(s.log).toHaveLength(1);
    expect(s.log[0].ended).toBe('cleared');
    expect(s.active).toEqual({});
  });

  it('on reconnect, ends the alarms that cleared while it was away', () => {
    let s = run([[{ type: 'alarm', alarm: alarm() }, T0]]);
    s = reduceTwin(s, { type: 'snapshot', parkId: 'tp', t: '', now: { park: nowState(1), buildings: {} }, vitals: null, alarms: [] }, T0 + 5000);
    expect(s.log[0]).toMatchObject({ ended: 'cleared', endedAtMs: T0 + 5000 });
    expect(buildingStatus(s, 'b1')).toBe('ok');
  });

  it('prefers the socket’s alarms over a REST answer that arrives later', () => {
    let s = run([[{ type: 'snapshot', parkId: 'tp', t: '', now: { park: nowState(1), buildings: {} }, vitals: null, alarms: [] }, T0]]);
    s = reduceTwin(s, { type: 'alarms-loaded', alarms: [alarm()], atMs: T0 }, T0);
    expect(s.active).toEqual({});
  });

  it('falls back to the window status before the alarms are known', () => {
    const v = vitals(T0, 100);
    v.buildings.b1.status = 'warn';
    const s = run([[{ type: 'vitals-loaded', vitals: v }, T0]]);
    expect(buildingStatus(s, 'b1')).toBe('warn');
    expect(buildingStatus(s, 'b9')).toBeUndefined();
  });

  it('keeps at most the log limit, dropping the oldest', () => {
    const events: Array<[TwinEvent, number]> = [];
    for (let i = 0; i < ALARM_LOG_LIMIT + 20; i++) events.push([{ type: 'alarm', alarm: alarm({ building: `b${i}`, tsMs: T0 + i }) }, T0]);
    const s = run(events);
    expect(s.log).toHaveLength(ALARM_LOG_LIMIT);
    expect(s.log[0].alarm.building).toBe(`b${ALARM_LOG_LIMIT + 19}`);
    expect(activeCounts(s).total).toBe(ALARM_LOG_LIMIT + 20);
  });
});
