import { Inject, Module, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { Clock } from '../core/clock';
import { BUS, CLOCK, CONFIG, LOGGER, METRICS } from '../core/core.tokens';
import { GatewayBus } from '../core/gateway.events';
import { GatewayConfig } from '../config/gateway-config';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { PARKS, ParkModule } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { clusterTopics } from './cluster.messages';
import { ClusterService, DEFAULT_CLUSTER_TIMING } from './cluster.service';
import { MqttLink } from './mqtt.link';
import { PARK_OWNERSHIP, ParkOwnership, SOLE_OWNER } from './park-ownership';

/**
 * Scale-out (contract §8): which parks this gateway derives. Alone (the
 * embedded broker, or an external one without MQTT_SHARE_GROUP), every park
 * it serves. With MQTT_SHARE_GROUP, the gateways of the group share the
 * parks through leases on the broker ({@link ClusterService}).
 */
@Module({
  imports: [ParkModule],
  providers: [
    {
      provide: PARK_OWNERSHIP,
      inject: [CONFIG, PARKS, BUS, METRICS, LOGGER, CLOCK],
      useFactory: (config: GatewayConfig, parks: ParkRegistry, bus: GatewayBus, metrics: GatewayMetrics, log: Logger, clock: Clock): ParkOwnership => {
        if (!config.mqttUrl || !config.mqttShareGroup) return SOLE_OWNER;
        const link = new MqttLink(
          { url: config.mqttUrl, clientId: `${config.mqttClientId}-cluster`, username: process.env.MQTT_USERNAME || undefined, password: process.env.MQTT_PASSWORD || undefined },
          log,
        );
        return new ClusterService(link, bus, metrics, log, clock, {
          memberId: config.mqttClientId,
          http: `${config.tls ? 'https' : 'http'}://${config.httpHost}:${config.httpPort}`,
          parks: parks.all().map((p) => p.model.id),
          topics: clusterTopics(config.mqttShareGroup),
          timing: DEFAULT_CLUSTER_TIMING,
        });
      },
    },
  ],
  exports: [PARK_OWNERSHIP],
})
export class ClusterModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Optional() @Inject(PARK_OWNERSHIP) private readonly ownership?: ParkOwnership) {}

  // Before the vitals module's init (it imports this module): the cluster
  // connection is up when the derivation starts following ownership.
  async onModuleInit(): Promise<void> {
    if (this.ownership instanceof ClusterService) await this.ownership.start();
  }

  // After every beforeApplicationShutdown: the derivations stopped and their
  // points went to InfluxDB (if it took them within the vitals' stop bound),
  // so the leases can be handed back.
  async onApplicationShutdown(): Promise<void> {
    if (this.ownership instanceof ClusterService) await this.ownership.stop();
  }
}
