import mqtt, { IPublishPacket, MqttClient } from 'mqtt';
import { IngestService } from '../ingest/ingest.service';
import { Logger } from '../observability/logger';
import { BrokerStatus, TelemetryBroker } from './telemetry-broker';

export interface ExternalBrokerOptions {
  url: string;
  clientId: string;
  shareGroup?: string;
  username?: string;
  password?: string;
}

/** The part of MQTT.js's client this adapter reaches into (see `holdPubacks`). */
interface PacketSender {
  _sendPacket(packet: { cmd: string; messageId?: number }, cb?: () => void, ...rest: unknown[]): void;
}

/**
 * An external broker (Mosquitto, EMQX, any MQTT 3.1.1 broker) instead of the
 * embedded one: subscribed at QoS 1 with a persistent session (clean=false),
 * so messages published while the gateway is away are queued by the broker;
 * optionally as a shared subscription `$share/{group}/park/#` so several
 * gateways split one stream. A message is acknowledged to the broker only
 * once its readings are in the write-ahead log (contract §8 durability).
 * Retained messages the broker sends on (re)subscribing are not telemetry
 * news: they were ingested when first published, and are not ingested again.
 * Device authentication is the external broker's job in this mode.
 */
export class ExternalBroker implements TelemetryBroker {
  private client?: MqttClient;
  private connected = false;
  private lastError?: string;
  /** Counts connections, so that a late PUBACK is never sent on a newer one. */
  private session = 0;
  /** Retained messages received on subscribing, acknowledged and not ingested. */
  retainedSkipped = 0;

  constructor(
    private readonly opts: ExternalBrokerOptions,
    private readonly ingest: IngestService,
    private readonly log: Logger,
  ) {}

  get subscription(): string {
    return this.opts.shareGroup ? `$share/${this.opts.shareGroup}/park/#` : 'park/#';
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      username: this.opts.username,
      password: this.opts.password,
      // Subscriptions live in the broker's persistent session; we still
      // re-subscribe on each connect in case the session was lost.
      resubscribe: false,
    });
    this.client = client;
    const sendPuback = this.holdPubacks(client);
    client.handleMessage = (packet: IPublishPacket, callback) => {
      const { messageId, qos } = packet;
      const session = this.session;
      const ack = (err?: Error) => {
        if (qos === 0 || messageId === undefined) return;
        // A PUBACK belongs to the connection that delivered the message: after
        // a reconnect the broker sends it again, with the same id maybe
        // naming another message now.
        if (session !== this.session) return;
        if (err) {
          // MQTT 3.1.1 has no negative acknowledgement: drop the connection,
          // so that the broker delivers what we could not keep, again.
          this.log.error({ err: err.message }, 'a message could not be made durable; reconnecting so the broker delivers it again');
          client.stream?.destroy();
          return;
        }
        sendPuback(messageId);
      };
      if (packet.retain) {
        // [MQTT-3.3.1-8] retain=1 on delivery: a stored message sent because
        // we subscribed, not a new reading. It was ingested when published.
        this.retainedSkipped++;
        this.ingest.barrier(ack);
      } else {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        this.ingest.handle(packet.topic, payload, {}, ack);
      }
      // MQTT.js takes the next message only after this callback; the PUBACK
      // itself waits for the log (held back below), so messages keep flowing
      // while a group commit is on its way.
      callback();
    };
    client.on('connect', (connack) => {
      this.session++;
      this.connected = true;
      this.log.info({ url: this.opts.url, clientId: this.opts.clientId, sessionPresent: connack.sessionPresent }, 'connected to external MQTT broker');
      client.subscribe(this.subscription, { qos: 1 }, (err, granted) => {
        if (err || granted?.some((g) => g.qos === 128)) {
          this.lastError = `subscription to ${this.subscription} refused${err ? `: ${err.message}` : ''}`;
          this.log.error({ subscription: this.subscription }, this.lastError);
        } else this.log.info({ subscription: this.subscription }, 'subscribed at QoS 1');
      });
    });
    client.on('close', () => {
      if (this.connected) this.log.warn({ url: this.opts.url }, 'external MQTT broker connection lost; reconnecting');
      this.connected = false;
    });
    client.on('error', (e) => {
      this.lastError = e.message;
      this.log.warn({ err: e.message }, 'external MQTT broker error');
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cannot connect to external MQTT broker ${this.opts.url} within 15 s: ${this.lastError ?? 'no answer'}`)), 15_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * MQTT.js sends a QoS 1 PUBACK right after `handleMessage` calls back, and
   * takes no next message before: waiting there for the log would allow one
   * disk flush per message. So its own PUBACKs are held back here, and the
   * returned function sends one when the message is durable (in arrival
   * order: ingest calls back in order). Reaches into `_sendPacket`, MQTT.js
   * 5's private sender; the integration tests check the acknowledgement
   * against a real Mosquitto.
   */
  private holdPubacks(client: MqttClient): (messageId: number) => void {
    const sender = client as unknown as PacketSender;
    const send = sender._sendPacket.bind(client);
    let releasing = false;
    sender._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback' && !releasing) {
        cb?.();
        return;
      }
      send(packet, cb, ...rest);
    };
    return (messageId) => {
      releasing = true;
      try {
        send({ cmd: 'puback', messageId });
      } finally {
        releasing = false;
      }
    };
  }

  async stop(): Promise<void> {
    // What was taken is made durable and acknowledged before the connection ends.
    await this.ingest.drain();
    await new Promise<void>((r) => (this.client ? this.client.end(false, {}, () => r()) : r()));
    this.connected = false;
  }

  status(): BrokerStatus {
    return { mode: 'external', up: this.connected, url: this.opts.url, subscription: this.subscription, detail: this.connected ? undefined : this.lastError };
  }
}
