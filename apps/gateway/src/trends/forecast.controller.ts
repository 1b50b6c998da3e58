import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { FORECAST_EVERY_MS, ForecastEvery } from '@park/metrics';
import { badParam, parkOr404 } from '../api/api-errors';
import { RequireRole } from '../auth/auth.decorators';
import { CLOCK } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { PARKS } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { TrendsService } from './trends.service';

export const TRENDS = Symbol('TRENDS');

/** The metrics a forecast answers (contract §8). */
const METRICS = ['load_kw', 'energy_kwh'] as const;
type ForecastMetric = (typeof METRICS)[number];

/** `{"generated": ISO, "points": [{t, value, lo, hi}]}` (contract §8). */
export interface ForecastJson {
  generated: string;
  points: Array<{ t: string; value: number; lo: number; hi: number }>;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Load and energy forecasts of a park or building (contract §8, trends); a viewer reads them (contract §8 roles). */
@ApiTags('trends')
@RequireRole('viewer')
@Controller('api/parks/:park')
export class ForecastController {
  constructor(
    @Inject(PARKS) private readonly parks: ParkRegistry,
    @Inject(TRENDS) private readonly trends: TrendsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('forecast')
  @ApiOperation({
    summary:
      'Day-ahead forecast from the stored vitals with an 80 % interval: {generated, points:[{t, value, lo, hi}]}. Points start at the step holding now. 409 while there is too little history (the answer says how many days are needed and there are); 503 before the first fit after start.',
  })
  @ApiQuery({ name: 'metric', required: false, enum: METRICS, description: 'default load_kw (mean kW of each step); energy_kwh is the grid import of each step' })
  @ApiQuery({ name: 'building', required: false, description: 'building id; absent = park scope' })
  @ApiQuery({ name: 'horizon', required: false, description: '1h..24h, default 24h' })
  @ApiQuery({ name: 'every', required: false, enum: ['15m', '1h'], description: 'default 15m' })
  forecast(@Param('park') park: string, @Query('metric') metric?: string, @Query('building') building?: string, @Query('horizon') horizon?: string, @Query('every') every?: string): ForecastJson {
    const index = parkOr404(this.parks, park);
    const m = (metric || 'load_kw') as ForecastMetric;
    if (!METRICS.includes(m)) throw badParam('metric', `expected one of ${METRICS.join(', ')}, got "${metric}"`);
    if (building !== undefined && building !== '' && !index.buildings.has(building)) throw badParam('building', `unknown building "${building}" in park "${park}"`);
    const e = (every || '15m') as ForecastEvery;
    if (!(e in FORECAST_EVERY_MS)) throw badParam('every', `expected one of 15m, 1h, got "${every}"`);
    const h = /^(\d{1,2})h$/.exec(horizon || '24h');
    const hours = h ? Number(h[1]) : NaN;
    if (!(hours >= 1 && hours <= 24)) throw badParam('horizon', `expected 1h to 24h, got "${horizon}"`);
    const stepMs = FORECAST_EVERY_MS[e];
    const steps = Math.ceil((hours * 3_600_000) / stepMs);
    const answer = this.trends.forecast(park, building || undefined, e, this.clock.now(), steps);
    if (answer.kind === 'not_ready') {
      throw new HttpException({ error: 'not_ready', message: 'the forecasts are being fitted after start; try again in a few seconds' }, HttpStatus.SERVICE_UNAVAILABLE);
    }
    if (answer.kind === 'too_little_history') {
      const scope = building ? `building "${building}"` : `park "${park}"`;
      throw new HttpException(
        {
          error: 'not_enough_history',
          message: `the forecast of ${scope} needs ${answer.needDays} days of stored vitals and has ${answer.haveDays}; it is refitted every hour, so it appears once the history is long enough (or backfill it: docs/trends.md)`,
          need_days: answer.needDays,
          have_days: answer.haveDays,
        },
        HttpStatus.CONFLICT,
      );
    }
    const k = m === 'energy_kwh' ? stepMs / 3_600_000 : 1;
    return {
      generated: new Date(answer.generatedMs).toISOString(),
      points: answer.points.map((p) => ({ t: new Date(p.tMs).toISOString(), value: round3(p.value * k), lo: round3(p.lo * k), hi: round3(p.hi * k) })),
    };
  }
}
