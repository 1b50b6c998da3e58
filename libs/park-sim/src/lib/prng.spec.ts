import { hash32, hashString, Prng, unitHash, valueNoise } from './prng';

describe('Prng (mulberry32)', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  it('draws uniformly in [0, 1)', () => {
    const r = new Prng(7);
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const tenths = new Array(10).fill(0);
    xs.forEach((x) => tenths[Math.floor(x * 10)]++);
    tenths.forEach((n) => expect(n).toBeGreaterThan(1800));
  });

  it('keeps range() and int() inside their bounds', () => {
    const r = new Prng(1);
    for (let i = 0; i < 1000; i++) {
      const x = r.range(5, 6);
      expect(x).toBeGreaterThanOrEqual(5);
      expect(x).toBeLessThan(6);
      const n = r.int(3);
      expect([0, 1, 2]).toContain(n);
    }
  });
});

describe('keyed hashing', () => {
  it('is a pure function of its parts, including epoch-millisecond sized ones', () => {
    const t = Date.UTC(2025, 10, 26);
    expect(hash32(1, 2, t)).toBe(hash32(1, 2, t));
    expect(hash32(1, 2, t)).not.toBe(hash32(1, 2, t + 1));
    expect(hash32(1, 2, t)).not.toBe(hash32(1, 2, t + 4294967296));
    expect(hashString('demo/b01')).not.toBe(hashString('demo/b02'));
    const u = unitHash(3, 4, 5);
    expect(u).toBeGreaterThanOrEqual(0);
    expect(u).toBeLessThan(1);
  });

  it('makes continuous value noise within [-1, 1]', () => {
    let prev = valueNoise(9, 1, 0, 60_000);
    for (let t = 1000; t < 3_600_000; t += 1000) {
      const v = valueNoise(9, 1, t, 60_000);
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
      expect(Math.abs(v - prev)).toBeLessThan(0.1); // 1 s steps of a 60 s period
      prev = v;
    }
    expect(valueNoise(9, 1, 123_456, 60_000)).toBe(valueNoise(9, 1, 123_456, 60_000));
  });
});
