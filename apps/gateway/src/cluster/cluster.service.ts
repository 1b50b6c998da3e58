import { Reading } from '@park/telemetry';
import { Clock, TimerHandle } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { ClusterLink } from './cluster.link';
import { ClusterTopics, encodeLease, encodeMember, encodeReadings, lastLevel, LeaseMessage, MemberRecord, parseLease, parseMember, parseReadings } from './cluster.messages';
import { LeaseTable } from './lease.table';
import { OwnershipStatus, ParkOwnership } from './park-ownership';
import { rendezvousOwner } from './rendezvous';

/** The cluster's clock settings (docs/operations.md explains the bounds). */
export interface ClusterTiming {
  /** Member records and lease renewals are sent this often. */
  heartbeatMs: number;
  /** A member, or a lease holder, not heard from for this long is gone. */
  memberTimeoutMs: number;
  /**
   * A holder derives only while its own latest heartbeat that came back
   * from the broker is younger than this: cut off from the broker, it stops
   * before anyone may take over (this must be well below memberTimeoutMs).
   */
  ownValidMs: number;
  /** Having taken a lease from a holder that went silent, a gateway waits this long (> ownValidMs) before deriving. */
  takeoverGraceMs: number;
  /** After connecting, decisions wait this long: the retained member records and leases arrive first. */
  settleMs: number;
  /** Ownership is reconsidered this often. */
  decideMs: number;
  /** A park being handed over is released after this long even if its derivation did not say it stopped. */
  releaseTimeoutMs: number;
}

export const DEFAULT_CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 2000,
  memberTimeoutMs: 10_000,
  ownValidMs: 6000,
  takeoverGraceMs: 7000,
  settleMs: 2500,
  decideMs: 500,
  releaseTimeoutMs: 15_000,
};

type Phase = 'idle' | 'claiming' | 'starting' | 'owned' | 'releasing';

/** What this gateway does about one park. */
interface ParkSlot {
  park: string;
  phase: Phase;
  /** The lease epoch this gateway claimed or holds. */
  epoch: number;
  /** The claim replaced a holder that went silent: wait takeoverGraceMs. */
  takeover: boolean;
  claimSentAt: number;
  /** Deriving may begin at (grace). */
  startAt: number;
  /** Own clock of the latest own claim or renewal the broker delivered back. */
  confirmedSentAt?: number;
  subscribed: boolean;
  releasingSince: number;
}

interface Member {
  record: MemberRecord;
  /** Receiver clock: last heard, and since when continuously alive. */
  seenAtMs: number;
  liveSinceMs: number;
}

export interface ClusterOptions {
  /** This gateway's member id (its MQTT client id: stable, unique). */
  memberId: string;
  /** Its API address, for the member record. */
  http: string;
  /** The parks it serves. */
  parks: string[];
  topics: ClusterTopics;
  timing: ClusterTiming;
}

/**
 * Contract §8, scale-out: several gateways on one external broker split
 * the raw stream (shared subscription); each park's vitals and alarms are
 * derived by exactly one of them at a time, which holds the park's lease.
 *
 * - Members: each gateway keeps a retained member record fresh
 *   (heartbeatMs); its will clears it when its connection dies.
 * - Who should own a park: rendezvous hashing over the live members that
 *   serve it. Everyone who sees the same members agrees.
 * - Leases: a retained message per park, claimed with the next epoch
 *   (compare-and-set in the broker's one order, {@link LeaseTable}), renewed
 *   by the holder every heartbeat. A free lease, or one whose holder left or
 *   went silent for memberTimeoutMs, is claimed by the park's chosen member.
 * - Hand-over at a window boundary: a holder that should no longer own a
 *   park stops deriving it (the vitals service closes nothing more, derives
 *   its late windows, flushes, says `derivation-stopped`), then releases the
 *   lease; the next owner starts after the last window written and derives
 *   the gap from InfluxDB. Taking over from a silent holder, the new owner
 *   first waits takeoverGraceMs: a holder cut off from the broker has
 *   stopped by then (ownValidMs), so no window is written by two owners.
 * - Readings: a gateway forwards what it ingests of parks it does not
 *   derive to the park's readings topic (QoS 1, after ingest accepted them);
 *   the owner subscribes to it while it derives the park.
 */
export class ClusterService implements ParkOwnership {
  readonly shared = true;
  private readonly leases = new LeaseTable();
  private readonly members = new Map<string, Member>();
  private readonly slots = new Map<string, ParkSlot>();
  private readonly served: Set<string>;
  private readonly timers: TimerHandle[] = [];
  private readonly subscriptions: Unsubscribe[] = [];
  private connectedAtMs = Infinity;
  private stopped = false;

