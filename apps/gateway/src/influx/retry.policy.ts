/**
 * How long to wait before the next attempt of a failed InfluxDB write. One
 * policy serves the live sink and the replay of what waits on disk, so a
 * server in trouble sees one back-off from this gateway, not two.
 */
export interface RetryPolicy {
  /**
   * Delay before retry number `attempt` (0 = the first retry), ms. A
   * `retryAfterMs` the server asked for (HTTP `Retry-After`) is honoured:
   * the delay is never shorter, up to {@link MAX_RETRY_AFTER_MS}.
   */
  delayMs(attempt: number, retryAfterMs?: number): number;
}

/** The longest `Retry-After` obeyed; a server asking for more is retried after this. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

export interface BackoffOptions {
  /** Delay of the first retry before jitter, ms. */
  baseMs: number;
  /** Cap of the exponential part, ms. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Share of each delay that is random (default 0.5): the delay is drawn in
   * `[d·(1−jitter), d]`, so gateways that failed together do not retry in
   * lockstep ("equal jitter", AWS Architecture Blog, 2015).
   */
  jitter?: number;
}

/** Exponential back-off with jitter, honouring `Retry-After`. */
export class ExponentialBackoff implements RetryPolicy {
  private readonly factor: number;
  private readonly jitter: number;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.5;
  }

  delayMs(attempt: number, retryAfterMs?: number): number {
    const exp = Math.min(this.opts.maxMs, this.opts.baseMs * this.factor ** Math.max(0, attempt));
    const delay = Math.round(exp * (1 - this.jitter + this.jitter * this.random()));
    if (retryAfterMs === undefined || !(retryAfterMs > 0)) return delay;
    return Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  }
}

/**
 * The delay an HTTP `Retry-After` header asks for (RFC 9110 §10.2.3): a
 * number of seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day and month (IMF-fixdate, RFC 9110 §5.6.7).
  const at = /[A-Za-z]/.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
