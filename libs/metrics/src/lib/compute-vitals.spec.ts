import { testPark } from '@park/telemetry/testing';
import { energy, formulaTableReadings, indexOf, MIN, people, rd, SEC, T0, tpIndex } from '../testing/readings.fixture';
import { computeVitals, computeVitalsDetailed, readingsRangeFor } from './compute-vitals';
import { Alarm, VitalSigns } from './vital-signs';

const index = tpIndex(); // emission factor 0.42; b1 capacity 100, 500 kW; b2 capacity 10, 200 kW
const s = (x: number) => T0 + x * SEC;

const readings = formulaTableReadings();

const range = { fromMs: T0, toMs: T0 + 3 * MIN };

// b2/m1 in W0: (0,30) (100+200)/2·30 s, (30,60) 200 -> 50 kW: (200+50)/2·30 s. In W1: 50 kW falls to 0 at +70 s: 50/2·10 s.
const b2W0 = (150 * 30 + 125 * 30) / 3600;
const b2W1 = (25 * 10) / 3600;

const expected: Array<{ park: VitalSigns; b1: VitalSigns; b2: VitalSigns }> = [
  {
    b1: {
      energy_kwh: 4 + 3 + 2, pv_kwh: 1.5, load_kw: 540, peak_kw: 800, renewable_share: 1.5 / 10.5,
      carbon_kgco2e: 9 * 0.42, occupancy: 120, occupancy_rate: 1.2, co2_ppm_avg: 1100, co2_ppm_max: 1300,
      online_ratio: 3 / 4, // pv1's last reading before the end is 60 s old (limit 30 s)
      status: 'critical', // demand 540 > 500
    },
    b2: {
      energy_kwh: b2W0, pv_kwh: 0, load_kw: b2W0 * 60, peak_kw: 200, renewable_share: 0,
      carbon_kgco2e: b2W0 * 0.42 + 3 + 1, occupancy: 8, occupancy_rate: 0.8, online_ratio: 1, status: 'ok',
    },
    park: {
      energy_kwh: 9 + b2W0, pv_kwh: 1.5, load_kw: (9 + b2W0) * 60,
      peak_kw: 1000, // +30 s: b1 800 + b2 200
      renewable_share: 1.5 / (10.5 + b2W0), carbon_kgco2e: (9 + b2W0) * 0.42 + 4, occupancy: 128, occupancy_rate: 128 / 110,
      co2_ppm_avg: 1100, co2_ppm_max: 1300, online_ratio: 6 / 7, status: 'critical',
    },
  },
  {
    b1: {
      energy_kwh: 4 + 4, pv_kwh: 0, load_kw: 480, peak_kw: 1000, renewable_share: 0, carbon_kgco2e: 8 * 0.42,
      occupancy: 0, // o1 silent for 115 s > 90 s
      occupancy_rate: 0, online_ratio: 1 / 4, // only c1 (limit 180 s)
      status: 'critical', // offline < 50%
    },
    b2: {
      energy_kwh: b2W1, pv_kwh: 0, load_kw: b2W1 * 60, peak_kw: 200, renewable_share: 0, carbon_kgco2e: b2W1 * 0.42 + 1,
      occupancy: 12, occupancy_rate: 1.2, online_ratio: 1, status: 'warn', // crowding: 1.2 is over 1.0, not over 1.2
    },
    park: {
      energy_kwh: 8 + b2W1, pv_kwh: 0, load_kw: (8 + b2W1) * 60,
      peak_kw: 1000, // +80 s: b1 1000, b2's 200 from +30 s is stale
      renewable_share: 0, carbon_kgco2e: (8 + b2W1) * 0.42 + 1, occupancy: 12, occupancy_rate: 12 / 110,
      online_ratio: 4 / 7, status: 'critical',
    },
  },
  {
    b1: {
      energy_kwh: 6, pv_kwh: 0, load_kw: 360, peak_kw: 0, renewable_share: 0, carbon_kgco2e: 6 * 0.42,
      occupancy: 0, occupancy_rate: 0, online_ratio: 1 / 4, status: 'critical',
    },
    b2: {
      energy_kwh: 0, pv_kwh: 0, load_kw: 0,
      peak_kw: -100, // held at the window start: exporting, 30 s old (limit 30 s)
      carbon_kgco2e: 0, occupancy: 12, occupancy_rate: 1.2, online_ratio: 2 / 3, status: 'warn',
    },
    park: {
      energy_kwh: 6, pv_kwh: 0, load_kw: 360, peak_kw: -100, renewable_share: 0, carbon_kgco2e: 6 * 0.42, occupancy: 12,
      occupancy_rate: 12 / 110, online_ratio: 3 / 7, status: 'critical',
    },
  },
];

function expectSigns(got: VitalSigns, want: VitalSigns): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) {
    if (typeof v === 'number') expect([k, got[k as keyof VitalSigns]]).toEqual([k, expect.closeTo(v, 9)]);
    else expect([k, got[k as keyof VitalSigns]]).toEqual([k, v]);
  }
}

