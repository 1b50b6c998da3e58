/**
 * The cluster's connection to the shared broker (style.md: ports at the
 * edges): MQTT.js in the gateway (`mqtt.link.ts`), an in-memory broker in
 * specs. QoS 1 throughout; the broker delivers the messages of one topic in
 * one order to every subscriber.
 */
export interface ClusterLink {
  /** Connects; the will is published (retained) by the broker if this connection dies. */
  connect(will: { topic: string; payload: string }): Promise<void>;
  /** Called for every message received, in delivery order. */
  onMessage(handler: (topic: string, payload: Uint8Array) => void): void;
  /** Called after every (re)connection, once subscriptions are to be made again. */
  onConnect(handler: () => void): void;
  subscribe(filter: string): Promise<void>;
  unsubscribe(filter: string): Promise<void>;
  /** Publishes at QoS 1; resolves when the broker acknowledged it (never rejects: failures are logged by the link). */
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
  connected(): boolean;
  /** Disconnects cleanly (no will). */
  close(): Promise<void>;
}
