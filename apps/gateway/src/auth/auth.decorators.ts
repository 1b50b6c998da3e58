import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Operator, Role } from './api-tokens';

/** Metadata key of a route's access rule. */
export const ACCESS = 'park:access';

/**
 * A route's access rule, read by the global OperatorGuard (contract §8).
 * A route without one is refused to everyone: protection does not depend on
 * remembering to add it.
 */
export type AccessRule =
  /** No token needed (the session login itself). */
  | { kind: 'public' }
  /** A token of at least this role; a `:park` outside its scope is a 404. */
  | { kind: 'role'; role: Role }
  /** `/metrics`: a token of any role, unless METRICS_AUTH=off. */
  | { kind: 'metrics' }
  /** Anyone; the handler answers more to an operator (`/api/health`). */
  | { kind: 'optional' };

/** Needs a token of at least `role` (on a controller: every route of it). */
export const RequireRole = (role: Role) => SetMetadata(ACCESS, { kind: 'role', role } satisfies AccessRule);
/** No token needed. Keep these few and harmless. */
export const Public = () => SetMetadata(ACCESS, { kind: 'public' } satisfies AccessRule);
/** Anyone; the handler reads `@CurrentOperator()` to decide how much to say. */
export const TokenOptional = () => SetMetadata(ACCESS, { kind: 'optional' } satisfies AccessRule);
/** The `/metrics` rule (METRICS_AUTH). */
export const MetricsAccess = () => SetMetadata(ACCESS, { kind: 'metrics' } satisfies AccessRule);

/** The request's operator, set by the guard; undefined when none was recognised. */
export const CurrentOperator = createParamDecorator((_data: unknown, ctx: ExecutionContext): Operator | undefined => ctx.switchToHttp().getRequest<{ operator?: Operator }>().operator);
