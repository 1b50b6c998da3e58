import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config';
import { CONFIG, INFLUX, LOGGER, METRICS } from '../gateway.tokens';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { DiskSpool } from './disk-spool';
import { InfluxHttp } from './influx-http';
import { InfluxSink } from './influx.sink';
import { POINT_SINK, PointSink } from './point-sink';

/**
 * Finds out which InfluxDB API the server speaks and creates the v1
 * database. InfluxDB being down at start-up is not fatal: the gateway starts,
 * spools, and detects again when the server answers.
 */
async function connectInflux(config: GatewayConfig, log: Logger): Promise<InfluxHttp> {
  const http = new InfluxHttp({ url: config.influx.url, db: config.influx.db, bucket: config.influx.bucket, org: config.influx.org, token: config.influx.token });
  http.api = config.influx.api ?? (config.influx.bucket || config.influx.token ? 'v2' : 'v1');
  const prepare = async () => {
    const api = await http.detect(config.influx.api);
    if (api === 'v1' && config.influx.createDb) await http.createDatabase();
    log.info({ url: config.influx.url, api, version: http.version, db: api === 'v1' ? config.influx.db : (config.influx.bucket ?? config.influx.db) }, 'InfluxDB connected');
  };
  try {
    await prepare();
  } catch (e) {
    log.error({ url: config.influx.url, err: (e as Error).message }, 'InfluxDB is not reachable; readings are spooled to disk until it is');
    const retry = setInterval(() => prepare().then(() => clearInterval(retry), () => undefined), 2000);
    retry.unref();
  }
  return http;
}

@Module({
  providers: [
    { provide: INFLUX, inject: [CONFIG, LOGGER], useFactory: connectInflux },
    {
      provide: POINT_SINK,
      inject: [CONFIG, LOGGER, METRICS, INFLUX],
      useFactory: (config: GatewayConfig, log: Logger, metrics: GatewayMetrics, http: InfluxHttp): PointSink => {
        const spool = new DiskSpool(config.spool.dir, config.spool.maxBytes, (lines, seg) => {
          metrics.spoolDroppedPoints += lines;
          log.fatal({ droppedLines: lines, segment: seg.file, spoolMaxBytes: config.spool.maxBytes }, 'SPOOL FULL: oldest spooled points DROPPED; InfluxDB has been unreachable too long (raise SPOOL_MAX_MB or restore InfluxDB)');
        });
        const sink = new InfluxSink(http, spool, metrics, log, {
          batchSize: config.influx.batchSize,
          flushIntervalMs: config.influx.flushIntervalMs,
          attempts: 3,
          maxMemoryLines: Math.max(100_000, config.influx.batchSize * 20),
        });
        metrics.gauges.gateway_write_backlog_lines = { help: 'Points not yet in InfluxDB (memory + spool).', read: () => { const b = sink.backlog(); return b.memoryLines + b.spooledLines; } };
        metrics.gauges.gateway_spool_lines = { help: 'Points in the on-disk spool.', read: () => sink.backlog().spooledLines };
        metrics.gauges.gateway_spool_bytes = { help: 'Bytes in the on-disk spool.', read: () => sink.backlog().spooledBytes };
        return sink;
      },
    },
  ],
  exports: [POINT_SINK, INFLUX],
})
export class SinkModule implements OnApplicationShutdown {
  constructor(@Inject(POINT_SINK) private readonly sink: PointSink, @Inject(LOGGER) private readonly log: Logger) {}

  // Runs after every beforeApplicationShutdown hook, so the broker has
  // stopped taking messages: flush, spool the rest.
  async onApplicationShutdown(): Promise<void> {
    await this.sink.close();
    const b = this.sink.backlog();
    this.log.info({ spooledLines: b.spooledLines }, 'write queue flushed');
  }
}
