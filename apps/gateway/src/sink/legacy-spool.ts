import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../observability/logger';
import { WriteAheadLog } from './write-ahead.log';

const SEGMENT = /^(\d{16})-(\d+)\.lp$/;

/**
 * Moves what an older gateway left in its disk spool (`SPOOL_DIR`, one
 * line-protocol file per batch) into the write-ahead log, oldest first, so
 * an upgrade loses nothing. Each file is deleted once its lines are durable
 * in the log. Returns the lines moved.
 */
export async function importLegacySpool(dir: string, wal: WriteAheadLog, log: Logger): Promise<number> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
  } catch {
    return 0; // no spool folder: nothing to import
  }
  let moved = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
    if (lines.length > 0) {
      await new Promise<void>((resolve, reject) => wal.append(lines.join('\n'), lines.length, (e) => (e ? reject(e) : resolve())));
    }
    fs.rmSync(file, { force: true });
    moved += lines.length;
  }
  if (moved > 0) log.warn({ dir, lines: moved, files: names.length }, 'imported the points an older version had spooled into the write-ahead log');
  return moved;
}
