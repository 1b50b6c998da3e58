import { Module } from '@nestjs/common';
import { BrokerModule } from '../broker/broker.module';
import { ClusterModule } from '../cluster/cluster.module';
import { InfluxModule } from '../influx/influx.module';
import { IngestModule } from '../ingest/ingest.module';
import { ParkModule } from '../park/park.module';
import { SinkModule } from '../sink/sink.module';
import { TelemetryController } from './telemetry.controller';

/** Health, parks, rejections and Prometheus metrics (contract §7). */
@Module({ imports: [ParkModule, IngestModule, SinkModule, InfluxModule, BrokerModule, ClusterModule], controllers: [TelemetryController] })
export class ApiModule {}
