import { Controller, Get, Header, HttpCode, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { TOPIC_ROOT } from '@park/telemetry';
import { inScope, Operator } from '../auth/api-tokens';
import { CurrentOperator, MetricsAccess, RequireRole, TokenOptional } from '../auth/auth.decorators';
import { TELEMETRY_BROKER, TelemetryBroker } from '../broker/telemetry-broker';
import { PARK_OWNERSHIP, ParkOwnership } from '../cluster/park-ownership';
import { GatewayConfig } from '../config/gateway-config';
import { CONFIG, METRICS } from '../core/core.tokens';
import { INFLUX_INFO, InfluxServerInfo } from '../influx/influx.ports';
import { REJECTIONS } from '../ingest/ingest.module';
import { RejectionLog } from '../ingest/rejection.log';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { redactUrl } from '../observability/redact';
import { PARKS } from '../park/park.module';
import { ParkRegistry } from '../park/park.registry';
import { POINT_SINK, PointSink } from '../sink/point-sink';
import { intParam, parkOr404, stringParam } from './api-errors';

/**
 * A park-scoped operator sees the rejections of its parks' topics only
 * (`park/{park}/...`); a topic outside `park/` names no park and is shown to
 * operators of every park only.
 */
function rejectionInScope(operator: Operator, topic: string): boolean {
  if (operator.parks === undefined) return true;
  const [root, park] = topic.split('/', 3);
  return root === TOPIC_ROOT && park !== undefined && inScope(operator, park);
}

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
    @Inject(PARK_OWNERSHIP) private readonly ownership: ParkOwnership,
  ) {}

  @Get('api/health')
  @ApiTags('operations')
  @ApiOperation({ summary: 'Gateway health: broker, InfluxDB reachability, write backlog, unregistered sensors, sensors with clocks ahead or implausible registers, the parks this gateway derives. 200 when ok, 503 when degraded.' })
  @TokenOptional()
  health(@Res({ passthrough: true }) res: { status(code: number): unknown }, @CurrentOperator() operator?: Operator) {
    const broker = this.broker.status();
    const backlog = this.sink.backlog();
    const problems: string[] = [];
    if (!broker.up) problems.push(`MQTT broker (${broker.mode}) is not ${broker.mode === 'embedded' ? 'listening' : 'connected'}`);
    if (!backlog.reachable) problems.push('InfluxDB is not taking writes; readings wait in the write-ahead log');
    else if (backlog.walLines > 100_000) problems.push('InfluxDB is behind: the write-ahead log holds a backlog');
    const status = problems.length === 0 ? 'ok' : 'degraded';
    res.status(status === 'ok' ? 200 : 503);
    // Contract §8: without a token, only the status (a load balancer's probe
    // needs no more, and the rest describes the installation).
    if (!operator) return { status };
    return {
      status,
      problems,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      // Credentials inside MQTT_URL and INFLUX_URL never leave (issue 8 finding 4).
      broker: { ...broker, url: redactUrl(broker.url), ...(broker.detail ? { detail: redactUrl(broker.detail) } : {}) },
      influx: { url: redactUrl(this.config.influx.url), ...this.influx.get(), reachable: backlog.reachable, lastError: backlog.lastError === undefined ? undefined : redactUrl(backlog.lastError), lastWriteOkAt: backlog.lastWriteOkAt },
      writeBacklog: { memoryLines: backlog.memoryLines, walLines: backlog.walLines, walBytes: backlog.walBytes },
      readings: {
        received: this.metrics.readingsReceived, accepted: this.metrics.readingsAccepted, rejected: this.metrics.rejectedTotal, written: this.metrics.pointsWritten,
        late: this.metrics.lateReadings, clockSkew: this.metrics.clockSkewReadings, implausible: this.metrics.implausibleReadings,
      },
      parks: this.parks.all().map((p) => p.model.id).filter((id) => inScope(operator, id)),
      // Contract §8: which parks this gateway derives (all of them when it is alone).
      derives: this.parks.all().map((p) => p.model.id).filter((id) => inScope(operator, id) && this.ownership.owns(id)),
      cluster: this.ownership.status(),
      unregisteredSensors: this.parks.unregisteredSensors().filter((u) => inScope(operator, u.park)),
      // Contract §8: sensors stamped ahead of the gateway clock; registers with implausible steps.
      skewedSensors: this.parks.skewedSensors().filter((u) => inScope(operator, u.park)),
      implausibleSensors: this.parks.implausibleSensors().filter((u) => inScope(operator, u.park)),
    };
  }

  @Get('api/parks')
  @ApiTags('parks')
  @ApiOperation({ summary: 'The parks served (those in the token\'s scope).' })
  @RequireRole('viewer')
  listParks(@CurrentOperator() operator: Operator) {
    return this.parks.all().filter((p) => inScope(operator, p.model.id)).map((p) => ({
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
  @RequireRole('viewer')
  getPark(@Param('park') id: string) {
    const p = parkOr404(this.parks, id);
    return { ...p.model, gridEmissionFactorKgPerKwh: p.emissionFactor };
  }

  @Get('api/rejections')
  @ApiTags('operations')
  @ApiOperation({ summary: 'The latest rejected readings, newest first, with reasons and counts by reason.' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @ApiQuery({ name: 'reason', required: false, description: 'only this reason' })
  // Operator, not viewer (contract §8): the list names devices (username,
  // client id), which a viewer has no need of (issue 8 finding 3).
  @RequireRole('operator')
  rejected(@CurrentOperator() operator: Operator, @Query('limit') limit?: string, @Query('reason') reason?: string) {
    const n = intParam('limit', stringParam('limit', limit), 100, 1, 500);
    const why = stringParam('reason', reason);
    const all = this.rejections.latest().filter((r) => rejectionInScope(operator, r.topic));
    const items = (why ? all.filter((r) => r.reason === why) : all).slice(0, n);
    return { total: this.metrics.rejectedTotal, byReason: this.metrics.rejected, items };
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiTags('operations')
  @ApiOperation({ summary: 'Prometheus metrics. Needs a token of any role unless METRICS_AUTH=off.' })
  @MetricsAccess()
  prometheus(): string {
    return this.metrics.render();
  }
}
