/**
 * The simulator's MQTT connection: mqtt.js with a bound on publishes awaiting
 * their PUBACK, so a backfill goes as fast as the broker acknowledges and no
 * faster (memory stays flat however long the period).
 */
import * as mqtt from 'mqtt';

export interface PublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  qos: 0 | 1;
  /** Publishes awaiting their acknowledgement at most. */
  maxInFlight: number;
  /** Give up on the first connection after this long, ms. */
  connectTimeoutMs?: number;
}

/** One broker connection with a bounded publish window. */
export class MqttPublisher {
  /** Publishes acknowledged (QoS 1: PUBACK received; QoS 0: written to the socket). */
  acked = 0;
  /** Publishes that failed (the client was closed before their acknowledgement). */
  failed = 0;
  /** The first failure, for the summary. */
  firstError: string | undefined;
  private pending = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  private constructor(
    private readonly client: mqtt.MqttClient,
    private readonly options: PublisherOptions,
  ) {}

  /**
   * Connects; rejects with a message naming the broker and the cause when the
   * first connection fails (refused, not authorised, unreachable, timeout).
   * After that, mqtt.js reconnects by itself and resends unacknowledged QoS 1
   * publishes.
   */
  static connect(options: PublisherOptions): Promise<MqttPublisher> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(options.url, {
        clientId: options.clientId,
        username: options.username,
        password: options.password,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: timeoutMs,
      });
      const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs / 1000} s`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        client.removeAllListeners('connect');
        client.end(true);
        const hint = /auth|not authori[sz]ed|bad user/i.test(e.message)
          ? ' (check --username/--password or --credentials; the gateway requires device credentials unless MQTT_AUTH=off)'
          : /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|timeout|CONNACK/i.test(e.message)
            ? ' (is the broker running? set --url or MQTT_URL)'
            : '';
        reject(new Error(`cannot connect to ${options.url} as ${options.clientId}: ${e.message}${hint}`));
      };
      client.once('error', fail);
      client.once('connect', () => {
        clearTimeout(timer);
        client.removeListener('error', fail);
        // Later errors (a lost connection) are retried by mqtt.js; keep a
        // listener so they are not thrown as unhandled 'error' events.
        client.on('error', () => undefined);
        resolve(new MqttPublisher(client, options));
      });
    });
  }

  /** Publishes awaiting acknowledgement now. */
  get inFlight(): number {
    return this.pending;
  }

  /** Whether the connection is up right now. */
  get connected(): boolean {
    return this.client.connected;
  }

  /**
   * Sends one message. Resolves as soon as it is in the publish window (not
   * when it is acknowledged), waiting first for a free slot.
   */
  async publish(topic: string, payload: string): Promise<void> {
    while (this.pending >= this.options.maxInFlight) {
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
    this.pending++;
    this.client.publish(topic, payload, { qos: this.options.qos }, (err) => {
      this.pending--;
      if (err) {
        this.failed++;
        this.firstError ??= err.message;
      } else this.acked++;
      this.slotWaiters.shift()?.();
      if (this.pending === 0) this.idleWaiters.splice(0).forEach((r) => r());
    });
  }

  /** Waits until every publish is acknowledged, or `timeoutMs` passes; returns whether all were. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((r) => this.idleWaiters.push(() => r(true))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Disconnects cleanly (DISCONNECT packet), or drops the socket when `force`. */
  close(force = false): Promise<void> {
    return new Promise((resolve) => this.client.end(force, {}, () => resolve()));
  }
}
