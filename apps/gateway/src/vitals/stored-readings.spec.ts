import { indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { queryActiveAlarms, queryReadings } from './stored-readings';

const T = Date.parse('2026-11-27T08:00:00.000Z');
const park = indexPark(testPark());

function fake(answer: (q: string) => InfluxSeries[]) {
  const queries: string[] = [];
  const influx: InfluxQuery = { query: async (q: string) => (queries.push(q), answer(q)) };
  return { influx, queries };
}

describe('queryReadings (contract §5 back to Readings)', () => {
  it('queries each measurement of the park in [from, to) per building and sensor, and maps columns to Reading fields, skipping nulls', async () => {
    const { influx, queries } = fake((q) => {
      if (q.includes('FROM "energy"')) return [{ name: 'energy', tags: { building: 'b1', sensor: 'm1' }, columns: ['time', 'power_kw', 'energy_kwh'], values: [[T, 410.5, 1200.25], [T + 10_000, null, 1201.5]] }];
      if (q.includes('FROM "carbon"')) return [{ name: 'carbon', tags: { building: 'b2', sensor: 'boiler' }, columns: ['time', 'co2_ppm', 'emission_kgco2e'], values: [[T + 5_000, null, 5012.5]] }];
      return [{ name: 'occupancy', tags: { building: 'b1', sensor: 'o1' }, columns: ['time', 'count'], values: [[T + 1_000, 37]] }];
    });
    const readings = await queryReadings(influx, park, T - 0.4, T + 60_000.2);
    expect(queries).toEqual([
      `SELECT "power_kw", "energy_kwh" FROM "energy" WHERE "park" = 'tp' AND time >= ${T - 1}ms AND time < ${T + 60_001}ms GROUP BY "building", "sensor"`,
      `SELECT "co2_ppm", "emission_kgco2e" FROM "carbon" WHERE "park" = 'tp' AND time >= ${T - 1}ms AND time < ${T + 60_001}ms GROUP BY "building", "sensor"`,
      `SELECT "count" FROM "occupancy" WHERE "park" = 'tp' AND time >= ${T - 1}ms AND time < ${T + 60_001}ms GROUP BY "building", "sensor"`,
    ]);
    expect(readings).toEqual([
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: T, powerKw: 410.5, energyKwh: 1200.25 },
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm1', tsMs: T + 10_000, energyKwh: 1201.5 },
      { park: 'tp', building: 'b2', kind: 'carbon', sensor: 'boiler', tsMs: T + 5_000, emissionKgco2e: 5012.5 },
      { park: 'tp', building: 'b1', kind: 'occupancy', sensor: 'o1', tsMs: T + 1_000, count: 37 },
    ]);
  });
});

describe('queryActiveAlarms (restoring the alarm state)', () => {
  const s = (building: string, rule: string, severity: string, time: number, state: string): InfluxSeries => ({
    name: 'alarms', tags: { building, rule, severity }, columns: ['time', 'state', 'value', 'threshold', 'message'], values: [[time, state, 1600, 1500, `${rule} ${severity}`]],
  });

  it('takes the last transition per building, rule and severity, and keeps the raised ones', async () => {
    const { influx, queries } = fake(() => [
      // Escalation warn → critical: both points at the same time, in two series.
      s('b1', 'co2', 'critical', T, 'raised'),
      s('b1', 'co2', 'warn', T, 'cleared'),
      s('b2', 'demand', 'critical', T - 60_000, 'cleared'),
    ]);
    const active = await queryActiveAlarms(influx, park, T + 1);
    expect(queries).toEqual([`SELECT last("state") AS state, "value", "threshold", "message" FROM "alarms" WHERE "park" = 'tp' AND time < ${T + 1}ms GROUP BY "building", "rule", "severity"`]);
    expect(active).toEqual([{ parkId: 'tp', building: 'b1', rule: 'co2', severity: 'critical', state: 'raised', value: 1600, threshold: 1500, message: 'co2 critical', tsMs: T }]);
  });

  it('keeps one alarm per building and rule: the newer, should two severities both end raised', async () => {
    const { influx } = fake(() => [s('b1', 'demand', 'critical', T - 60_000, 'raised'), s('b1', 'demand', 'warn', T, 'raised')]);
    expect((await queryActiveAlarms(influx, park)).map((a) => a.severity)).toEqual(['warn']);
  });
});
