import { Subject } from 'rxjs';
import { Reading } from '@park/telemetry';

/**
 * Features talk through this bus, never to each other (style.md): ingest
 * publishes the readings it accepted; vitals and the live stream subscribe.
 */
export class TelemetryBus {
  /** Accepted readings (registered and unregistered sensors), per message, already queued for InfluxDB. */
  readonly readings$ = new Subject<Reading[]>();
}
