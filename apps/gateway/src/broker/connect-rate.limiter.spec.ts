import { ManualClock } from '../core/clock';
import { addressKey, ConnectRateLimiter } from './connect-rate.limiter';

describe('ConnectRateLimiter (issue 8 finding 6: connection attempts per remote address)', () => {
  it('allows a burst, then the rate, per address', () => {
    const clock = new ManualClock(0);
    const rate = new ConnectRateLimiter(10, 5, () => clock.now());
    const burst = Array.from({ length: 7 }, () => rate.allow('10.0.0.1'));
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    expect(rate.allow('10.0.0.2')).toBe(true); // another address has its own bucket
    clock.advance(100); // 10/s: one more token
    expect([rate.allow('10.0.0.1'), rate.allow('10.0.0.1')]).toEqual([true, false]);
    clock.advance(10_000); // refills to the burst, no further
    expect(Array.from({ length: 6 }, () => rate.allow('10.0.0.1')).filter(Boolean)).toHaveLength(5);
    expect(rate.refused).toBe(4);
  });

  it('rate 0 is no limit', () => {
    const rate = new ConnectRateLimiter(0, 1, () => 0);
    expect(Array.from({ length: 100 }, () => rate.allow('10.0.0.1')).every(Boolean)).toBe(true);
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4', () => {
    const rate = new ConnectRateLimiter(1, 2, () => 0);
    expect(rate.allow('2001:db8:1:2::1')).toBe(true);
    expect(rate.allow('2001:db8:1:2:ffff::9')).toBe(true);
    expect(rate.allow('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd')).toBe(false);
    expect(rate.allow('2001:db8:1:3::1')).toBe(true);
    expect(rate.allow('::ffff:10.0.0.1')).toBe(true);
    expect(rate.allow('10.0.0.1')).toBe(true);
    expect(rate.allow('10.0.0.1')).toBe(false);
  });

  it.each<[string, string]>([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:DB8::', '2001:db8:0:0::/64'],
    ['2001:db8:a:b:c:d:e:f', '2001:db8:a:b::/64'],
  ])('address key of %s is %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('keeps its table bounded: refilled buckets are swept, then the oldest goes', () => {
    const clock = new ManualClock(0);
    const rate = new ConnectRateLimiter(100, 1, () => clock.now(), 3);
    for (const a of ['1.0.0.1', '1.0.0.2', '1.0.0.3']) rate.allow(a);
    expect(rate.tracked).toBe(3);
    clock.advance(1000);
    rate.allow('1.0.0.4'); // the others have refilled: swept
    expect(rate.tracked).toBe(1);
    for (const a of ['1.0.0.5', '1.0.0.6', '1.0.0.7']) rate.allow(a);
    expect(rate.tracked).toBe(3);
    // 1.0.0.4 was the oldest and went; it starts again with a full bucket
    expect(rate.allow('1.0.0.4')).toBe(true);
  });
});
