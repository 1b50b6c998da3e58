import { Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BUS, CLOCK, LOGGER, METRICS, UPGRADE_ROUTER } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { GatewayBus } from '../core/gateway.events';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park-registry';
import { VITALS_READ_MODEL, VitalsReadModel } from '../vitals/vitals.read-model';
import { VitalsModule } from '../vitals/vitals.module';
import { LiveHub } from './live.hub';

const LIVE = Symbol('LIVE');

/**
 * WebSocket `/api/live` (contract §7): subscribes to the bus, reads the
 * snapshot of a new client through the vitals read model, and registers
 * its own upgrade handler.
 */
@Module({
  imports: [ParkModule, VitalsModule],
  providers: [
    {
      provide: LIVE,
      inject: [PARKS, VITALS_READ_MODEL, BUS, METRICS, LOGGER, CLOCK, UPGRADE_ROUTER],
      useFactory: (parks: ParkRegistry, vitals: VitalsReadModel, bus: GatewayBus, metrics: GatewayMetrics, log: Logger, clock: Clock, router: UpgradeRouter) => {
        const hub = new LiveHub(() => parks.all().map((p) => p.model.id), vitals, bus, metrics, log, clock);
        router.add(hub.upgradeHandler());
        return hub;
      },
    },
  ],
})
export class LiveModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(LIVE) private readonly hub: LiveHub) {}

  onModuleInit(): void {
    this.hub.start();
  }

  onApplicationShutdown(): void {
    this.hub.close();
  }
}