  constructor(
    private readonly link: ClusterLink,
    private readonly bus: GatewayBus,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly opts: ClusterOptions,
  ) {
    this.served = new Set(opts.parks);
    for (const park of opts.parks) this.slots.set(park, { park, phase: 'idle', epoch: 0, takeover: false, claimSentAt: 0, startAt: 0, subscribed: false, releasingSince: 0 });
  }

  private get me(): string {
    return this.opts.memberId;
  }

  async start(): Promise<void> {
    const t = this.opts.topics;
    this.link.onMessage((topic, payload) => this.onMessage(topic, payload));
    this.link.onConnect(() => void this.onConnect());
    await this.link.connect({ topic: t.member(this.me), payload: '' });
    this.subscriptions.push(
      this.bus.subscribe('readings', (readings) => this.forward(readings)),
      this.bus.subscribe('derivation-stopped', ({ parkId, untilMs }) => this.onDerivationStopped(parkId, untilMs)),
    );
    this.timers.push(this.clock.setInterval(() => this.heartbeat(), this.opts.timing.heartbeatMs));
    this.timers.push(this.clock.setInterval(() => this.decide(), this.opts.timing.decideMs));
    this.metrics.gauges.gateway_cluster_parks_derived = { help: 'Parks whose lease this gateway holds and derives now.', read: () => this.ownedParks().length };
    this.metrics.gauges.gateway_cluster_members = { help: 'Gateways seen alive in the cluster, this one included.', read: () => this.liveMembers().length };
    this.log.info({ member: this.me, parks: this.opts.parks, root: t.members.replace(/\/members\/\+$/, '') }, 'cluster: gateways share the parks; each park is derived by the holder of its lease');
  }

  /** Hands the leases it holds back (its derivations stopped and flushed before), clears its member record, disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.timers.splice(0)) this.clock.clearInterval(h);
    for (const u of this.subscriptions.splice(0)) u();
    const nowMs = this.clock.now();
    const releases: Array<Promise<void>> = [];
    for (const s of this.slots.values()) {
      if (this.leases.get(s.park)?.owner === this.me && this.leases.get(s.park)?.epoch === s.epoch) releases.push(this.publishLease({ op: 'release', park: s.park, owner: this.me, epoch: s.epoch, sentAt: nowMs, untilMs: nowMs }));
      s.phase = 'idle';
    }
    await Promise.all(releases);
    await this.link.publish(this.opts.topics.member(this.me), '', true);
    await this.link.close();
    this.log.info({ member: this.me, released: releases.length }, 'cluster: leases released, member record cleared');
  }

  owns(parkId: string): boolean {
    const s = this.slots.get(parkId);
    return s?.phase === 'owned' && this.valid(s);
  }

  status(): OwnershipStatus {
    return {
      member: this.me,
      owned: this.ownedParks(),
      leases: [...this.served].map((park) => {
        const l = this.leases.get(park);
        return { park, owner: l?.owner ?? null, epoch: l?.epoch ?? 0 };
      }),
      members: this.liveMembers().map((id) => {
        const m = this.members.get(id)?.record;
        return { id, http: id === this.me ? this.opts.http : m?.http, parks: id === this.me ? this.served.size : (m?.parks.length ?? 0) };
      }),
    };
  }

  private ownedParks(): string[] {
    return [...this.slots.values()].filter((s) => this.owns(s.park)).map((s) => s.park);
  }

  /** Its own heartbeats come back from the broker in time. */
  private valid(s: ParkSlot): boolean {
    return s.confirmedSentAt !== undefined && this.clock.now() - s.confirmedSentAt < this.opts.timing.ownValidMs;
  }

