/**
 * Where the gateway's points go (style.md: ports at the edges). The InfluxDB
 * sink is one implementation; tests may use an in-memory one.
 */
export interface PointSink {
  /** Queues line-protocol lines; never blocks and never throws. */
  write(lines: string[]): void;
  /** Sends everything queued so far; resolves when it is written or spooled. */
  flush(): Promise<void>;
  /** Flushes, spools what cannot be written, and releases resources. */
  close(): Promise<void>;
  /** What is not yet in the database. */
  backlog(): SinkBacklog;
}

export interface SinkBacklog {
  /** Lines in memory, waiting for a write request. */
  memoryLines: number;
  /** Lines in the on-disk spool, waiting for InfluxDB to come back. */
  spooledLines: number;
  spooledBytes: number;
  /** Is InfluxDB taking writes now? */
  reachable: boolean;
  lastError?: string;
  lastWriteOkAt?: string;
}

/** Injection token of the PointSink. */
export const POINT_SINK = Symbol('POINT_SINK');
