import * as net from 'node:net';
import * as tls from 'node:tls';
import { TOPIC_ROOT } from '@park/telemetry';
import { Duplex } from 'node:stream';
import { Aedes, AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { ConnectIds } from '../auth/client-id.rule';
import { DeviceAuthenticator, DeviceIdentity } from '../auth/device-credentials';
import { reachesProtectedTopics } from '../auth/topic-filter';
import { Clock, systemClock } from '../core/clock';
import { verifiedClientName } from '../config/tls-files';
import { UpgradeHandler } from '../core/upgrade.router';
import { IngestService } from '../ingest/ingest.service';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { untrustedText } from '../observability/untrusted-text';
import { ConnectRateLimiter } from './connect-rate.limiter';
import { DeviceLogin } from './device-login';
import { PacketSizeGuard } from './packet-size.guard';
import { Qos2Receipts } from './qos2-receipts';
import { BrokerStatus, TelemetryBroker } from './telemetry-broker';

/**
 * Largest MQTT packet accepted on a connection. Payloads over 64 KiB
 * (contract §3) still reach the ingest pipeline and are counted as
 * `too_large`; only packets beyond this bound close the connection before
 * they are buffered.
 */
export const MAX_PACKET_BYTES = 1024 * 1024;

/** A connection with this many QoS 1 messages not yet durable is not read further until it has fewer. */
export const MAX_UNACKED_PER_CLIENT = 20_000;

/** PUBACK [MQTT-3.4]: fixed header 0x40, remaining length 2, the packet identifier. */
function pubackPacket(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

export interface EmbeddedBrokerOptions {
  /** MQTT_HOST (contract §8). */
  host: string;
  /** Plain MQTT over TCP; undefined = `MQTT_PORT=off`. */
  port?: number;
  /** mqtts on MQTT_TLS_PORT (contract §8). */
  tls?: { port: number; options: tls.TlsOptions };
  /** undefined = MQTT_AUTH=off. */
  authenticator?: DeviceAuthenticator;
  /** Connection attempts per remote address (MQTT_CONNECT_RATE, MQTT_CONNECT_BURST); absent = no limit. */
  connectRate?: { ratePerS: number; burst: number };
}

/** The part of aedes' persistence (aedes-persistence's documented interface) that QoS 2 needs. */
interface IncomingPersistence {
  incomingDelPacket(client: Client, packet: { messageId?: number }): Promise<unknown>;
}

/**
 * The embedded aedes broker (contract §1): TCP on MQTT_PORT and WebSocket at
 * `/mqtt` on the HTTP server. Telemetry is ingested in `authorizePublish`,
 * which aedes runs before it sends PUBACK, so an acknowledged QoS 1 reading
 * is already in the gateway's write queue.
 */
export class EmbeddedBroker implements TelemetryBroker {
  private aedes?: Aedes;
  private server?: net.Server;
  private tlsServer?: tls.Server;
  private wss?: WebSocketServer;
  private readonly identities = new WeakMap<Client, DeviceIdentity>();
  /** Clients whose CONNECT was accepted (with or without MQTT_AUTH). */
  private readonly accepted = new WeakSet<Client>();
  /** The client id, clean flag and version of each CONNECT as sent (aedes replaces a zero-length id by its own). */
  private readonly connects = new WeakMap<Client, ConnectIds>();
  /** The remote address of each connection's stream (for the log). */
  private readonly remotes = new WeakMap<object, string>();
  /** The verified client-certificate CN of a connection's stream (contract §8, TLS_CA). */
  private readonly certificateNames = new WeakMap<object, string>();
  private readonly login: DeviceLogin;
  private readonly rate?: ConnectRateLimiter;
  private readonly qos2 = new Qos2Receipts();
  /** QoS 1 messages of a connection taken but not yet acknowledged (durable). */
  private readonly unacked = new WeakMap<Client, number>();
  private readonly corked = new Set<Duplex>();
  /** Has any client subscribed to a filter that reaches telemetry (possible only with MQTT_AUTH=off)? */
  private telemetrySubscribed = false;
  private listening = false;
  boundPort?: number;
  tlsBoundPort?: number;

  constructor(
    private readonly opts: EmbeddedBrokerOptions,
    private readonly ingest: IngestService,
    private readonly log: Logger,
    metrics: GatewayMetrics = new GatewayMetrics(),
    clock: Clock = systemClock,
  ) {
    this.login = new DeviceLogin(opts.authenticator, metrics, log, clock);
    if (opts.connectRate && opts.connectRate.ratePerS > 0) this.rate = new ConnectRateLimiter(opts.connectRate.ratePerS, opts.connectRate.burst, () => clock.now());
  }

  async start(): Promise<void> {
    const auth = this.opts.authenticator;
    this.aedes = await Aedes.createBroker({
      // A device's queue of undelivered QoS>0 messages; devices do not
      // subscribe to telemetry, so this only bounds misbehaving clients.
      queueLimit: 1000,
      maxClientsIdLength: 128,
      // Disconnect a client that stops reading instead of stalling delivery.
      drainTimeout: 10_000,
      connectTimeout: 10_000,
      // Only remembers the CONNECT's own fields: preConnect cannot answer
      // with a CONNACK code; authenticate can (contract §8 device identity).
      preConnect: (client: Client, packet: ConnectPacket, done: (err: Error | null, ok: boolean) => void) => {
        this.connects.set(client, { clientId: packet.clientId ?? '', clean: packet.clean !== false, protocolVersion: packet.protocolVersion ?? 4 });
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        const sent = this.connects.get(client) ?? { clientId: client.id, clean: client.clean, protocolVersion: client.version };
        // A client certificate verified against TLS_CA names the device (its CN); DeviceLogin decides.
        const certificateName = this.certificateNames.get(client.conn);
        this.login.admit({ ...sent, username, password, certificateName, remote: this.remotes.get(client.conn) ?? '?' }).then((outcome) => {
          if (!outcome.ok) {
            const err = new Error(outcome.why) as AuthenticateError;
            err.returnCode = outcome.returnCode; // [MQTT-3.2.2-5] CONNACK with this code, then close
            return done(err, false);
          }
          if (outcome.identity) this.identities.set(client, outcome.identity);
          this.accepted.add(client);
          done(null, true);
        });
      },
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.onSubscribe(client, sub, done),
    });
    const id = (client: Client | null) => (client?.id === undefined || client.id === null ? undefined : untrustedText(client.id));
    this.aedes.on('clientError', (client, err) => this.log.debug({ clientId: id(client), err: untrustedText(err.message, 300) }, 'MQTT client error'));
    this.aedes.on('connectionError', (client, err) => this.log.debug({ clientId: id(client), err: untrustedText(err.message, 300) }, 'MQTT connection error'));
    this.trackQos2Releases();
    this.routeTelemetry(this.aedes);

    // noDelay: PUBACKs go out when the log has the readings, a few at a time;
    // Nagle would hold each small write for the device's delayed TCP ACK
    // (~40 ms), capping a connection at a few hundred messages a second.
    if (this.opts.port !== undefined) {
      this.server = net.createServer({ noDelay: true }, (socket) => {
        const remote = socket.remoteAddress ?? '?';
        // Before anything is read or allocated for it (issue 8 finding 6).
        if (!this.admitConnection(remote)) return socket.destroy();
        this.aedes!.handle(this.guard(socket, remote));
      });
      this.boundPort = await listen(this.server, this.opts.port, this.opts.host);
    }
    if (this.opts.tls) {
      this.tlsServer = tls.createServer(this.opts.tls.options, (socket) => {
        socket.setNoDelay(true);
        const stream = this.guard(socket, socket.remoteAddress ?? '?');
        const cn = verifiedClientName(socket);
        if (cn !== undefined) this.certificateNames.set(stream, cn);
        this.aedes!.handle(stream);
      });
      // The per-address limit before the TLS handshake, the costliest step of a bogus connection.
      this.tlsServer.on('connection', (socket: net.Socket) => {
        if (!this.admitConnection(socket.remoteAddress ?? '?')) socket.destroy();
      });
      // A failed handshake (plain MQTT on the TLS port, an expired client
      // certificate the device insists on) is the device's problem, not ours.
      this.tlsServer.on('tlsClientError', (err, socket) => this.log.debug({ remote: socket.remoteAddress, err: untrustedText(err.message, 300) }, 'MQTT TLS handshake failed'));
      this.tlsBoundPort = await listen(this.tlsServer, this.opts.tls.port, this.opts.host);
    }
    this.listening = true;
    this.log.info({ host: this.opts.host, port: this.boundPort ?? 'off', tlsPort: this.tlsBoundPort, auth: auth ? 'required' : 'off', devices: auth?.size }, 'embedded MQTT broker listening');
  }

  /** Swaps the mqtts certificate (SIGHUP reload); connected devices keep their sessions. */
  setSecureContext(options: tls.SecureContextOptions): void {
    this.tlsServer?.setSecureContext(options);
  }

  /** Serves MQTT over WebSocket at `/mqtt` on the gateway's HTTP server (an UpgradeRouter handler). */
  webSocketUpgradeHandler(): UpgradeHandler {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PACKET_BYTES + 16, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false) });
    return (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/mqtt' || !this.aedes) return false;
      const remote = socket.remoteAddress ?? '?';
      if (!this.admitConnection(remote)) {
        socket.end('HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroy();
        return true;
      }
      this.wss!.handleUpgrade(req, socket, head, (ws) => {
        const stream = this.guard(createWebSocketStream(ws), remote);
        const cn = verifiedClientName(socket);
        if (cn !== undefined) this.certificateNames.set(stream, cn);
        this.aedes!.handle(stream, req);
      });
      return true;
    };
  }

  /**
   * Stops taking connections, lets the messages already taken become durable
   * and be acknowledged, then closes every connection.
   */
  async stop(): Promise<void> {
    this.listening = false;
    const closing = Promise.all([this.server, this.tlsServer].map((srv) => new Promise<void>((r) => (srv ? srv.close(() => r()) : r()))));
    await this.ingest.drain();
    await new Promise<void>((r) => (this.aedes ? this.aedes.close(() => r()) : r()));
    this.wss?.clients.forEach((c) => c.terminate());
    this.wss?.close();
    await closing;
  }

  status(): BrokerStatus {
    const url = this.opts.port !== undefined ? `mqtt://${this.opts.host}:${this.boundPort ?? this.opts.port}` : `mqtts://${this.opts.host}:${this.tlsBoundPort ?? this.opts.tls?.port}`;
    const tlsUrl = this.opts.tls && this.opts.port !== undefined ? { tlsUrl: `mqtts://${this.opts.host}:${this.tlsBoundPort ?? this.opts.tls.port}` } : {};
    return { mode: 'embedded', up: this.listening, url, ...tlsUrl, clients: this.aedes?.connectedClients ?? 0 };
  }

  /** The per-address limit on connection attempts (MQTT_CONNECT_RATE): false = close at once. */
  private admitConnection(remote: string): boolean {
    if (!this.rate || this.rate.allow(remote)) return true;
    this.login.rateLimited(remote);
    return false;
  }

  private guard(stream: net.Socket | Duplex, remote: string): PacketSizeGuard {
    const guarded = new PacketSizeGuard(stream, MAX_PACKET_BYTES, (declared) => {
      this.log.warn({ remote, declaredBytes: declared, limit: MAX_PACKET_BYTES }, 'MQTT packet over the size limit; connection closed');
      this.ingest.rejectOversizePacket(remote, declared);
    });
    this.remotes.set(guarded, remote);
    return guarded;
  }

  /**
   * PUBREL ends a QoS 2 exchange: aedes deletes the stored packet then, and
   * so the id is released here too (see Qos2Receipts). A clean session
   * discards the persistent session of its client id [MQTT-3.1.2-6].
   */
  private trackQos2Releases(): void {
    const aedes = this.aedes as Aedes & { persistence: IncomingPersistence };
    const persistence = aedes.persistence;
    const del = persistence.incomingDelPacket.bind(persistence);
    persistence.incomingDelPacket = (client, packet) => {
      if (packet.messageId !== undefined) this.qos2.release(qos2Session(client), packet.messageId);
      return del(client, packet);
    };
    aedes.on('client', (client) => {
      if (client.clean) this.qos2.dropPersistent(client.id);
    });
  }

  private onPublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    const topic = packet.topic;
    // [MQTT-4.7.2-1] $-topics belong to the broker.
    if (topic.startsWith('$')) return done(new Error(`${topic.split('/')[0]} topics are reserved`));
    if (!client) return done(null); // a will published by the broker itself
    // [MQTT-3.2.2-5] after a refused CONNECT nothing more is processed. aedes
    // refuses some CONNECTs itself (protocol level, client id of MQTT 3.1)
    // and may still hand on PUBLISHes pipelined behind them (found by the
    // fuzz harness): with MQTT_AUTH=off they would be ingested. Only a client
    // that passed `authenticate` may publish (not `client.connected`: that
    // comes later than the CONNACK, and a device may publish in between).
    if (!this.accepted.has(client)) return done(new Error('PUBLISH without an accepted CONNECT'));
    const identity = this.identities.get(client);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const ctx = { clientId: client.id, username: identity?.username };
    if (this.opts.authenticator && !(identity && DeviceAuthenticator.mayPublish(identity, topic))) {
      this.ingest.rejectUnauthorized(topic, payload, `${identity ? `user "${identity.username}"` : 'this client'} may not publish to ${topic}`, ctx);
      // MQTT 3.1.1 has no negative PUBACK: the connection is closed, as other
      // brokers do, so a device with a wrong ACL is visible at once.
      return done(new Error(`not authorized to publish to ${topic}`));
    }
    if (topic === TOPIC_ROOT || topic.startsWith(`${TOPIC_ROOT}/`)) {
      // Contract §2: the retain flag is ignored for telemetry. Cleared before
      // aedes publishes, so the message is never stored as retained, never
      // sent to a later subscriber, and stored in InfluxDB once.
      packet.retain = false;
      // QoS 2: a retransmission (DUP) of a message still awaiting PUBREL is
      // answered (PUBREC) but not ingested again (issue 8 finding 8).
      const session = qos2Session(client);
      const exactlyOnce = packet.qos === 2 && typeof packet.messageId === 'number' && !client.closed;
      if (exactlyOnce) {
        const take = this.qos2.take(session, packet.messageId as number);
        if (take === 'duplicate') return this.ingest.barrier((err) => done(err ?? null));
        if (take === 'full') return done(new Error('more than 1000 QoS 2 messages awaiting PUBREL'));
      }
      if (packet.qos === 1 && typeof packet.messageId === 'number') {
        // [MQTT-4.3.2] the QoS 1 obligation is ours now; aedes routes the message as QoS 0.
        packet.qos = 0;
        return this.publishAtLeastOnce(client, packet.messageId, topic, payload, ctx, done);
      }
      // aedes sends the PUBREC (QoS 2) when `done` is called: only once the
      // readings are in the write-ahead log (contract §8 durability). A
      // reading that could not be made durable closes the connection
      // unacknowledged; the device sends it again.
      this.ingest.handle(topic, payload, ctx, (err) => {
        if (err && exactlyOnce) this.qos2.release(session, packet.messageId as number);
        done(err ?? null);
      });
      return;
    }
    // Not telemetry: acknowledged in its turn, after the messages before it [MQTT-4.6.0-2].
    this.ingest.barrier((err) => done(err ?? null));
  }

  /**
   * A QoS 1 telemetry message. aedes would send the PUBACK when `done` is
   * called, and read the connection's next packets only once every packet of
   * the current read is done: waiting there for the log would allow one read
   * per disk flush on a connection. So aedes takes the message as QoS 0 (no
   * PUBACK of its own, nothing stored) and goes on reading at once, and the
   * PUBACK is written here when the readings are in the write-ahead log
   * (contract §8), in arrival order [MQTT-4.6.0-2]. A connection with more
   * than MAX_UNACKED_PER_CLIENT messages not yet durable is not read until it
   * has fewer: memory stays bounded whatever a device sends.
   */
  private publishAtLeastOnce(client: Client, messageId: number, topic: string, payload: Buffer, ctx: { clientId: string; username?: string }, done: (err?: Error | null) => void): void {
    const c = client as Client & { conn: Duplex; pause(): void; resume(): void };
    const unacked = (this.unacked.get(client) ?? 0) + 1;
    this.unacked.set(client, unacked);
    if (unacked === MAX_UNACKED_PER_CLIENT) c.pause();
    this.ingest.handle(topic, payload, ctx, (err) => {
      const left = (this.unacked.get(client) ?? 1) - 1;
      this.unacked.set(client, left);
      if (client.closed) return; // the device sends it again on its next connection
      if (err) {
        c.conn.destroy(err);
        return;
      }
      this.corkUntilNextTick(c.conn);
      c.conn.write(pubackPacket(messageId));
      if (left === MAX_UNACKED_PER_CLIENT - 1) c.resume();
    });
    done(null);
  }

  /** The PUBACKs of one group commit leave in one write per connection. */
  private corkUntilNextTick(conn: Duplex): void {
    if (this.corked.has(conn)) return;
    this.corked.add(conn);
    conn.cork();
    if (this.corked.size === 1) {
      process.nextTick(() => {
        for (const k of this.corked) k.uncork();
        this.corked.clear();
      });
    }
  }

  private onSubscribe(client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void {
    if (this.opts.authenticator && reachesProtectedTopics(sub.topic)) {
      this.log.warn({ clientId: untrustedText(client.id), filter: untrustedText(sub.topic) }, 'MQTT subscription refused: devices may not subscribe to park/ or $SYS topics');
      return done(null, null); // SUBACK 0x80 for this filter; the connection stays
    }
    // With MQTT_AUTH=off a client may subscribe to telemetry: from then on
    // telemetry is routed to subscribers like any message (see routeTelemetry).
    if (reachesProtectedTopics(sub.topic)) this.telemetrySubscribed = true;
    done(null, sub);
  }

  /**
   * aedes routes every message it takes to matching subscriptions (a topic
   * trie lookup and a packet copy per message). Nobody can subscribe to
   * telemetry while devices authenticate, so telemetry skips that step; once
   * some client has subscribed to it (MQTT_AUTH=off), it is routed as usual.
   */
  private routeTelemetry(aedes: Aedes): void {
    const publish = aedes.publish.bind(aedes) as unknown as (packet: PublishPacket, client: Client | null, done?: (err?: Error) => void) => void;
    (aedes as unknown as { publish: typeof publish }).publish = (packet, client, done) => {
      const topic = packet.topic;
      if (!this.telemetrySubscribed && typeof client !== 'function' && (topic === TOPIC_ROOT || topic.startsWith(`${TOPIC_ROOT}/`))) {
        done?.();
        return;
      }
      publish(packet, client, done);
    };
  }
}

/** A QoS 2 session's key: a clean session is its connection; a persistent one its client id. */
function qos2Session(client: Client): object | string {
  return client.clean ? client : client.id;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}
