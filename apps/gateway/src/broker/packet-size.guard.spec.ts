import { Duplex, PassThrough } from 'node:stream';
import { varint } from '../testing/mqtt-wire';
import { PacketSizeGuard } from './packet-size.guard';

/** One packet: a fixed header and a body of `bodyBytes` recognisable bytes. */
function packet(type: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes);
  for (let i = 0; i < bodyBytes; i++) body[i] = (i * 7 + type) & 0xff;
  return Buffer.concat([Buffer.from([type]), varint(bodyBytes), body]);
}

/** A socket stand-in: `device` writes reach the guard, the guard's writes reach `toDevice`. */
function connection(maxBytes: number) {
  const device = new PassThrough();
  const toDevice = new PassThrough();
  const inner = Duplex.from({ readable: device, writable: toDevice });
  const oversize: number[] = [];
  const guard = new PacketSizeGuard(inner, maxBytes, (n) => oversize.push(n));
  const received: Buffer[] = [];
  guard.on('data', (c: Buffer) => received.push(c));
  guard.on('error', () => undefined);
  const ended = new Promise<void>((r) => {
    guard.on('end', r);
    guard.on('close', r);
  });
  return { device, toDevice, inner, guard, oversize, received: () => Buffer.concat(received), ended };
}

const MAX = 300;
// CONNECT, PUBLISH (1- and 2-byte lengths, one exactly at the limit), PINGREQ (empty body), SUBSCRIBE
const stream = Buffer.concat([packet(0x10, 40), packet(0x30, 127), packet(0x32, 128), packet(0xc0, 0), packet(0x30, MAX), packet(0x82, 9), packet(0xe0, 0)]);

describe('PacketSizeGuard', () => {
  it('passes packets under the limit byte-identical, whatever the split into two chunks', async () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const c = connection(MAX);
      c.device.write(stream.subarray(0, cut));
      c.device.end(stream.subarray(cut));
      await c.ended;
      expect(c.oversize).toEqual([]);
      expect(c.received().equals(stream)).toBe(true);
    }
  });

  it('passes them byte-identical when every byte arrives alone', async () => {
    const c = connection(MAX);
    for (let i = 0; i < stream.length; i++) c.device.write(stream.subarray(i, i + 1));
    c.device.end();
    await c.ended;
    expect(c.oversize).toEqual([]);
    expect(c.received().equals(stream)).toBe(true);
  });

  it('handles 3- and 4-byte lengths, split inside their headers', async () => {
    // 20 000 needs a 3-byte Remaining Length, 2 100 000 a 4-byte one
    const first = packet(0x30, 20_000);
    const big = Buffer.concat([first, packet(0x30, 2_100_000), packet(0xc0, 0)]);
    expect(first.length).toBe(20_004);
    const c = connection(3_000_000);
    let at = 0;
    for (const cut of [2, 3, 20_005, 20_006, 20_008, 1_000_000, big.length]) {
      c.device.write(big.subarray(at, cut));
      at = cut;
    }
    c.device.end();
    await c.ended;
    expect(c.oversize).toEqual([]);
    expect(c.received().equals(big)).toBe(true);
  });

  it.each([
    ['in one chunk', [Infinity]],
    ['with the length split across chunks', [stream.length + 2, 1]],
    ['with the type byte alone', [stream.length + 1]],
  ])('closes the connection on a declared size over the limit %s', async (_what, cuts) => {
    const c = connection(MAX);
    const oversize = Buffer.concat([Buffer.from([0x30, ...varint(MAX + 1)]), Buffer.alloc(20, 0x61)]);
    const all = Buffer.concat([stream, oversize, packet(0xc0, 0)]);
    let at = 0;
    for (const n of [...cuts, Infinity]) {
      const end = Math.min(all.length, at + n);
      if (end > at && !c.guard.destroyed) c.device.write(all.subarray(at, end));
      at = end;
    }
    await c.ended;
    expect(c.oversize).toEqual([MAX + 1]);
    expect(c.guard.destroyed).toBe(true);
    expect(c.inner.destroyed).toBe(true);
    // what came before the oversize packet went through, none of it after
    expect(c.received().equals(stream.subarray(0, Math.min(stream.length, c.received().length)))).toBe(true);
    expect(c.received().length).toBeLessThanOrEqual(stream.length);
  });

  it('reports the largest declarable size (4-byte varint)', async () => {
    const c = connection(MAX);
    c.device.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    await c.ended;
    expect(c.oversize).toEqual([268_435_455]);
  });

  it('passes the broker’s writes to the connection and ends it', async () => {
    const c = connection(MAX);
    const sent: Buffer[] = [];
    c.toDevice.on('data', (b: Buffer) => sent.push(b));
    const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
    await new Promise<void>((r) => c.guard.write(connack, () => r()));
    c.guard.end();
    await new Promise<void>((r) => c.toDevice.on('end', r));
    expect(Buffer.concat(sent).equals(connack)).toBe(true);
  });
});
