import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';
import { indexPark, localToUtcMs } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { loadConfig } from '../config/gateway-config';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { ParkRegistry } from '../park/park.registry';
import { MemorySink } from '../testing/memory.sink';
import { testBus } from '../testing/test-bus';
import { VitalsReadModel } from '../vitals/vitals.read-model';
import { TrendsService } from './trends.service';

const DAY = 86_400_000;
const Q = 900_000;
// Monday 2026-11-16 00:00, Shanghai.
const NOW = localToUtcMs('Asia/Shanghai', 2026, 11, 16);

/** b1: 300 kW at night (22:00–06:00), 400 kW by day; b2 flat 100 kW; the park their sum. */
const kwAt = (building: string, t: number) => {
  if (building === 'b2') return 100;
  const h = ((t - NOW) % DAY + DAY) % DAY / 3_600_000;
  return h >= 22 || h < 6 ? 300 : 400;
};

/** InfluxDB at the edge: the 15-min roll-up of `days` days before NOW. */
class FakeInflux implements InfluxQuery {
  readonly queries: string[] = [];
  constructor(private readonly days: number) {}
  async query(q: string): Promise<InfluxSeries[]> {
    this.queries.push(q);
    if (!q.includes('GROUP BY time(15m), "scope", "building"')) return [];
    const values = (b?: string) => {
      const v: unknown[][] = [];
      for (let t = NOW - this.days * DAY; t < NOW; t += Q) v.push([t, b ? kwAt(b, t) : kwAt('b1', t) + kwAt('b2', t)]);
      return v;
    };
    return [
      { name: 'vitals', tags: { scope: 'park', building: '' }, columns: ['time', 'mean'], values: values() },
      { name: 'vitals', tags: { scope: 'building', building: 'b1' }, columns: ['time', 'mean'], values: values('b1') },
      { name: 'vitals', tags: { scope: 'building', building: 'b2' }, columns: ['time', 'mean'], values: values('b2') },
      { name: 'vitals', tags: { scope: 'building', building: 'gone' }, columns: ['time', 'mean'], values: values('b2') },
    ];
  }
}

function window(startMs: number, b1Kw: number): ParkVitals {
  const v = (kw: number): VitalSigns => ({ energy_kwh: kw / 60, pv_kwh: 0, load_kw: kw, peak_kw: kw, carbon_kgco2e: 0, occupancy: 0, status: 'ok' });
  return { parkId: 'tp', window: { startMs, endMs: startMs + 60_000 }, park: v(b1Kw + 100), buildings: { b1: v(b1Kw), b2: v(100) } };
}

function setup(days: number, derives = true, b1ContractedKw = 500) {
  const model = testPark();
  model.buildings[0].contractedKw = b1ContractedKw;
  const clock = new ManualClock(NOW + 1000);
  const bus = testBus();
  const sink = new MemorySink();
  const influx = new FakeInflux(days);
  const readModel: VitalsReadModel = { latest: () => (derives ? window(NOW, 400) : undefined), activeAlarms: () => [], now: () => undefined };
  const config = loadConfig({ TRENDS_REFIT_MS: String(3_600_000) });
  const svc = new TrendsService(new ParkRegistry([indexPark(model)]), bus, sink, influx, readModel, pino({ level: 'silent' }), config, clock);
  const alarms: Alarm[] = [];
  bus.subscribe('alarm', ({ alarm }) => alarms.push(alarm));
  svc.start();
  return { clock, bus, sink, influx, svc, alarms };
}

