import { PointSink, SinkBacklog } from '../sink/point-sink';

/**
 * The InfluxDB edge replaced by memory, for specs: every line written, in
 * order; appends are durable at once. (style.md: fakes only at I/O edges.)
 */
export class MemorySink implements PointSink {
  readonly lines: string[] = [];
  append(text: string, _lines: number, onDurable: (err?: Error) => void): void {
    if (text.length > 0) this.lines.push(...text.split('\n'));
    onDurable();
  }
  write(lines: string[]): void {
    this.lines.push(...lines);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  backlog(): SinkBacklog {
    return { memoryLines: 0, walLines: 0, walBytes: 0, reachable: true };
  }
}
