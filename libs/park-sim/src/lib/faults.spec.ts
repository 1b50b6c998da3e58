import { parsePayload, SensorAddress } from '@park/telemetry';
import { drawFaults, glitchRegisterValue, malformedPayload, NO_FAULTS, parseFaultSpec, spikePowerKw } from './faults';

describe('parseFaultSpec', () => {
  it('reads the documented spec, leaving unnamed faults at 0', () => {
    const r = parseFaultSpec('dropout=0.01,spike=0.001, reset=0.0005,late=0.01,duplicate=0.01,malformed=0.001');
    expect(r).toEqual({ ok: true, rates: { ...NO_FAULTS, dropout: 0.01, spike: 0.001, reset: 0.0005, late: 0.01, duplicate: 0.01, malformed: 0.001 } });
    expect(parseFaultSpec('glitch=0.002')).toEqual({ ok: true, rates: { ...NO_FAULTS, glitch: 0.002 } });
    expect(parseFaultSpec('late=0.5')).toEqual({ ok: true, rates: { ...NO_FAULTS, late: 0.5 } });
    expect(parseFaultSpec('')).toEqual({ ok: true, rates: NO_FAULTS });
  });

  it.each([
    ['dropout', /must be <fault>=<probability>/],
    ['drop=0.1', /unknown fault "drop"; use dropout, spike/],
    ['late=1.5', /late=1.5 must be a probability between 0 and 1/],
    ['late=-0.1', /must be a probability/],
    ['late=abc', /must be a probability/],
  ])('rejects %s with a message saying why', (spec, message) => {
    const r = parseFaultSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('drawFaults', () => {
  it('never draws with rate 0, always with rate 1, and only faults that apply', () => {
    const all = { dropout: 1, spike: 1, reset: 1, late: 1, duplicate: 1, malformed: 1, glitch: 1 };
    expect(drawFaults(NO_FAULTS, 1, 2, 3, { power: true, register: true })).toEqual({
      dropout: false, spike: false, reset: false, late: false, duplicate: false, malformed: false, glitch: false,
    });
    expect(drawFaults(all, 1, 2, 3, { power: true, register: true })).toEqual({
      dropout: true, spike: true, reset: true, late: true, duplicate: true, malformed: true, glitch: true,
    });
    const co2 = drawFaults(all, 1, 2, 3, { power: false, register: false });
    expect(co2.spike).toBe(false);
    expect(co2.reset).toBe(false);
    expect(co2.glitch).toBe(false);
  });

  it('hits at about the asked rate, independently per fault', () => {
    const rates = { ...NO_FAULTS, dropout: 0.1, late: 0.1 };
    let dropouts = 0;
    let both = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const d = drawFaults(rates, 9, 77, 1_764_201_600_000 + i * 10_000, { power: true, register: true });
      if (d.dropout) dropouts++;
      if (d.dropout && d.late) both++;
    }
    expect(dropouts / n).toBeGreaterThan(0.095);
    expect(dropouts / n).toBeLessThan(0.105);
    expect(both / n).toBeGreaterThan(0.008);
    expect(both / n).toBeLessThan(0.012);
  });
});

describe('malformed payloads', () => {
  const cases: Array<[SensorAddress, Record<string, number>]> = [
    [{ park: 'p', building: 'b', kind: 'energy', sensor: 'm' }, { ts: 1_764_201_600_000, power_kw: 412.5, energy_kwh: 1203344.25 }],
    [{ park: 'p', building: 'b', kind: 'carbon', sensor: 'c' }, { ts: 1_764_201_600_000, co2_ppm: 612.4 }],
    [{ park: 'p', building: 'b', kind: 'carbon', sensor: 'boiler' }, { ts: 1_764_201_600_000, emission_kgco2e: 5123.5 }],
    [{ park: 'p', building: 'b', kind: 'occupancy', sensor: 'o' }, { ts: 1_764_201_600_000, count: 12 }],
  ];
  it.each(cases)('are rejected by the contract parser with the announced reason (%o)', (address, reading) => {
    const seen = new Set<string>();
    for (let v = 0; v < 5; v++) {
      const bad = malformedPayload(reading, (v + 0.5) / 5);
      const r = parsePayload(bad.payload, address, 't', reading.ts);
      expect(r.readings).toEqual([]);
      expect(r.rejections.map((x) => x.reason)).toEqual([bad.expect]);
      seen.add(bad.payload);
    }
    expect(seen.size).toBe(5);
  });
});

describe('spikePowerKw', () => {
  it('is absurd for the building yet within the contract bound', () => {
    expect(spikePowerKw(1000, 0)).toBe(8000);
    expect(spikePowerKw(1000, 0.999)).toBeCloseTo(24983, 0);
    expect(spikePowerKw(90_000, 0.9)).toBe(999_999);
  });
});

describe('glitchRegisterValue', () => {
  it('is a valid contract value (accepted and stored), yet implies far more than any building draws (contract §8)', () => {
    const address: SensorAddress = { park: 'p', building: 'b', kind: 'energy', sensor: 'm' };
    const values = [0.1, 0.5, 0.9].map((u) => glitchRegisterValue(1_203_344.25, u));
    expect(values[2]).toBe(1.7e308);
    for (const v of values) {
      expect(v - 1_203_344.25).toBeGreaterThan(1e6);
      const r = parsePayload(JSON.stringify({ ts: 1_764_201_600_000, energy_kwh: v }), address, 't', 1_764_201_600_000);
      expect(r.readings.map((x) => x.energyKwh)).toEqual([v]);
    }
  });
});
