import { Module } from '@nestjs/common';
import { BUS, CONFIG, METRICS } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park-registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { IngestService } from './ingest.service';
import { RejectionLog } from './rejection-log';

/** Injection tokens of the ingest module. */
export const INGEST = Symbol('INGEST');
export const REJECTIONS = Symbol('REJECTIONS');

/** The ingest pipeline (topic → park model → payload → sink and bus) and the ring of recent rejections. */
@Module({
  imports: [ParkModule, SinkModule],
  providers: [
    { provide: REJECTIONS, useValue: new RejectionLog(500) },
    {
      provide: INGEST,
      inject: [PARKS, POINT_SINK, METRICS, REJECTIONS, BUS, CONFIG],
      useFactory: (parks: ParkRegistry, sink: PointSink, metrics: GatewayMetrics, rejections: RejectionLog, bus: GatewayBus, config: GatewayConfig) =>
        new IngestService(parks, sink, metrics, rejections, bus, config.payloadLimits),
    },
  ],
  exports: [INGEST, REJECTIONS],
})
export class IngestModule {}
