/**
 * The broker, embedded or external, behind one interface (style.md: ports at
 * the edges). Either way, each telemetry message is handed to the ingest
 * pipeline before it is acknowledged to its publisher.
 */
export interface TelemetryBroker {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): BrokerStatus;
}

export interface BrokerStatus {
  mode: 'embedded' | 'external';
  /** Embedded: listening; external: connected to the broker. */
  up: boolean;
  url: string;
  /** Embedded with TLS: the mqtts listener besides the plain one. */
  tlsUrl?: string;
  clients?: number;
  subscription?: string;
  detail?: string;
}

export const TELEMETRY_BROKER = Symbol('TELEMETRY_BROKER');
