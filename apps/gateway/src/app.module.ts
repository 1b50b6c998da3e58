import { DynamicModule, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { BrokerModule } from './broker/broker.module';
import { GatewayConfig } from './config/gateway-config';
import { CoreModule } from './core.module';
import { Logger } from './observability/logger';
import { SinkModule } from './sink/sink.module';
import { VitalsModule } from './vitals/vitals.module';

/** The gateway: one feature folder = one module (style.md). */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, log: Logger): DynamicModule {
    return { module: AppModule, imports: [CoreModule.forRoot(config, log), SinkModule, VitalsModule, BrokerModule, ApiModule] };
  }
}
