import * as fs from 'node:fs';
import * as path from 'node:path';
import { Clock, TimerHandle } from '../core/clock';
import { Logger } from '../observability/logger';
import { BLOCK_HEADER_BYTES, decodeBlock, encodeBlock } from './wal-block';

/**
 * A place in the log: segment number × 2³² + byte offset in the segment
 * (segments stay far below 4 GiB), so positions compare as numbers.
 */
export type WalPosition = number;
const SEGMENT_STRIDE = 2 ** 32;
export const walPosition = (seq: number, offset: number): WalPosition => seq * SEGMENT_STRIDE + offset;
const seqOf = (pos: WalPosition) => Math.floor(pos / SEGMENT_STRIDE);
const offsetOf = (pos: WalPosition) => pos % SEGMENT_STRIDE;

/** One committed group of lines, as the sink takes it. */
export interface WalBlock {
  startPos: WalPosition;
  endPos: WalPosition;
  /** Line protocol, lines joined by `\n`. */
  text: string;
  lines: number;
  /** Clock time of the commit (the sink's flush interval counts from it). */
  committedAtMs: number;
}

export interface WalOptions {
  dir: string;
  /** A segment is sealed and a new one started past this size. */
  segmentBytes: number;
  /** Bound of the log on disk: appends beyond it are refused ({@link WalFullError}). */
  maxBytes: number;
  /** The disk edge of a commit; specs replace it to inject failures. */
  io?: WalIo;
  /**
   * `fdatasync` each commit (default). Off only to measure what the flush
   * costs: a process crash still loses nothing (the page cache outlives the
   * process), a power cut may lose acknowledged readings.
   */
  fsync?: boolean;
}

/** The two calls a commit makes. */
export interface WalIo {
  /** Writes all of `buf` at `position`. */
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
}

/** The log is at its bound: InfluxDB has been away too long. Nothing is acknowledged that is not on disk. */
export class WalFullError extends Error {
  constructor(bytes: number, max: number) {
    super(`write-ahead log full (${bytes} of ${max} bytes): InfluxDB has not taken writes for too long; raise WAL_MAX_MB or restore InfluxDB`);
    this.name = 'WalFullError';
  }
}

interface Segment {
  seq: number;
  file: string;
  /** Bytes of whole, committed blocks. */
  bytes: number;
}

type Waiter = (err?: Error) => void;

const SEGMENT_FILE = /^(\d{16})\.wal$/;
const CHECKPOINT = 'checkpoint';
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** The confirmed position is written down at most this often (it is only an optimisation of the replay). */
const CHECKPOINT_EVERY_MS = 1000;

/**
 * The gateway's write-ahead log (contract §8, durability): every line is on
 * local disk before its reading is acknowledged to the device.
 *
 * Appends are grouped: while one write + `fdatasync` is in flight, new
 * appends wait together for the next one (group commit), so one disk flush
 * serves every message that arrived meanwhile and the cost per reading stays
 * small at high rates. Each commit is one framed block (wal-block.ts) in an
 * append-only segment file; a commit's waiters are called, in append order,
 * after the flush returned, and the sink is told of the block just before.
 *
 * The sink confirms positions once InfluxDB has the lines; whole segments
 * before the confirmed position are deleted, and the position is written to
 * a checkpoint so that a restart replays only what InfluxDB may lack.
 * Replaying a little more is harmless: a point written twice is one point
 * (contract §3, identity = measurement + tags + ts).
 *
 * At open, a block torn by a crash at the end of the last segment is cut off
 * (it was never acknowledged: its flush had not returned).
 */
export class WriteAheadLog {
  /** Called for each committed block, in order, before its waiters. */
  onCommit?: (block: WalBlock) => void;

  private readonly segments: Segment[] = [];
  private fd = -1;
  private totalBytes = 0;
  private unconfirmed = 0;
  private confirmed: WalPosition;
  private pendingTexts: string[] = [];
  private pendingLines = 0;
  private pendingBytes = 0;
  private pendingWaiters: Waiter[] = [];
  private inFlightWaiters: Waiter[] | undefined;
  private running?: Promise<void>;
  private scheduled = false;
  private checkpointTimer?: TimerHandle;
  private checkpointed: WalPosition;
  private closed = false;
  private readonly io: WalIo;

