/**
 * MQTT 3.1.1 packets by hand, for tests and the fuzz harness that must send
 * what well-behaved clients never do: a DUP retransmission before PUBREL, a
 * zero-length client id with a persistent session, broken lengths. Encoding
 * per MQTT 3.1.1 §2–§3; a small reader splits what the broker answers.
 */
import * as net from 'node:net';

/** Control packet types (§2.2.1). */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

/** The Remaining Length varint (§2.2.3). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A UTF-8 string with its 2-byte length (§1.5.3). */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A packet: the first byte (type and flags), the Remaining Length, the body. */
export function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | (flags & 0x0f)]), varint(body.length), body]);
}

export interface ConnectOptions {
  clientId: string;
  clean?: boolean;
  username?: string;
  password?: string | Buffer;
  keepaliveS?: number;
  /** 4 = MQTT 3.1.1 (default), 3 = MQTT 3.1 (protocol name MQIsdp), 5 = MQTT 5 (refused by aedes). */
  protocolVersion?: 3 | 4 | 5;
  will?: { topic: string; payload: Buffer | string; qos?: 0 | 1 | 2; retain?: boolean };
}

/** CONNECT (§3.1). */
export function connect(o: ConnectOptions): Buffer {
  const version = o.protocolVersion ?? 4;
  let flags = 0;
  if (o.clean !== false) flags |= 0x02;
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (o.password !== undefined) flags |= 0x40;
  if (o.username !== undefined) flags |= 0x80;
  const parts = [str(version === 3 ? 'MQIsdp' : 'MQTT'), Buffer.from([version, flags]), u16(o.keepaliveS ?? 60)];
  if (version === 5) parts.push(varint(0)); // no properties
  parts.push(str(o.clientId));
  if (o.will) {
    if (version === 5) parts.push(varint(0));
    parts.push(str(o.will.topic), str(typeof o.will.payload === 'string' ? Buffer.from(o.will.payload) : o.will.payload));
  }
  if (o.username !== undefined) parts.push(str(o.username));
  if (o.password !== undefined) parts.push(str(o.password));
  return packet(PacketType.CONNECT, 0, Buffer.concat(parts));
}

export interface PublishOptions {
  topic: string;
  payload: Buffer | string;
  qos?: 0 | 1 | 2;
  messageId?: number;
  dup?: boolean;
  retain?: boolean;
}

/** PUBLISH (§3.3). */
export function publish(o: PublishOptions): Buffer {
  const qos = o.qos ?? 0;
  const flags = (o.dup ? 0x08 : 0) | (qos << 1) | (o.retain ? 0x01 : 0);
  const parts = [str(o.topic)];
  if (qos > 0) parts.push(u16(o.messageId ?? 1));
  parts.push(typeof o.payload === 'string' ? Buffer.from(o.payload) : o.payload);
  return packet(PacketType.PUBLISH, flags, Buffer.concat(parts));
}

/** PUBREL (§3.6: flags 0010). */
export function pubrel(messageId: number): Buffer {
  return packet(PacketType.PUBREL, 0x02, u16(messageId));
}

/** SUBSCRIBE (§3.8: flags 0010). */
export function subscribe(messageId: number, filters: Array<[string, 0 | 1 | 2]>): Buffer {
  return packet(PacketType.SUBSCRIBE, 0x02, Buffer.concat([u16(messageId), ...filters.map(([f, q]) => Buffer.concat([str(f), Buffer.from([q])]))]));
}

export const pingreq = (): Buffer => packet(PacketType.PINGREQ, 0, Buffer.alloc(0));
export const disconnect = (): Buffer => packet(PacketType.DISCONNECT, 0, Buffer.alloc(0));

/** A packet the broker sent. */
export interface WirePacket {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits a byte stream into packets. */
export class PacketReader {
  private buf = Buffer.alloc(0);

  /** Adds bytes; returns the packets now complete. */
  push(chunk: Buffer): WirePacket[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: WirePacket[] = [];
    for (;;) {
      if (this.buf.length < 2) return out;
      let len = 0;
      let mult = 1;
      let i = 1;
      for (; ; i++) {
        if (i >= this.buf.length) return out;
        len += (this.buf[i] & 0x7f) * mult;
        mult *= 128;
        if ((this.buf[i] & 0x80) === 0) break;
      }
      const start = i + 1;
      if (this.buf.length < start + len) return out;
      out.push({ type: this.buf[0] >> 4, flags: this.buf[0] & 0x0f, body: this.buf.subarray(start, start + len) });
      this.buf = this.buf.subarray(start + len);
    }
  }
}

/** The 2-byte packet identifier at the start of a PUBACK/PUBREC/PUBCOMP body. */
export const messageIdOf = (p: WirePacket): number => p.body.readUInt16BE(0);

/**
 * A raw MQTT connection: sends bytes as given, collects what comes back.
 * `next(type)` waits for the next packet of that type (or any type).
 */
export class RawMqttClient {
  readonly received: WirePacket[] = [];
  private readonly reader = new PacketReader();
  private waiters: Array<{ type?: number; resolve: (p: WirePacket) => void; reject: (e: Error) => void }> = [];
  private taken = 0;
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) {
        this.received.push(p);
        this.serve();
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
        resolve();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, localAddress, noDelay: true }, () => resolve(new RawMqttClient(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(...packets: Buffer[]): void {
    if (!this.isClosed) this.socket.write(Buffer.concat(packets));
  }

  /** The next packet not yet taken, of `type` if given (packets of other types before it are skipped). */
  next(type?: number, timeoutMs = 10_000): Promise<WirePacket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet of type ${type ?? 'any'} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (p) => (clearTimeout(timer), resolve(p)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.serve();
      if (this.isClosed) this.serve();
    });
  }

  /** CONNECT, then the CONNACK's return code (or 'closed' when the broker closed without one). */
  async connect(o: ConnectOptions): Promise<number | 'closed'> {
    this.send(connect(o));
    try {
      const ack = await this.next(PacketType.CONNACK);
      return ack.body[1];
    } catch {
      return 'closed';
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private serve(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      let found: WirePacket | undefined;
      while (this.taken < this.received.length) {
        const p = this.received[this.taken++];
        if (w.type === undefined || p.type === w.type) {
          found = p;
          break;
        }
      }
      if (!found) {
        if (this.isClosed) {
          this.waiters.shift();
          w.reject(new Error('connection closed'));
          continue;
        }
        return;
      }
      this.waiters.shift();
      w.resolve(found);
    }
  }
}
