import * as http from 'node:http';
import { ApiAuthConfig } from '../config/gateway-config';
import { ApiTokenStore, Operator } from './api-tokens';
import { SESSION_COOKIE, SessionStore } from './session.store';

/** Who a request is, and how it said so. */
export interface Authentication {
  operator?: Operator;
  /** How the operator was recognised. */
  via?: 'bearer' | 'cookie' | 'open';
  /** A token or session was presented (and refused, when `operator` is undefined): 401 says `invalid_token`. */
  presented: boolean;
}

/**
 * Who may do what with `API_AUTH=off`: everything an `operator` may (read
 * every park, rejections, acknowledge alarms), but not manage tokens or
 * device credentials over the network; the `npm run tokens` and
 * `npm run credentials` commands still do that locally.
 */
export const OPEN_ACCESS: Operator = Object.freeze({ name: 'anonymous (API_AUTH=off)', tokenId: '', role: 'operator' });

/**
 * Recognises the operator behind an HTTP request or WebSocket upgrade
 * (contract §8): `Authorization: Bearer <token>` first, else the session
 * cookie set by `POST /api/session`. Shared by the global guard and the
 * live stream, so both judge a request the same way.
 */
export class OperatorAuth {
  constructor(
    readonly config: ApiAuthConfig,
    readonly tokens: ApiTokenStore,
    readonly sessions: SessionStore,
    /** The operator listener speaks HTTPS: cookies get `Secure`. */
    readonly tls: boolean,
  ) {}

  get required(): boolean {
    return this.config.auth === 'required';
  }

  authenticate(req: http.IncomingMessage): Authentication {
    if (!this.required) return { operator: OPEN_ACCESS, via: 'open', presented: false };
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const operator = m ? this.tokens.verify(m[1]) : undefined;
      return { operator, via: operator ? 'bearer' : undefined, presented: true };
    }
    const sessionId = sessionCookie(req.headers.cookie);
    if (sessionId === undefined) return { presented: false };
    const tokenId = this.sessions.tokenIdOf(sessionId);
    // A revoked token's sessions end with it.
    const operator = tokenId ? this.tokens.byTokenId(tokenId) : undefined;
    return { operator, via: operator ? 'cookie' : undefined, presented: true };
  }

  /** Is this operator still allowed (its token not revoked since)? For long-lived connections. */
  stillValid(op: Operator): boolean {
    return op === OPEN_ACCESS || this.tokens.byTokenId(op.tokenId) !== undefined;
  }

  /** The `Set-Cookie` value of a new session. */
  sessionCookie(id: string, maxAgeS: number): string {
    return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${this.tls ? '; Secure' : ''}`;
  }

  /** The `Set-Cookie` value that removes the session cookie. */
  clearedCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${this.tls ? '; Secure' : ''}`;
  }
}

/** The session id in a `Cookie` header, if any. */
export function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return v.length > 0 ? v : undefined;
    }
  }
  return undefined;
}
