/** What to do with a QoS 2 PUBLISH. */
export type Qos2Take = 'new' | 'duplicate' | 'full';

/**
 * QoS 2 exactly once on ingest (issue 8 finding 8). aedes runs
 * `authorizePublish` for every PUBLISH, also for a DUP retransmission of a
 * QoS 2 message whose PUBREL has not come yet [MQTT-4.3.3]; its own
 * duplicate check comes after, and only once the first copy is stored, so a
 * retransmission arriving while the first copy is still being made durable
 * would be ingested twice. This remembers, per session, the packet ids taken
 * for ingest until their PUBREL releases them: a retransmission is then
 * acknowledged (PUBREC) without being ingested again.
 *
 * A clean session's ids live as long as its connection (keyed by it); a
 * persistent session's (keyed by client id) survive a reconnect (the device sends the PUBLISH again after
 * reconnecting when it had no PUBREC), and are discarded when the client
 * comes back with a clean session [MQTT-3.1.2-6]. At most `maxPerSession`
 * ids per session (aedes' own receive window, maxInflightInbound).
 */
export class Qos2Receipts {
  /** Clean sessions: keyed by their connection, gone with it. */
  private readonly clean = new WeakMap<object, Set<number>>();
  /** Persistent sessions: keyed by client id. */
  private readonly persistent = new Map<string, Set<number>>();

  constructor(private readonly maxPerSession = 1000) {}

  /** A QoS 2 PUBLISH arrives: ingest it (`new`), skip it (`duplicate`), or refuse it (`full`). */
  take(session: object | string, messageId: number): Qos2Take {
    let ids = this.ids(session);
    if (ids?.has(messageId)) return 'duplicate';
    if (!ids) {
      ids = new Set();
      if (typeof session === 'string') this.persistent.set(session, ids);
      else this.clean.set(session, ids);
    }
    if (ids.size >= this.maxPerSession) return 'full';
    ids.add(messageId);
    return 'new';
  }

  /** Is this id taken and not released? */
  has(session: object | string, messageId: number): boolean {
    return this.ids(session)?.has(messageId) ?? false;
  }

  /** PUBREL, or the message was not made durable (its connection is closed): the id may name a new message now. */
  release(session: object | string, messageId: number): void {
    const ids = this.ids(session);
    if (!ids) return;
    ids.delete(messageId);
    if (ids.size === 0 && typeof session === 'string') this.persistent.delete(session);
  }

  /** A client connected with a clean session: its persistent session, if any, is discarded [MQTT-3.1.2-6]. */
  dropPersistent(clientId: string): void {
    this.persistent.delete(clientId);
  }

  private ids(session: object | string): Set<number> | undefined {
    return typeof session === 'string' ? this.persistent.get(session) : this.clean.get(session);
  }
}
