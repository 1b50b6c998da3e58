import { MIN, T0, tpIndex } from '../testing/readings.fixture';
import { AlarmState, alarmStateOf, applyStatus, evaluateAlarms, NO_ALARMS } from './alarm-rules';
import { Alarm, ParkVitals, VitalSigns } from './vital-signs';

const index = tpIndex(); // b1: contracted 500 kW, capacity 100; b2: contracted 200 kW, capacity 10

const signs = (over: Partial<VitalSigns> = {}): VitalSigns => ({
  energy_kwh: 0, pv_kwh: 0, load_kw: 0, peak_kw: 0, carbon_kgco2e: 0, occupancy: 0,
  occupancy_rate: 0, online_ratio: 1, status: 'ok', ...over,
});

const windowOf = (k: number, b1: Partial<VitalSigns>, b2: Partial<VitalSigns> = {}): ParkVitals => ({
  parkId: 'tp',
  window: { startMs: T0 + k * MIN, endMs: T0 + (k + 1) * MIN },
  park: signs(),
  buildings: { b1: signs(b1), b2: signs(b2) },
});

/** Runs the evaluator over b1 values, one window each; returns the transitions per window. */
function run(b1s: Array<Partial<VitalSigns>>, start: AlarmState = NO_ALARMS): { steps: Alarm[][]; state: AlarmState } {
  let state = start;
  const steps = b1s.map((b1, k) => {
    const step = evaluateAlarms(index, state, windowOf(k, b1));
    state = step.state;
    return step.transitions;
  });
  return { steps, state };
}

const brief = (a: Alarm) => `${a.building}/${a.rule}:${a.severity}:${a.state}`;

describe('alarm rules (contract §6)', () => {
  it.each<[string, Partial<VitalSigns>, string[]]>([
    ['demand warn above 0.9 × contracted', { load_kw: 451 }, ['b1/demand:warn:raised']],
    ['demand at exactly 0.9 × contracted is fine', { load_kw: 450 }, []],
    ['demand critical above contracted', { load_kw: 501 }, ['b1/demand:critical:raised']],
    ['co2 warn above 1000 ppm', { co2_ppm_avg: 1001 }, ['b1/co2:warn:raised']],
    ['co2 critical above 1500 ppm', { co2_ppm_avg: 1501 }, ['b1/co2:critical:raised']],
    ['crowding warn above 100%', { occupancy_rate: 1.01 }, ['b1/crowding:warn:raised']],
    ['crowding critical above 120%', { occupancy_rate: 1.21 }, ['b1/crowding:critical:raised']],
    ['offline warn below 90%', { online_ratio: 0.75 }, ['b1/offline:warn:raised']],
    ['offline critical below 50%', { online_ratio: 0.25 }, ['b1/offline:critical:raised']],
    ['several rules at once, in rule order', { load_kw: 600, online_ratio: 0 }, ['b1/demand:critical:raised', 'b1/offline:critical:raised']],
  ])('%s', (_name, b1, expected) => {
    expect(run([b1]).steps[0].map(brief)).toEqual(expected);
  });

  it('raises once, stays silent while the condition holds (no flapping), clears once', () => {
    const { steps, state } = run([{ load_kw: 460 }, { load_kw: 470 }, { load_kw: 480 }, { load_kw: 100 }, { load_kw: 90 }]);
    expect(steps.map((s) => s.map(brief))).toEqual([['b1/demand:warn:raised'], [], [], ['b1/demand:warn:cleared'], []]);
    expect(state.size).toBe(0);
  });

  it('a change of severity is a clear of the old alarm and a raise of the new one', () => {
    const { steps } = run([{ load_kw: 460 }, { load_kw: 520 }, { load_kw: 470 }, { load_kw: 10 }]);
    expect(steps.map((s) => s.map(brief))).toEqual([
      ['b1/demand:warn:raised'],
      ['b1/demand:warn:cleared', 'b1/demand:critical:raised'],
      ['b1/demand:critical:cleared', 'b1/demand:warn:raised'],
      ['b1/demand:warn:cleared'],
    ]);
  });

  it('an absent value (no CO2 reading in the window) neither raises nor clears', () => {
    const { steps } = run([{ co2_ppm_avg: 1200 }, {}, {}, { co2_ppm_avg: 800 }]);
    expect(steps.map((s) => s.map(brief))).toEqual([['b1/co2:warn:raised'], [], [], ['b1/co2:warn:cleared']]);
  });

  it('carries what the store needs: value, threshold, message, time = window end', () => {
    const [[raised], [cleared]] = run([{ load_kw: 520 }, { load_kw: 300 }]).steps;
    expect(raised).toEqual({
      parkId: 'tp', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised',
      value: 520, threshold: 500, message: 'Load 520 kW exceeds contracted 500 kW', tsMs: T0 + MIN,
    });
    expect(cleared).toMatchObject({ state: 'cleared', severity: 'critical', value: 300, threshold: 500, tsMs: T0 + 2 * MIN });
    expect(cleared.message).toBe('Load 300 kW back within contracted 500 kW');
  });

  it.each<[Partial<VitalSigns>, string]>([
    [{ load_kw: 462.4 }, 'Load 462 kW exceeds 90% of contracted 500 kW'],
    [{ co2_ppm_avg: 1234.5 }, 'Mean CO2 1235 ppm exceeds 1000 ppm (GB/T 18883-2022)'],
    [{ co2_ppm_avg: 1600 }, 'Mean CO2 1600 ppm exceeds 1500 ppm'],
    [{ occupancy_rate: 1.3 }, 'Occupancy 130% of capacity 100 exceeds 120%'],
    [{ online_ratio: 0.25 }, 'Only 25% of sensors online (below 50%)'],
  ])('message for %j: %s', (b1, message) => {
    expect(run([b1]).steps[0][0].message).toBe(message);
  });

  it('demand does not apply to a building without a contracted capacity', () => {
    const model = index.model;
    const noContract = { ...index, model: { ...model, buildings: model.buildings.map((b) => ({ ...b, contractedKw: 0 })) } };
    expect(evaluateAlarms(noContract, NO_ALARMS, windowOf(0, { load_kw: 1e6 })).transitions).toEqual([]);
  });

  it('evaluates each building on its own values', () => {
    const step = evaluateAlarms(index, NO_ALARMS, windowOf(0, { load_kw: 460 }, { load_kw: 460 }));
    expect(step.transitions.map(brief)).toEqual(['b1/demand:warn:raised', 'b2/demand:critical:raised']);
  });

  it('resumes from alarms read back after a restart', () => {
    const before = run([{ load_kw: 520 }]);
    const restored = alarmStateOf([...before.state.values()]);
    expect(run([{ load_kw: 530 }], restored).steps[0]).toEqual([]);
  });
});

describe('status (contract §6: worst active alarm in scope; park: worst of any building)', () => {
  it('is set per building and for the park', () => {
    const w = windowOf(0, { load_kw: 460, online_ratio: 0.1 }, { co2_ppm_avg: 1100 });
    const { state } = evaluateAlarms(index, NO_ALARMS, w);
    applyStatus(w, state);
    expect([w.buildings.b1.status, w.buildings.b2.status, w.park.status]).toEqual(['critical', 'warn', 'critical']);
  });

  it('is ok without active alarms', () => {
    const w = windowOf(0, {});
    applyStatus(w, NO_ALARMS);
    expect([w.buildings.b1.status, w.buildings.b2.status, w.park.status]).toEqual(['ok', 'ok', 'ok']);
  });
});
