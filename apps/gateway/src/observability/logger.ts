import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { LOG_REDACT_PATHS, REDACTED, redactUrl } from './redact';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout (one object per line), with secrets censored (contract §8). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { svc: 'park-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: LOG_REDACT_PATHS, censor: REDACTED },
    // URLs with credentials (MQTT_URL, INFLUX_URL) may sit in any field or
    // message, e.g. inside an error text: every string is passed through
    // redactUrl, so no call site has to remember (issue 8 finding 4).
    formatters: { log: (fields) => redactFields(fields) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes NestJS's own log calls into the same JSON stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pinoLog: Logger) {}
  log(message: unknown, context?: string): void {
    // Nest's route-mapping chatter is debug material, not operations news.
    if (context === 'RouterExplorer' || context === 'RoutesResolver' || context === 'InstanceLoader') this.pinoLog.debug({ context }, String(message));
    else this.pinoLog.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pinoLog.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pinoLog.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pinoLog.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pinoLog.trace({ context }, String(message));
  }
}

/** The fields of a log line with URL credentials hidden in every string, one level deep. */
function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string') continue;
    const r = redactUrl(v);
    if (r !== v) (out ??= { ...fields })[k] = r;
  }
  return out ?? fields;
}
