import { Duplex } from 'node:stream';

/**
 * Wraps a connection so that an MQTT packet whose declared size exceeds
 * `maxBytes` closes it before the broker buffers the packet (aedes has no
 * packet size limit of its own). It reads only fixed headers (MQTT 3.1.1
 * §2.2: a type byte, then the Remaining Length as a 1–4 byte varint) and
 * skips bodies, so the cost is a few operations per chunk.
 */
/** How much a connection may have read ahead of aedes. */
export const READ_BUFFER_BYTES = 1024 * 1024;

export class PacketSizeGuard extends Duplex {
  private state: 'type' | 'length' | 'body' = 'type';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(
    private readonly inner: Duplex,
    private readonly maxBytes: number,
    private readonly onOversize: (declaredBytes: number) => void,
  ) {
    // aedes reads everything buffered, handles those packets, and reads
    // again only when all of them are acknowledged (now: durable). The
    // default 16 KiB buffer would cap that at some 170 small PUBLISHes per
    // round; 1 MiB lets one round (one group commit) take what arrived.
    super({ allowHalfOpen: false, readableHighWaterMark: READ_BUFFER_BYTES });
    inner.on('data', (chunk: Buffer) => {
      const declared = this.scan(chunk);
      if (declared > 0) {
        this.onOversize(declared);
        inner.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (e) => this.destroy(e));
    inner.on('close', () => this.destroy());
  }

  /** Returns the declared size of an oversize packet, or 0 when all is well. */
  private scan(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++];
        this.remaining += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if ((b & 0x80) === 0 || this.lengthBytes === 4) {
          if (this.remaining > this.maxBytes) return this.remaining;
          this.state = this.remaining === 0 ? 'type' : 'body';
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
      }
    }
    return 0;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.inner.write(chunk, cb);
  }

  /**
   * Corked writes (mqtt-packet corks each packet; the acknowledgements of a
   * group commit come in one burst) reach the socket as one `writev`, not a
   * system call per piece of each PUBACK.
   */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    this.inner.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.inner.write(chunks[i].chunk);
    this.inner.write(chunks[chunks.length - 1].chunk, cb);
    this.inner.uncork();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