describe('computeVitals: formula table (contract §6)', () => {
  const { vitals, alarms } = computeVitalsDetailed(index, readings, range);

  it('gives one ParkVitals per window of the range, stamped with the window', () => {
    expect(vitals.map((v) => [v.parkId, v.window.startMs - T0, v.window.endMs - T0])).toEqual([
      ['tp', 0, MIN],
      ['tp', MIN, 2 * MIN],
      ['tp', 2 * MIN, 3 * MIN],
    ]);
  });

  expected.forEach((want, k) => {
    it.each(['b1', 'b2', 'park'] as const)(`W${k} %s`, (scope) => {
      const got = scope === 'park' ? vitals[k].park : vitals[k].buildings[scope];
      expectSigns(got, want[scope]);
    });
  });

  it('runs the alarm evaluator in window order', () => {
    const brief = (a: Alarm) => `${(a.tsMs - T0) / MIN} ${a.building}/${a.rule}:${a.severity}:${a.state}`;
    expect(alarms.map(brief)).toEqual([
      '1 b1/demand:critical:raised',
      '1 b1/co2:warn:raised',
      '1 b1/crowding:warn:raised',
      '1 b1/offline:warn:raised',
      '2 b1/demand:critical:cleared',
      '2 b1/demand:warn:raised',
      // co2 has no reading in W1: it holds
      '2 b1/crowding:warn:cleared',
      '2 b1/offline:warn:cleared',
      '2 b1/offline:critical:raised',
      '2 b2/crowding:warn:raised',
      '3 b1/demand:warn:cleared',
      '3 b2/offline:warn:raised',
    ]);
  });

  it('does not depend on the order of the readings, nor on duplicates', () => {
    const shuffled = [...readings].reverse();
    const doubled = [...readings, ...readings.slice(3, 12)];
    expect(computeVitals(index, shuffled, range)).toEqual(vitals);
    expect(computeVitals(index, doubled, range)).toEqual(vitals);
  });

  it('ignores readings of sensors the model does not list (unregistered, other park, other kind)', () => {
    const extra = [
      energy('b1', 'm9', s(10), { energyKwh: 5, powerKw: 9999 }),
      energy('b1', 'm9', s(40), { energyKwh: 50, powerKw: 9999 }),
      rd('b1', 'm1', 'energy', s(30), { energyKwh: 0 }, 'other-park'),
      people('b1', 'm1', s(30), 500),
    ];
    expect(computeVitals(index, [...readings, ...extra], range)).toEqual(vitals);
  });
});

describe('computeVitals: edges', () => {
  it('empty windows still produce vitals: energy 0, everyone offline', () => {
    const [v] = computeVitals(index, [], { fromMs: T0, toMs: T0 + MIN });
    expect(v.buildings.b1).toEqual({
      energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 0, occupancy_rate: 0,
      online_ratio: 0, status: 'critical',
    });
    expect(v.park.online_ratio).toBe(0);
  });

  it('a building with no meters and no capacity, and one with no sensors at all', () => {
    const model = testPark();
    model.buildings.push(
      { ...model.buildings[1], id: 'x', capacity: 0, sensors: [{ id: 'o1', kind: 'occupancy', intervalS: 30 }] },
      { ...model.buildings[1], id: 'y', capacity: 0, sensors: [] },
    );
    const [v] = computeVitals(indexOf(model), [people('x', 'o1', s(10), 4)], { fromMs: T0, toMs: T0 + MIN });
    expect(v.buildings.x).toEqual({ energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 4, online_ratio: 1, status: 'ok' });
    expect(v.buildings.y).toEqual({ energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 0, status: 'ok' });
    expect(v.park.occupancy_rate).toBeCloseTo(4 / 110, 12);
  });

  it('uses the register value just before the range and just after it', () => {
    const rs = [energy('b1', 'm1', s(-600), { energyKwh: 0 }), energy('b1', 'm1', s(600), { energyKwh: 120 })];
    const v = computeVitals(index, rs, { fromMs: T0, toMs: T0 + 2 * MIN });
    expect(v.map((x) => x.buildings.b1.energy_kwh)).toEqual([6, 6]);
  });

  it('starts from alarms active before the range', () => {
    const first = computeVitalsDetailed(index, readings, { fromMs: T0, toMs: T0 + MIN });
    const rest = computeVitalsDetailed(index, readings, { fromMs: T0 + MIN, toMs: T0 + 3 * MIN }, { activeAlarms: first.active });
    const whole = computeVitalsDetailed(index, readings, range);
    expect([...first.vitals, ...rest.vitals]).toEqual(whole.vitals);
    expect([...first.alarms, ...rest.alarms]).toEqual(whole.alarms);
  });

  it('tells how far around a range to query readings', () => {
    expect(readingsRangeFor(index, range)).toEqual({ fromMs: T0 - 3_600_000, toMs: T0 + 3 * MIN + 3_600_000 });
    // the longest silence limit (carbon, 3 × 60 s) when it exceeds the gap allowance
    expect(readingsRangeFor(index, range, 1000)).toEqual({ fromMs: T0 - 180_000, toMs: T0 + 3 * MIN + 1000 });
  });
});