  /** Counters for `/metrics`. */
  readonly stats = { commits: 0, bytesWritten: 0, fullRefusals: 0, writeErrors: 0, tornBytesCut: 0, damagedBytesSkipped: 0 };

  private constructor(
    private readonly opts: WalOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.confirmed = 0;
    this.checkpointed = 0;
    this.io = opts.io ?? { write, fdatasync: opts.fsync === false ? async () => undefined : fdatasync };
  }

  /** Opens (or creates) the log in `opts.dir`, repairing a torn tail. Throws if the folder is unusable. */
  static open(opts: WalOptions, log: Logger, clock: Clock): WriteAheadLog {
    const wal = new WriteAheadLog(opts, log, clock);
    wal.recover();
    return wal;
  }

  /** End of the last committed block. */
  get endPos(): WalPosition {
    const last = this.segments[this.segments.length - 1];
    return walPosition(last.seq, last.bytes);
  }

  /** Everything before this is in InfluxDB. */
  get confirmedPos(): WalPosition {
    return this.confirmed;
  }

  /** Bytes of the log on disk (every segment). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Lines committed and not yet confirmed by the sink. */
  get unconfirmedLines(): number {
    return this.unconfirmed;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Appends `text` (`lines` lines joined by `\n`) to the next commit;
   * `onDurable` is called once it is on disk, or with the error that kept it
   * off (then nothing of it will ever be replayed). An empty text with a
   * callback is a barrier: called after everything appended before it.
   */
  append(text: string, lines: number, onDurable?: Waiter): void {
    if (this.closed) {
      onDurable?.(new Error('write-ahead log closed'));
      return;
    }
    if (text.length > 0) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact size is needed only near the bound.
      const used = this.totalBytes + this.pendingBytes + BLOCK_HEADER_BYTES;
      if (used + text.length * 3 > this.opts.maxBytes && used + Buffer.byteLength(text) > this.opts.maxBytes) {
        this.stats.fullRefusals++;
        onDurable?.(new WalFullError(this.totalBytes + this.pendingBytes, this.opts.maxBytes));
        return;
      }
      this.pendingTexts.push(text);
      this.pendingLines += lines;
      this.pendingBytes += text.length + 1;
    } else if (!onDurable) return;
    else if (this.pendingTexts.length === 0 && this.inFlightWaiters) {
      // A barrier with nothing new: it waits for the commit in flight only.
      this.inFlightWaiters.push(onDurable);
      return;
    } else if (this.pendingTexts.length === 0 && !this.running && !this.scheduled) {
      onDurable();
      return;
    }
    if (onDurable) this.pendingWaiters.push(onDurable);
    this.kick();
  }

