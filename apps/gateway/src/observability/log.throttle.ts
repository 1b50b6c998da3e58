import { Clock, TimerHandle } from '../core/clock';

/**
 * At most `maxLines` log lines of one kind per `periodMs`; what is held back
 * is counted and reported once, when its period ends (issue 8 finding 6: a
 * flood of refused logins must not become a flood of log lines, nor go
 * unnoticed).
 */
export class LogThrottle {
  private periodStartMs = -Infinity;
  private written = 0;
  private suppressed = 0;
  private timer?: TimerHandle;

  /**
   * @param report called with the number of lines held back in a period, once that period is over.
   */
  constructor(
    private readonly maxLines: number,
    readonly periodMs: number,
    private readonly clock: Clock,
    private readonly report: (suppressed: number) => void,
  ) {}

  /** Whether this line may be written now; if not, it is counted. */
  take(): boolean {
    const now = this.clock.now();
    if (now - this.periodStartMs >= this.periodMs) {
      this.flush();
      this.periodStartMs = now;
      this.written = 0;
    }
    if (this.written < this.maxLines) {
      this.written++;
      return true;
    }
    if (this.suppressed++ === 0) this.timer = this.clock.setTimeout(() => this.flush(), this.periodStartMs + this.periodMs - now);
    return false;
  }

  private flush(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.suppressed;
    this.suppressed = 0;
    if (n > 0) this.report(n);
  }
}
