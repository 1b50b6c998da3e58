import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { ManualClock } from '../core/clock';
import { BLOCK_HEADER_BYTES, decodeBlock, encodeBlock } from './wal-block';
import { WalBlock, WalFullError, WalIo, WalOptions, walPosition, WriteAheadLog } from './write-ahead.log';

const silent = pino({ level: 'silent' });
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-wal-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `m,t=${prefix} v=${i} ${1000 + i}`);

function open(opts: Partial<WalOptions> = {}, clock = new ManualClock(0)) {
  const wal = WriteAheadLog.open({ dir, segmentBytes: 64 * 1024 * 1024, maxBytes: 1e12, ...opts }, silent, clock);
  const committed: WalBlock[] = [];
  wal.onCommit = (b) => committed.push(b);
  return { wal, committed, clock };
}

/** Appends and resolves once durable (rejects with the WAL's error). */
function durable(wal: WriteAheadLog, ls: string[]): Promise<void> {
  return new Promise((resolve, reject) => wal.append(ls.join('\n'), ls.length, (e) => (e ? reject(e) : resolve())));
}

async function readAll(wal: WriteAheadLog, from = wal.confirmedPos): Promise<string[]> {
  const out: string[] = [];
  for await (const b of wal.readFrom(from)) out.push(...b.text.split('\n'));
  return out;
}

describe('WAL blocks', () => {
  it('frame a payload with its length, line count and CRC-32, and read back', () => {
    const block = encodeBlock(Buffer.from('a\nb'), 2);
    expect(block.length).toBe(BLOCK_HEADER_BYTES + 3);
    expect(decodeBlock(block, 0)).toMatchObject({ kind: 'block', lines: 2, bytes: 19 });
    expect(decodeBlock(block.subarray(0, 10), 0)).toEqual({ kind: 'incomplete' });
    expect(decodeBlock(block.subarray(0, 18), 0)).toEqual({ kind: 'incomplete' });
    const flipped = Buffer.from(block);
    flipped[17] ^= 1;
    expect(decodeBlock(flipped, 0)).toEqual({ kind: 'damaged', why: 'checksum mismatch' });
    expect(decodeBlock(Buffer.alloc(32), 0)).toEqual({ kind: 'damaged', why: 'no block starts here (bad magic)' });
  });
});

