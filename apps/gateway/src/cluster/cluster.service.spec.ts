import { Reading } from '@park/telemetry';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { MemoryBroker } from '../testing/memory.broker';
import { testBus } from '../testing/test-bus';
import { clusterTopics } from './cluster.messages';
import { ClusterService, DEFAULT_CLUSTER_TIMING } from './cluster.service';
import { rendezvousOwner } from './rendezvous';

const PARKS = Array.from({ length: 12 }, (_, i) => `p${i}`);
const T0 = Date.parse('2026-11-27T08:00:00.000Z');

/**
 * Gateways on one in-memory broker, on one manual clock. Each has a stand-in
 * for its vitals service: it "derives" a park while `owns()` says so, and
 * says `derivation-stopped` when that ends (a hand-over waits for it).
 */
function cluster() {
  const clock = new ManualClock(T0);
  const broker = new MemoryBroker();
  const gateways = new Map<string, ReturnType<typeof gateway>>();
  /** For each step: park → gateways deriving it then; more than one is what must never happen. */
  const overlaps: string[] = [];

  function gateway(id: string) {
    const bus = testBus();
    const link = broker.link(id);
    const svc = new ClusterService(link, bus, new GatewayMetrics(), pino({ level: 'silent' }), clock, { memberId: id, http: `http://${id}`, parks: PARKS, topics: clusterTopics('g'), timing: DEFAULT_CLUSTER_TIMING });
    const deriving = new Set<string>();
    const forwarded: Reading[] = [];
    bus.subscribe('forwarded-readings', (r) => forwarded.push(...r));
    const g = { id, svc, link, bus, deriving, forwarded, dead: false };
    clock.setInterval(() => {
      if (g.dead) return;
      for (const p of PARKS) {
        if (svc.owns(p)) deriving.add(p);
        else if (deriving.delete(p)) bus.publish('derivation-stopped', { parkId: p, untilMs: clock.now() });
      }
    }, 250);
    return g;
  }

  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };

  return {
    clock,
    gateways,
    overlaps,
    async add(id: string) {
      const g = gateway(id);
      gateways.set(id, g);
      await g.svc.start();
      await flush();
      return g;
    },
    /** Runs the clock for `ms`, checking every 100 ms that no park is derived by two live gateways. */
    async run(ms: number) {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100);
        await flush();
        for (const p of PARKS) {
          const by = [...gateways.values()].filter((g) => !g.dead && g.deriving.has(p)).map((g) => g.id);
          if (by.length > 1) overlaps.push(`${p}@${clock.now() - T0}: ${by.join(',')}`);
        }
      }
    },
    owners(p: string) {
      return [...gateways.values()].filter((g) => !g.dead && g.svc.owns(p)).map((g) => g.id);
    },
  };
}

