/** A password check refused because the queue of pending checks is full (CONNACK 0x03). */
export class LoginQueueFullError extends Error {
  constructor(running: number, waiting: number) {
    super(`${running} password checks running and ${waiting} waiting; try again later`);
    this.name = 'LoginQueueFullError';
  }
}

/**
 * The bound on pending authentications (issue 8 finding 6): at most
 * `maxRunning` password checks (scrypt, 32 MiB and ~100 ms each, on libuv's
 * thread pool, which the write-ahead log's writes share) run at once, at
 * most `maxWaiting` more wait, first come first served; beyond that a check
 * is refused at once instead of queueing without end, so a flood of bogus
 * CONNECTs costs a bounded amount of memory and CPU, and a device refused
 * with "server unavailable" simply retries.
 */
export class LoginQueue {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Checks refused because the queue was full. */
  refused = 0;

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; rejects with {@link LoginQueueFullError} at once when none will be. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.maxRunning) return this.start(task);
    if (this.waiting.length >= this.maxWaiting) {
      this.refused++;
      return Promise.reject(new LoginQueueFullError(this.active, this.waiting.length));
    }
    return new Promise<T>((resolve, reject) => this.waiting.push(() => this.start(task).then(resolve, reject)));
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    this.active++;
    let p: Promise<T>;
    try {
      p = task();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.finally(() => {
      this.active--;
      this.waiting.shift()?.();
    });
  }
}
