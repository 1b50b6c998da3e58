import { ManualClock } from '../core/clock';
import { VerifiedCredentialCache } from './verified-credential.cache';

const HOUR = 3_600_000;

describe('VerifiedCredentialCache (issue 8 finding 6)', () => {
  const setup = (ttlMs = HOUR, max?: number) => {
    const clock = new ManualClock(1_000_000);
    return { clock, cache: new VerifiedCredentialCache(ttlMs, () => clock.now(), max) };
  };

  it('matches a remembered password against the same hash until the TTL ends', () => {
    const { clock, cache } = setup();
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(false);
    cache.remember('b01-m01', 'pw', 'hash-1');
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(true);
    clock.advance(HOUR - 1);
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(true);
    clock.advance(1);
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(false);
    expect(cache.size).toBe(0);
    expect([cache.hits, cache.misses]).toEqual([2, 2]);
  });

  it.each<[string, string, string, string]>([
    ['another password', 'b01-m01', 'pw2', 'hash-1'],
    ['a changed credential (new hash)', 'b01-m01', 'pw', 'hash-2'],
    ['another username', 'b01-m02', 'pw', 'hash-1'],
    ['the username and password split differently', 'b01-m0', '1pw', 'hash-1'],
  ])('does not match %s', (_what, username, password, hash) => {
    const { cache } = setup();
    cache.remember('b01-m01', 'pw', 'hash-1');
    expect(cache.matches(username, password, hash)).toBe(false);
  });

  it('a wrong password does not evict the device (a peer cannot force it back to scrypt)', () => {
    const { cache } = setup();
    cache.remember('b01-m01', 'pw', 'hash-1');
    for (let i = 0; i < 10; i++) expect(cache.matches('b01-m01', `guess-${i}`, 'hash-1')).toBe(false);
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(true);
  });

  it('keeps never the password, and one entry per username', () => {
    const { cache } = setup();
    cache.remember('b01-m01', 'secret-password', 'hash-1');
    cache.remember('b01-m01', 'secret-password', 'hash-1');
    expect(cache.size).toBe(1);
    expect(JSON.stringify([...(cache as unknown as { entries: Map<string, unknown> }).entries])).not.toContain('secret-password');
  });

  it('TTL 0 turns it off', () => {
    const { cache } = setup(0);
    cache.remember('b01-m01', 'pw', 'hash-1');
    expect(cache.matches('b01-m01', 'pw', 'hash-1')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('is bounded: the least recently verified device goes first', () => {
    const { cache } = setup(HOUR, 2);
    cache.remember('a', 'pw', 'h');
    cache.remember('b', 'pw', 'h');
    cache.remember('a', 'pw', 'h'); // a verified again: b is now the oldest
    cache.remember('c', 'pw', 'h');
    expect(cache.size).toBe(2);
    expect(['a', 'b', 'c'].map((u) => cache.matches(u, 'pw', 'h'))).toEqual([true, false, true]);
  });
});