describe('TrendsService', () => {
  it('fits at start and then on the clock, never per request', async () => {
    const t = setup(14);
    expect(t.svc.forecast('tp', undefined, '15m', NOW, 4)).toEqual({ kind: 'not_ready' });
    t.clock.advance(0);
    await t.svc.refit();
    expect(t.influx.queries).toHaveLength(1);
    expect(t.influx.queries[0]).toBe(`SELECT MEAN("load_kw") FROM "vitals" WHERE "park" = 'tp' AND time >= ${NOW - 28 * DAY}ms AND time < ${NOW}ms GROUP BY time(15m), "scope", "building" fill(none)`);
    for (let i = 0; i < 10; i++) t.svc.forecast('tp', 'b1', '1h', NOW, 24);
    expect(t.influx.queries).toHaveLength(1);
    t.clock.advance(3_600_000);
    await t.svc.refit();
    expect(t.influx.queries).toHaveLength(2);
    t.svc.stop();
  });

  it('answers the forecast of each scope from the fit', async () => {
    const t = setup(14);
    t.clock.advance(0);
    await t.svc.refit();
    const park = t.svc.forecast('tp', undefined, '1h', NOW + 1000, 24);
    if (park.kind !== 'ok') throw new Error(park.kind);
    expect(park.generatedMs).toBe(NOW + 1000);
    expect(park.points).toHaveLength(24);
    expect(park.points[0].tMs).toBe(NOW);
    expect(park.points[3].value).toBeCloseTo(400, 6);
    expect(park.points[12].value).toBeCloseTo(500, 6);
    t.svc.stop();
  });

  it('says how much history there is when there is too little', async () => {
    const t = setup(3);
    t.clock.advance(0);
    await t.svc.refit();
    expect(t.svc.forecast('tp', 'b1', '15m', NOW, 4)).toEqual({ kind: 'too_little_history', haveDays: 3, needDays: 8 });
    t.svc.stop();
  });

  it('writes the next 24 h of every scope to the forecast measurement at each fit', async () => {
    const t = setup(14);
    t.clock.advance(0);
    await t.svc.refit();
    const lines = t.sink.lines.filter((l) => l.startsWith('forecast,'));
    expect(lines).toHaveLength(3 * 96);
    expect(lines[0]).toMatch(/^forecast,every=15m,park=tp,scope=park load_kw=400,load_kw_hi=[\d.]+,load_kw_lo=[\d.]+ \d+$/);
    expect(lines.filter((l) => l.includes('building=b2'))).toHaveLength(96);
    t.svc.stop();
  });

  it('raises baseload live from closed windows: one alarms point and one alarm event, after the window', async () => {
    const t = setup(14);
    t.clock.advance(0);
    await t.svc.refit();
    // Monday from 00:00 as usual, then from 22:00 b1 at 480 kW: 60 % above its night median.
    for (let s = NOW; s < NOW + DAY + 2 * 3_600_000; s += 60_000) {
      t.clock.jump(s + 90_000);
      const kw = s >= NOW + 22 * 3_600_000 ? 480 : kwAt('b1', s);
      t.bus.publish('vitals', { vitals: window(s, kw), revision: false });
      t.bus.publish('vitals', { vitals: window(s, 9999), revision: true }); // revisions are not followed
    }
    expect(t.alarms).toEqual([]); // emitted after the subscribers of the window
    await Promise.resolve();
    expect(t.alarms.map((a) => [a.building, a.rule, a.severity, a.state])).toEqual([['b1', 'baseload', 'critical', 'raised']]);
    expect(t.alarms[0].message).toMatch(/^Office night-time load 60 % above its 1\d-day median \(480 kW against 300 kW\)$/);
    expect(t.sink.lines.filter((l) => l.startsWith('alarms,'))).toEqual([expect.stringMatching(/^alarms,building=b1,park=tp,rule=baseload,severity=critical message=".*",state="raised",threshold=1.5,value=1.6 \d+$/)]);
    t.svc.stop();
  });

  it('decides demand_forecast on the first window after a fit, so only the gateway that derives the park does', async () => {
    // b1 is forecast at 400 kW by day: above 90 % of a 420 kW contract.
    const raised: Array<Array<string>> = [];
    for (const derives of [true, false]) {
      const t = setup(14, derives, 420);
      t.clock.advance(0);
      await t.svc.refit();
      expect(t.alarms).toEqual([]);
      // Only a gateway deriving the park gets its windows on the bus.
      if (derives) for (const s of [NOW, NOW + 60_000]) t.bus.publish('vitals', { vitals: window(s, 300), revision: false });
      await Promise.resolve();
      raised.push(t.alarms.map((a) => `${a.building} ${a.rule} ${a.severity} ${a.state}: ${a.message}`));
      t.svc.stop();
    }
    expect(raised).toEqual([['b1 demand_forecast warn raised: Office: load forecast to reach 400 kW at Mon 06:00 (park time), above 90 % of contracted 420 kW'], []]);
  });
});
