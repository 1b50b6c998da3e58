/**
 * Where the gateway's points go (style.md: ports at the edges). The durable
 * sink (write-ahead log, then InfluxDB) is the implementation; specs use an
 * in-memory one.
 */
export interface PointSink {
  /**
   * Appends readings' lines (`lines` lines joined by `\n`) durably:
   * `onDurable` is called once they are on local disk (then, and only then,
   * may their readings be acknowledged), or with the error that kept them off.
   * Callbacks come in append order. An empty text is a barrier: called after
   * everything appended before it. Never throws.
   */
  append(text: string, lines: number, onDurable: (err?: Error) => void): void;
  /** Queues derived lines (vitals, alarms): durable soon, nobody waits. Never blocks or throws. */
  write(lines: string[]): void;
  /** Resolves when what was written before the call is in InfluxDB, or InfluxDB is unreachable (it is on disk then). */
  flush(): Promise<void>;
  /** Sends what it can for a short while, then leaves the rest on disk for the next start. */
  close(): Promise<void>;
  /** What is not yet in the database. */
  backlog(): SinkBacklog;
}

export interface SinkBacklog {
  /** Lines in memory, waiting for a write request. */
  memoryLines: number;
  /** Lines in the write-ahead log that InfluxDB has not confirmed yet. */
  walLines: number;
  /** Bytes of the write-ahead log on disk. */
  walBytes: number;
  /** Is InfluxDB taking writes now? */
  reachable: boolean;
  lastError?: string;
  lastWriteOkAt?: string;
}

/** Injection token of the PointSink. */
export const POINT_SINK = Symbol('POINT_SINK');
