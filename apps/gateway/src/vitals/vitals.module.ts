import { BeforeApplicationShutdown, Inject, Module, OnModuleInit } from '@nestjs/common';
import { Clock } from '../core/clock';
import { BUS, CLOCK, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { InfluxModule } from '../influx/influx.module';
import { INFLUX_QUERY, InfluxQuery } from '../influx/influx.ports';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park-registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { HistoryService } from './history.service';
import { HISTORY, VitalsController } from './vitals.controller';
import { VITALS_READ_MODEL } from './vitals.read-model';
import { VitalsService } from './vitals.service';

const VITALS = Symbol('VITALS');

/**
 * Live derivation of the vital signs (`readings` in; `vitals`, `alarm` and
 * `now` out on the bus; `vitals`/`alarms` points to the sink), its read
 * model, and the vitals, history, alarms and KPI routes.
 */
@Module({
  imports: [ParkModule, SinkModule, InfluxModule],
  controllers: [VitalsController],
  providers: [
    {
      provide: VITALS,
      inject: [PARKS, BUS, POINT_SINK, INFLUX_QUERY, METRICS, LOGGER, CONFIG, CLOCK],
      useFactory: (parks: ParkRegistry, bus: GatewayBus, sink: PointSink, influx: InfluxQuery, metrics: GatewayMetrics, log: Logger, config: GatewayConfig, clock: Clock) =>
        new VitalsService(parks, bus, sink, influx, metrics, log, config, clock),
    },
    { provide: VITALS_READ_MODEL, useExisting: VITALS },
    { provide: HISTORY, inject: [INFLUX_QUERY], useFactory: (influx: InfluxQuery) => new HistoryService(influx) },
  ],
  exports: [VITALS_READ_MODEL],
})
export class VitalsModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(VITALS) private readonly vitals: VitalsService) {}

  // Before any onApplicationBootstrap, so the engines exist before the broker
  // takes the first message.
  async onModuleInit(): Promise<void> {
    await this.vitals.start();
  }

  // Before the sink's onApplicationShutdown: the windows the clock allows
  // are closed and their points written.
  beforeApplicationShutdown(): void {
    this.vitals.stop();
  }
}