  /**
   * Starts a commit once the current event-loop turn is over, so that every
   * message handled in this turn (a whole read of a connection, a batch back
   * from a worker) goes into the same commit.
   */
  private kick(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running ??= this.run().finally(() => {
        this.running = undefined;
        // Appended after the loop's last look, before this ran: go again.
        if (this.pendingTexts.length > 0 || this.pendingWaiters.length > 0) this.kick();
      });
    });
  }

  /** Resolves when everything appended so far is committed (or failed). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.append('', 0, () => resolve()));
  }

  /**
   * Marks everything before `pos` (`lines` lines) as in InfluxDB: deletes the
   * segments that lie wholly before it and, soon, records it in the
   * checkpoint.
   */
  confirm(pos: WalPosition, lines: number): void {
    if (pos <= this.confirmed) return;
    this.confirmed = pos;
    this.unconfirmed = Math.max(0, this.unconfirmed - lines);
    while (this.segments.length > 1 && walPosition(this.segments[0].seq, this.segments[0].bytes) <= pos) {
      const seg = this.segments.shift() as Segment;
      this.totalBytes -= seg.bytes;
      try {
        fs.rmSync(seg.file, { force: true });
      } catch (e) {
        this.log.warn({ file: seg.file, err: (e as Error).message }, 'could not delete a confirmed WAL segment');
      }
    }
    this.checkpointTimer ??= this.clock.setTimeout(() => {
      this.checkpointTimer = undefined;
      this.writeCheckpoint();
    }, CHECKPOINT_EVERY_MS);
  }

  /**
   * The committed blocks that end after `fromPos`, up to `untilPos`, read
   * back from disk in order: the sink's way back when its memory did not
   * hold them (InfluxDB was away, or after a restart).
   */
  async *readFrom(fromPos: WalPosition, untilPos: WalPosition = this.endPos): AsyncGenerator<WalBlock> {
    for (let seq = seqOf(fromPos); seq <= seqOf(untilPos); seq++) {
      const seg = this.segments.find((s) => s.seq === seq);
      if (!seg) continue; // confirmed and deleted meanwhile, or a gap after damage
      const limit = seq === seqOf(untilPos) ? Math.min(offsetOf(untilPos), seg.bytes) : seg.bytes;
      yield* this.readSegment(seg, limit, fromPos);
    }
  }

  /** Waits for the commits in flight, records the checkpoint, closes the file. Appends after this fail. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clock.clearTimeout(this.checkpointTimer);
    this.writeCheckpoint();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private async run(): Promise<void> {
    while (this.pendingTexts.length > 0 || this.pendingWaiters.length > 0) {
      const texts = this.pendingTexts;
      const lines = this.pendingLines;
      const waiters = this.pendingWaiters;
      this.pendingTexts = [];
      this.pendingLines = 0;
      this.pendingBytes = 0;
      this.pendingWaiters = [];
      if (texts.length === 0) {
        for (const w of waiters) w();
        continue;
      }
      this.inFlightWaiters = waiters;
      const text = texts.length === 1 ? texts[0] : texts.join('\n');
      const block = encodeBlock(Buffer.from(text, 'utf8'), lines);
      const seg = this.segments[this.segments.length - 1];
      const start = seg.bytes;
      try {
        await this.io.write(this.fd, block, start);
        await this.io.fdatasync(this.fd);
      } catch (e) {
        this.inFlightWaiters = undefined;
        this.stats.writeErrors++;
        // Cut whatever part landed, so the next block follows a whole one.
        try {
          fs.ftruncateSync(this.fd, start);
        } catch {
          // the file is unusable; the next write fails too and says why
        }
        this.log.error({ err: (e as Error).message, file: seg.file, lines }, 'WAL write failed: these readings are NOT acknowledged');
        for (const w of waiters) w(e as Error);
        continue;
      }
      seg.bytes += block.length;
      this.totalBytes += block.length;
      this.unconfirmed += lines;
      this.stats.commits++;
      this.stats.bytesWritten += block.length;
      this.inFlightWaiters = undefined;
      try {
        this.onCommit?.({ startPos: walPosition(seg.seq, start), endPos: walPosition(seg.seq, seg.bytes), text, lines, committedAtMs: this.clock.now() });
      } finally {
        for (const w of waiters) w();
      }
      if (seg.bytes >= this.opts.segmentBytes) this.roll();
    }
  }

  private recover(): void {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    const names = fs.readdirSync(this.opts.dir).filter((n) => SEGMENT_FILE.test(n)).sort();
    for (const name of names) {
      const file = path.join(this.opts.dir, name);
      const seq = Number(SEGMENT_FILE.exec(name)?.[1]);
      this.segments.push({ seq, file, bytes: 0 });
    }
    for (let i = 0; i < this.segments.length; i++) this.scan(this.segments[i], i === this.segments.length - 1);
    if (this.segments.length === 0) this.segments.push(this.createSegment(1));
    const last = this.segments[this.segments.length - 1];
    this.fd = fs.openSync(last.file, 'r+');
    const first = this.segments[0];
    const checkpoint = this.readCheckpoint();
    this.confirmed = Math.min(Math.max(checkpoint, walPosition(first.seq, 0)), this.endPos);
    this.checkpointed = this.confirmed;
    this.unconfirmed = 0;
    for (const seg of this.segments) this.unconfirmed += this.countLinesAfter(seg, this.confirmed);
    if (this.unconfirmed > 0) this.log.warn({ dir: this.opts.dir, lines: this.unconfirmed, segments: this.segments.length }, 'the write-ahead log holds lines InfluxDB may not have yet; replaying them');
  }

  /** Finds the end of a segment's whole blocks; cuts a torn tail of the last one. */
  private scan(seg: Segment, isLast: boolean): void {
    const buf = fs.readFileSync(seg.file);
    let offset = 0;
    for (;;) {
      const b = decodeBlock(buf, offset);
      if (b.kind !== 'block') {
        if (offset < buf.length) {
          const lost = buf.length - offset;
          if (isLast && b.kind === 'incomplete') {
            this.stats.tornBytesCut += lost;
            this.log.warn({ file: seg.file, bytes: lost }, 'cut a block torn by a crash from the end of the WAL (it was never acknowledged)');
          } else {
            this.stats.damagedBytesSkipped += lost;
            this.log.error({ file: seg.file, offset, bytes: lost, why: b.kind === 'damaged' ? b.why : 'incomplete block' }, 'WAL segment damaged: the rest of it is skipped');
          }
          fs.truncateSync(seg.file, offset);
        }
        break;
      }
      offset += b.bytes;
    }
    seg.bytes = offset;
    this.totalBytes += offset;
  }

  private countLinesAfter(seg: Segment, pos: WalPosition): number {
    if (walPosition(seg.seq, seg.bytes) <= pos) return 0;
    const buf = fs.readFileSync(seg.file);
    let n = 0;
    for (let offset = 0; offset < seg.bytes; ) {
      const b = decodeBlock(buf, offset);
      if (b.kind !== 'block') break;
      offset += b.bytes;
      if (walPosition(seg.seq, offset) > pos) n += b.lines;
    }
    return n;
  }

  private async *readSegment(seg: Segment, limit: number, fromPos: WalPosition): AsyncGenerator<WalBlock> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(seg.file, 'r');
    } catch {
      return; // deleted meanwhile: confirmed
    }
    try {
      let buf = Buffer.alloc(0);
      let fileOffset = 0; // where buf starts in the file
      let readAt = 0;
      for (;;) {
        let consumed = 0;
        for (;;) {
          const b = decodeBlock(buf, consumed);
          if (b.kind === 'damaged') {
            this.log.error({ file: seg.file, offset: fileOffset + consumed, why: b.why }, 'WAL segment damaged while reading back: the rest of it is skipped');
            return;
          }
          if (b.kind === 'incomplete') break;
          const startPos = walPosition(seg.seq, fileOffset + consumed);
          consumed += b.bytes;
          const endPos = walPosition(seg.seq, fileOffset + consumed);
          if (endPos > fromPos) yield { startPos, endPos, text: b.payload.toString('utf8'), lines: b.lines, committedAtMs: 0 };
        }
        buf = buf.subarray(consumed);
        fileOffset += consumed;
        if (readAt >= limit) return;
        const want = Math.min(READ_CHUNK_BYTES, limit - readAt);
        const chunk = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(chunk, 0, want, readAt);
        if (bytesRead === 0) return;
        readAt += bytesRead;
        buf = buf.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      }
    } finally {
      await fh.close();
    }
  }

  private roll(): void {
    const next = this.createSegment(this.segments[this.segments.length - 1].seq + 1);
    fs.closeSync(this.fd);
    this.segments.push(next);
    this.fd = fs.openSync(next.file, 'r+');
  }

  /** A new, empty segment whose directory entry is on disk before anything is written to it. */
  private createSegment(seq: number): Segment {
    const file = path.join(this.opts.dir, `${String(seq).padStart(16, '0')}.wal`);
    fs.closeSync(fs.openSync(file, 'w'));
    const dirFd = fs.openSync(this.opts.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
    return { seq, file, bytes: 0 };
  }

  private readCheckpoint(): WalPosition {
    try {
      const v = Number(fs.readFileSync(path.join(this.opts.dir, CHECKPOINT), 'utf8').trim());
      return Number.isFinite(v) && v >= 0 ? v : 0;
    } catch {
      return 0;
    }
  }

  private writeCheckpoint(): void {
    if (this.confirmed === this.checkpointed) return;
    const file = path.join(this.opts.dir, CHECKPOINT);
    try {
      // No fsync: a checkpoint lost in a crash only means replaying more.
      fs.writeFileSync(`${file}.tmp`, `${this.confirmed}\n`);
      fs.renameSync(`${file}.tmp`, file);
      this.checkpointed = this.confirmed;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not write the WAL checkpoint; a restart will replay more than needed');
    }
  }
}

function write(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const next = (): void =>
      fs.write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (done < buf.length) next();
        else resolve();
      });
    next();
  });
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}
