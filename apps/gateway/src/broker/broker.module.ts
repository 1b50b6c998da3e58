import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DEVICE_AUTHENTICATOR } from '../auth/device-auth.token';
import { DeviceAuthenticator, readCredentialsFile } from '../auth/device-credentials';
import { CONFIG, LOGGER, TLS, UPGRADE_ROUTER } from '../core/core.tokens';
import { TlsMaterial, tlsServerOptions } from '../config/tls-files';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayConfig } from '../config/gateway-config';
import { INGEST, IngestModule } from '../ingest/ingest.module';
import { IngestService } from '../ingest/ingest.service';
import { Logger } from '../observability/logger';
import { EmbeddedBroker } from './embedded-broker';
import { ExternalBroker } from './external-broker';
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
      inject: [CONFIG],
      useFactory: (config: GatewayConfig): DeviceAuthenticator | null =>
        !config.mqttUrl && config.mqttAuth === 'required' ? new DeviceAuthenticator(readCredentialsFile(config.deviceCredentialsFile, { mustExist: true })) : null,
    },
    {
      provide: TELEMETRY_BROKER,
      inject: [CONFIG, INGEST, LOGGER, UPGRADE_ROUTER, DEVICE_AUTHENTICATOR, TLS],
      useFactory: (config: GatewayConfig, ingest: IngestService, log: Logger, router: UpgradeRouter, authenticator: DeviceAuthenticator | null, tlsFiles: TlsMaterial | null): TelemetryBroker => {
        if (config.mqttUrl) {
          return new ExternalBroker(
            { url: config.mqttUrl, clientId: config.mqttClientId, shareGroup: config.mqttShareGroup, username: process.env.MQTT_USERNAME || undefined, password: process.env.MQTT_PASSWORD || undefined },
            ingest,
            log,
          );
        }
        if (!authenticator) log.warn('MQTT_AUTH=off: the embedded broker accepts anonymous devices on any topic');
        const tls = tlsFiles && config.tls ? { port: config.tls.mqttPort, options: tlsServerOptions(tlsFiles, { clientCertificates: authenticator !== null }) } : undefined;
        const broker = new EmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, tls, authenticator: authenticator ?? undefined }, ingest, log);
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
