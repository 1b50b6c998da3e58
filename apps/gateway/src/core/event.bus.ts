/**
 * A typed, synchronous event bus (style.md: zigbee2mqtt's `lib/extension`
 * features talk through one bus with one type map, never to each other).
 * Producers publish, consumers subscribe; a consumer that throws is logged
 * and the others still get the event, so no feature can break another.
 */
export type Unsubscribe = () => void;

export class EventBus<E extends object> {
  private readonly handlers = new Map<keyof E, Array<(payload: never) => void>>();

  constructor(private readonly onError: (type: keyof E, err: unknown) => void) {}

  subscribe<K extends keyof E>(type: K, handler: (payload: E[K]) => void): Unsubscribe {
    const list = [...(this.handlers.get(type) ?? []), handler as (payload: never) => void];
    this.handlers.set(type, list);
    return () => {
      const now = this.handlers.get(type) ?? [];
      this.handlers.set(type, now.filter((h) => h !== handler));
    };
  }

  /** Delivers to every current subscriber, in subscription order. */
  publish<K extends keyof E>(type: K, payload: E[K]): void {
    const list = this.handlers.get(type);
    if (!list) return;
    for (const h of list) {
      try {
        (h as (p: E[K]) => void)(payload);
      } catch (err) {
        this.onError(type, err);
      }
    }
  }

  /** Whether anyone listens: producers skip work nobody would receive (e.g. `now`). */
  hasSubscribers(type: keyof E): boolean {
    return (this.handlers.get(type)?.length ?? 0) > 0;
  }
}
