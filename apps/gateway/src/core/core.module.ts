import { DynamicModule, Global, Module } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway-config';
import { TlsMaterial } from '../config/tls-files';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { Clock, systemClock } from './clock';
import { BUS, CLOCK, CONFIG, LOGGER, METRICS, TLS, UPGRADE_ROUTER } from './core.tokens';
import { EventBus } from './event.bus';
import { GatewayEvents } from './gateway.events';
import { UpgradeRouter } from './upgrade.router';

/**
 * What every feature may use: the configuration, the logger, the counters,
 * the clock, the event bus, the HTTP upgrade router and the TLS files
 * (null without TLS). Global, so feature
 * modules import only each other's ports.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: GatewayConfig, log: Logger, clock: Clock = systemClock, tls?: TlsMaterial): DynamicModule {
    const bus = new EventBus<GatewayEvents>((type, err) => log.error({ event: type, err: (err as Error)?.stack ?? String(err) }, 'a bus subscriber failed; the others still got the event'));
    const metrics = new GatewayMetrics();
    // Where the memory goes (docs/benchmarks.md, memory): the process, V8's
    // heap, and what lives outside it (Buffers, ArrayBuffers).
    const memory = (k: keyof NodeJS.MemoryUsage) => () => process.memoryUsage()[k];
    metrics.gauges.process_resident_memory_bytes = { help: 'Resident set size of the gateway process (all threads).', read: memory('rss') };
    metrics.gauges.gateway_heap_used_bytes = { help: 'V8 heap in use by live and not yet collected objects, main thread.', read: memory('heapUsed') };
    metrics.gauges.gateway_heap_total_bytes = { help: 'V8 heap reserved by the main thread.', read: memory('heapTotal') };
    metrics.gauges.gateway_external_memory_bytes = { help: 'Memory of Buffers and ArrayBuffers outside the V8 heap, main thread.', read: memory('external') };
    const providers = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: log },
      { provide: METRICS, useValue: metrics },
      { provide: CLOCK, useValue: clock },
      { provide: BUS, useValue: bus },
      { provide: UPGRADE_ROUTER, useValue: new UpgradeRouter() },
      { provide: TLS, useValue: tls ?? null },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
