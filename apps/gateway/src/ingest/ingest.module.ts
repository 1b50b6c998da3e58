import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { BUS, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { IngestPool } from './ingest.pool';
import { IngestService } from './ingest.service';
import { RejectionLog } from './rejection.log';

/** Injection tokens of the ingest module. */
export const INGEST = Symbol('INGEST');
export const REJECTIONS = Symbol('REJECTIONS');
const POOL = Symbol('INGEST_POOL');

/** The ingest pipeline (topic → park model → payload → sink and bus) and the ring of recent rejections. */
@Module({
  imports: [ParkModule, SinkModule],
  providers: [
    { provide: REJECTIONS, useValue: new RejectionLog(500) },
    {
      provide: POOL,
      inject: [PARKS, CONFIG, LOGGER],
      useFactory: (parks: ParkRegistry, config: GatewayConfig, log: Logger) =>
        config.workers > 0 ? new IngestPool(config.workers, { parks: parks.all().map((p) => p.model), limits: config.payloadLimits }, log) : null,
    },
    {
      provide: INGEST,
      inject: [PARKS, POINT_SINK, METRICS, REJECTIONS, BUS, CONFIG, POOL, LOGGER],
      useFactory: (parks: ParkRegistry, sink: PointSink, metrics: GatewayMetrics, rejections: RejectionLog, bus: GatewayBus, config: GatewayConfig, pool: IngestPool | null, log: Logger) =>
        new IngestService(parks, sink, metrics, rejections, bus, config.payloadLimits, Date.now, pool ?? undefined, log),
    },
  ],
  exports: [INGEST, REJECTIONS],
})
export class IngestModule implements OnApplicationShutdown {
  constructor(@Inject(POOL) private readonly pool: IngestPool | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}
