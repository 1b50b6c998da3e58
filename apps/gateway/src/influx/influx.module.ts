import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../core/clock';
import { CLOCK, CONFIG, LOGGER } from '../core/core.tokens';
import { GatewayConfig } from '../config/gateway-config';
import { Logger } from '../observability/logger';
import { InfluxHttpClient } from './influx-http.client';
import { INFLUX_INFO, INFLUX_QUERY, LINE_WRITER } from './influx.ports';

const INFLUX_CLIENT = Symbol('INFLUX_CLIENT');
/** How often a gateway that started without InfluxDB looks for it again. */
const DETECT_RETRY_MS = 2000;

/**
 * Finds out which InfluxDB API the server speaks and creates the v1
 * database. InfluxDB being down at start-up is not fatal: the gateway
 * starts, keeps what it is given on disk, and detects again until the server
 * answers.
 */
async function connectInflux(config: GatewayConfig, log: Logger, clock: Clock): Promise<InfluxHttpClient> {
  const client = new InfluxHttpClient(config.influx);
  client.api = config.influx.api ?? (config.influx.bucket || config.influx.token ? 'v2' : 'v1');
  const prepare = async () => {
    const api = await client.detect(config.influx.api);
    if (api === 'v1' && config.influx.createDb) await client.createDatabase();
    log.info({ url: config.influx.url, api, version: client.version, db: api === 'v1' ? config.influx.db : (config.influx.bucket ?? config.influx.db) }, 'InfluxDB connected');
  };
  try {
    await prepare();
  } catch (e) {
    log.error({ url: config.influx.url, err: (e as Error).message }, 'InfluxDB is not reachable; readings wait on disk until it is');
    const retry = clock.setInterval(() => prepare().then(() => clock.clearInterval(retry), () => undefined), DETECT_RETRY_MS);
  }
  return client;
}

/**
 * InfluxDB behind two ports: `LINE_WRITER` (the sink writes through it) and
 * `INFLUX_QUERY` (history, catch-up, recompute read through it), both served
 * by one HTTP client with a keep-alive agent.
 */
@Module({
  providers: [
    { provide: INFLUX_CLIENT, inject: [CONFIG, LOGGER, CLOCK], useFactory: connectInflux },
    { provide: LINE_WRITER, useExisting: INFLUX_CLIENT },
    { provide: INFLUX_QUERY, useExisting: INFLUX_CLIENT },
    { provide: INFLUX_INFO, inject: [INFLUX_CLIENT], useFactory: (c: InfluxHttpClient) => ({ get: () => c.info() }) },
  ],
  exports: [LINE_WRITER, INFLUX_QUERY, INFLUX_INFO],
})
export class InfluxModule implements OnApplicationShutdown {
  constructor(@Inject(INFLUX_CLIENT) private readonly client: InfluxHttpClient) {}

  // The sink (SinkModule, which imports this module) flushes in its own
  // onApplicationShutdown before this one runs: Nest shuts importers down first.
  onApplicationShutdown(): void {
    this.client.close();
  }
}
