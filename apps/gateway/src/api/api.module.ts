import { Module } from '@nestjs/common';
import { BrokerModule } from '../broker/broker.module';
import { SinkModule } from '../sink/sink.module';
import { TelemetryController } from './telemetry.controller';

@Module({ imports: [SinkModule, BrokerModule], controllers: [TelemetryController] })
export class ApiModule {}
