import { GroundTruth, WINDOW_MS } from './ground-truth';

const T0 = Date.parse('2025-11-26T01:00:00Z');

describe('GroundTruth', () => {
  it('splits a constant rate among the minute windows its interval overlaps', () => {
    const g = new GroundTruth('p', ['b1', 'b2'], T0);
    // 600 kW from 01:00:50 to 01:01:20: 10 s in the first window, 20 s in the second.
    g.add('b1', 'energy_kwh', T0 + 50_000, T0 + 80_000, 600);
    g.add('b2', 'pv_kwh', T0, T0 + 3 * WINDOW_MS, 120);
    g.add('b2', 'emission_kgco2e', T0 + 30_000, T0 + 90_000, 360);
    const rows = g.drain(T0 + 3 * WINDOW_MS);
    expect(rows.map((r) => [r.building, r.windowStart])).toEqual([
      ['b1', '2025-11-26T01:00:00.000Z'], ['b2', '2025-11-26T01:00:00.000Z'],
      ['b1', '2025-11-26T01:01:00.000Z'], ['b2', '2025-11-26T01:01:00.000Z'],
      ['b1', '2025-11-26T01:02:00.000Z'], ['b2', '2025-11-26T01:02:00.000Z'],
    ]);
    expect(rows[0].energy_kwh).toBeCloseTo((600 * 10) / 3600, 12);
    expect(rows[2].energy_kwh).toBeCloseTo((600 * 20) / 3600, 12);
    expect(rows[4].energy_kwh).toBe(0);
    [1, 3, 5].forEach((i) => expect(rows[i].pv_kwh).toBeCloseTo(2, 12));
    expect(rows[1].emission_kgco2e).toBeCloseTo(3, 12);
    expect(rows[3].emission_kgco2e).toBeCloseTo(3, 12);
    expect(g.totals()).toEqual({
      b1: { energy_kwh: expect.closeTo(5, 12), pv_kwh: 0, emission_kgco2e: 0 },
      b2: { energy_kwh: 0, pv_kwh: expect.closeTo(6, 12), emission_kgco2e: expect.closeTo(6, 12) },
    });
  });

  it('drains each window once, and the rest at the end', () => {
    const g = new GroundTruth('p', ['b1'], T0 + 15_000);
    g.add('b1', 'energy_kwh', T0 + 15_000, T0 + 150_000, 60);
    expect(g.drain(T0 + 59_999)).toEqual([]);
    expect(g.drain(T0 + 60_000).map((r) => r.windowStart)).toEqual(['2025-11-26T01:00:00.000Z']);
    expect(g.drain(T0 + 60_000)).toEqual([]);
    expect(g.drain(Infinity).map((r) => r.windowStart)).toEqual(['2025-11-26T01:01:00.000Z', '2025-11-26T01:02:00.000Z']);
    expect(g.all()).toHaveLength(3);
  });

  it('ignores empty intervals and zero rates', () => {
    const g = new GroundTruth('p', ['b1'], T0);
    g.add('b1', 'energy_kwh', T0 + 10_000, T0 + 10_000, 100);
    g.add('b1', 'energy_kwh', T0, T0 + 10_000, 0);
    expect(g.totals().b1.energy_kwh).toBe(0);
    expect(g.all()).toHaveLength(1);
  });
});
