/**
 * A lean MQTT 3.1.1 QoS 1 publisher for the load generator: one TCP
 * connection, a window of in-flight packet ids, PUBACKs counted. MQTT.js
 * cannot publish 40,000+ QoS 1 messages/s from one process (a promise, a
 * store entry and a timer per message); this keeps one flag per packet id.
 *
 * mqtt-packet parses what the broker sends and encodes CONNECT, PINGREQ and
 * DISCONNECT; PUBLISH is encoded here (half the cost of mqtt-packet's
 * `generate`, measured: the generator shares the cores with the system under
 * test, so every microsecond it spends is taken from the measurement).
 */
import * as net from 'node:net';
import mqttPacket from 'mqtt-packet';

/** Where and as whom to connect. */
export interface PublisherOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** Most QoS 1 messages awaiting PUBACK at once (1..65535). */
  window: number;
  /** MQTT keep alive, seconds; PINGREQ is sent when the connection was quiet for that long (0: off). */
  keepaliveS: number;
  /** Source address (127.0.0.x): many loopback connections need more than one address's ephemeral ports. */
  localAddress?: string;
  /** Fails the connect when no CONNACK came in this time (scrypt checks of thousands of devices queue up). */
  connackTimeoutMs: number;
  /** clean session flag [MQTT-3.1.2-4]; default true. */
  clean?: boolean;
}

/** CONNACK return codes [MQTT-3.2.2-3], for messages. */
const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** A connected publisher. Create with {@link QosOnePublisher.connect}. */
export class QosOnePublisher {
  /** PUBLISH packets written. */
  sent = 0;
  /** PUBACKs received. */
  acked = 0;
  /** PUBACKs for ids not in flight (a broker bug or a duplicate): should stay 0. */
  strayAcks = 0;
  /** Called after each PUBACK with its packet id (the generator sends what is owed; the drill records what was acknowledged). */
  onAck: (packetId: number) => void = () => undefined;
  /** Called once when the connection ends, with the reason. */
  onClose: (reason: string) => void = () => undefined;
  closed = false;

  private readonly inUse = new Uint8Array(65536);
  private inflightCount = 0;
  private nextId = 1;
  private lastWriteAt = Date.now();
  private pingTimer?: NodeJS.Timeout;

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: PublisherOptions,
  ) {}

  /** Connects, sends CONNECT, resolves on CONNACK 0; rejects with the broker's reason, a socket error or a timeout. */
  static connect(options: PublisherOptions): Promise<QosOnePublisher> {
    if (!(options.window >= 1 && options.window <= 65535)) throw new Error(`window must be 1..65535 packet ids, got ${options.window}`);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
      socket.setNoDelay(true);
      const publisher = new QosOnePublisher(socket, options);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      let connected = false;
      const fail = (reason: string) => {
        clearTimeout(timer);
        if (!connected) reject(new Error(`${options.clientId}: ${reason}`));
      };
      const timer = setTimeout(() => {
        fail(`no CONNACK within ${options.connackTimeoutMs} ms`);
        socket.destroy();
      }, options.connackTimeoutMs);
      parser.on('packet', (packet) => {
        if (packet.cmd === 'puback') publisher.handleAck(packet.messageId ?? 0);
        else if (packet.cmd === 'connack') {
          clearTimeout(timer);
          const code = packet.returnCode ?? 0;
          if (code !== 0) {
            fail(`CONNACK ${code} (${CONNACK_REASONS[code] ?? 'refused'})`);
            socket.destroy();
            return;
          }
          connected = true;
          publisher.startKeepalive();
          resolve(publisher);
        }
      });
      parser.on('error', (error: Error) => {
        socket.destroy();
        publisher.close(`unparseable packet from the broker: ${error.message}`);
      });
      socket.on('data', (data) => parser.parse(data));
      socket.on('error', (error) => {
        fail(error.message);
        publisher.close(error.message);
      });
      socket.on('close', () => {
        fail('connection closed before CONNACK');
        publisher.close('connection closed by the broker');
      });
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: options.clean ?? true,
          clientId: options.clientId,
          keepalive: options.keepaliveS,
          username: options.username,
          password: options.password === undefined ? undefined : Buffer.from(options.password),
        }),
      );
    });
  }

  /** QoS 1 messages awaiting their PUBACK. */
  get inflight(): number {
    return this.inflightCount;
  }

  /** Whether the window has room for another message. */
  get canSend(): boolean {
    return !this.closed && this.inflightCount < this.options.window;
  }

  /** Writes one QoS 1 PUBLISH and returns its packet id; the caller checks {@link canSend} first. Topic and payload are ASCII here. */
  publish(topic: string, payload: string): number {
    let id = this.nextId;
    while (this.inUse[id] === 1) id = id === 65535 ? 1 : id + 1;
    this.nextId = id === 65535 ? 1 : id + 1;
    this.inUse[id] = 1;
    this.inflightCount += 1;
    this.sent += 1;
    // [MQTT-3.3.1] fixed header: PUBLISH, QoS 1 (0x32), remaining length as a
    // variable byte integer [MQTT-2.2.3]; [MQTT-3.3.2] topic name and packet
    // identifier; then the payload.
    const remaining = 2 + topic.length + 2 + payload.length;
    const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : 3;
    const packet = Buffer.allocUnsafe(1 + lengthBytes + remaining);
    packet[0] = 0x32;
    let at = 1;
    let rest = remaining;
    do {
      let byte = rest % 128;
      rest = Math.floor(rest / 128);
      if (rest > 0) byte |= 0x80;
      packet[at++] = byte;
    } while (rest > 0);
    packet.writeUInt16BE(topic.length, at);
    at += 2;
    at += packet.write(topic, at, 'latin1');
    packet.writeUInt16BE(id, at);
    at += 2;
    packet.write(payload, at, 'latin1');
    this.socket.write(packet);
    this.lastWriteAt = Date.now();
    return id;
  }

  /** Batches the writes of one pacing tick into fewer syscalls. */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Sends DISCONNECT and closes; resolves when the socket is closed. */
  async end(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await done;
    clearTimeout(timer);
  }

  private handleAck(id: number): void {
    if (this.inUse[id] !== 1) {
      this.strayAcks += 1;
      return;
    }
    this.inUse[id] = 0;
    this.inflightCount -= 1;
    this.acked += 1;
    this.onAck(id);
  }

  private startKeepalive(): void {
    if (this.options.keepaliveS <= 0) return;
    // [MQTT-3.1.2-23]: the client must send a control packet within the keep
    // alive; a PINGREQ when nothing else went out for half of it.
    const halfMs = (this.options.keepaliveS * 1000) / 2;
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastWriteAt >= halfMs && !this.closed) {
        this.socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
        this.lastWriteAt = Date.now();
      }
    }, halfMs);
    this.pingTimer.unref();
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.onClose(reason);
  }
}
