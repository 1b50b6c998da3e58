/**
 * Reconnect delays of the live stream: exponential from `baseMs`, capped at
 * `maxMs`, with "full jitter" so a wall of viewers does not reconnect in step
 * after a gateway restart. Randomness is injected so tests are exact.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay that is randomised, 0–1. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000, jitter: 0.3 };

/**
 * Delay before reconnect attempt `attempt` (0 = the first retry after a
 * drop). `random` returns [0, 1).
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const spread = exp * opts.jitter;
  return Math.round(exp - spread + spread * random());
}
