import { crc32 } from 'node:zlib';

/**
 * The on-disk unit of the write-ahead log: one group commit of line-protocol
 * lines, framed so that a crash in the middle of a write is recognised at
 * the next start and cut off instead of being replayed as garbage.
 *
 *     offset  size  field
 *     0       4     magic "PTW1"
 *     4       4     payload length, bytes (uint32 LE)
 *     8       4     lines in the payload (uint32 LE)
 *     12      4     CRC-32 of the payload (uint32 LE, zlib's)
 *     16      n     payload: UTF-8 line protocol, lines joined by "\n"
 */
export const BLOCK_MAGIC = 0x31575450; // "PTW1" read as little-endian uint32
export const BLOCK_HEADER_BYTES = 16;
/** Largest payload a block may declare; anything larger is taken for damage. */
export const MAX_BLOCK_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Frames one payload. */
export function encodeBlock(payload: Buffer, lines: number): Buffer {
  const block = Buffer.allocUnsafe(BLOCK_HEADER_BYTES + payload.length);
  block.writeUInt32LE(BLOCK_MAGIC, 0);
  block.writeUInt32LE(payload.length, 4);
  block.writeUInt32LE(lines, 8);
  block.writeUInt32LE(crc32(payload), 12);
  payload.copy(block, BLOCK_HEADER_BYTES);
  return block;
}

/** What {@link decodeBlock} found at an offset. */
export type DecodedBlock =
  | { kind: 'block'; payload: Buffer; lines: number; bytes: number }
  /** The buffer ends inside the block: read more, or (at the end of a file) a torn write. */
  | { kind: 'incomplete' }
  /** Not a block: bad magic, an absurd length or a checksum mismatch. */
  | { kind: 'damaged'; why: string };

/** Reads the block that starts at `offset` of `buf`. Never throws. */
export function decodeBlock(buf: Buffer, offset: number): DecodedBlock {
  if (buf.length - offset < BLOCK_HEADER_BYTES) return { kind: 'incomplete' };
  if (buf.readUInt32LE(offset) !== BLOCK_MAGIC) return { kind: 'damaged', why: 'no block starts here (bad magic)' };
  const length = buf.readUInt32LE(offset + 4);
  if (length > MAX_BLOCK_PAYLOAD_BYTES) return { kind: 'damaged', why: `declared payload of ${length} bytes is too large` };
  if (buf.length - offset < BLOCK_HEADER_BYTES + length) return { kind: 'incomplete' };
  const payload = buf.subarray(offset + BLOCK_HEADER_BYTES, offset + BLOCK_HEADER_BYTES + length);
  if (crc32(payload) !== buf.readUInt32LE(offset + 12)) return { kind: 'damaged', why: 'checksum mismatch' };
  return { kind: 'block', payload, lines: buf.readUInt32LE(offset + 8), bytes: BLOCK_HEADER_BYTES + length };
}
