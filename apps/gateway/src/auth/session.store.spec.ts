import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../core/clock';
import { ApiTokenStore } from './api-tokens';
import { OperatorAuth, sessionCookie } from './operator.auth';
import { originAllowed } from './origin.check';
import { MAX_SESSIONS, SESSION_TTL_MS, SessionStore, sessionsFileFor } from './session.store';

describe('SessionStore (contract §8: browser sessions)', () => {
  it('a session id is 32 random bytes, maps to the token id, and expires after SESSION_TTL_MS', () => {
    const clock = new ManualClock(0);
    const store = new SessionStore(clock);
    const s = store.create('tok1');
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.maxAgeS).toBe(SESSION_TTL_MS / 1000);
    expect(store.tokenIdOf(s.id)).toBe('tok1');
    clock.advance(SESSION_TTL_MS - 1);
    expect(store.tokenIdOf(s.id)).toBe('tok1');
    clock.advance(1);
    expect(store.tokenIdOf(s.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('logout forgets the session; sweep forgets expired ones; the oldest goes past the maximum', () => {
    const clock = new ManualClock(0);
    const store = new SessionStore(clock, 1000, 3);
    const [a, b, c, d] = ['t', 't', 't', 't'].map((t) => store.create(t));
    expect([store.tokenIdOf(a.id), store.size]).toEqual([undefined, 3]);
    store.delete(b.id);
    expect(store.tokenIdOf(b.id)).toBeUndefined();
    clock.advance(1000);
    store.sweep();
    expect([store.size, store.tokenIdOf(c.id), store.tokenIdOf(d.id)]).toEqual([0, undefined, undefined]);
    expect(MAX_SESSIONS).toBe(10_000);
  });

  it('the cookie is HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS, and holds the session id, not the token', () => {
    const tokens = new ApiTokenStore({ version: 1, tokens: [] });
    const { token } = tokens.add('a', 'viewer', undefined, 0);
    const cfg = { auth: 'required' as const, tokensFile: '', metricsAuth: 'required' as const, allowedOrigins: [] };
    const plain = new OperatorAuth(cfg, tokens, new SessionStore(new ManualClock(0)), false);
    const s = plain.sessions.create(tokens.verify(token)!.tokenId);
    const cookie = plain.sessionCookie(s.id, s.maxAgeS);
    expect(cookie).toBe(`park_session=${s.id}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict`);
    expect(cookie).not.toContain(token);
    expect(new OperatorAuth(cfg, tokens, plain.sessions, true).sessionCookie(s.id, 1)).toMatch(/; Secure$/);
    expect(plain.clearedCookie()).toMatch(/^park_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['park_session=abc', 'abc'],
    ['a=1; park_session=abc; b=2', 'abc'],
    ['xpark_session=abc', undefined],
    ['park_session=', undefined],
  ])('sessionCookie(%j) = %j', (header, id) => {
    expect(sessionCookie(header)).toBe(id);
  });
});

describe('originAllowed (contract §8: the Origin of a browser upgrade)', () => {
  const req = (headers: http.IncomingHttpHeaders) => ({ headers }) as http.IncomingMessage;
  it.each([
    ['no Origin (not a browser page)', { host: 'gw:3000' }, false, true],
    ['the own origin', { host: 'gw:3000', origin: 'http://gw:3000' }, false, true],
    ['the own origin over HTTPS', { host: 'gw:3000', origin: 'https://gw:3000' }, true, true],
    ['http origin on an HTTPS listener', { host: 'gw:3000', origin: 'http://gw:3000' }, true, false],
    ['another port', { host: 'gw:3000', origin: 'http://gw:3001' }, false, false],
    ['another host', { host: 'gw:3000', origin: 'http://evil.example:3000' }, false, false],
    ['a default port written out', { host: 'gw', origin: 'http://gw:80' }, false, true],
    ['an allowed origin', { host: 'gw:3000', origin: 'https://twin.example.com' }, false, true],
    ['an opaque origin', { host: 'gw:3000', origin: 'null' }, false, false],
    ['garbage', { host: 'gw:3000', origin: 'not a url' }, false, false],
    ['no Host', { origin: 'http://gw:3000' }, false, false],
  ])('%s', (_what, headers, tls, allowed) => {
    expect(originAllowed(req(headers), tls, ['https://twin.example.com'])).toBe(allowed);
  });
});

describe('SessionStore kept in a file (a restart does not log browsers out)', () => {
  it('a new store over the same file knows the sessions; the file holds hashes, mode 0600; logout and expiry are kept too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-sessions-'));
    try {
      const file = sessionsFileFor(path.join(dir, 'api-tokens.json'));
      expect(file).toBe(path.join(dir, 'api-tokens.sessions.json'));
      const clock = new ManualClock(0);
      const before = new SessionStore(clock, 1000, 10, file);
      const a = before.create('tokA');
      const b = before.create('tokB');
      before.delete(b.id);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toContain(a.id);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const after = new SessionStore(clock, 1000, 10, file);
      expect([after.tokenIdOf(a.id), after.tokenIdOf(b.id)]).toEqual(['tokA', undefined]);
      clock.advance(1000);
      expect(new SessionStore(clock, 1000, 10, file).size).toBe(0);
      fs.writeFileSync(file, 'not json');
      expect(new SessionStore(clock, 1000, 10, file).size).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
