import { BeforeApplicationShutdown, Inject, Module, OnModuleInit } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { PARK_OWNERSHIP, ParkOwnership } from '../cluster/park-ownership';
import { Clock } from '../core/clock';
import { BUS, CLOCK, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { InfluxModule } from '../influx/influx.module';
import { INFLUX_QUERY, InfluxQuery } from '../influx/influx.ports';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { ClockSkewMonitor } from './clock-skew.monitor';
import { HistoryService } from './history.service';
import { HISTORY, VitalsController } from './vitals.controller';
import { VITALS_READ_MODEL } from './vitals.read-model';
import { VitalsService } from './vitals.service';

const VITALS = Symbol('VITALS');
const SKEW = Symbol('SKEW');

/**
 * Live derivation of the vital signs (`readings` in; `vitals`, `alarm` and
 * `now` out on the bus; `vitals`/`alarms` points to the sink), its read
 * model, and the vitals, history, alarms and KPI routes.
 */
@Module({
  imports: [ParkModule, SinkModule, InfluxModule, ClusterModule],
  controllers: [VitalsController],
  providers: [
    {
      provide: VITALS,
      inject: [PARKS, BUS, POINT_SINK, INFLUX_QUERY, METRICS, LOGGER, CONFIG, CLOCK, PARK_OWNERSHIP],
      useFactory: (parks: ParkRegistry, bus: GatewayBus, sink: PointSink, influx: InfluxQuery, metrics: GatewayMetrics, log: Logger, config: GatewayConfig, clock: Clock, ownership: ParkOwnership) =>
        new VitalsService(parks, bus, sink, influx, metrics, log, config, clock, ownership),
    },
    {
      provide: SKEW,
      inject: [BUS, PARKS, METRICS, CLOCK],
      useFactory: (bus: GatewayBus, parks: ParkRegistry, metrics: GatewayMetrics, clock: Clock) => new ClockSkewMonitor(bus, parks, metrics, clock),
    },
    { provide: VITALS_READ_MODEL, useExisting: VITALS },
    { provide: HISTORY, inject: [INFLUX_QUERY], useFactory: (influx: InfluxQuery) => new HistoryService(influx) },
  ],
  exports: [VITALS_READ_MODEL],
})
export class VitalsModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    @Inject(VITALS) private readonly vitals: VitalsService,
    @Inject(SKEW) private readonly skew: ClockSkewMonitor,
  ) {}

  // Before any onApplicationBootstrap, so the engines exist before the broker
  // takes the first message.
  async onModuleInit(): Promise<void> {
    this.skew.start();
    await this.vitals.start();
  }

  // Before the sink's onApplicationShutdown: the windows the clock allows
  // are closed; late windows being derived get 5 s (those left are logged
  // with the recompute command), and InfluxDB as long to take the points.
  async beforeApplicationShutdown(): Promise<void> {
    this.skew.stop();
    await this.vitals.stop();
  }
}
