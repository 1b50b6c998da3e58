import fc from 'fast-check';
import { BuildingModel, indexPark, localToUtcMs, ParkModel, Reading } from '@park/telemetry';
import { SeriesPoint } from './load-forecast';
import {
  baseloadDecision,
  baseloadRatio,
  demandForecastDecision,
  nightOf,
  severityWithHysteresis,
  StuckMeter,
  stuckMeterDecision,
  StuckMeterTracker,
  TREND_THRESHOLDS,
  TrendAlarmState,
} from './trend-rules';
import { Severity } from './vital-signs';

const TZ = 'Asia/Shanghai';
const Q = 900_000;
const at = (d: number, h: number, m = 0) => localToUtcMs(TZ, 2026, 11, d, h, m);

const building: BuildingModel = {
  id: 'b08',
  name: 'Data Centre',
  footprint: [
    [0, 0],
    [10, 0],
    [10, 10],
  ],
  height: 10,
  floors: 2,
  floorAreaM2: 1000,
  capacity: 40,
  contractedKw: 9000,
  sensors: [
    { id: 'm01', kind: 'energy', intervalS: 10 },
    { id: 'm02', kind: 'energy', intervalS: 10 },
    { id: 'pv1', kind: 'energy', source: 'pv', intervalS: 10 },
    { id: 'c01', kind: 'carbon', intervalS: 60 },
  ],
};
const park: ParkModel = { id: 'demo', name: 'Demo', buildings: [building] };

describe('severityWithHysteresis', () => {
  const t = TREND_THRESHOLDS.baseload;
  it.each<[number, Severity | undefined, Severity | undefined]>([
    [1.1, undefined, undefined],
    [1.21, undefined, 'warn'],
    [1.51, undefined, 'critical'],
    [1.19, 'warn', 'warn'], // inside the band: holds
    [1.14, 'warn', undefined], // 1.2 × 0.95 = 1.14: clears
    [1.6, 'warn', 'critical'], // escalates at once
    [1.48, 'critical', 'critical'],
    [1.3, 'critical', 'warn'],
    [1.0, 'critical', undefined],
  ])('%s with %s active → %s', (v, current, expected) => expect(severityWithHysteresis(v, t, current)).toBe(expected));

  it('never flaps: values wandering inside the band around a level raise once and clear at most once', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1.2 * 0.96, max: 1.2 * 1.04, noNaN: true }), { minLength: 1, maxLength: 200 }), (vals) => {
        let s: Severity | undefined;
        let changes = 0;
        for (const v of vals) {
          const next = severityWithHysteresis(v, t, s);
          if (next !== s) changes++;
          s = next;
        }
        return changes <= 1;
      }),
    );
  });

  it('without an active alarm it is the plain threshold', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 3, noNaN: true }), (v) => severityWithHysteresis(v, t, undefined) === (v > 1.5 ? 'critical' : v > 1.2 ? 'warn' : undefined)));
  });
});

describe('TrendAlarmState', () => {
  const decision = (severity: Severity | undefined, value: number) => ({ severity, value, threshold: (s: Severity) => (s === 'warn' ? 1.2 : 1.5), message: (st: string, s: Severity) => `${st} ${s}` });

  it('raises once, holds, escalates as clear + raise, clears once', () => {
    const s = new TrendAlarmState('demo');
    expect(s.decide('b08', 'baseload', decision(undefined, 1), 1)).toEqual([]);
    const up = s.decide('b08', 'baseload', decision('warn', 1.3), 2);
    expect(up.map((a) => [a.state, a.severity, a.threshold, a.tsMs])).toEqual([['raised', 'warn', 1.2, 2]]);
    expect(s.decide('b08', 'baseload', decision('warn', 1.35), 3)).toEqual([]);
    const esc = s.decide('b08', 'baseload', decision('critical', 1.6), 4);
    expect(esc.map((a) => [a.state, a.severity])).toEqual([
      ['cleared', 'warn'],
      ['raised', 'critical'],
    ]);
    expect(esc[0].message).toBe('Base load alarm escalated from warn to critical');
    const down = s.decide('b08', 'baseload', decision(undefined, 1), 5);
    expect(down.map((a) => [a.state, a.severity, a.value])).toEqual([['cleared', 'critical', 1]]);
    expect(s.all()).toEqual([]);
  });

  it('starts from stored active alarms, ignoring other rules', () => {
    const a = { parkId: 'demo', building: 'b08', rule: 'baseload' as const, severity: 'warn' as const, state: 'raised' as const, value: 1.3, threshold: 1.2, message: '', tsMs: 0 };
    const s = new TrendAlarmState('demo', [a, { ...a, rule: 'demand' }]);
    expect(s.all()).toEqual([a]);
    expect(s.decide('b08', 'baseload', decision('warn', 1.25), 1)).toEqual([]);
  });
});

