import { testPark } from '@park/telemetry/testing';
import { anomalyLoadKw, CREEP_SHARE_PER_DAY, plannedPeakHours, PLANNED_PEAK_SHARE, stuckMeterOf, stuckRegister } from './anomalies';
import { ParkSimulator } from './park.simulator';
import { Scenario } from './scenarios';

// Monday 2026-11-16 00:00 in Shanghai (UTC+8).
const MONDAY = Date.parse('2026-11-15T16:00:00Z');
const H = 3_600_000;
const park = testPark();
const b1 = park.buildings[0];

describe('plannedPeakHours', () => {
  it.each([
    ['Monday 13:59', MONDAY + 13.99 * H, false],
    ['Monday 14:00', MONDAY + 14 * H, true],
    ['Monday 15:59', MONDAY + 15.99 * H, true],
    ['Monday 16:00', MONDAY + 16 * H, false],
    ['Saturday 15:00', MONDAY + 5 * 24 * H + 15 * H, false],
  ])('%s → %s', (_n, t, expected) => expect(plannedPeakHours(t)).toBe(expected));
});

describe('anomalyLoadKw', () => {
  const creep: Scenario[] = [{ kind: 'creep', building: 'b1', fromS: 86_400, toS: 10 * 86_400 }];
  it.each([
    ['before the span', creep, MONDAY + 12 * H, 100],
    ['a day into the span', creep, MONDAY + 48 * H, 100 + CREEP_SHARE_PER_DAY * b1.contractedKw],
    ['after the span', creep, MONDAY + 11 * 24 * H, 100],
    ['in a planned peak', [{ kind: 'peak', building: 'b1', fromS: 0, toS: Infinity }] as Scenario[], MONDAY + 14.5 * H, PLANNED_PEAK_SHARE * b1.contractedKw],
    ['outside its hours', [{ kind: 'peak', building: 'b1', fromS: 0, toS: Infinity }] as Scenario[], MONDAY + 10 * H, 100],
    ['another building', [{ kind: 'peak', building: 'b2', fromS: 0, toS: Infinity }] as Scenario[], MONDAY + 14.5 * H, 100],
  ])('%s', (_n, scenarios, t, kw) => expect(anomalyLoadKw(scenarios, park.id, b1, MONDAY, t, 100)).toBeCloseTo(kw, 9));
});

describe('stuck', () => {
  it('sticks the first grid meter', () => expect(stuckMeterOf(b1)).toBe('m1'));

  it('holds the value sent when it began, then lets the true register through', () => {
    const frozen = new Map<number, number>();
    const s: Scenario[] = [{ kind: 'stuck', building: 'b1', fromS: 10, toS: 30 }];
    const at = (sec: number, v: number) => stuckRegister(frozen, s, park.id, b1, 'm1', 7, MONDAY, MONDAY + sec * 1000, v);
    expect([at(0, 1), at(10, 2), at(20, 3), at(29, 4), at(30, 5)]).toEqual([1, 2, 2, 2, 5]);
    expect(stuckRegister(frozen, s, park.id, b1, 'pv1', 8, MONDAY, MONDAY + 20_000, 9)).toBe(9);
  });

  it('in the simulator: the register repeats while power goes on, and the truth is unchanged', () => {
    const run = (scenarios: Scenario[]) => {
      const sim = new ParkSimulator(park, { seed: 3, startMs: MONDAY + 10 * H, scenarios });
      const msgs = sim.stepUntil(MONDAY + 11 * H).filter((m) => m.building === 'b1' && m.sensor === 'm1').map((m) => JSON.parse(m.payload) as { power_kw: number; energy_kwh: number; ts: number });
      return { msgs, truth: sim.truthTotals() };
    };
    const stuck = run([{ kind: 'stuck', building: 'b1', fromS: 600, toS: 2400 }]);
    const normal = run([]);
    const inSpan = stuck.msgs.filter((m) => m.ts >= MONDAY + 10 * H + 600_000 && m.ts < MONDAY + 10 * H + 2_400_000);
    expect(new Set(inSpan.map((m) => m.energy_kwh)).size).toBe(1);
    expect(new Set(inSpan.map((m) => m.power_kw)).size).toBeGreaterThan(100);
    expect(stuck.msgs[stuck.msgs.length - 1]).toEqual(normal.msgs[normal.msgs.length - 1]);
    expect(stuck.truth).toEqual(normal.truth);
  });
});
