import { Module } from '@nestjs/common';
import { CONFIG } from '../core/core.tokens';
import { GatewayConfig } from '../config/gateway-config';
import { loadParks } from './park-model.loader';
import { ParkRegistry } from './park.registry';

/** Injection token of the {@link ParkRegistry}. */
export const PARKS = Symbol('PARKS');

/** The parks served: the park model files, loaded and validated at start-up (contract §4). */
@Module({
  providers: [{ provide: PARKS, inject: [CONFIG], useFactory: (config: GatewayConfig) => new ParkRegistry(loadParks(config.parkModelFiles), config.unregisteredMax) }],
  exports: [PARKS],
})
export class ParkModule {}