  private async onConnect(): Promise<void> {
    const t = this.opts.topics;
    // Messages sent while this gateway was disconnected are lost to it (clean
    // session): what it knew may be stale. It learns the leases and members
    // again from the retained messages, and decides nothing until they came;
    // a park whose lease turns out to be someone else's is dropped then (its
    // own heartbeats no longer come back, so it stopped deriving anyway).
    this.leases.clear();
    this.members.clear();
    this.connectedAtMs = this.clock.now();
    try {
      await this.link.subscribe(t.members);
      await this.link.subscribe(t.leases);
      for (const s of this.slots.values()) if (s.subscribed) await this.link.subscribe(t.readings(s.park));
      await this.publishMember();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'cluster: cannot subscribe to its topics; this gateway derives no park');
    }
  }

  private publishMember(): Promise<void> {
    const record: MemberRecord = { id: this.me, http: this.opts.http, parks: [...this.served], sentAt: this.clock.now() };
    return this.link.publish(this.opts.topics.member(this.me), encodeMember(record), true);
  }

  private publishLease(m: LeaseMessage): Promise<void> {
    return this.link.publish(this.opts.topics.lease(m.park), encodeLease(m), true);
  }

  private heartbeat(): void {
    if (!this.link.connected()) return;
    void this.publishMember();
    const nowMs = this.clock.now();
    for (const s of this.slots.values()) {
      const l = this.leases.get(s.park);
      if (s.phase !== 'idle' && s.phase !== 'claiming' && l?.owner === this.me && l.epoch === s.epoch) void this.publishLease({ op: 'renew', park: s.park, owner: this.me, epoch: s.epoch, sentAt: nowMs });
    }
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    const t = this.opts.topics;
    const nowMs = this.clock.now();
    const id = lastLevel(topic);
    if (topic === t.member(id)) {
      const m = parseMember(payload);
      if (!m.ok) return this.log.warn({ topic, reason: m.reason }, 'cluster: ignored a bad member record');
      if (m.value === null) {
        if (this.members.delete(id)) this.log.info({ member: id }, 'cluster: a gateway left');
        return;
      }
      const seen = this.members.get(id);
      const alive = seen && nowMs - seen.seenAtMs <= this.opts.timing.memberTimeoutMs;
      if (!seen && id !== this.me) this.log.info({ member: id, parks: m.value.parks.length }, 'cluster: a gateway joined');
      this.members.set(id, { record: m.value, seenAtMs: nowMs, liveSinceMs: alive ? seen.liveSinceMs : nowMs });
      return;
    }
    if (topic === t.lease(id)) {
      const m = parseLease(payload);
      if (!m.ok) return this.log.warn({ topic, reason: m.reason }, 'cluster: ignored a bad lease message');
      if (m.value === null || m.value.park !== id) return;
      this.leases.apply(m.value, nowMs);
      const s = this.slots.get(id);
      const l = this.leases.get(id);
      if (s && l && m.value.owner === this.me && m.value.epoch === s.epoch && l.owner === this.me && l.epoch === s.epoch && m.value.op !== 'release') {
        s.confirmedSentAt = Math.max(s.confirmedSentAt ?? -Infinity, m.value.sentAt);
      }
      this.decide();
      return;
    }
    if (topic === t.readings(id)) {
      const s = this.slots.get(id);
      if (!s || (s.phase !== 'owned' && s.phase !== 'starting')) return;
      const r = parseReadings(id, payload);
      if (!r.ok) return this.log.warn({ topic, reason: r.reason }, 'cluster: ignored bad forwarded readings');
      this.metrics.forwardedReadingsReceived += r.value.length;
      this.bus.publish('forwarded-readings', r.value);
    }
  }

  /** Readings this gateway ingested of parks it does not derive go to their owner. */
  private forward(readings: readonly Reading[]): void {
    let from = 0;
    for (let i = 1; i <= readings.length; i++) {
      if (i < readings.length && readings[i].park === readings[from].park) continue;
      const park = readings[from].park;
      if (this.served.has(park) && !this.owns(park)) {
        const batch = readings.slice(from, i);
        this.metrics.forwardedReadings += batch.length;
        void this.link.publish(this.opts.topics.readings(park), encodeReadings(batch), false);
      }
      from = i;
    }
  }

  private liveMembers(): string[] {
    const nowMs = this.clock.now();
    const out = [this.me];
    for (const [id, m] of this.members) if (id !== this.me && nowMs - m.seenAtMs <= this.opts.timing.memberTimeoutMs) out.push(id);
    return out;
  }

  private isLive(id: string): boolean {
    if (id === this.me) return true;
    const m = this.members.get(id);
    return m !== undefined && this.clock.now() - m.seenAtMs <= this.opts.timing.memberTimeoutMs;
  }

  /** The member that should derive `park` now: rendezvous over the live members that serve it. */
  private desiredOwner(park: string): string | undefined {
    const nowMs = this.clock.now();
    const candidates = [this.me];
    for (const [id, m] of this.members) {
      if (id !== this.me && nowMs - m.seenAtMs <= this.opts.timing.memberTimeoutMs && m.record.parks.includes(park)) candidates.push(id);
    }
    return rendezvousOwner(park, candidates);
  }

  /** Reconsiders every park (on a timer and on each lease message). Never throws. */
  private decide(): void {
    const nowMs = this.clock.now();
    if (this.stopped || nowMs - this.connectedAtMs < this.opts.timing.settleMs) return;
    for (const s of this.slots.values()) {
      try {
        this.decidePark(s, nowMs);
      } catch (e) {
        this.log.error({ park: s.park, err: (e as Error).stack }, 'cluster: ownership decision failed');
      }
    }
  }

  private decidePark(s: ParkSlot, nowMs: number): void {
    const timing = this.opts.timing;
    const l = this.leases.get(s.park);
    const held = l?.owner === this.me && l.epoch === s.epoch;
    switch (s.phase) {
      case 'idle': {
        if (!this.link.connected() || this.desiredOwner(s.park) !== this.me) return;
        const free = !l || l.owner === null;
        // A lease naming this member id that this process does not hold is
        // from an earlier run of this gateway: as good as silent.
        const silent = !!l && l.owner !== null && (l.owner === this.me || !this.isLive(l.owner) || nowMs - l.heardAtMs > timing.memberTimeoutMs);
        if (!free && !silent) return;
        s.phase = 'claiming';
        s.epoch = (l?.epoch ?? 0) + 1;
        s.takeover = silent;
        s.claimSentAt = nowMs;
        s.confirmedSentAt = undefined;
        this.log.info({ park: s.park, epoch: s.epoch, from: l?.owner ?? null, takeover: silent }, 'cluster: claiming the lease of a park');
        void this.publishLease({ op: 'claim', park: s.park, owner: this.me, epoch: s.epoch, sentAt: nowMs });
        return;
      }
      case 'claiming':
        if (held) {
          s.phase = 'starting';
          s.startAt = nowMs + (s.takeover ? timing.takeoverGraceMs : 0);
          // The retained message becomes this renewal (not a losing claim that came after ours).
          void this.publishLease({ op: 'renew', park: s.park, owner: this.me, epoch: s.epoch, sentAt: nowMs });
          void this.link.subscribe(this.opts.topics.readings(s.park)).then(
            () => (s.subscribed = true),
            (e: Error) => this.log.error({ park: s.park, err: e.message }, 'cluster: cannot subscribe to the park’s forwarded readings'),
          );
        } else if ((l && l.epoch >= s.epoch) || nowMs - s.claimSentAt > timing.memberTimeoutMs) {
          s.phase = 'idle';
        }
        return;
      case 'starting':
        if (!held) return this.lose(s, 'the lease went to another gateway');
        if (nowMs >= s.startAt && s.subscribed && this.valid(s)) {
          s.phase = 'owned';
          this.log.info({ park: s.park, epoch: s.epoch }, 'cluster: deriving the park');
        }
        return;
      case 'owned': {
        if (!held) return this.lose(s, 'the lease went to another gateway');
        const desired = this.desiredOwner(s.park);
        const since = desired ? this.members.get(desired)?.liveSinceMs : undefined;
        if (desired && desired !== this.me && since !== undefined && nowMs - since >= timing.settleMs) {
          s.phase = 'releasing';
          s.releasingSince = nowMs;
          this.log.info({ park: s.park, to: desired }, 'cluster: handing the park over (at a window boundary)');
        }
        return;
      }
      case 'releasing':
        if (!held) return this.lose(s, 'the lease went to another gateway');
        if (nowMs - s.releasingSince > timing.releaseTimeoutMs) this.release(s, nowMs);
        return;
    }
  }

  private onDerivationStopped(parkId: string, untilMs: number): void {
    const s = this.slots.get(parkId);
    if (s?.phase === 'releasing') this.release(s, untilMs);
  }

  private release(s: ParkSlot, untilMs: number): void {
    void this.publishLease({ op: 'release', park: s.park, owner: this.me, epoch: s.epoch, sentAt: this.clock.now(), untilMs });
    this.log.info({ park: s.park, epoch: s.epoch, until: new Date(untilMs).toISOString() }, 'cluster: released the lease');
    this.idle(s);
  }

  private lose(s: ParkSlot, why: string): void {
    this.log.warn({ park: s.park, epoch: s.epoch, why }, 'cluster: no longer derives the park');
    this.idle(s);
  }

  private idle(s: ParkSlot): void {
    s.phase = 'idle';
    if (s.subscribed) {
      s.subscribed = false;
      void this.link.unsubscribe(this.opts.topics.readings(s.park)).catch(() => undefined);
    }
  }
}
