import { REJECT_REASONS, RejectReason } from '@park/telemetry';

/** Latency histogram buckets, seconds (write latency to InfluxDB). */
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_S.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]) this.counts[i]++;
  }
}

/** Why the embedded broker refused an MQTT connection (docs/security-devices.md). */
export const MQTT_REFUSALS = ['rate_limited', 'busy', 'identifier', 'credentials'] as const;
export type MqttRefusal = (typeof MQTT_REFUSALS)[number];

/**
 * The gateway's counters, rendered as Prometheus text at `/metrics`
 * (contract §7). Plain numbers: the hot path only increments fields.
 */
export class GatewayMetrics {
  messagesReceived = 0;
  readingsReceived = 0;
  readingsAccepted = 0;
  readonly rejected: Record<RejectReason, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  unregisteredReadings = 0;
  /** Points confirmed written by InfluxDB (readings and derived points). */
  pointsWritten = 0;
  /** Points that InfluxDB refused for good (HTTP 400 on the single line). */
  pointsDeadLettered = 0;
  writeRequests = 0;
  writeFailures = 0;
  /** Lines sent to InfluxDB from the write-ahead log read back from disk (after an outage or a restart). */
  pointsReplayed = 0;
  readonly writeLatency = new Histogram();
  lateReadings = 0;
  /** Readings stamped ahead of the gateway clock when they arrived (contract §8). */
  clockSkewReadings = 0;
  /** Register steps that counted 0 because implausible (contract §8), each once. */
  implausibleReadings = 0;
  /** Closed windows derived again from the stored readings (late readings, a gap caught up). */
  rederivedWindows = 0;
  /** Alarm transitions found in re-derived windows (`late: true`). */
  lateAlarms = 0;
  liveDroppedMessages = 0;
  /** /api/live upgrades refused because LIVE_MAX_CLIENTS were connected. */
  liveRefusedClients = 0;
  /**
   * MQTT connections the embedded broker refused: `rate_limited` (closed at
   * accept, MQTT_CONNECT_RATE), `busy` (CONNACK 0x03, MQTT_AUTH_QUEUE full),
   * `identifier` (0x02, contract §8 device identity), `credentials` (0x04).
   */
  readonly mqttRefused: Record<MqttRefusal, number> = Object.fromEntries(MQTT_REFUSALS.map((r) => [r, 0])) as Record<MqttRefusal, number>;
  /** Readings this gateway ingested and forwarded to the gateway that derives their park (contract §8, scale-out). */
  forwardedReadings = 0;
  /** Readings other gateways forwarded to this one, for the parks it derives. */
  forwardedReadingsReceived = 0;
  /** Gauges are read at scrape time through these callbacks. */
  gauges: Record<string, { help: string; read: () => number }> = {};
  /** Counters kept by other components, read at scrape time. */
  counters: Record<string, { help: string; read: () => number }> = {};

  reject(reason: RejectReason, n = 1): void {
    this.rejected[reason] += n;
  }

  get rejectedTotal(): number {
    let t = 0;
    for (const r of REJECT_REASONS) t += this.rejected[r];
    return t;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, value: number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('gateway_messages_received_total', 'MQTT messages received on park/ topics.', this.messagesReceived);
    counter('gateway_readings_received_total', 'Readings received (each element of an array payload counts).', this.readingsReceived);
    counter('gateway_readings_accepted_total', 'Readings that passed validation and were queued for InfluxDB.', this.readingsAccepted);
    out.push('# HELP gateway_readings_rejected_total Readings rejected, by reason (contract section 3).', '# TYPE gateway_readings_rejected_total counter');
    for (const r of REJECT_REASONS) out.push(`gateway_readings_rejected_total{reason="${r}"} ${this.rejected[r]}`);
    counter('gateway_readings_unregistered_total', 'Stored readings from sensors the park model does not list.', this.unregisteredReadings);
    counter('gateway_readings_late_total', 'Readings that arrived after their vitals window closed (stored; their windows are derived again from storage).', this.lateReadings);
    counter('gateway_readings_clock_skew_total', 'Readings stamped ahead of the gateway clock when they arrived (stored; they never move the vitals watermark).', this.clockSkewReadings);
    counter('gateway_readings_implausible_total', 'Register steps implying more than the plausible rate (2 x contractedKw, maxKgPerH); counted 0 in the vitals, one per step.', this.implausibleReadings);
    counter('gateway_vitals_rederived_windows_total', 'Closed vitals windows derived again from the stored readings (late readings, gaps caught up).', this.rederivedWindows);
    counter('gateway_vitals_late_alarms_total', 'Alarm transitions found in re-derived windows and written with late=true.', this.lateAlarms);
    counter('gateway_points_written_total', 'Points InfluxDB confirmed written (readings, vitals, alarms).', this.pointsWritten);
    counter('gateway_points_dead_lettered_total', 'Points InfluxDB refused for good (HTTP 400 on the line alone); logged with the reason.', this.pointsDeadLettered);
    counter('gateway_write_requests_total', 'Write requests sent to InfluxDB.', this.writeRequests);
    counter('gateway_write_failures_total', 'Write requests that failed (network, 429, 5xx).', this.writeFailures);
    counter('gateway_points_replayed_total', 'Points sent to InfluxDB from the write-ahead log on disk (after an outage or a restart).', this.pointsReplayed);
    out.push('# HELP gateway_mqtt_connections_refused_total MQTT connections the embedded broker refused, by reason.', '# TYPE gateway_mqtt_connections_refused_total counter');
    for (const r of MQTT_REFUSALS) out.push(`gateway_mqtt_connections_refused_total{reason="${r}"} ${this.mqttRefused[r]}`);
    counter('gateway_cluster_forwarded_readings_total', 'Readings ingested here and forwarded to the gateway that derives their park.', this.forwardedReadings);
    counter('gateway_cluster_received_readings_total', 'Readings other gateways forwarded here, for the parks this gateway derives.', this.forwardedReadingsReceived);
    counter('gateway_live_dropped_messages_total', 'Live-stream messages dropped for slow WebSocket clients.', this.liveDroppedMessages);
    counter('gateway_live_refused_clients_total', 'Live-stream connections refused because LIVE_MAX_CLIENTS were connected.', this.liveRefusedClients);
    const h = this.writeLatency;
    out.push('# HELP gateway_write_latency_seconds Latency of successful InfluxDB write requests.', '# TYPE gateway_write_latency_seconds histogram');
    LATENCY_BUCKETS_S.forEach((b, i) => out.push(`gateway_write_latency_seconds_bucket{le="${b}"} ${h.counts[i]}`));
    out.push(`gateway_write_latency_seconds_bucket{le="+Inf"} ${h.count}`, `gateway_write_latency_seconds_sum ${h.sum}`, `gateway_write_latency_seconds_count ${h.count}`);
    for (const [name, c] of Object.entries(this.counters)) counter(name, c.help, c.read());
    for (const [name, g] of Object.entries(this.gauges)) out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    return out.join('\n') + '\n';
  }
}
