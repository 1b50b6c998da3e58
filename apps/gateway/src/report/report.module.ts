import { Module } from '@nestjs/common';
import { InfluxModule } from '../influx/influx.module';
import { INFLUX_QUERY, InfluxQuery } from '../influx/influx.ports';
import { ParkModule } from '../park/park.module';
import { REPORT, ReportController } from './report.controller';
import { ReportService } from './report.service';

/** `GET /api/parks/{park}/report` (contract §8): read-only over the stored vitals. */
@Module({
  imports: [ParkModule, InfluxModule],
  controllers: [ReportController],
  providers: [{ provide: REPORT, inject: [INFLUX_QUERY], useFactory: (influx: InfluxQuery) => new ReportService(influx) }],
})
export class ReportModule {}
