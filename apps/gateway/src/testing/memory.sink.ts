import { PointSink, SinkBacklog } from '../sink/point-sink';

/**
 * The InfluxDB edge replaced by memory, for specs: every line written, in
 * order. (style.md: fakes only at I/O edges.)
 */
export class MemorySink implements PointSink {
  readonly lines: string[] = [];
  write(lines: string[]): void {
    this.lines.push(...lines);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  backlog(): SinkBacklog {
    return { memoryLines: 0, spooledLines: 0, spooledBytes: 0, reachable: true };
  }
}