describe('ClusterService: one owner per park (contract §8, scale-out)', () => {
  it('three gateways starting together share the parks by rendezvous, each park derived by exactly one', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b', 'gw-c'].map((id) => c.add(id)));
    await c.run(15_000);
    for (const p of PARKS) expect(c.owners(p)).toEqual([rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c'])]);
    expect(new Set(PARKS.map((p) => c.owners(p)[0])).size).toBe(3);
    expect(c.overlaps).toEqual([]);
    const status = c.gateways.get('gw-a')!.svc.status();
    expect(status.members.map((m) => m.id).sort()).toEqual(['gw-a', 'gw-b', 'gw-c']);
    expect(status.owned).toEqual(PARKS.filter((p) => c.owners(p)[0] === 'gw-a'));
  });

  it('forwards readings of parks it does not derive to the one that does', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b'].map((id) => c.add(id)));
    await c.run(15_000);
    const p = PARKS.find((x) => c.owners(x)[0] === 'gw-b')!;
    const mine = PARKS.find((x) => c.owners(x)[0] === 'gw-a')!;
    const r = (park: string, tsMs: number): Reading => ({ park, building: 'b1', kind: 'energy', sensor: 'm1', tsMs, powerKw: 5, energyKwh: 7 });
    c.gateways.get('gw-a')!.bus.publish('readings', [r(p, T0 + 1), r(p, T0 + 2), r(mine, T0 + 3)]);
    await c.run(100);
    expect(c.gateways.get('gw-b')!.forwarded).toEqual([r(p, T0 + 1), r(p, T0 + 2)]);
    expect(c.gateways.get('gw-a')!.forwarded).toEqual([]);
  });

  it('a gateway killed: its will clears it, another takes each of its parks within 30 s, never while it could still write', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b', 'gw-c'].map((id) => c.add(id)));
    await c.run(15_000);
    const victim = c.gateways.get('gw-b')!;
    const its = PARKS.filter((p) => c.owners(p)[0] === 'gw-b');
    expect(its.length).toBeGreaterThan(0);
    victim.link.kill();
    victim.dead = true;
    const killedAt = c.clock.now();
    let takenAt: number | undefined;
    for (let t = 0; t < 30_000 && takenAt === undefined; t += 500) {
      await c.run(500);
      if (its.every((p) => c.owners(p).length === 1)) takenAt = c.clock.now();
    }
    expect(takenAt).toBeDefined();
    expect(takenAt! - killedAt).toBeLessThanOrEqual(30_000);
    for (const p of its) expect(c.owners(p)).toEqual([rendezvousOwner(p, ['gw-a', 'gw-c'])]);
    expect(c.overlaps).toEqual([]);
  });

  it('a gateway cut off from the broker stops deriving before another may take its parks over', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b'].map((id) => c.add(id)));
    await c.run(15_000);
    const cut = c.gateways.get('gw-b')!;
    const its = PARKS.filter((p) => c.owners(p)[0] === 'gw-b');
    cut.link.cut(true);
    const cutAt = c.clock.now();
    let stoppedAt: number | undefined;
    let takenAt: number | undefined;
    for (let t = 0; t < 40_000; t += 100) {
      await c.run(100);
      if (stoppedAt === undefined && its.every((p) => !cut.svc.owns(p))) stoppedAt = c.clock.now();
      if (takenAt === undefined && its.every((p) => c.gateways.get('gw-a')!.svc.owns(p))) takenAt = c.clock.now();
    }
    expect(stoppedAt! - cutAt).toBeLessThanOrEqual(DEFAULT_CLUSTER_TIMING.ownValidMs);
    expect(takenAt! - stoppedAt!).toBeGreaterThanOrEqual(DEFAULT_CLUSTER_TIMING.takeoverGraceMs);
    expect(c.overlaps).toEqual([]);
    // Back on the broker, it learns it lost the leases; rendezvous then hands its parks back to it, one owner at a time.
    cut.link.cut(false);
    await c.run(30_000);
    for (const p of its) expect(c.owners(p)).toEqual(['gw-b']);
    expect(c.overlaps).toEqual([]);
  });

  it('a gateway that joins gets its share: the old owner stops, releases, the new one starts, never both at once', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b'].map((id) => c.add(id)));
    await c.run(15_000);
    await c.add('gw-c');
    await c.run(20_000);
    for (const p of PARKS) expect(c.owners(p)).toEqual([rendezvousOwner(p, ['gw-a', 'gw-b', 'gw-c'])]);
    expect(PARKS.some((p) => c.owners(p)[0] === 'gw-c')).toBe(true);
    expect(c.overlaps).toEqual([]);
  });

  it('a gateway stopped cleanly releases its leases at once: no waiting for it to go silent', async () => {
    const c = cluster();
    await Promise.all(['gw-a', 'gw-b'].map((id) => c.add(id)));
    await c.run(15_000);
    const b = c.gateways.get('gw-b')!;
    const its = PARKS.filter((p) => c.owners(p)[0] === 'gw-b');
    b.dead = true;
    await b.svc.stop();
    await c.run(3_000);
    for (const p of its) expect(c.owners(p)).toEqual(['gw-a']);
  });
});