describe('demandForecastDecision', () => {
  const pts = (kw: number[]) => kw.map((value, i) => ({ tMs: at(2, 14) + i * Q, value, lo: value * 0.9, hi: value * 1.1 }));

  it.each<[number[], Severity | undefined]>([
    [[7000, 7500, 8000], undefined],
    [[7000, 8200, 8000], 'warn'],
    [[7000, 8200, 9100], 'critical'],
  ])('%j → %s', (kw, sev) => expect(demandForecastDecision(building, TZ, pts(kw), undefined)?.severity).toBe(sev));

  it('names the first time over the level, in park time', () => {
    const d = demandForecastDecision(building, TZ, pts([7000, 8200, 9100, 9400]), undefined);
    expect(d?.value).toBe(9400);
    expect(d?.threshold('critical')).toBe(9000);
    expect(d?.message('raised', 'critical')).toBe('Data Centre: load forecast to reach 9,100 kW at Mon 14:30 (park time), above contracted 9,000 kW');
    expect(d?.message('raised', 'warn')).toBe('Data Centre: load forecast to reach 8,200 kW at Mon 14:15 (park time), above 90 % of contracted 9,000 kW');
  });

  it('does not apply without a contracted capacity or a forecast', () => {
    expect(demandForecastDecision({ ...building, contractedKw: 0 }, TZ, pts([1]), undefined)).toBeUndefined();
    expect(demandForecastDecision(building, TZ, [], undefined)).toBeUndefined();
  });
});

describe('nightOf', () => {
  it.each([
    ['21:59', at(2, 21, 59), undefined],
    ['22:00', at(2, 22), [at(2, 22), at(3, 6)]],
    ['03:00 the next day', at(3, 3), [at(2, 22), at(3, 6)]],
    ['06:00', at(3, 6), undefined],
  ])('%s', (_n, t, expected) => {
    const n = nightOf(TZ, t);
    expect(n ? [n.startMs, n.endMs] : undefined).toEqual(expected);
  });
});

describe('baseloadRatio', () => {
  /** 15-min loads for nights 1..n of Nov 2026: `evening` kW from 22:00 to 00:00, `night` kW after, daytime 1000. */
  function history(days: number, evening: number, night: number, last?: { evening: number; night: number }): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    for (let t = at(1, 0); t < at(1 + days, 0); t += Q) {
      const h = ((t - at(1, 0)) % 86_400_000) / 3_600_000;
      const isLast = last && t >= at(days - 1, 22);
      const v = h >= 22 ? (isLast ? last.evening : evening) : h < 6 ? (isLast ? last.night : night) : 1000;
      out.push({ tMs: t, value: v });
    }
    return out;
  }

  it('compares the night so far with the same hours of the previous 14 nights', () => {
    const s = history(17, 600, 400, { evening: 600, night: 560 });
    // Night of the 16th, at 03:00 on the 17th: 2 h at 600 + 3 h at 560 against 2 h at 600 + 3 h at 400.
    const r = baseloadRatio(s, TZ, Q, at(17, 3));
    expect(r?.nights).toBe(14);
    expect(r?.nightKw).toBeCloseTo((2 * 600 + 3 * 560) / 5, 9);
    expect(r?.medianKw).toBeCloseTo((2 * 600 + 3 * 400) / 5, 9);
  });

  it('is not fooled by an evening shift: the first hours are compared with evenings', () => {
    const s = history(17, 900, 400);
    expect(baseloadRatio(s, TZ, Q, at(16, 23, 30))?.ratio).toBeCloseTo(1, 9);
  });

  it.each([
    ['in daytime', 17, at(16, 12)],
    ['in the first hour of the night', 17, at(16, 22, 45)],
    ['with fewer than 7 past nights', 6, at(6, 2)],
  ])('is undefined %s', (_n, days, t) => expect(baseloadRatio(history(days, 500, 400), TZ, Q, t)).toBeUndefined());

  it('decides with the operator sentence of the issue', () => {
    const d = baseloadDecision(building, { nightKw: 6900, medianKw: 5000, ratio: 1.38, nights: 14, uptoMs: 0 }, undefined);
    expect(d.severity).toBe('warn');
    expect(d.message('raised', 'warn')).toBe('Data Centre night-time load 38 % above its 14-day median (6,900 kW against 5,000 kW)');
    expect(d.message('cleared', 'warn')).toBe('Data Centre night-time load back to 38 % above its 14-day median (6,900 kW against 5,000 kW)');
  });
});

