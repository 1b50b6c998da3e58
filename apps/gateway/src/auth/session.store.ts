import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** The sessions file beside the token file: `api-tokens.json` → `api-tokens.sessions.json`. */
export function sessionsFileFor(tokensFile: string): string {
  return path.join(path.dirname(tokensFile), `${path.basename(tokensFile, '.json')}.sessions.json`);
}

const key = (id: string) => crypto.createHash('sha256').update(id).digest('hex');

/**
 * Browser sessions (contract §8): `POST /api/session` trades a token for a
 * random session id (32 bytes), which is what the cookie holds; the token
 * itself never goes into a cookie. A session refers to its token's id, so
 * revoking the token ends its sessions, and logging out ends it on the
 * server too.
 *
 * Kept in a file (mode 0600, beside API_TOKENS) so that a gateway restart
 * does not log out every wall display, as Grafana keeps its sessions in its
 * database. The file holds SHA-256 hashes of the session ids, never an id a
 * reader could use.
 */
export class SessionStore {
  /** By SHA-256 of the session id. */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly max = MAX_SESSIONS,
    /** Where sessions are kept across restarts; undefined = memory only. */
    private readonly file?: string,
  ) {
    if (file) this.load(file);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for a token id; returns the session id and its lifetime in seconds. */
  create(tokenId: string): { id: string; maxAgeS: number } {
    const id = crypto.randomBytes(32).toString('base64url');
    // Map keeps insertion order: the first key is the oldest session.
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(key(id), { tokenId, expiresAtMs: this.clock.now() + this.ttlMs });
    this.sweep();
    this.save();
    return { id, maxAgeS: Math.floor(this.ttlMs / 1000) };
  }

  /** The token id of a live session; an expired one is forgotten. */
  tokenIdOf(id: string | undefined): string | undefined {
    if (!id) return undefined;
    const k = key(id);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    if (s.expiresAtMs <= this.clock.now()) {
      this.sessions.delete(k);
      return undefined;
    }
    return s.tokenId;
  }

  /** Logs out. */
  delete(id: string | undefined): void {
    if (id && this.sessions.delete(key(id))) this.save();
  }

  /** Forgets expired sessions (at each login, so abandoned ones do not pile up). */
  sweep(): void {
    const now = this.clock.now();
    for (const [k, s] of this.sessions) if (s.expiresAtMs <= now) this.sessions.delete(k);
  }

  private load(file: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return; // none yet, or unreadable: everybody signs in again, nothing worse
    }
    const list = (doc as { sessions?: unknown })?.sessions;
    if (!Array.isArray(list)) return;
    const now = this.clock.now();
    for (const e of list as Array<{ key?: unknown; tokenId?: unknown; expiresAtMs?: unknown }>) {
      if (typeof e?.key === 'string' && /^[0-9a-f]{64}$/.test(e.key) && typeof e.tokenId === 'string' && typeof e.expiresAtMs === 'number' && e.expiresAtMs > now) {
        this.sessions.set(e.key, { tokenId: e.tokenId, expiresAtMs: e.expiresAtMs });
      }
    }
  }

  private save(): void {
    if (!this.file) return;
    const sessions = [...this.sessions].map(([k, s]) => ({ key: k, tokenId: s.tokenId, expiresAtMs: s.expiresAtMs }));
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ version: 1, sessions }) + '\n', { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch {
      // Not kept across a restart: sessions still work until then.
    }
  }
}
