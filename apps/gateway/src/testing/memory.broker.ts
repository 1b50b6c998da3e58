import { ClusterLink } from '../cluster/cluster.link';

interface Client {
  id: string;
  filters: Set<string>;
  will?: { topic: string; payload: string };
  onMessage: Array<(topic: string, payload: Uint8Array) => void>;
  onConnect: Array<() => void>;
  connected: boolean;
  /** Cut off: nothing reaches it, nothing it sends arrives (a network partition); when it ends, the client reconnects. */
  cut: boolean;
}

/** MQTT topic filter match with `+` and a trailing `#`. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * An MQTT broker in memory, for the cluster specs (style.md: aedes's tests
 * run a real broker in memory; this one is just what the cluster uses):
 * retained messages, `+`/`#` filters, wills, one delivery order for
 * everyone, and faults: a client killed (its will goes out) or cut off.
 */
export class MemoryBroker {
  private readonly clients = new Set<Client>();
  private readonly retained = new Map<string, string>();
  private readonly queue: Array<{ topic: string; payload: string; from?: Client }> = [];
  private draining = false;

  link(id: string): ClusterLink & { kill(): void; cut(on: boolean): void } {
    const c: Client = { id, filters: new Set(), onMessage: [], onConnect: [], connected: false, cut: false };
    const clients = this.clients;
    const retained = this.retained;
    const enqueue = (m: { topic: string; payload: string }, only?: Client) => this.enqueue(m, only);
    return {
      async connect(will) {
        c.will = will;
        c.connected = true;
        clients.add(c);
        for (const h of c.onConnect) h();
      },
      onMessage: (h) => c.onMessage.push(h),
      onConnect: (h) => c.onConnect.push(h),
      async subscribe(filter) {
        c.filters.add(filter);
        for (const [topic, payload] of retained) if (matches(filter, topic)) enqueue({ topic, payload }, c);
      },
      async unsubscribe(filter) {
        c.filters.delete(filter);
      },
      async publish(topic, payload, retain) {
        if (!c.connected || c.cut) return;
        if (retain) {
          if (payload === '') retained.delete(topic);
          else retained.set(topic, payload);
        }
        enqueue({ topic, payload });
      },
      connected: () => c.connected && !c.cut,
      async close() {
        c.connected = false;
        clients.delete(c);
      },
      kill() {
        c.connected = false;
        clients.delete(c);
        if (c.will) {
          if (c.will.payload === '') retained.delete(c.will.topic);
          else retained.set(c.will.topic, c.will.payload);
          enqueue({ topic: c.will.topic, payload: c.will.payload });
        }
      },
      cut(on) {
        c.cut = on;
        // Back: MQTT.js reconnects (keep-alive noticed the dead connection) and subscribes again.
        if (!on) for (const h of c.onConnect) h();
      },
    };
  }

  private enqueue(m: { topic: string; payload: string }, only?: Client): void {
    this.queue.push({ ...m, from: only });
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        const bytes = new TextEncoder().encode(next.payload);
        for (const c of next.from ? [next.from] : [...this.clients]) {
          if (!c.connected || c.cut) continue;
          if (!next.from && ![...c.filters].some((f) => matches(f, next.topic))) continue;
          for (const h of c.onMessage) h(next.topic, bytes);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
