/**
 * Publish → queryable latency: one probe reading at a time on its own
 * connection, polled in InfluxDB every 10 ms until a query sees it. It runs
 * in the benchmark process, beside (not inside) the load generator.
 */
import { influxdb } from '../../support/deploy';
import { BENCH_PARK, PROBE_SENSOR, buildingId } from './load.plan';
import { QosOnePublisher } from './mqtt.publisher';

const TOPIC = `park/${BENCH_PARK}/${buildingId(0)}/energy/${PROBE_SENSOR}`;
/** The probe's connection as a load connection (its credential allows only its topic). */
export const PROBE_CONNECTION = { clientId: 'bench-probe', username: 'bench-probe', publish: [TOPIC], sensors: [] as number[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LatencyProbe {
  private running = false;
  private loop?: Promise<void>;
  private lastTs = 0;
  private latencies: number[] = [];

  private constructor(
    private readonly publisher: QosOnePublisher,
    private readonly influxUrl: string,
    private readonly db: string,
  ) {}

  static async connect(mqttUrl: string, influxUrl: string, db: string, password: string | undefined): Promise<LatencyProbe> {
    const url = new URL(mqttUrl);
    const publisher = await QosOnePublisher.connect({
      host: url.hostname,
      port: Number(url.port || 1883),
      clientId: PROBE_CONNECTION.clientId,
      username: password === undefined ? undefined : PROBE_CONNECTION.username,
      password,
      window: 100,
      keepaliveS: 60,
      connackTimeoutMs: 60_000,
    });
    return new LatencyProbe(publisher, influxUrl, db);
  }

  /**
   * Publishes one reading and resolves to the ms until a query saw it, or
   * undefined after `timeoutMs` (or when `stillWanted` turns false).
   */
  async once(timeoutMs: number, stillWanted: () => boolean = () => true): Promise<number | undefined> {
    const ts = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = ts;
    const started = performance.now();
    if (!this.publisher.canSend) return undefined;
    this.publisher.publish(TOPIC, `{"ts":${ts},"power_kw":1,"energy_kwh":${ts / 1000}}`);
    const q = `SELECT count(power_kw) FROM energy WHERE sensor = '${PROBE_SENSOR}' AND time = ${ts}ms`;
    while (stillWanted() && performance.now() - started < timeoutMs) {
      const series = await influxdb.query(this.influxUrl, this.db, q).catch(() => []);
      if (series.length > 0) return performance.now() - started;
      await sleep(10);
    }
    return undefined;
  }

  /** Starts probing in the background (one in flight, 50 ms apart). */
  start(): void {
    this.latencies = [];
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const ms = await this.once(30_000, () => this.running);
        if (ms !== undefined) this.latencies.push(ms);
        await sleep(50);
      }
    })();
  }

  /** Stops probing and returns the latencies measured since start() (ms); a probe still in flight is dropped. */
  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return this.latencies;
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.publisher.end();
  }
}

/** The p-th percentile (nearest rank) of xs, NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
