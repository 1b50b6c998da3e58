import 'reflect-metadata';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { ApiTokenStore } from './auth/api-tokens';
import { TOKEN_STORE } from './auth/auth.tokens';
import { DEVICE_AUTHENTICATOR } from './auth/device-auth.token';
import { DeviceAuthenticator, readCredentialsFile } from './auth/device-credentials';
import { SESSION_COOKIE } from './auth/session.store';
import { EmbeddedBroker } from './broker/embedded.broker';
import { TELEMETRY_BROKER, TelemetryBroker } from './broker/telemetry-broker';
import { ConfigError, GatewayConfig, loadConfig } from './config/gateway-config';
import { readTlsFiles, TlsMaterial, tlsServerOptions } from './config/tls-files';
import { systemClock } from './core/clock';
import { UPGRADE_ROUTER } from './core/core.tokens';
import { UpgradeRouter } from './core/upgrade.router';
import { createLogger, Logger, NestPinoLogger } from './observability/logger';
import { redactUrl } from './observability/redact';

/** Bootstraps the gateway; everything else lives in the feature modules. */
async function main(): Promise<void> {
  let config: GatewayConfig;
  let tlsFiles: TlsMaterial | undefined;
  try {
    config = loadConfig();
    tlsFiles = config.tls ? readTlsFiles(config.tls) : undefined;
  } catch (e) {
    return fail(e);
  }
  const log = createLogger(config.logLevel);
  const embedded = !config.mqttUrl;
  // Contract §8: devices on MQTT_HOST, operators on HTTP_HOST. When they
  // differ, MQTT over WebSocket (`/mqtt`) gets its own listener on MQTT_HOST
  // (docs/security.md, "Listeners"); when they are the same, it stays on the
  // HTTP port as in contract §1.
  const split = config.mqttHost !== config.httpHost;
  const deviceCertificates = embedded && config.mqttAuth === 'required';
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, log, systemClock, tlsFiles), {
      logger: new NestPinoLogger(log),
      abortOnError: false,
      bodyParser: false,
      httpsOptions: tlsFiles ? tlsServerOptions(tlsFiles, { clientCertificates: deviceCertificates && !split }) : undefined,
    });
  } catch (e) {
    return fail(e, log);
  }
  let deviceWeb: http.Server | undefined;
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
    deviceWeb?.close();
    deviceWeb?.closeAllConnections();
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
  process.on('SIGHUP', () => reload(app, config, log, deviceWeb));
  app.disable('x-powered-by');
  // Only the few POST routes (session, tokens, devices) take a body, all small JSON.
  app.useBodyParser('json', { limit: '16kb' });

  // The docs page is public: it describes the API (open source anyway) and
  // holds no data; every route it lists still needs its token.
  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Park twin gateway')
      .setDescription(
        'Park telemetry contract v1 and §8: health, parks, vital signs, history, alarms, KPIs. Live stream: WebSocket /api/live. ' +
          'Every route needs an operator token (Authorization: Bearer <token>, or the session cookie of POST /api/session) of the role it names, unless API_AUTH=off.',
      )
      .setVersion('2')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An operator token made with npm run tokens -- add' }, 'bearer')
      .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/session' }, 'session')
      .addSecurityRequirements('bearer')
      .addSecurityRequirements('session')
      .build(),
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
  const router = app.get<UpgradeRouter>(UPGRADE_ROUTER);
  router.attach(app.getHttpServer() as http.Server, split ? ['operator'] : ['device', 'operator']);
  if (split && embedded) {
    deviceWeb = tlsFiles ? https.createServer(tlsServerOptions(tlsFiles, { clientCertificates: deviceCertificates }), deviceOnly) : http.createServer(deviceOnly);
    router.attach(deviceWeb, ['device']);
  }
  const broker = app.get<TelemetryBroker>(TELEMETRY_BROKER);

  try {
    await app.listen(config.httpPort, config.httpHost);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { port?: number; address?: string };
    if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL') {
      const which = err.port === config.mqttPort ? 'MQTT_PORT' : err.port === config.tls?.mqttPort ? 'MQTT_TLS_PORT' : 'HTTP_PORT';
      const host = which === 'HTTP_PORT' ? ['HTTP_HOST', config.httpHost] : ['MQTT_HOST', config.mqttHost];
      return fail(new ConfigError(listenError(err, host[1], which, host[0])), log);
    }
    return fail(e, log);
  }
  if (deviceWeb) {
    try {
      await new Promise<void>((resolve, reject) => {
        deviceWeb!.once('error', reject);
        deviceWeb!.listen(config.mqttWsPort, config.mqttHost, () => resolve());
      });
    } catch (e) {
      return fail(new ConfigError(listenError(e as NodeJS.ErrnoException & { port?: number }, config.mqttHost, 'MQTT_WS_PORT', 'MQTT_HOST')), log);
    }
  }
  const b = broker.status();
  const scheme = tlsFiles ? ['https', 'wss'] : ['http', 'ws'];
  const wsAt = split ? `${config.mqttHost}:${(deviceWeb?.address() as net.AddressInfo | undefined)?.port ?? config.mqttWsPort}` : `${config.httpHost}:${config.httpPort}`;
  log.info(
    { http: `${scheme[0]}://${config.httpHost}:${config.httpPort}`, mqtt: redactUrl(b.url), mqtts: b.tlsUrl, ws: embedded ? `${scheme[1]}://${wsAt}/mqtt` : undefined, apiAuth: config.api.auth, parks: config.parkModelFiles },
    'gateway ready',
  );
}

