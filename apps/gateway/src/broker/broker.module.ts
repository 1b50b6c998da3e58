import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DeviceAuthenticator, readCredentialsFile } from '../auth/device-credentials';
import { CONFIG, LOGGER, UPGRADE_ROUTER } from '../core/core.tokens';
import { UpgradeRouter } from '../core/upgrade.router';
import { GatewayConfig } from '../config/gateway-config';
import { INGEST, IngestModule } from '../ingest/ingest.module';
import { IngestService } from '../ingest/ingest.service';
import { Logger } from '../observability/logger';
import { EmbeddedBroker } from './embedded-broker';
import { ExternalBroker } from './external-broker';
import { TELEMETRY_BROKER, TelemetryBroker } from './telemetry-broker';

/**
 * The MQTT side: the embedded aedes broker (TCP, and WebSocket `/mqtt` on
 * the HTTP server, whose upgrade handler it registers itself) or a
 * connection to an external broker. Either way every message goes to ingest
 * before it is acknowledged.
 */
@Module({
  imports: [IngestModule],
  providers: [
    {
      provide: TELEMETRY_BROKER,
      inject: [CONFIG, INGEST, LOGGER, UPGRADE_ROUTER],
      useFactory: (config: GatewayConfig, ingest: IngestService, log: Logger, router: UpgradeRouter): TelemetryBroker => {
        if (config.mqttUrl) {
          return new ExternalBroker(
            { url: config.mqttUrl, clientId: config.mqttClientId, shareGroup: config.mqttShareGroup, username: process.env.MQTT_USERNAME || undefined, password: process.env.MQTT_PASSWORD || undefined },
            ingest,
            log,
          );
        }
        const authenticator = config.mqttAuth === 'required' ? new DeviceAuthenticator(readCredentialsFile(config.deviceCredentialsFile, { mustExist: true })) : undefined;
        if (!authenticator) log.warn('MQTT_AUTH=off: the embedded broker accepts anonymous devices on any topic');
        const broker = new EmbeddedBroker({ host: config.host, port: config.mqttPort, authenticator }, ingest, log);
        router.add(broker.webSocketUpgradeHandler());
        return broker;
      },
    },
  ],
  exports: [TELEMETRY_BROKER],
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
