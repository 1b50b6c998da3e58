import { Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Clock } from '../core/clock';
import { CLOCK, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayConfig } from '../config/gateway-config';
import { InfluxModule } from '../influx/influx.module';
import { LINE_WRITER, LineWriter } from '../influx/influx.ports';
import { ExponentialBackoff } from '../influx/retry.policy';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { DurableSink } from './durable.sink';
import { importLegacySpool } from './legacy-spool';
import { POINT_SINK, PointSink } from './point-sink';
import { WriteAheadLog } from './write-ahead.log';

/**
 * The one retry policy of InfluxDB writes (live batches and the read-back
 * from the log alike): 250 ms doubling to 5 s, half of each delay random,
 * `Retry-After` honoured.
 */
export const WRITE_RETRY = new ExponentialBackoff({ baseMs: 250, maxMs: 5000, factor: 2, jitter: 0.5 });
/** How long a stop keeps sending before it leaves the rest in the log for the next start. */
export const CLOSE_TIMEOUT_MS = 5000;

const WAL = Symbol('WAL');

/** Where every point goes: the write-ahead log on local disk, then InfluxDB through the line writer. */
@Module({
  imports: [InfluxModule],
  providers: [
    {
      provide: WAL,
      inject: [CONFIG, LOGGER, CLOCK, METRICS],
      useFactory: (config: GatewayConfig, log: Logger, clock: Clock, metrics: GatewayMetrics) => {
        const wal = WriteAheadLog.open({ dir: config.wal.dir, maxBytes: config.wal.maxBytes, segmentBytes: config.wal.segmentBytes, fsync: config.wal.fsync }, log, clock);
        if (!config.wal.fsync) log.warn('WAL_FSYNC=off: readings are acknowledged before they are flushed to disk; a power cut may lose them (for measuring only)');
        const counter = (name: string, help: string, read: () => number) => (metrics.counters[name] = { help, read });
        counter('gateway_wal_commits_total', 'Group commits of the write-ahead log (one write + fdatasync each).', () => wal.stats.commits);
        counter('gateway_wal_written_bytes_total', 'Bytes written to the write-ahead log.', () => wal.stats.bytesWritten);
        counter('gateway_wal_full_refusals_total', 'Appends refused because the write-ahead log reached WAL_MAX_MB (those readings were not acknowledged).', () => wal.stats.fullRefusals);
        counter('gateway_wal_write_errors_total', 'Failed write-ahead log commits (those readings were not acknowledged).', () => wal.stats.writeErrors);
        metrics.gauges.gateway_wal_bytes = { help: 'Bytes of the write-ahead log on disk.', read: () => wal.bytes };
        metrics.gauges.gateway_wal_unconfirmed_lines = { help: 'Lines in the write-ahead log that InfluxDB has not confirmed yet.', read: () => wal.unconfirmedLines };
        return wal;
      },
    },
    {
      provide: POINT_SINK,
      inject: [CONFIG, LOGGER, METRICS, LINE_WRITER, CLOCK, WAL],
      useFactory: (config: GatewayConfig, log: Logger, metrics: GatewayMetrics, writer: LineWriter, clock: Clock, wal: WriteAheadLog): PointSink => {
        const sink = new DurableSink(
          wal,
          writer,
          metrics,
          log,
          { batchLines: config.influx.batchSize, flushIntervalMs: config.influx.flushIntervalMs, cacheBytes: config.wal.cacheBytes, closeTimeoutMs: CLOSE_TIMEOUT_MS },
          WRITE_RETRY,
          clock,
        );
        metrics.gauges.gateway_write_backlog_lines = { help: 'Points not yet in InfluxDB (all in the write-ahead log).', read: () => sink.backlog().walLines };
        return sink;
      },
    },
  ],
  exports: [POINT_SINK],
})
export class SinkModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(POINT_SINK) private readonly sink: PointSink,
    @Inject(WAL) private readonly wal: WriteAheadLog,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await importLegacySpool(this.config.wal.legacySpoolDir, this.wal, this.log);
  }

  // Runs after every beforeApplicationShutdown hook, so the broker has
  // stopped taking messages and the vitals have closed their windows.
  async onApplicationShutdown(): Promise<void> {
    await this.sink.close();
    const b = this.sink.backlog();
    this.log.info({ walLines: b.walLines }, b.walLines > 0 ? 'stopped; lines InfluxDB has not confirmed wait in the write-ahead log for the next start' : 'stopped; InfluxDB has every line');
  }
}