/** The device listener's answer to anything but a WebSocket upgrade of `/mqtt`. */
function deviceOnly(req: http.IncomingMessage, res: http.ServerResponse): void {
  const upgrade = new URL(req.url ?? '/', 'http://x').pathname === '/mqtt';
  res.writeHead(upgrade ? 426 : 404, { 'content-type': 'application/json', ...(upgrade ? { upgrade: 'websocket' } : {}) });
  res.end(JSON.stringify(upgrade ? { error: 'upgrade_required', message: '/mqtt is MQTT over WebSocket' } : { error: 'not_found', message: 'this listener serves devices only (/mqtt); the operator API is on HTTP_HOST' }));
}

function listenError(err: NodeJS.ErrnoException & { port?: number }, host: string, portVar: string, hostVar: string): string {
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${host}:${err.port} (no such address on this machine); set ${hostVar} to an address of this machine`;
  if (err.code === 'EADDRINUSE') return `cannot listen on ${host}:${err.port} (address already in use); set ${portVar} to a free port or stop what uses it`;
  return `cannot listen on ${host} (${err.message}); check ${hostVar} and ${portVar}`;
}

/**
 * SIGHUP: re-reads the operator tokens, the device credentials and the TLS
 * files, as Mosquitto does on SIGHUP. A file that does not load is logged
 * and the old one kept; connections stay up.
 */
function reload(app: NestExpressApplication, config: GatewayConfig, log: Logger, deviceWeb: http.Server | undefined): void {
  const step = (what: string, fn: () => void) => {
    try {
      fn();
      log.info(`SIGHUP: ${what} reloaded`);
    } catch (e) {
      log.error({ err: e instanceof ConfigError ? e.message : (e as Error).stack }, `SIGHUP: ${what} not reloaded; keeping the old one`);
    }
  };
  step('operator tokens', () => app.get<ApiTokenStore>(TOKEN_STORE).reload());
  const devices = app.get<DeviceAuthenticator | null>(DEVICE_AUTHENTICATOR);
  if (devices) step('device credentials', () => devices.replace(readCredentialsFile(config.deviceCredentialsFile, { mustExist: true })));
  if (config.tls) {
    step('TLS certificate', () => {
      const m = readTlsFiles(config.tls!);
      const context = { cert: m.cert, key: m.key, ca: m.ca };
      (app.getHttpServer() as https.Server).setSecureContext(context);
      (deviceWeb as https.Server | undefined)?.setSecureContext(context);
      const broker = app.get<TelemetryBroker>(TELEMETRY_BROKER);
      if (broker instanceof EmbeddedBroker) broker.setSecureContext(context);
    });
  }
}

function fail(e: unknown, log?: Logger): never {
  const msg = redactUrl(e instanceof ConfigError ? e.message : (e as Error).stack ?? String(e));
  if (log) log.fatal({ err: msg }, 'gateway cannot start');
  process.stderr.write(`\ngateway cannot start: ${msg}\n`);
  process.exit(1);
}

void main();
