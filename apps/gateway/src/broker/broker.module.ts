import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DEVICE_AUTHENTICATOR } from '../auth/device-auth.token';
import { DeviceAuthenticator, readCredentialsFile } from '../auth/device-credentials';
import { LoginQueue } from '../auth/login.queue';
import { VerifiedCredentialCache } from '../auth/verified-credential.cache';
import { Clock } from '../core/clock';
import { CLOCK, CONFIG, LOGGER, METRICS, TLS, UPGRADE_ROUTER } from '../core/core.tokens';
import { TlsMaterial, tlsServerOptions } from '../config/tls-files';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayConfig } from '../config/gateway-config';
import { INGEST, IngestModule } from '../ingest/ingest.module';
import { IngestService } from '../ingest/ingest.service';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { EmbeddedBroker } from './embedded.broker';
import { ExternalBroker } from './external.broker';
import { TELEMETRY_BROKER, TelemetryBroker } from './telemetry-broker';

/**
 * The MQTT side: the embedded aedes broker (TCP and mqtts on MQTT_HOST, and
 * WebSocket `/mqtt`, whose upgrade handler it registers for the device
 * listener: see main.ts and docs/security.md) or a
 * connection to an external broker. Either way every message goes to ingest
 * before it is acknowledged.
 */
@Module({
  imports: [IngestModule],
  providers: [
    {
      // The embedded broker's device authenticator, shared with the
      // /api/devices routes so that a credential change applies at once.
      provide: DEVICE_AUTHENTICATOR,
      inject: [CONFIG, METRICS, CLOCK],
      useFactory: (config: GatewayConfig, metrics: GatewayMetrics, clock: Clock): DeviceAuthenticator | null => {
        if (config.mqttUrl || config.mqttAuth !== 'required') return null;
        // Issue 8 finding 6: reconnects cost an HMAC, password checks are bounded.
        const { deviceLogin } = config;
        const cache = new VerifiedCredentialCache(deviceLogin.cacheTtlMs, () => clock.now());
        const queue = new LoginQueue(deviceLogin.maxConcurrent, deviceLogin.maxQueued);
        metrics.counters.gateway_mqtt_auth_cache_hits_total = { help: 'MQTT logins whose password was verified from the cache (MQTT_AUTH_CACHE_S), without scrypt.', read: () => cache.hits };
        metrics.gauges.gateway_mqtt_auth_pending = { help: 'MQTT password checks (scrypt) running or waiting (bounded by MQTT_AUTH_CONCURRENCY + MQTT_AUTH_QUEUE).', read: () => queue.running + queue.queued };
        return new DeviceAuthenticator(readCredentialsFile(config.deviceCredentialsFile, { mustExist: true }), { cache, queue });
      },
    },
    {
      provide: TELEMETRY_BROKER,
      inject: [CONFIG, INGEST, LOGGER, UPGRADE_ROUTER, DEVICE_AUTHENTICATOR, TLS, METRICS, CLOCK],
      useFactory: (config: GatewayConfig, ingest: IngestService, log: Logger, router: UpgradeRouter, authenticator: DeviceAuthenticator | null, tlsFiles: TlsMaterial | null, metrics: GatewayMetrics, clock: Clock): TelemetryBroker => {
        if (config.mqttUrl) {
          return new ExternalBroker(
            { url: config.mqttUrl, clientId: config.mqttClientId, shareGroup: config.mqttShareGroup, username: process.env.MQTT_USERNAME || undefined, password: process.env.MQTT_PASSWORD || undefined },
            ingest,
            log,
          );
        }
        if (!authenticator) log.warn('MQTT_AUTH=off: the embedded broker accepts anonymous devices on any topic');
        const tls = tlsFiles && config.tls ? { port: config.tls.mqttPort, options: tlsServerOptions(tlsFiles, { clientCertificates: authenticator !== null }) } : undefined;
        const connectRate = { ratePerS: config.deviceLogin.connectRatePerS, burst: config.deviceLogin.connectBurst };
        const broker = new EmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, tls, authenticator: authenticator ?? undefined, connectRate }, ingest, log, metrics, clock);
        router.add(broker.webSocketUpgradeHandler(), 'device');
        return broker;
      },
    },
  ],
  exports: [TELEMETRY_BROKER, DEVICE_AUTHENTICATOR],
})
export class BrokerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(TELEMETRY_BROKER) private readonly broker: TelemetryBroker, @Inject(LOGGER) private readonly log: Logger) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.start();
  }

  // Before any module's onApplicationShutdown: stop taking messages first,
  // then the sink flushes what was taken.
  async beforeApplicationShutdown(): Promise<void> {
    await this.broker.stop();
    this.log.info('MQTT broker stopped');
  }
}
