import * as fs from 'node:fs';
import * as path from 'node:path';

/** One spooled batch. */
export interface SpoolSegment {
  seq: number;
  lines: number;
  bytes: number;
  file: string;
}

const SEGMENT = /^(\d{16})-(\d+)\.lp$/;

/**
 * A bounded, ordered, on-disk queue of line-protocol batches: what InfluxDB
 * cannot take now waits here, survives a restart, and is replayed oldest
 * first. Each batch is one file written atomically (tmp + fsync + rename), so
 * a crash leaves whole segments only. When the bound is reached the OLDEST
 * segments are dropped, and the caller is told how many lines (never silent).
 */
export class DiskSpool {
  private readonly segments: SpoolSegment[] = [];
  private nextSeq = 1;
  private bytes = 0;
  private lineCount = 0;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly onDrop: (lines: number, segment: SpoolSegment) => void,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir).sort()) {
      const m = SEGMENT.exec(name);
      const file = path.join(dir, name);
      if (!m) {
        if (name.endsWith('.tmp')) fs.rmSync(file, { force: true }); // an append cut short by a crash
        continue;
      }
      const seg = { seq: Number(m[1]), lines: Number(m[2]), bytes: fs.statSync(file).size, file };
      this.segments.push(seg);
      this.bytes += seg.bytes;
      this.lineCount += seg.lines;
      this.nextSeq = Math.max(this.nextSeq, seg.seq + 1);
    }
  }

  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  get size(): { segments: number; lines: number; bytes: number } {
    return { segments: this.segments.length, lines: this.lineCount, bytes: this.bytes };
  }

  /** Appends a batch durably. */
  append(lines: string[]): void {
    if (lines.length === 0) return;
    const body = lines.join('\n') + '\n';
    const seq = this.nextSeq++;
    const file = path.join(this.dir, `${String(seq).padStart(16, '0')}-${lines.length}.lp`);
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const seg = { seq, lines: lines.length, bytes: Buffer.byteLength(body), file };
    this.segments.push(seg);
    this.bytes += seg.bytes;
    this.lineCount += seg.lines;
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const old = this.segments[0];
      this.remove(old);
      this.onDrop(old.lines, old);
    }
  }

  /** The oldest batch, read from disk, or undefined when empty. */
  peek(): { segment: SpoolSegment; lines: string[] } | undefined {
    const segment = this.segments[0];
    if (!segment) return undefined;
    const text = fs.readFileSync(segment.file, 'utf8');
    return { segment, lines: text.split('\n').filter((l) => l.length > 0) };
  }

  /** Removes a batch once InfluxDB has it. */
  ack(segment: SpoolSegment): void {
    this.remove(segment);
  }

  private remove(segment: SpoolSegment): void {
    const i = this.segments.indexOf(segment);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.bytes -= segment.bytes;
    this.lineCount -= segment.lines;
    fs.rmSync(segment.file, { force: true });
  }
}
