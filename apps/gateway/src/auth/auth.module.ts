import { Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BrokerModule } from '../broker/broker.module';
import { GatewayConfig } from '../config/gateway-config';
import { ConfigError } from '../config/gateway-config';
import { CLOCK, CONFIG, LOGGER } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { Logger } from '../observability/logger';
import { ApiTokenStore, checkTokensFileMode, readTokensFile } from './api-tokens';
import { OPERATOR_AUTH, SESSIONS, TOKEN_STORE } from './auth.tokens';
import { DevicesController } from './devices.controller';
import { OperatorAuth } from './operator.auth';
import { OperatorGuard } from './operator.guard';
import { SessionController } from './session.controller';
import { MAX_SESSIONS, SESSION_TTL_MS, SessionStore, sessionsFileFor } from './session.store';
import { TokensController } from './tokens.controller';

/**
 * Operator authentication (contract §8): the token store, browser sessions,
 * the global guard every route passes (deny by default), and the session,
 * token and device-credential routes. The live stream uses OPERATOR_AUTH for
 * its upgrades.
 */
@Module({
  imports: [BrokerModule],
  controllers: [SessionController, TokensController, DevicesController],
  providers: [
    {
      provide: TOKEN_STORE,
      inject: [CONFIG, LOGGER],
      useFactory: (config: GatewayConfig, log: Logger) => {
        const file = config.api.tokensFile;
        if (config.api.auth === 'off') return new ApiTokenStore(readTokensFile(file, { mustExist: false }), file);
        const mode = checkTokensFileMode(file);
        if (mode.refuse) throw new ConfigError(mode.refuse);
        if (mode.warn) log.warn(mode.warn);
        return ApiTokenStore.fromFile(file);
      },
    },
    { provide: SESSIONS, inject: [CLOCK, CONFIG], useFactory: (clock: Clock, config: GatewayConfig) => new SessionStore(clock, SESSION_TTL_MS, MAX_SESSIONS, sessionsFileFor(config.api.tokensFile)) },
    {
      provide: OPERATOR_AUTH,
      inject: [CONFIG, TOKEN_STORE, SESSIONS],
      useFactory: (config: GatewayConfig, tokens: ApiTokenStore, sessions: SessionStore) => new OperatorAuth(config.api, tokens, sessions, config.tls !== undefined),
    },
    { provide: APP_GUARD, useClass: OperatorGuard },
  ],
  exports: [OPERATOR_AUTH, TOKEN_STORE],
})
export class AuthModule implements OnApplicationBootstrap {
  constructor(
    @Inject(OPERATOR_AUTH) private readonly auth: OperatorAuth,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.auth.required) this.log.warn('API_AUTH=off: the operator API, live stream and metrics are open to anyone who reaches HTTP_HOST (token and device management over the API stays closed)');
    else this.log.info({ tokens: this.auth.tokens.size, metricsAuth: this.auth.config.metricsAuth }, 'operator API needs a token');
  }
}