describe('StuckMeterTracker', () => {
  const index = indexPark(park);
  const t0 = at(2, 10);
  const reading = (sensor: string, tMs: number, powerKw?: number, energyKwh?: number, source: 'grid' | 'pv' = 'grid'): Reading => ({ park: 'demo', building: 'b08', sensor, kind: 'energy', tsMs: tMs, powerKw, energyKwh, source }) as Reading;

  it('finds a register that stands still for 15 min while the meter still reports', () => {
    const tr = new StuckMeterTracker(index);
    for (let k = 0; k <= 95; k++) tr.observe(reading('m01', t0 + k * 10_000, 4000 + (k % 7), 1234.5));
    const c = tr.candidates('b08', t0 + 95 * 10_000);
    expect(c).toEqual([{ building: 'b08', sensor: 'm01', fields: [{ field: 'energy_kwh', value: 1234.5 }], sinceMs: t0, inconsistent: true, zero: false }]);
    // Silent for more than 3 intervals: no longer "reports".
    expect(tr.candidates('b08', t0 + 95 * 10_000 + 31_000)).toEqual([]);
  });

  it('ignores healthy meters, PV meters and other parks', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 9000, noNaN: true }), { minLength: 200, maxLength: 200 }), (powers) => {
        const tr = new StuckMeterTracker(index);
        let e = 1000;
        powers.forEach((p, k) => {
          e += p / 360;
          tr.observe(reading('m01', t0 + k * 10_000, p + k * 1e-3, e));
          tr.observe(reading('pv1', t0 + k * 10_000, 0, 50, 'pv'));
          tr.observe({ ...reading('m02', t0 + k * 10_000, 5, 5), park: 'other' });
        });
        return tr.candidates('b08', t0 + 199 * 10_000).length === 0;
      }),
      { numRuns: 20 },
    );
  });

  it('decides: a register still while the meter draws power is stuck; all meters stuck is critical', () => {
    const m = (sensor: string, extra: Partial<StuckMeter> = {}): StuckMeter => ({ building: 'b08', sensor, fields: [{ field: 'energy_kwh', value: 1 }], sinceMs: t0, inconsistent: true, zero: false, ...extra });
    const none = { recentLoadKw: [5000, 5000] };
    expect(stuckMeterDecision(building, [m('m01')], 2, none, t0 + 1_200_000).severity).toBe('warn');
    expect(stuckMeterDecision(building, [m('m01'), m('m02')], 2, none, t0).severity).toBe('critical');
    expect(stuckMeterDecision(building, [m('m01')], 2, none, t0 + 1_200_000).message('raised', 'warn')).toBe("Data Centre: meter m01 (energy_kwh 1) for 20 min unchanged while the building's load changes");
  });

  it.each([
    ['flat windows, no forecast', { recentLoadKw: [5000, 5000] }, false, undefined],
    ['moving windows', { recentLoadKw: [5000, 5200] }, false, 'warn'],
    ['a forecast that expects a load', { recentLoadKw: [0, 0], expectedLoadKw: 5000 }, false, 'warn'],
    ['at 0 kW, only a forecast', { recentLoadKw: [0, 0], expectedLoadKw: 5000 }, true, undefined],
    ['at 0 kW, windows moving', { recentLoadKw: [100, 300] }, true, 'warn'],
  ])('a power value standing still: %s', (_n, evidence, zero, sev) => {
    const m: StuckMeter = { building: 'b08', sensor: 'm01', fields: [{ field: 'power_kw', value: zero ? 0 : 4000 }], sinceMs: t0, inconsistent: false, zero };
    expect(stuckMeterDecision(building, [m], 2, evidence, t0).severity).toBe(sev);
  });
});
