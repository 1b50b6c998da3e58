import { Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { OPERATOR_AUTH } from '../auth/auth.tokens';
import { OperatorAuth } from '../auth/operator.auth';
import { GatewayConfig } from '../config/gateway-config';
import { BUS, CLOCK, CONFIG, LOGGER, METRICS, UPGRADE_ROUTER } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { GatewayBus } from '../core/gateway.events';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { VITALS_READ_MODEL, VitalsReadModel } from '../vitals/vitals.read-model';
import { VitalsModule } from '../vitals/vitals.module';
import { LiveHub } from './live.hub';

const LIVE = Symbol('LIVE');

/**
 * WebSocket `/api/live` (contract §7): subscribes to the bus, reads the
 * snapshot of a new client through the vitals read model, and registers
 * its own upgrade handler on the operators' listener, where it checks the
 * operator (contract §8) with the same OperatorAuth as the HTTP guard.
 */
@Module({
  imports: [ParkModule, VitalsModule, AuthModule],
  providers: [
    {
      provide: LIVE,
      inject: [PARKS, VITALS_READ_MODEL, BUS, METRICS, LOGGER, CLOCK, UPGRADE_ROUTER, OPERATOR_AUTH, CONFIG],
      useFactory: (parks: ParkRegistry, vitals: VitalsReadModel, bus: GatewayBus, metrics: GatewayMetrics, log: Logger, clock: Clock, router: UpgradeRouter, auth: OperatorAuth, config: GatewayConfig) => {
        const hub = new LiveHub(() => parks.all().map((p) => p.model.id), vitals, bus, metrics, log, clock, auth, { maxClients: config.live.maxClients });
        router.add(hub.upgradeHandler(), 'operator');
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
