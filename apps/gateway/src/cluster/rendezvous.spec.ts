import { rendezvousOwner } from './rendezvous';

const parks = Array.from({ length: 300 }, (_, i) => `park-${i}`);

describe('rendezvousOwner', () => {
  it('is the same whatever the order members are listed in', () => {
    for (const p of parks) expect(rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c'])).toBe(rendezvousOwner(p, ['gw-c', 'gw-a', 'gw-b']));
  });

  it('spreads parks over the members', () => {
    const count = new Map<string, number>();
    for (const p of parks) {
      const m = rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c']) as string;
      count.set(m, (count.get(m) ?? 0) + 1);
    }
    expect([...count.keys()].sort()).toEqual(['gw-a', 'gw-b', 'gw-c']);
    for (const n of count.values()) expect(n).toBeGreaterThan(60);
  });

  it('moves only the parks of a member that leaves, and only parks to a member that joins', () => {
    for (const p of parks) {
      const three = rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c']);
      const two = rendezvousOwner(p, ['gw-a', 'gw-c']);
      if (three !== 'gw-b') expect(two).toBe(three);
      const four = rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c', 'gw-d']);
      if (four !== 'gw-d') expect(four).toBe(three);
    }
  });

  it('has no owner without members', () => {
    expect(rendezvousOwner('p', [])).toBeUndefined();
  });
});
