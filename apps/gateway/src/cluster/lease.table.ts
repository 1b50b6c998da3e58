import { LeaseMessage } from './cluster.messages';

/** A park's lease as one gateway sees it. */
export interface Lease {
  /** Increases with every claim: the lease's version. */
  epoch: number;
  /** The holder, or null while free (released). */
  owner: string | null;
  /** Receiver's clock when the holder last claimed or renewed it (its heartbeat). */
  heardAtMs: number;
  /** The holder's clock in its latest claim or renewal. */
  sentAt: number;
  /** Set by a release: the holder derived nothing from here on. */
  untilMs?: number;
}

/**
 * The leases of the parks, from the messages on their lease topics, in the
 * one order the broker delivers them to every gateway. A compare-and-set on
 * the epoch makes ownership converge: a claim is taken only if it names the
 * epoch after the current one, so of two gateways that claim a free lease at
 * once, the first in broker order wins and the second's claim is ignored by
 * every gateway, the loser included. Renewals come only from a holder that
 * saw its claim win; one with a newer epoch than known is taken (a gateway
 * that missed messages, or that first saw a losing claim as the retained
 * message, catches up). A release frees the lease of its own epoch only.
 */
export class LeaseTable {
  private readonly leases = new Map<string, Lease>();

  /** Forgets everything (after a reconnection: what was missed meanwhile is unknown; the retained leases come again). */
  clear(): void {
    this.leases.clear();
  }

  get(park: string): Lease | undefined {
    return this.leases.get(park);
  }

  entries(): Array<[string, Lease]> {
    return [...this.leases.entries()];
  }

  /** Applies one message received at `nowMs`; returns whether the lease changed or was renewed. */
  apply(m: LeaseMessage, nowMs: number): boolean {
    const cur = this.leases.get(m.park);
    const take = (owner: string | null, untilMs?: number) => {
      this.leases.set(m.park, { epoch: m.epoch, owner, heardAtMs: nowMs, sentAt: m.sentAt, untilMs });
      return true;
    };
    if (!cur) return take(m.op === 'release' ? null : m.owner, m.untilMs);
    switch (m.op) {
      case 'claim':
        return m.epoch === cur.epoch + 1 ? take(m.owner) : false;
      case 'renew':
        return m.epoch > cur.epoch || (m.epoch === cur.epoch && cur.owner !== null) ? take(m.owner) : false;
      case 'release':
        return m.epoch === cur.epoch && m.owner === cur.owner ? take(null, m.untilMs) : false;
    }
  }
}
