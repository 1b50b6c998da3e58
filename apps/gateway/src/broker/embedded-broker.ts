import * as net from 'node:net';
import * as tls from 'node:tls';
import { TOPIC_ROOT } from '@park/telemetry';
import { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { DeviceAuthenticator, DeviceIdentity } from '../auth/device-credentials';
import { reachesProtectedTopics } from '../auth/topic-filter';
import { UpgradeHandler } from '../core/upgrade.router';
import { verifiedClientName } from '../config/tls-files';
import { IngestService } from '../ingest/ingest.service';
import { Logger } from '../observability/logger';
import { PacketSizeGuard } from './packet-size.guard';
import { BrokerStatus, TelemetryBroker } from './telemetry-broker';

/**
 * Largest MQTT packet accepted on a connection. Payloads over 64 KiB
 * (contract §3) still reach the ingest pipeline and are counted as
 * `too_large`; only packets beyond this bound close the connection before
 * they are buffered.
 */
export const MAX_PACKET_BYTES = 1024 * 1024;

export interface EmbeddedBrokerOptions {
  /** MQTT_HOST (contract §8). */
  host: string;
  /** Plain MQTT over TCP; undefined = `MQTT_PORT=off`. */
  port?: number;
  /** mqtts on MQTT_TLS_PORT (contract §8). */
  tls?: { port: number; options: tls.TlsOptions };
  /** undefined = MQTT_AUTH=off. */
  authenticator?: DeviceAuthenticator;
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
  /** The verified client-certificate CN of a connection's stream (contract §8, TLS_CA). */
  private readonly certificateNames = new WeakMap<object, string>();
  private listening = false;
  boundPort?: number;
  tlsBoundPort?: number;

  constructor(
    private readonly opts: EmbeddedBrokerOptions,
    private readonly ingest: IngestService,
    private readonly log: Logger,
  ) {}

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
      authenticate: (client, username, password, done) => {
        if (!auth) return done(null, true);
        // A client certificate verified against TLS_CA whose CN is a known
        // device logs that device in without a password; a username other
        // than the CN is judged by its password, as without a certificate.
        const cn = this.certificateNames.get(client.conn);
        const byCertificate = cn !== undefined && (username === undefined || username === cn) ? auth.authenticateCertificate(cn) : undefined;
        if (byCertificate) {
          this.identities.set(client, byCertificate);
          return done(null, true);
        }
        auth.authenticate(username, password).then(
          (identity) => {
            if (!identity) {
              this.log.warn({ clientId: client.id, username }, 'MQTT connection refused: bad username or password');
              const err = new Error('bad username or password') as AuthenticateError;
              err.returnCode = 4; // [MQTT-3.2.2] CONNACK 0x04 bad user name or password
              return done(err, false);
            }
            this.identities.set(client, identity);
            done(null, true);
          },
          (e: Error) => {
            const err = new Error(e.message) as AuthenticateError;
            err.returnCode = 3; // server unavailable
            done(err, false);
          },
        );
      },
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.onSubscribe(client, sub, done),
    });
    this.aedes.on('clientError', (client, err) => this.log.debug({ clientId: client?.id, err: err.message }, 'MQTT client error'));
    this.aedes.on('connectionError', (client, err) => this.log.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error'));

    // noDelay: PUBACKs go out when the log has the readings, a few at a time;
    // Nagle would hold each small write for the device's delayed TCP ACK
    // (~40 ms), capping a connection at a few hundred messages a second.
    if (this.opts.port !== undefined) {
      this.server = net.createServer({ noDelay: true }, (socket) => this.aedes!.handle(this.guard(socket, socket.remoteAddress ?? '?')));
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
      // A failed handshake (plain MQTT on the TLS port, an expired client
      // certificate the device insists on) is the device's problem, not ours.
      this.tlsServer.on('tlsClientError', (err, socket) => this.log.debug({ remote: socket.remoteAddress, err: err.message }, 'MQTT TLS handshake failed'));
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
      this.wss!.handleUpgrade(req, socket, head, (ws) => {
        const stream = this.guard(createWebSocketStream(ws), socket.remoteAddress ?? '?');
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

  private guard(stream: net.Socket | import('node:stream').Duplex, remote: string) {
    return new PacketSizeGuard(stream, MAX_PACKET_BYTES, (declared) => {
      this.log.warn({ remote, declaredBytes: declared, limit: MAX_PACKET_BYTES }, 'MQTT packet over the size limit; connection closed');
      this.ingest.rejectOversizePacket(remote, declared);
    });
  }

  private onPublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    const topic = packet.topic;
    // [MQTT-4.7.2-1] $-topics belong to the broker.
    if (topic.startsWith('$')) return done(new Error(`${topic.split('/')[0]} topics are reserved`));
    if (!client) return done(null); // a will published by the broker itself
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
      packet.retain = false; // contract §2: the retain flag is ignored for telemetry
      // aedes sends the PUBACK when `done` is called: only once the readings
      // are in the write-ahead log (contract §8 durability). A reading that
      // could not be made durable closes the connection unacknowledged; the
      // device sends it again.
      this.ingest.handle(topic, payload, ctx, (err) => done(err ?? null));
      return;
    }
    // Not telemetry: acknowledged in its turn, after the messages before it [MQTT-4.6.0-2].
    this.ingest.barrier((err) => done(err ?? null));
  }

  private onSubscribe(client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void {
    if (this.opts.authenticator && reachesProtectedTopics(sub.topic)) {
      this.log.warn({ clientId: client.id, filter: sub.topic }, 'MQTT subscription refused: devices may not subscribe to park/ or $SYS topics');
      return done(null, null); // SUBACK 0x80 for this filter; the connection stays
    }
    done(null, sub);
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}
