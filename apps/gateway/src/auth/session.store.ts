import * as crypto from 'node:crypto';
import { Clock } from '../core/clock';

/** How long a browser session lasts after login, ms (12 h: one working day and a bit). */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Sessions kept at most; the oldest goes first (a bound on memory, not a limit anyone should reach). */
export const MAX_SESSIONS = 10_000;
/** Name of the session cookie. */
export const SESSION_COOKIE = 'park_session';

interface Session {
  tokenId: string;
  expiresAtMs: number;
}

/**
 * Browser sessions (contract §8): `POST /api/session` trades a token for a
 * random session id (32 bytes), which is what the cookie holds; the token
 * itself never goes into a cookie. A session refers to its token's id, so
 * revoking the token ends its sessions. In memory: a restart logs browsers
 * out, which is what the viewer's login form is for.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly max = MAX_SESSIONS,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for a token id; returns the session id and its lifetime in seconds. */
  create(tokenId: string): { id: string; maxAgeS: number } {
    const id = crypto.randomBytes(32).toString('base64url');
    // Map keeps insertion order: the first key is the oldest session.
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(id, { tokenId, expiresAtMs: this.clock.now() + this.ttlMs });
    return { id, maxAgeS: Math.floor(this.ttlMs / 1000) };
  }

  /** The token id of a live session; an expired one is forgotten. */
  tokenIdOf(id: string | undefined): string | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAtMs <= this.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s.tokenId;
  }

  /** Logs out. */
  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Forgets expired sessions (called now and then, so abandoned ones do not pile up). */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, s] of this.sessions) if (s.expiresAtMs <= now) this.sessions.delete(id);
  }
}
