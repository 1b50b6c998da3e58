import { Controller, Get, Header, HttpCode, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { TELEMETRY_BROKER, TelemetryBroker } from '../broker/telemetry-broker';
import { GatewayConfig } from '../config/gateway-config';
import { CONFIG, METRICS } from '../core/core.tokens';
import { INFLUX_INFO, InfluxServerInfo } from '../influx/influx.ports';
import { REJECTIONS } from '../ingest/ingest.module';
import { RejectionLog } from '../ingest/rejection-log';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { PARKS } from '../park/park.module';
import { ParkRegistry } from '../park/park-registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { intParam, parkOr404 } from './api-errors';

const startedAt = Date.now();

/** Health, parks, rejections and Prometheus metrics (contract §7). */
@Controller()
export class TelemetryController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PARKS) private readonly parks: ParkRegistry,
    @Inject(METRICS) private readonly metrics: GatewayMetrics,
    @Inject(REJECTIONS) private readonly rejections: RejectionLog,
    @Inject(POINT_SINK) private readonly sink: PointSink,
    @Inject(INFLUX_INFO) private readonly influx: { get(): InfluxServerInfo },
    @Inject(TELEMETRY_BROKER) private readonly broker: TelemetryBroker,
  ) {}

  @Get('api/health')
  @ApiTags('operations')
  @ApiOperation({ summary: 'Gateway health: broker, InfluxDB reachability, write backlog, unregistered sensors. 200 when ok, 503 when degraded.' })
  health(@Res({ passthrough: true }) res: { status(code: number): unknown }) {
    const broker = this.broker.status();
    const backlog = this.sink.backlog();
    const problems: string[] = [];
    if (!broker.up) problems.push(`MQTT broker (${broker.mode}) is not ${broker.mode === 'embedded' ? 'listening' : 'connected'}`);
    if (!backlog.reachable) problems.push('InfluxDB is not taking writes; readings wait in the write-ahead log');
    else if (backlog.walLines > 100_000) problems.push('InfluxDB is behind: the write-ahead log holds a backlog');
    const status = problems.length === 0 ? 'ok' : 'degraded';
    res.status(status === 'ok' ? 200 : 503);
    return {
      status,
      problems,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      broker,
      influx: { url: this.config.influx.url, ...this.influx.get(), reachable: backlog.reachable, lastError: backlog.lastError, lastWriteOkAt: backlog.lastWriteOkAt },
      writeBacklog: { memoryLines: backlog.memoryLines, walLines: backlog.walLines, walBytes: backlog.walBytes },
      readings: { received: this.metrics.readingsReceived, accepted: this.metrics.readingsAccepted, rejected: this.metrics.rejectedTotal, written: this.metrics.pointsWritten },
      parks: this.parks.all().map((p) => p.model.id),
      unregisteredSensors: this.parks.unregisteredSensors(),
    };
  }

  @Get('api/parks')
  @ApiTags('parks')
  @ApiOperation({ summary: 'The parks served.' })
  listParks() {
    return this.parks.all().map((p) => ({
      id: p.model.id,
      name: p.model.name,
      buildings: p.model.buildings.length,
      sensors: p.sensors.size,
    }));
  }

  @Get('api/parks/:park')
  @ApiTags('parks')
  @ApiOperation({ summary: 'The park model: buildings, geometry, sensors (contract §4), with defaults applied.' })
  @ApiOkResponse({ description: 'Park model JSON' })
  getPark(@Param('park') id: string) {
    const p = parkOr404(this.parks, id);
    return { ...p.model, gridEmissionFactorKgPerKwh: p.emissionFactor };
  }

  @Get('api/rejections')
  @ApiTags('operations')
  @ApiOperation({ summary: 'The latest rejected readings, newest first, with reasons and counts by reason.' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @ApiQuery({ name: 'reason', required: false, description: 'only this reason' })
  rejected(@Query('limit') limit?: string, @Query('reason') reason?: string) {
    const n = intParam('limit', limit, 100, 1, 500);
    const all = this.rejections.latest();
    const items = (reason ? all.filter((r) => r.reason === reason) : all).slice(0, n);
    return { total: this.metrics.rejectedTotal, byReason: this.metrics.rejected, items };
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiTags('operations')
  @ApiOperation({ summary: 'Prometheus metrics.' })
  prometheus(): string {
    return this.metrics.render();
  }
}
