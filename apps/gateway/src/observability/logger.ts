import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout (one object per line). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'park-gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
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
