import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import * as http from 'node:http';
import { unknownPark } from '../api/api-errors';
import { inScope, Operator, roleAtLeast } from './api-tokens';
import { ACCESS, AccessRule } from './auth.decorators';
import { OPERATOR_AUTH } from './auth.tokens';
import { OperatorAuth } from './operator.auth';
import { originAllowed } from './origin.check';

type GuardedRequest = http.IncomingMessage & { operator?: Operator; params?: Record<string, string>; method?: string };

/** `WWW-Authenticate` of a 401 (RFC 6750 §3). */
export function wwwAuthenticate(presented: boolean): string {
  return presented ? 'Bearer realm="park-twin", error="invalid_token"' : 'Bearer realm="park-twin"';
}

/**
 * The global guard of every HTTP route (contract §8, "Operator
 * authentication"). It denies by default: a route without an access rule
 * (`@RequireRole`, `@Public`, `@TokenOptional`, `@MetricsAccess`, on the
 * route or its controller) is refused to everyone, so a route added later is
 * never open by accident.
 *
 * Order: no or bad token → 401 with `WWW-Authenticate: Bearer`; role too low
 * → 403; a `:park` outside the token's scope → 404 with exactly the body of
 * an unknown park (its existence is not revealed). A state-changing request
 * (POST, PUT, PATCH, DELETE) from a foreign browser `Origin` is a 403 whatever
 * its credentials: the SameSite=Strict cookie already keeps other sites out;
 * this is the second lock.
 */
@Injectable()
export class OperatorGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(OPERATOR_AUTH) private readonly auth: OperatorAuth,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS, [ctx.getHandler(), ctx.getClass()]);
    const http = ctx.switchToHttp();
    const req = http.getRequest<GuardedRequest>();
    const res = http.getResponse<http.ServerResponse>();
    return check(this.auth, rule, req, (name, value) => res.setHeader(name, value));
  }
}

/**
 * The guard's decision for one request, apart from Nest (the table-driven
 * spec drives it with every route's real rule). Throws the HTTP error;
 * returns true to let the request through, with `req.operator` set.
 */
export function check(auth: OperatorAuth, rule: AccessRule | undefined, req: GuardedRequest, setHeader: (name: string, value: string) => void): boolean {
  const unsafe = req.method !== undefined && !['GET', 'HEAD', 'OPTIONS'].includes(req.method.toUpperCase());
  if (unsafe && !originAllowed(req, auth.tls, auth.config.allowedOrigins)) {
    throw new ForbiddenException({ error: 'forbidden', message: `requests from origin ${String(req.headers.origin)} are not allowed; add it to ALLOWED_ORIGINS if it is yours` });
  }
  const { operator, presented } = auth.authenticate(req);
  if (operator) req.operator = operator;
  if (!rule) throw new ForbiddenException({ error: 'forbidden', message: 'this route declares no access rule' });
  if (rule.kind === 'public' || rule.kind === 'optional') return true;
  if (rule.kind === 'metrics' && auth.config.metricsAuth === 'off') return true;
  if (!operator) {
    setHeader('WWW-Authenticate', wwwAuthenticate(presented));
    throw new UnauthorizedException({ error: 'unauthorized', message: presented ? 'the token or session is not valid (revoked, expired or mistyped)' : 'a token is needed: Authorization: Bearer <token>, or log in with POST /api/session' });
  }
  if (rule.kind === 'role' && !roleAtLeast(operator.role, rule.role)) {
    throw new ForbiddenException({ error: 'forbidden', message: `needs the ${rule.role} role; this token is ${operator.role}` });
  }
  const park = req.params?.park;
  if (park !== undefined && !inScope(operator, park)) throw unknownPark(park);
  return true;
}
