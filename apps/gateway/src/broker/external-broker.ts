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

/**
 * An external broker (Mosquitto, EMQX, any MQTT 3.1.1 broker) instead of the
 * embedded one: subscribed at QoS 1 with a persistent session (clean=false),
 * so messages published while the gateway is away are queued by the broker;
 * optionally as a shared subscription `$share/{group}/park/#` so several
 * gateways split one stream. Each message is ingested before mqtt.js sends
 * its PUBACK (handleMessage), so an acknowledged message is in our queue.
 * Device authentication is the external broker's job in this mode.
 */
export class ExternalBroker implements TelemetryBroker {
  private client?: MqttClient;
  private connected = false;
  private lastError?: string;

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
    // Runs before mqtt.js acknowledges the message: ingest is synchronous.
    client.handleMessage = (packet: IPublishPacket, callback) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.ingest.handle(packet.topic, payload, {});
      callback();
    };
    client.on('connect', (connack) => {
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

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.client ? this.client.end(false, {}, () => r()) : r()));
    this.connected = false;
  }

  status(): BrokerStatus {
    return { mode: 'external', up: this.connected, url: this.opts.url, subscription: this.subscription, detail: this.connected ? undefined : this.lastError };
  }
}
