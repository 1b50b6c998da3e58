import * as crypto from 'node:crypto';

interface Entry {
  /** HMAC-SHA256 of the username and the password under this process's key. */
  mac: Buffer;
  /** The stored hash the password was verified against: a changed credential no longer matches. */
  hash: string;
  expiresAtMs: number;
}

/**
 * Passwords already verified with scrypt, remembered for a bounded time so
 * that a device reconnecting (a flaky link, a whole site back after an
 * uplink outage) costs an HMAC, microseconds, instead of a 32 MiB scrypt
 * (issue 8 finding 6).
 *
 * What is kept is never the password: an HMAC-SHA256 of username and
 * password under a random key that lives only in this process's memory (a
 * restart forgets everything). An entry is valid only for the very hash it
 * was verified against, so any change of the credentials file (a new
 * password, a removed device, a reload) invalidates it without a hook; and
 * only until `ttlMs` after the last scrypt. One entry per username, so the
 * cache is bounded by the number of devices; a wrong password neither
 * matches nor evicts the entry (a peer cannot force a device back onto the
 * slow path).
 */
export class VerifiedCredentialCache {
  private readonly key = crypto.randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  /** Logins answered from the cache, and lookups that had to fall back to scrypt. */
  hits = 0;
  misses = 0;

  /**
   * @param ttlMs how long a verification is trusted; 0 turns the cache off.
   * @param now the clock (injected, so specs move time).
   * @param maxEntries a bound of its own, should the credentials list be huge.
   */
  constructor(
    readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 1_000_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Was this password verified against this hash within the TTL? Constant time in the password. */
  matches(username: string, password: string, hash: string): boolean {
    const entry = this.ttlMs > 0 ? this.entries.get(username) : undefined;
    const ok = entry !== undefined && entry.hash === hash && entry.expiresAtMs > this.now() && crypto.timingSafeEqual(entry.mac, this.mac(username, password));
    if (ok) this.hits++;
    else this.misses++;
    if (entry && entry.expiresAtMs <= this.now()) this.entries.delete(username);
    return ok;
  }

  /** Remembers a password scrypt has just verified against `hash`. */
  remember(username: string, password: string, hash: string): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(username); // re-inserted last: the Map's order is the eviction order
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(username, { mac: this.mac(username, password), hash, expiresAtMs: this.now() + this.ttlMs });
  }

  private mac(username: string, password: string): Buffer {
    // The username's length first, so that ("ab", "c") and ("a", "bc") differ.
    return crypto.createHmac('sha256', this.key).update(`${Buffer.byteLength(username)}:${username}\u0000`).update(password).digest();
  }
}
