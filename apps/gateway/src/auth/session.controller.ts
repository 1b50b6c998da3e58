import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import * as http from 'node:http';
import { badParam } from '../api/api-errors';
import { Operator } from './api-tokens';
import { CurrentOperator, Public, RequireRole } from './auth.decorators';
import { OPERATOR_AUTH } from './auth.tokens';
import { OperatorAuth, sessionCookie } from './operator.auth';
import { wwwAuthenticate } from './operator.guard';

/** What the viewer learns about who is logged in (never the token). */
function whoAmI(op: Operator) {
  return { name: op.name, role: op.role, parks: op.parks ?? null };
}

/**
 * Browser sessions (contract §8): `POST /api/session` with `{"token"}` sets
 * an HttpOnly, SameSite=Strict cookie (Secure over HTTPS) holding a random
 * session id, never the token; `DELETE` logs out; `GET` says who is logged in.
 */
@ApiTags('auth')
@Controller('api/session')
export class SessionController {
  constructor(@Inject(OPERATOR_AUTH) private readonly auth: OperatorAuth) {}

  @Post()
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: trade a token for a session cookie (HttpOnly, SameSite=Strict). 401 for a bad token.' })
  @ApiBody({ schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } })
  login(@Body() body: unknown, @Res({ passthrough: true }) res: http.ServerResponse) {
    const token = (body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0) throw badParam('token', 'expected {"token": "<token>"} as JSON');
    if (!this.auth.required) return { name: 'anonymous', role: 'operator', parks: null, auth: 'off' };
    const op = this.auth.tokens.verify(token);
    if (!op) {
      res.setHeader('WWW-Authenticate', wwwAuthenticate(true));
      throw new UnauthorizedException({ error: 'unauthorized', message: 'the token is not valid (revoked or mistyped)' });
    }
    const session = this.auth.sessions.create(op.tokenId);
    res.setHeader('Set-Cookie', this.auth.sessionCookie(session.id, session.maxAgeS));
    return whoAmI(op);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Who is logged in: {name, role, parks}. 401 without a valid token or session.' })
  current(@CurrentOperator() op: Operator) {
    return whoAmI(op);
  }

  @Delete()
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Log out: ends the session and clears its cookie.' })
  logout(@Req() req: http.IncomingMessage, @Res({ passthrough: true }) res: http.ServerResponse): void {
    this.auth.sessions.delete(sessionCookie(req.headers.cookie));
    res.setHeader('Set-Cookie', this.auth.clearedCookie());
  }
}
