import { DynamicModule, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { AuthModule } from './auth/auth.module';
import { BrokerModule } from './broker/broker.module';
import { GatewayConfig } from './config/gateway-config';
import { TlsMaterial } from './config/tls-files';
import { Clock, systemClock } from './core/clock';
import { CoreModule } from './core/core.module';
import { LiveModule } from './live/live.module';
import { Logger } from './observability/logger';
import { ReportModule } from './report/report.module';
import { TrendsModule } from './trends/trends.module';
import { VitalsModule } from './vitals/vitals.module';

/**
 * The gateway: one feature folder = one module (style.md); the module graph
 * and the bus are drawn in docs/architecture.md.
 */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, log: Logger, clock: Clock = systemClock, tls?: TlsMaterial): DynamicModule {
    return { module: AppModule, imports: [CoreModule.forRoot(config, log, clock, tls), AuthModule, VitalsModule, TrendsModule, ReportModule, LiveModule, BrokerModule, ApiModule] };
  }
}
