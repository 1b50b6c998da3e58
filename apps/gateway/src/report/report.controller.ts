import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MonthlyReport, reportCsv } from '@park/metrics';
import { badParam, parkOr404 } from '../api/api-errors';
import { RequireRole } from '../auth/auth.decorators';
import { Clock } from '../core/clock';
import { CLOCK } from '../core/core.tokens';
import { PARKS } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { parkMonth, ReportService } from './report.service';

export const REPORT = Symbol('REPORT');

/** The monthly energy and carbon report (contract §8); reading it is the viewer role's (contract §8 roles). */
@ApiTags('report')
@RequireRole('viewer')
@Controller('api/parks/:park')
export class ReportController {
  constructor(
    @Inject(PARKS) private readonly parks: ParkRegistry,
    @Inject(REPORT) private readonly reports: ReportService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('report')
  @ApiOperation({
    summary:
      'Monthly report per building and for the park, in park time: energy, PV, peak demand and when, carbon (grid × emission factor + direct) with the factor used, EUI, carbon per m², per person, per 10⁴ yuan of output (park, when the model has annualOutputCny), change on the previous month, data coverage.',
  })
  @ApiQuery({ name: 'period', required: false, enum: ['month'] })
  @ApiQuery({ name: 'month', required: false, description: 'YYYY-MM in park time; default the current month' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async report(@Param('park') park: string, @Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }, @Query('period') period?: string, @Query('month') month?: string, @Query('format') format?: string): Promise<MonthlyReport | string> {
    const index = parkOr404(this.parks, park);
    if ((period || 'month') !== 'month') throw badParam('period', `expected month, got "${period}"`);
    const f = format || 'json';
    if (f !== 'json' && f !== 'csv') throw badParam('format', `expected json or csv, got "${format}"`);
    const m = parkMonth(index, month, this.clock.now());
    const r = await this.reports.monthly(index, m);
    if (f === 'json') return r;
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="report-${index.model.id}-${m.label}.csv"`);
    return reportCsv(r);
  }
}
