import 'reflect-metadata';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { TELEMETRY_BROKER, TelemetryBroker } from './broker/telemetry-broker';
import { ConfigError, GatewayConfig, loadConfig } from './config/gateway-config';
import { UPGRADE_ROUTER } from './core/core.tokens';
import { UpgradeRouter } from './core/upgrade.router';
import { createLogger, Logger, NestPinoLogger } from './observability/logger';

/** Bootstraps the gateway; everything else lives in the feature modules. */
async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (e) {
    return fail(e);
  }
  const log = createLogger(config.logLevel);
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, log), {
      logger: new NestPinoLogger(log),
      abortOnError: false,
      bodyParser: false,
    });
  } catch (e) {
    return fail(e, log);
  }
  // Not app.enableShutdownHooks(): Nest re-raises the signal after closing,
  // so the process would end with 143/130. A clean stop exits 0.
  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down: closing the broker, flushing the write-ahead log');
    // Everything acknowledged is on disk already (contract §8): a stop that
    // hangs (a stuck InfluxDB, a stuck device socket) loses nothing by
    // being cut short.
    const force = setTimeout(() => {
      log.error('shutdown took longer than 20 s; exiting: acknowledged readings are in the write-ahead log');
      process.exit(code || 1);
    }, 20_000);
    force.unref();
    app.close().then(
      () => {
        clearTimeout(force);
        log.info('gateway stopped');
        process.exit(code);
      },
      (e: Error) => {
        log.error({ err: e.message }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  // A bug must not go unnoticed nor lose data: say what happened, stop as
  // cleanly as we can (the log is flushed, nothing unacknowledged was
  // promised), and exit non-zero so a supervisor restarts us.
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ kind, err: (err as Error)?.stack ?? String(err) }, `${kind}: stopping the gateway`);
    stop(kind, 1);
  };
  process.on('uncaughtException', crash('uncaughtException'));
  process.on('unhandledRejection', crash('unhandledRejection'));
  app.disable('x-powered-by');

  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Park twin gateway').setDescription('Park telemetry contract v1: health, parks, vital signs, history, alarms, KPIs. Live stream: WebSocket /api/live.').setVersion('1').build(),
  );
  SwaggerModule.setup('api/docs', app, openapi, { jsonDocumentUrl: 'api/openapi.json' });

  if (fs.existsSync(`${config.viewerDir}/index.html`)) app.useStaticAssets(config.viewerDir, {
      index: 'index.html',
      // Hashed assets are immutable; the page itself must be revalidated so a
      // deploy is seen at once.
      setHeaders: (res: { setHeader(n: string, v: string): void }, file: string) =>
        res.setHeader('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable'),
    });
  else log.warn({ viewerDir: config.viewerDir }, 'twin viewer not built; run `npm run build` to serve it at /');

  // The features registered their WebSocket paths when they were created.
  app.get<UpgradeRouter>(UPGRADE_ROUTER).attach(app.getHttpServer() as http.Server);
  const broker = app.get<TelemetryBroker>(TELEMETRY_BROKER);

  try {
    await app.listen(config.httpPort, config.host);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE') {
      const which = err.port === config.mqttPort ? 'MQTT_PORT' : 'HTTP_PORT';
      return fail(new ConfigError(`cannot listen on ${config.host}:${err.port} (address already in use); set ${which} to a free port or stop what uses it`), log);
    }
    return fail(e, log);
  }
  const b = broker.status();
  log.info({ http: `http://${config.host}:${config.httpPort}`, mqtt: b.url, ws: b.mode === 'embedded' ? `ws://${config.host}:${config.httpPort}/mqtt` : undefined, parks: config.parkModelFiles }, 'gateway ready');
}

function fail(e: unknown, log?: Logger): never {
  const msg = e instanceof ConfigError ? e.message : (e as Error).stack ?? String(e);
  if (log) log.fatal({ err: msg }, 'gateway cannot start');
  process.stderr.write(`\ngateway cannot start: ${msg}\n`);
  process.exit(1);
}

void main();
