import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskSpool, SpoolSegment } from './disk-spool';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-spool-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const never = () => {
  throw new Error('nothing should be dropped');
};
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `m,t=${prefix} v=${i} ${1000 + i}`);

/** Empties a spool oldest first, as the sink replays it. */
function drain(spool: DiskSpool): string[][] {
  const out: string[][] = [];
  for (let head = spool.peek(); head; head = spool.peek()) {
    out.push(head.lines);
    spool.ack(head.segment);
  }
  return out;
}

describe('DiskSpool', () => {
  it('starts empty and creates its directory', () => {
    const spool = new DiskSpool(path.join(dir, 'a/b'), 1e6, never);
    expect(spool.isEmpty).toBe(true);
    expect(spool.size).toEqual({ segments: 0, lines: 0, bytes: 0 });
    expect(spool.peek()).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'a/b'))).toBe(true);
  });

  it('gives batches back oldest first, one per peek, until acked', () => {
    const spool = new DiskSpool(dir, 1e6, never);
    spool.append(lines('a', 3));
    spool.append(lines('b', 2));
    spool.append([]); // nothing to keep
    expect(spool.size).toMatchObject({ segments: 2, lines: 5 });
    const first = spool.peek()!;
    expect(first.lines).toEqual(lines('a', 3));
    expect(spool.peek()!.lines).toEqual(lines('a', 3)); // peek does not consume
    spool.ack(first.segment);
    spool.ack(first.segment); // a second ack is harmless
    expect(spool.size).toMatchObject({ segments: 1, lines: 2 });
    expect(drain(spool)).toEqual([lines('b', 2)]);
    expect(spool.isEmpty).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('keeps each batch in one file named by sequence and line count', () => {
    const spool = new DiskSpool(dir, 1e6, never);
    spool.append(lines('a', 3));
    spool.append(lines('b', 12));
    expect(fs.readdirSync(dir).sort()).toEqual(['0000000000000001-3.lp', '0000000000000002-12.lp']);
    const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(spool.size.bytes).toBe(bytes);
  });

  it('survives a restart: a new instance over the same directory has the same batches in order', () => {
    const before = new DiskSpool(dir, 1e6, never);
    for (let i = 0; i < 12; i++) before.append(lines(`s${i}`, i + 1));
    before.ack(before.peek()!.segment);
    const size = before.size;

    const after = new DiskSpool(dir, 1e6, never);
    expect(after.size).toEqual(size);
    // sequence numbers continue after the highest one found
    after.append(lines('new', 1));
    expect(drain(after)).toEqual([...Array.from({ length: 11 }, (_, i) => lines(`s${i + 1}`, i + 2)), lines('new', 1)]);
  });

  it('removes .tmp leftovers of an append cut short, and ignores foreign files', () => {
    const spool = new DiskSpool(dir, 1e6, never);
    spool.append(lines('a', 2));
    fs.writeFileSync(path.join(dir, '0000000000000002-5.lp.tmp'), 'm v=1 1\nm v=2');
    fs.writeFileSync(path.join(dir, 'README'), 'not a segment');
    const reopened = new DiskSpool(dir, 1e6, never);
    expect(fs.readdirSync(dir).sort()).toEqual(['0000000000000001-2.lp', 'README']);
    expect(reopened.size).toMatchObject({ segments: 1, lines: 2 });
    expect(drain(reopened)).toEqual([lines('a', 2)]);
  });

  it('drops the oldest batches at its bound and says how many lines (never silently)', () => {
    const dropped: Array<[number, SpoolSegment]> = [];
    const one = Buffer.byteLength(lines('a', 10).join('\n') + '\n');
    const spool = new DiskSpool(dir, one * 3, (n, seg) => dropped.push([n, seg]));
    spool.append(lines('a', 10));
    spool.append(lines('b', 10));
    spool.append(lines('c', 10));
    expect(dropped).toEqual([]);
    spool.append(lines('d', 10));
    spool.append(lines('e', 10));
    expect(dropped.map(([n, seg]) => [n, path.basename(seg.file)])).toEqual([
      [10, '0000000000000001-10.lp'],
      [10, '0000000000000002-10.lp'],
    ]);
    expect(spool.size).toEqual({ segments: 3, lines: 30, bytes: one * 3 });
    expect(drain(spool)).toEqual([lines('c', 10), lines('d', 10), lines('e', 10)]);
  });

  it('keeps the newest batch even when it alone is over the bound', () => {
    const dropped: number[] = [];
    const spool = new DiskSpool(dir, 10, (n) => dropped.push(n));
    spool.append(lines('a', 4));
    spool.append(lines('b', 5));
    expect(dropped).toEqual([4]);
    expect(drain(spool)).toEqual([lines('b', 5)]);
  });
});
