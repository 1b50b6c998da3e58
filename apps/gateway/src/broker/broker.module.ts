import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DeviceAuthenticator, readCredentialsFile } from '../auth/device-credentials';
import { GatewayConfig } from '../config/gateway-config';
import { BUS, CONFIG, INGEST, LOGGER, METRICS, PARKS, REJECTIONS } from '../gateway.tokens';
import { IngestService } from '../ingest/ingest.service';
import { RejectionLog } from '../ingest/rejection-log';
import { TelemetryBus } from '../ingest/telemetry.bus';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { ParkRegistry } from '../park/park-registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { SinkModule } from '../sink/sink.module';
import { EmbeddedBroker } from './embedded-broker';
import { ExternalBroker } from './external-broker';
import { TELEMETRY_BROKER, TelemetryBroker } from './telemetry-broker';

@Module({
  imports: [SinkModule],
  providers: [
    {
      provide: INGEST,
      inject: [PARKS, POINT_SINK, METRICS, REJECTIONS, BUS, CONFIG],
      useFactory: (parks: ParkRegistry, sink: PointSink, metrics: GatewayMetrics, rejections: RejectionLog, bus: TelemetryBus, config: GatewayConfig) =>
        new IngestService(parks, sink, metrics, rejections, bus, config.payloadLimits),
    },
    {
      provide: TELEMETRY_BROKER,
      inject: [CONFIG, INGEST, LOGGER],
      useFactory: (config: GatewayConfig, ingest: IngestService, log: Logger): TelemetryBroker => {
        if (config.mqttUrl) {
          return new ExternalBroker(
            { url: config.mqttUrl, clientId: config.mqttClientId, shareGroup: config.mqttShareGroup, username: process.env.MQTT_USERNAME || undefined, password: process.env.MQTT_PASSWORD || undefined },
            ingest,
            log,
          );
        }
        const authenticator = config.mqttAuth === 'required' ? new DeviceAuthenticator(readCredentialsFile(config.deviceCredentialsFile, { mustExist: true })) : undefined;
        if (!authenticator) log.warn('MQTT_AUTH=off: the embedded broker accepts anonymous devices on any topic');
        return new EmbeddedBroker({ host: config.host, port: config.mqttPort, authenticator }, ingest, log);
      },
    },
  ],
  exports: [TELEMETRY_BROKER, INGEST],
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
