import { BeforeApplicationShutdown, Inject, Module, OnModuleInit } from '@nestjs/common';
import { Clock } from '../core/clock';
import { BUS, CLOCK, CONFIG, LOGGER } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { InfluxModule } from '../influx/influx.module';
import { INFLUX_QUERY, InfluxQuery } from '../influx/influx.ports';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { VITALS_READ_MODEL, VitalsReadModel } from '../vitals/vitals.read-model';
import { VitalsModule } from '../vitals/vitals.module';
import { ForecastController, TRENDS } from './forecast.controller';
import { TrendsService } from './trends.service';

/**
 * Trends (contract §8): scheduled forecast fits, the forecast route, and
 * the `demand_forecast`, `stuck_meter` and `baseload` alarms, wired to the
 * bus, the sink and InfluxDB. The decisions are libs/metrics'.
 */
@Module({
  imports: [ParkModule, SinkModule, InfluxModule, VitalsModule],
  controllers: [ForecastController],
  providers: [
    {
      provide: TRENDS,
      inject: [PARKS, BUS, POINT_SINK, INFLUX_QUERY, VITALS_READ_MODEL, LOGGER, CONFIG, CLOCK],
      useFactory: (parks: ParkRegistry, bus: GatewayBus, sink: PointSink, influx: InfluxQuery, vitals: VitalsReadModel, log: Logger, config: GatewayConfig, clock: Clock) =>
        new TrendsService(parks, bus, sink, influx, vitals, log, config, clock),
    },
  ],
})
export class TrendsModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(TRENDS) private readonly trends: TrendsService) {}

  // After VitalsModule's init (imported): the read model holds the alarms read back at start.
  onModuleInit(): void {
    this.trends.start();
  }

  beforeApplicationShutdown(): void {
    this.trends.stop();
  }
}
