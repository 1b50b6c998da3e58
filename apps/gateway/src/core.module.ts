import { DynamicModule, Global, Module } from '@nestjs/common';
import { GatewayConfig } from './config/gateway-config';
import { RejectionLog } from './ingest/rejection-log';
import { TelemetryBus } from './ingest/telemetry.bus';
import { GatewayMetrics } from './observability/gateway-metrics';
import { Logger } from './observability/logger';
import { loadParks } from './park/park-model.loader';
import { ParkRegistry } from './park/park-registry';
import { BUS, CONFIG, LOGGER, METRICS, PARKS, REJECTIONS } from './gateway.tokens';
import { UPGRADE_ROUTER, UpgradeRouter } from './http/upgrade-router';

/** Configuration, logging, counters, the park registry and the event bus. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: GatewayConfig, log: Logger): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: log },
      { provide: METRICS, useValue: new GatewayMetrics() },
      { provide: PARKS, useValue: new ParkRegistry(loadParks(config.parkModelFiles)) },
      { provide: BUS, useValue: new TelemetryBus() },
      { provide: REJECTIONS, useValue: new RejectionLog(500) },
      { provide: UPGRADE_ROUTER, useValue: new UpgradeRouter() },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
