/**
 * Time and timers, injected into everything that waits or ticks (style.md:
 * MQTT.js's KeepaliveManager takes its timer), so specs drive time with a
 * {@link ManualClock} instead of sleeping or faking globals.
 */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** An opaque timer handle of a {@link Clock}. */
export type TimerHandle = { readonly timer: unknown };

/** Resolves after `ms` on `clock`'s time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * The real clock. Its timers are unref'd: a pending retry or tick never
 * keeps the process alive on its own (shutdown decides when to stop).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => ({ timer: setTimeout(fn, ms).unref() }),
  clearTimeout: (h) => clearTimeout((h?.timer as NodeJS.Timeout | undefined) ?? undefined),
  setInterval: (fn, ms) => ({ timer: setInterval(fn, ms).unref() }),
  clearInterval: (h) => clearInterval((h?.timer as NodeJS.Timeout | undefined) ?? undefined),
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  everyMs?: number;
  cancelled: boolean;
}

/**
 * A clock that moves only when told: `advance(ms)` runs every timer that
 * falls due, in time order, each seeing `now()` at its due time. For specs.
 */
export class ManualClock implements Clock {
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(private ms = 0) {}

  now(): number {
    return this.ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(h: TimerHandle | undefined): void {
    if (h) (h.timer as ManualTimer).cancelled = true;
  }

  clearInterval(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }

  /** Timers not yet run nor cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, running what falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.ms + ms);
  }

  /** Sets the time without running timers, as when the event loop was blocked and timers are late. */
  jump(toMs: number): void {
    this.ms = toMs;
  }

  advanceTo(targetMs: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.reduce<ManualTimer | undefined>((a, t) => (!a || t.at < a.at || (t.at === a.at && t.seq < a.seq) ? t : a), undefined);
      if (!next || next.at > targetMs) break;
      this.ms = Math.max(this.ms, next.at);
      if (next.everyMs !== undefined) next.at += next.everyMs;
      else next.cancelled = true;
      next.fn();
    }
    this.ms = Math.max(this.ms, targetMs);
  }

  private add(fn: () => void, ms: number, everyMs?: number): TimerHandle {
    const t: ManualTimer = { at: this.ms + Math.max(0, ms), seq: this.seq++, fn, everyMs, cancelled: false };
    this.timers.push(t);
    return { timer: t };
  }
}
