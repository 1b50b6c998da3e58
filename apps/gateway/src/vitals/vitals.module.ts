import { BeforeApplicationShutdown, Inject, Module, OnModuleInit } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config';
import { BUS, CONFIG, INFLUX, LOGGER, METRICS, PARKS } from '../gateway.tokens';
import { UPGRADE_ROUTER, UpgradeRouter } from '../http/upgrade-router';
import { TelemetryBus } from '../ingest/telemetry.bus';
import { LiveHub } from '../live/live.hub';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { ParkRegistry } from '../park/park-registry';
import { InfluxHttp } from '../sink/influx-http';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { HistoryService } from './history.service';
import { HISTORY, VITALS, VitalsController } from './vitals.controller';
import { VitalsService } from './vitals.service';

export const LIVE = Symbol('LIVE');

/** Live derivation, vitals and alarm points, the history API and `/api/live`. */
@Module({
  imports: [SinkModule],
  controllers: [VitalsController],
  providers: [
    {
      provide: VITALS,
      inject: [PARKS, BUS, POINT_SINK, INFLUX, METRICS, LOGGER, CONFIG],
      useFactory: (parks: ParkRegistry, bus: TelemetryBus, sink: PointSink, influx: InfluxHttp, metrics: GatewayMetrics, log: Logger, config: GatewayConfig) =>
        new VitalsService(parks, bus, sink, influx, metrics, log, config),
    },
    { provide: HISTORY, inject: [INFLUX], useFactory: (influx: InfluxHttp) => new HistoryService(influx) },
    {
      provide: LIVE,
      inject: [VITALS, PARKS, METRICS, LOGGER, UPGRADE_ROUTER],
      useFactory: (vitals: VitalsService, parks: ParkRegistry, metrics: GatewayMetrics, log: Logger, router: UpgradeRouter) => {
        const hub = new LiveHub(() => parks.all().map((p) => p.model.id), (id) => vitals.snapshot(id), metrics, log);
        vitals.live = hub;
        router.add(hub.upgradeHandler());
        return hub;
      },
    },
  ],
  exports: [VITALS, LIVE],
})
export class VitalsModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(VITALS) private readonly vitals: VitalsService, @Inject(LIVE) private readonly live: LiveHub) {}

  // Before any onApplicationBootstrap, so the engines exist before the broker
  // takes the first message.
  async onModuleInit(): Promise<void> {
    await this.vitals.start();
  }

  beforeApplicationShutdown(): void {
    this.vitals.stop();
    this.live.close();
  }
}
