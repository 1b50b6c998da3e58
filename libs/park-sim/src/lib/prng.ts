/**
 * Seeded randomness for the simulator. Two tools, both pure:
 *
 * - {@link Prng}: mulberry32, a sequential stream for one-off draws (initial
 *   registers, per-sensor factors).
 * - {@link unitHash} / {@link valueNoise}: random numbers keyed by (seed, key,
 *   time). They make every physical quantity a function of time rather than of
 *   the order in which it is computed, so stepping the simulator in 100 ms
 *   ticks or in 10 s chunks yields the same readings for the same seed.
 *
 * Math.random is never used in simulation logic: a seed must reproduce a run.
 */

// Math functions as module constants: global lookups are slow inside the vm
// contexts Jest runs tests in (Node 20), and these run several times per reading.
const { floor, imul } = Math;

/** Murmur3's 32-bit finaliser: a cheap, well-mixing integer hash. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string, to turn ids into hash keys. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Folds one number (up to 2^53, e.g. epoch ms) into a running hash. */
function mix(h: number, p: number): number {
  const lo = p >>> 0;
  const hi = floor(p / 4294967296) >>> 0;
  h = fmix32(imul(h ^ lo, 0x27d4eb2f) + 0x165667b1);
  return hi === 0 ? h : fmix32(imul(h ^ hi, 0x27d4eb2f) + 0x165667b1);
}

/**
 * Hashes up to four integers (seed, key, index, salt) to a uint32. Fixed
 * arity, no rest array: this runs a few times per simulated reading.
 */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  return mix(mix(mix(mix(0x9e3779b9, a), b), c), d);
}

/** A uniform number in [0, 1) keyed by its parts. */
export function unitHash(a: number, b = 0, c = 0, d = 0): number {
  return hash32(a, b, c, d) / 4294967296;
}

/** A uniform number in [-1, 1) keyed by its parts. */
export function signedHash(a: number, b = 0, c = 0, d = 0): number {
  return (hash32(a, b, c, d) / 4294967296) * 2 - 1;
}

/**
 * Smooth 1-D value noise in [-1, 1]: random values at knots `periodMs` apart,
 * joined by a smoothstep. Used for slow fluctuations (load, clouds, crowds)
 * that must look continuous and be the same whoever asks at time `tMs`.
 */
export function valueNoise(seed: number, key: number, tMs: number, periodMs: number): number {
  const x = tMs / periodMs;
  const k = floor(x);
  const f = x - k;
  const a = signedHash(seed, key, k);
  const b = signedHash(seed, key, k + 1);
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

/** mulberry32: a small, fast 32-bit PRNG with a 2^32 period. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = hash32(seed) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return floor(this.next() * n);
  }
}
