import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { parkOr404, stringParam } from '../api/api-errors';
import { RequireRole } from '../auth/auth.decorators';
import { PARKS } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { HistoryService } from './history.service';
import { alarmJson, vitalsJson } from './vitals.presenter';
import { VITALS_READ_MODEL, VitalsReadModel } from './vitals.read-model';

export const HISTORY = Symbol('HISTORY');

/**
 * Vital signs, history, alarms and KPIs of a park (contract §7). Every route
 * here reads, so the viewer role (contract §8) is set once for the
 * controller; the guard also answers a park outside the token's scope with
 * the unknown-park 404.
 */
@ApiTags('vitals')
@RequireRole('viewer')
@Controller('api/parks/:park')
export class VitalsController {
  constructor(
    @Inject(PARKS) private readonly parks: ParkRegistry,
    @Inject(VITALS_READ_MODEL) private readonly vitals: VitalsReadModel,
    @Inject(HISTORY) private readonly historyService: HistoryService,
  ) {}

  @Get('vitals')
  @ApiOperation({ summary: 'The latest closed window: {window:{start,end}, park:{...}, buildings:{id:{...}}}; window null before the first one closes.' })
  latest(@Param('park') park: string) {
    parkOr404(this.parks, park);
    return vitalsJson(this.vitals.latest(park));
  }

  @Get('history')
  @ApiOperation({ summary: 'History of one vital sign from InfluxDB: [{t, value}]. 1m windows as stored; 15m/1h/1d rolled up (sum energy and carbon, mean load and ratios, max peaks).' })
  @ApiQuery({ name: 'metric', required: true, description: 'a vitals field, e.g. load_kw, energy_kwh, carbon_kgco2e, occupancy, co2_ppm_avg, status' })
  @ApiQuery({ name: 'building', required: false, description: 'building id; absent = park scope' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 or epoch ms; default to − 24 h' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 or epoch ms; default now' })
  @ApiQuery({ name: 'every', required: false, enum: ['1m', '15m', '1h', '1d'] })
  history(@Param('park') park: string, @Query('metric') metric: string, @Query('building') building?: string, @Query('from') from?: string, @Query('to') to?: string, @Query('every') every?: string) {
    const q = { metric: stringParam('metric', metric) ?? '', building: stringParam('building', building), from: stringParam('from', from), to: stringParam('to', to), every: stringParam('every', every) };
    return this.historyService.history(parkOr404(this.parks, park), q);
  }

  @Get('alarms')
  @ApiOperation({ summary: 'Active alarms of the park.' })
  alarms(@Param('park') park: string) {
    parkOr404(this.parks, park);
    return this.vitals.activeAlarms(park).map(alarmJson);
  }

  @Get('kpis')
  @ApiOperation({ summary: 'KPIs of the current day, month or year in park time (the model timeZone, default Asia/Shanghai): energy, carbon, peak demand, renewable share, EUI, carbon intensity, per person, output per km² against the plan target.' })
  @ApiQuery({ name: 'period', required: false, enum: ['day', 'month', 'year'] })
  @ApiQuery({ name: 'building', required: false })
  kpis(@Param('park') park: string, @Query('period') period?: string, @Query('building') building?: string) {
    return this.historyService.kpis(parkOr404(this.parks, park), stringParam('period', period) ?? 'day', stringParam('building', building));
  }
}
