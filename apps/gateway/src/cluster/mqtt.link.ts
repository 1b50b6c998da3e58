import mqtt, { MqttClient } from 'mqtt';
import { Logger } from '../observability/logger';
import { ClusterLink } from './cluster.link';

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
}

/**
 * The cluster's own MQTT.js connection to the external broker (a second
 * one beside the telemetry subscription): clean session, will retained,
 * QoS 1, reconnecting every second.
 */
export class MqttLink implements ClusterLink {
  private client?: MqttClient;
  private readonly messageHandlers: Array<(topic: string, payload: Uint8Array) => void> = [];
  private readonly connectHandlers: Array<() => void> = [];

  constructor(
    private readonly opts: MqttLinkOptions,
    private readonly log: Logger,
  ) {}

  connect(will: { topic: string; payload: string }): Promise<void> {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      clean: true,
      protocolVersion: 4,
      keepalive: 10,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      username: this.opts.username,
      password: this.opts.password,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      resubscribe: false,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      for (const h of this.messageHandlers) h(topic, payload);
    });
    client.on('connect', () => {
      for (const h of this.connectHandlers) h();
    });
    client.on('error', (e) => this.log.warn({ err: e.message }, 'cluster MQTT connection error'));
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => reject(new Error(`cluster: cannot connect to ${this.opts.url}: ${e.message}`));
      client.once('connect', () => {
        client.off('error', fail);
        resolve();
      });
      client.once('error', fail);
    });
  }

  onMessage(handler: (topic: string, payload: Uint8Array) => void): void {
    this.messageHandlers.push(handler);
  }

  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  async subscribe(filter: string): Promise<void> {
    const granted = await this.client?.subscribeAsync(filter, { qos: 1 });
    if (granted?.some((g) => g.qos === 128)) throw new Error(`cluster: subscription to ${filter} refused by the broker (check its ACL)`);
  }

  async unsubscribe(filter: string): Promise<void> {
    await this.client?.unsubscribeAsync(filter);
  }

  async publish(topic: string, payload: string, retain: boolean): Promise<void> {
    try {
      await this.client?.publishAsync(topic, payload, { qos: 1, retain });
    } catch (e) {
      this.log.warn({ topic, err: (e as Error).message }, 'cluster: a publish failed');
    }
  }

  connected(): boolean {
    return this.client?.connected ?? false;
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}
