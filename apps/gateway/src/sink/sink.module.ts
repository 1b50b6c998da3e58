import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../core/clock';
import { CLOCK, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayConfig } from '../config/gateway-config';
import { InfluxModule } from '../influx/influx.module';
import { LINE_WRITER, LineWriter } from '../influx/influx.ports';
import { ExponentialBackoff } from '../influx/retry.policy';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { DiskSpool } from './disk-spool';
import { InfluxSink } from './influx.sink';
import { POINT_SINK, PointSink } from './point-sink';

/**
 * The one retry policy of InfluxDB writes (live batches and spool replay):
 * 250 ms doubling to 5 s, half of each delay random, `Retry-After` honoured.
 */
export const WRITE_RETRY = new ExponentialBackoff({ baseMs: 250, maxMs: 5000, factor: 2, jitter: 0.5 });

/** Where every point goes: batches to InfluxDB through the line writer, the disk spool while it is away. */
@Module({
  imports: [InfluxModule],
  providers: [
    {
      provide: POINT_SINK,
      inject: [CONFIG, LOGGER, METRICS, LINE_WRITER, CLOCK],
      useFactory: (config: GatewayConfig, log: Logger, metrics: GatewayMetrics, writer: LineWriter, clock: Clock): PointSink => {
        const spool = new DiskSpool(config.spool.dir, config.spool.maxBytes, (lines, seg) => {
          metrics.spoolDroppedPoints += lines;
          log.fatal({ droppedLines: lines, segment: seg.file, spoolMaxBytes: config.spool.maxBytes }, 'SPOOL FULL: oldest spooled points DROPPED; InfluxDB has been unreachable too long (raise SPOOL_MAX_MB or restore InfluxDB)');
        });
        const sink = new InfluxSink(
          writer,
          spool,
          metrics,
          log,
          { batchSize: config.influx.batchSize, flushIntervalMs: config.influx.flushIntervalMs, attempts: 3, maxMemoryLines: Math.max(100_000, config.influx.batchSize * 20) },
          WRITE_RETRY,
          clock,
        );
        metrics.gauges.gateway_write_backlog_lines = { help: 'Points not yet in InfluxDB (memory + spool).', read: () => { const b = sink.backlog(); return b.memoryLines + b.spooledLines; } };
        metrics.gauges.gateway_spool_lines = { help: 'Points in the on-disk spool.', read: () => sink.backlog().spooledLines };
        metrics.gauges.gateway_spool_bytes = { help: 'Bytes in the on-disk spool.', read: () => sink.backlog().spooledBytes };
        return sink;
      },
    },
  ],
  exports: [POINT_SINK],
})
export class SinkModule implements OnApplicationShutdown {
  constructor(@Inject(POINT_SINK) private readonly sink: PointSink, @Inject(LOGGER) private readonly log: Logger) {}

  // Runs after every beforeApplicationShutdown hook, so the broker has
  // stopped taking messages and the vitals have closed their windows: flush,
  // spool the rest.
  async onApplicationShutdown(): Promise<void> {
    await this.sink.close();
    const b = this.sink.backlog();
    this.log.info({ spooledLines: b.spooledLines }, 'write queue flushed');
  }
}
