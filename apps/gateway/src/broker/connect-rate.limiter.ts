interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Connection attempts per remote address (issue 8 finding 6): a token
 * bucket each, `burst` attempts at once and `ratePerS` a second after that.
 * The defaults (1000 at once, 100/s) let a whole park behind one NAT
 * reconnect within seconds while one host cannot open connections without
 * end. IPv6 addresses are grouped by their /64 (one host usually owns a
 * whole /64, so counting single addresses would limit nothing). The table
 * is bounded: buckets that have refilled are swept, and past `maxAddresses`
 * the longest-unused one goes.
 */
export class ConnectRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Attempts refused. */
  refused = 0;

  /**
   * @param ratePerS attempts per second per address once the burst is spent; 0 = no limit.
   * @param burst attempts an address may make at once.
   * @param now the clock (injected).
   */
  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    private readonly now: () => number,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Addresses tracked now (for tests and the bound). */
  get tracked(): number {
    return this.buckets.size;
  }

  /** Takes one attempt for `address`: false when its bucket is empty. */
  allow(address: string): boolean {
    if (this.ratePerS <= 0) return true;
    const key = addressKey(address);
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.atMs) * this.ratePerS) / 1000);
      b.atMs = now;
      // Most recently used last: the Map's order is the eviction order.
      this.buckets.delete(key);
    } else {
      if (this.buckets.size >= this.maxAddresses) this.sweep(now);
      b = { tokens: this.burst, atMs: now };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }

  /** Drops buckets that are full again (they hold no memory of anything); then, if need be, the oldest. */
  private sweep(now: number): void {
    const fullAfterMs = (this.burst * 1000) / this.ratePerS;
    for (const [key, b] of this.buckets) if (now - b.atMs >= fullAfterMs) this.buckets.delete(key);
    while (this.buckets.size >= this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}

/** An IPv4 address as itself (also when IPv4-mapped, `::ffff:a.b.c.d`); an IPv6 address as its /64. */
export function addressKey(address: string): string {
  const a = address.replace(/%.*$/, '').toLowerCase();
  if (!a.includes(':')) return a;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1];
  const [head, tail] = a.includes('::') ? a.split('::', 2) : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