describe('WriteAheadLog', () => {
  it('calls back once the lines are on disk, in append order, and hands each commit to the sink first', async () => {
    const { wal, committed } = open();
    const order: string[] = [];
    const acks = ['a', 'b', 'c'].map((p) => new Promise<void>((r) => wal.append(lines(p, 2).join('\n'), 2, () => (order.push(`${p}:${committed.length}`), r()))));
    await Promise.all(acks);
    expect(order.map((o) => o[0])).toEqual(['a', 'b', 'c']);
    // every ack came after a commit that holds its lines
    expect(order.every((o) => Number(o.split(':')[1]) >= 1)).toBe(true);
    expect(committed.flatMap((b) => b.text.split('\n'))).toEqual([...lines('a', 2), ...lines('b', 2), ...lines('c', 2)]);
    expect(committed.reduce((n, b) => n + b.lines, 0)).toBe(6);
    expect(wal.unconfirmedLines).toBe(6);
    await wal.close();
  });

  it('groups the appends that arrive during a commit into the next one (group commit)', async () => {
    const { wal, committed } = open();
    const all: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) all.push(durable(wal, [`m v=${i} ${i}`]));
    await Promise.all(all);
    expect(committed.reduce((n, b) => n + b.lines, 0)).toBe(500);
    expect(wal.stats.commits).toBeLessThan(50);
    expect(committed.flatMap((b) => b.text.split('\n'))).toEqual(Array.from({ length: 500 }, (_, i) => `m v=${i} ${i}`));
    // positions are contiguous
    for (let i = 1; i < committed.length; i++) expect(committed[i].startPos).toBe(committed[i - 1].endPos);
    await wal.close();
  });

  it('a barrier (no lines) waits for what was appended before it, and passes at once when idle', async () => {
    const { wal } = open();
    const seen: string[] = [];
    wal.append('', 0, () => seen.push('idle barrier'));
    expect(seen).toEqual(['idle barrier']);
    wal.append(lines('a', 1)[0], 1, () => seen.push('a'));
    wal.append('', 0, () => seen.push('barrier after a'));
    await wal.flush();
    expect(seen).toEqual(['idle barrier', 'a', 'barrier after a']);
    await wal.close();
  });

  it('replays after a restart what was not confirmed, and only that, from the checkpoint', async () => {
    const first = open();
    await durable(first.wal, lines('a', 3));
    await durable(first.wal, lines('b', 2));
    first.wal.confirm(first.committed[0].endPos, 3);
    await first.wal.close();

    const second = open();
    expect(second.wal.unconfirmedLines).toBe(2);
    expect(second.wal.confirmedPos).toBe(first.committed[0].endPos);
    expect(await readAll(second.wal)).toEqual(lines('b', 2));
    await durable(second.wal, lines('c', 1));
    expect(await readAll(second.wal)).toEqual([...lines('b', 2), ...lines('c', 1)]);
    await second.wal.close();
  });

  it('after a crash (no checkpoint written) replays everything still in its segments', async () => {
    const first = open();
    await durable(first.wal, lines('a', 3));
    first.wal.confirm(first.wal.endPos, 3); // the checkpoint timer never ran: crash before it
    // no close(): the process died
    const second = open();
    expect(await readAll(second.wal)).toEqual(lines('a', 3));
    await second.wal.close();
  });

  it('cuts a block torn by a crash at the end of the last segment, and keeps the whole ones before it', async () => {
    const first = open();
    await durable(first.wal, lines('a', 2));
    const file = path.join(dir, '0000000000000001.wal');
    const torn = encodeBlock(Buffer.from(lines('b', 2).join('\n')), 2).subarray(0, 20);
    fs.appendFileSync(file, torn);
    const second = open();
    expect(second.wal.stats.tornBytesCut).toBe(20);
    expect(await readAll(second.wal)).toEqual(lines('a', 2));
    await durable(second.wal, lines('c', 1));
    expect(await readAll(second.wal)).toEqual([...lines('a', 2), ...lines('c', 1)]);
    await second.wal.close();
  });

  it('skips the damaged rest of a sealed segment, says so, and goes on with the next', async () => {
    const first = open({ segmentBytes: 1 }); // every commit seals its segment
    await durable(first.wal, lines('a', 2));
    await durable(first.wal, lines('b', 2));
    await first.wal.close();
    const seg1 = path.join(dir, '0000000000000001.wal');
    const bytes = fs.readFileSync(seg1);
    bytes[BLOCK_HEADER_BYTES + 3] ^= 0xff;
    fs.writeFileSync(seg1, bytes);
    const second = open({ segmentBytes: 1 });
    expect(second.wal.stats.damagedBytesSkipped).toBe(bytes.length);
    expect(await readAll(second.wal)).toEqual(lines('b', 2));
    await second.wal.close();
  });

  it('rolls segments past their size and deletes those wholly confirmed', async () => {
    const { wal, committed } = open({ segmentBytes: 100 });
    for (let i = 0; i < 6; i++) await durable(wal, lines(`s${i}`, 3));
    expect(wal.segmentCount).toBeGreaterThan(2);
    const before = fs.readdirSync(dir).filter((n) => n.endsWith('.wal')).length;
    wal.confirm(committed[3].endPos, 12);
    const after = fs.readdirSync(dir).filter((n) => n.endsWith('.wal')).length;
    expect(after).toBeLessThan(before);
    expect(await readAll(wal)).toEqual(committed.slice(4).flatMap((b) => b.text.split('\n')));
    expect(wal.unconfirmedLines).toBe(6);
    await wal.close();
  });

  it('refuses appends past its bound, counted, without writing them', async () => {
    const { wal } = open({ maxBytes: 300 });
    await durable(wal, lines('a', 3));
    const err = await durable(wal, lines('b', 20)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WalFullError);
    expect((err as Error).message).toMatch(/WAL_MAX_MB/);
    expect(wal.stats.fullRefusals).toBe(1);
    expect(await readAll(wal)).toEqual(lines('a', 3));
    await wal.close();
  });

  it('reports a failed disk write to every waiter of that commit, cuts what landed, and takes the next commit', async () => {
    let failures = 0;
    const io: WalIo = {
      async write(fd, buf, position) {
        if (failures-- > 0) {
          // half the block lands, then the disk fails
          fs.writeSync(fd, buf, 0, Math.floor(buf.length / 2), position);
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        }
        fs.writeSync(fd, buf, 0, buf.length, position);
      },
      async fdatasync(fd) {
        fs.fdatasyncSync(fd);
      },
    };
    const { wal } = open({ io });
    await durable(wal, lines('a', 1));
    failures = 1;
    const failed = await durable(wal, lines('b', 2)).then(() => undefined, (e: unknown) => e);
    expect((failed as Error).message).toMatch(/EIO/);
    expect(wal.stats.writeErrors).toBe(1);
    await durable(wal, lines('c', 1));
    await wal.close();
    const reopened = open();
    expect(await readAll(reopened.wal)).toEqual([...lines('a', 1), ...lines('c', 1)]);
    await reopened.wal.close();
  });

  it('reads back from any position exactly the blocks that end after it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }), fc.nat(), fc.integer({ min: 64, max: 2000 }), async (sizes, pick, segmentBytes) => {
        fs.rmSync(dir, { recursive: true, force: true });
        const { wal, committed } = open({ segmentBytes });
        const all: string[][] = [];
        for (const [i, n] of sizes.entries()) {
          const ls = lines(`b${i}`, n);
          all.push(ls);
          await durable(wal, ls);
        }
        const k = pick % committed.length;
        const from = committed[k].startPos;
        expect(await readAll(wal, from)).toEqual(committed.slice(k).flatMap((b) => b.text.split('\n')));
        expect(committed.flatMap((b) => b.text.split('\n'))).toEqual(all.flat());
        await wal.close();
      }),
      { numRuns: 40 },
    );
  });

  it('numbers positions by segment and offset', () => {
    expect(walPosition(2, 5)).toBe(2 * 2 ** 32 + 5);
    expect(walPosition(1, 2 ** 31)).toBeLessThan(walPosition(2, 0));
  });
});
