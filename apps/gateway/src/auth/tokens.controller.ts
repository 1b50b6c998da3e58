import { Body, ConflictException, Controller, Delete, ForbiddenException, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { badParam } from '../api/api-errors';
import { CLOCK } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { Operator, Role, ROLES, TOKEN_NAME, TokenStoreError } from './api-tokens';
import { CurrentOperator, RequireRole } from './auth.decorators';
import { OPERATOR_AUTH } from './auth.tokens';
import { OperatorAuth } from './operator.auth';

/**
 * Management over the API (tokens here, device credentials in
 * DevicesController) needs an admin token for every park: an admin scoped to
 * some parks could otherwise mint a token, or a device, for the others.
 */
export function requireUnscopedAdmin(op: Operator): void {
  if (op.parks !== undefined) throw new ForbiddenException({ error: 'forbidden', message: 'managing tokens and devices needs an admin token for every park (made without --park)' });
  if (op.tokenId === '') throw new ForbiddenException({ error: 'forbidden', message: 'API_AUTH=off: manage tokens and devices with npm run tokens / npm run credentials on the gateway host' });
}

/** Operator tokens over the API (contract §8: admin). Same store and file as `npm run tokens`. */
@ApiTags('auth')
@RequireRole('admin')
@Controller('api/tokens')
export class TokensController {
  constructor(
    @Inject(OPERATOR_AUTH) private readonly auth: OperatorAuth,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every token: name, role, parks, created; never the token or its hash.' })
  list(@CurrentOperator() op: Operator) {
    requireUnscopedAdmin(op);
    return this.auth.tokens.list().map((t) => ({ name: t.name, role: t.role, parks: t.parks ?? null, createdAt: t.createdAt }));
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Make a token: {name, role, parks?}. The answer holds the token, shown this once.' })
  @ApiBody({ schema: { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role: { enum: [...ROLES] }, parks: { type: 'array', items: { type: 'string' } } } } })
  add(@CurrentOperator() op: Operator, @Body() body: unknown) {
    requireUnscopedAdmin(op);
    const b = (body ?? {}) as { name?: unknown; role?: unknown; parks?: unknown };
    if (typeof b.name !== 'string' || !TOKEN_NAME.test(b.name)) throw badParam('name', '1-64 letters, digits, ".", "_" or "-"');
    if (typeof b.role !== 'string' || !(ROLES as readonly string[]).includes(b.role)) throw badParam('role', `one of ${ROLES.join(', ')}`);
    if (b.parks !== undefined && b.parks !== null && (!Array.isArray(b.parks) || b.parks.some((p) => typeof p !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p)))) {
      throw badParam('parks', 'a list of park ids, or absent for every park');
    }
    try {
      const { token, record } = this.auth.tokens.add(b.name, b.role as Role, (b.parks as string[] | null | undefined) ?? undefined, this.clock.now());
      return { name: record.name, role: record.role, parks: record.parks ?? null, createdAt: record.createdAt, token };
    } catch (e) {
      if (e instanceof TokenStoreError && e.code === 'exists') throw new ConflictException({ error: 'conflict', message: e.message });
      throw e;
    }
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token by name: its requests, sessions and live streams end.' })
  revoke(@CurrentOperator() op: Operator, @Param('name') name: string): void {
    requireUnscopedAdmin(op);
    if (!this.auth.tokens.revoke(name)) throw new NotFoundException({ error: 'not_found', message: `no token named "${name}"` });
  }
}
