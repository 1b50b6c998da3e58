import { HttpException, RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import * as http from 'node:http';
import { AppModule } from '../app.module';
import { ApiAuthConfig, loadConfig } from '../config/gateway-config';
import { ManualClock } from '../core/clock';
import { createLogger } from '../observability/logger';
import { ApiTokenStore, Role } from './api-tokens';
import { OperatorAuth } from './operator.auth';
import { OperatorGuard } from './operator.guard';
import { SessionStore } from './session.store';

/** What each route needs (contract §8). A route missing here fails the first test: give it its rule. */
const EXPECTED: Record<string, Role | 'public' | 'optional' | 'metrics'> = {
  'GET /api/health': 'optional',
  'GET /api/parks': 'viewer',
  'GET /api/parks/:park': 'viewer',
  'GET /api/parks/:park/vitals': 'viewer',
  'GET /api/parks/:park/history': 'viewer',
  'GET /api/parks/:park/alarms': 'viewer',
  'GET /api/parks/:park/kpis': 'viewer',
  'GET /api/parks/:park/forecast': 'viewer',
  'GET /api/parks/:park/report': 'viewer',
  'GET /api/rejections': 'operator',
  'GET /metrics': 'metrics',
  'POST /api/session': 'public',
  'GET /api/session': 'viewer',
  'DELETE /api/session': 'public',
  'GET /api/tokens': 'admin',
  'POST /api/tokens': 'admin',
  'DELETE /api/tokens/:name': 'admin',
  'GET /api/devices': 'admin',
  'POST /api/devices': 'admin',
  'DELETE /api/devices/:username': 'admin',
};

interface Route {
  key: string;
  method: string;
  path: string;
  controller: Type<unknown>;
  handler: (...args: unknown[]) => unknown;
}

/** Every route of every controller in the gateway's module graph, read from Nest's own metadata. */
function allRoutes(): Route[] {
  const root = AppModule.forRoot(loadConfig({ LOG_LEVEL: 'silent' }), createLogger('silent'));
  const seen = new Set<unknown>();
  const controllers = new Set<Type<unknown>>();
  const visit = (m: unknown) => {
    if (!m || seen.has(m)) return;
    seen.add(m);
    const dyn = m as { module?: unknown; imports?: unknown[]; controllers?: Type<unknown>[] };
    const cls = (dyn.module ?? m) as object;
    for (const c of [...(dyn.controllers ?? []), ...((Reflect.getMetadata('controllers', cls) as Type<unknown>[]) ?? [])]) controllers.add(c);
    for (const i of [...(dyn.imports ?? []), ...((Reflect.getMetadata('imports', cls) as unknown[]) ?? [])]) visit(i);
  };
  visit(root);
  const routes: Route[] = [];
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
      routes.push({ key: `${RequestMethod[method]} ${path}`, method: RequestMethod[method], path, controller, handler });
    }
  }
  return routes;
}

const clock = new ManualClock(Date.parse('2026-11-27T08:00:00Z'));
const tokens = new ApiTokenStore({ version: 1, tokens: [] });
const token = {
  viewer: tokens.add('viewer', 'viewer', undefined, clock.now()).token,
  operator: tokens.add('operator', 'operator', undefined, clock.now()).token,
  admin: tokens.add('admin', 'admin', undefined, clock.now()).token,
  /** A viewer of park p2 only. */
  p2viewer: tokens.add('p2-viewer', 'viewer', ['p2'], clock.now()).token,
};
const auth = (over: Partial<ApiAuthConfig> = {}) =>
  new OperatorAuth({ auth: 'required', tokensFile: '', metricsAuth: 'required', allowedOrigins: ['https://twin.example.com'], ...over }, tokens, new SessionStore(clock), false);

/** The guard's answer for one request: 'pass' or the HTTP status, with WWW-Authenticate when set. */
function run(a: OperatorAuth, route: Route, headers: http.IncomingHttpHeaders, park = 'p1'): { outcome: 'pass' | number; wwwAuthenticate?: string } {
  const params: Record<string, string> = {};
  for (const m of route.path.matchAll(/:(\w+)/g)) params[m[1]] = m[1] === 'park' ? park : 'x';
  const req = { method: route.method, url: route.path, headers: { host: 'gw.local:3000', ...headers }, params } as unknown as http.IncomingMessage;
  const set: Record<string, string> = {};
  const res = { setHeader: (n: string, v: string) => (set[n.toLowerCase()] = v) };
  const ctx = new ExecutionContextHost([req, res, () => undefined], route.controller, route.handler);
  try {
    new OperatorGuard(new Reflector(), a).canActivate(ctx);
    return { outcome: 'pass' };
  } catch (e) {
    if (!(e instanceof HttpException)) throw e;
    return { outcome: e.getStatus(), wwwAuthenticate: set['www-authenticate'] };
  }
}

const routes = allRoutes();
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

describe('OperatorGuard: every route has its access rule (contract §8)', () => {
  it('the route table lists exactly the gateway’s routes (a new route must be given a rule here)', () => {
    expect(routes.map((r) => r.key).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('a route without an access rule is refused to everyone, admin included (deny by default)', () => {
    class Undeclared {
      get(): void {
        return undefined;
      }
    }
    const route: Route = { key: 'GET /new', method: 'GET', path: '/new', controller: Undeclared, handler: Undeclared.prototype.get as Route['handler'] };
    expect(run(auth(), route, bearer(token.admin)).outcome).toBe(403);
    expect(run(auth(), route, {}).outcome).toBe(403);
  });
});

type Credential = 'none' | 'malformed' | 'unknown' | 'viewer' | 'operator' | 'admin' | 'p2viewer';
const CREDENTIALS: Record<Credential, http.IncomingHttpHeaders> = {
  none: {},
  malformed: { authorization: 'Basic dXNlcjpwYXNz' },
  unknown: bearer(`ptk_0123456789abcdef_${'A'.repeat(43)}`),
  viewer: bearer(token.viewer),
  operator: bearer(token.operator),
  admin: bearer(token.admin),
  p2viewer: bearer(token.p2viewer),
};

/** What contract §8 says the answer is. */
function expected(rule: (typeof EXPECTED)[string], cred: Credential, route: Route, park: string): 'pass' | number {
  if (rule === 'public' || rule === 'optional') return 'pass';
  if (cred === 'none' || cred === 'malformed' || cred === 'unknown') return 401;
  if (rule === 'metrics') return 'pass';
  const role: Role = cred === 'p2viewer' ? 'viewer' : cred;
  if (RANK[role] < RANK[rule]) return 403;
  if (route.path.includes(':park') && cred === 'p2viewer' && park !== 'p2') return 404;
  return 'pass';
}

describe('OperatorGuard: route × credential × park in or out of scope (contract §8)', () => {
  const cases = routes.flatMap((route) =>
    (Object.keys(CREDENTIALS) as Credential[]).flatMap((cred) => (route.path.includes(':park') ? ['p1', 'p2'] : ['p1']).map((park) => [route.key, cred, park, route] as const)),
  );
  it.each(cases)('%s with %s token, park %s', (_key, cred, park, route) => {
    const r = run(auth(), route, CREDENTIALS[cred], park);
    expect(r.outcome).toBe(expected(EXPECTED[route.key], cred, route, park));
    if (r.outcome === 401) expect(r.wwwAuthenticate).toBe(cred === 'none' ? 'Bearer realm="park-twin"' : 'Bearer realm="park-twin", error="invalid_token"');
  });

  it('finding 3: a park outside the scope is a 404 with the body of an unknown park', () => {
    const route = routes.find((r) => r.key === 'GET /api/parks/:park/vitals')!;
    const req = { method: 'GET', headers: bearer(token.p2viewer), params: { park: 'p1' } } as unknown as http.IncomingMessage;
    const ctx = new ExecutionContextHost([req, { setHeader: () => undefined }, () => undefined], route.controller, route.handler);
    let body: unknown;
    try {
      new OperatorGuard(new Reflector(), auth()).canActivate(ctx);
    } catch (e) {
      body = (e as HttpException).getResponse();
    }
    expect(body).toEqual({ error: 'not_found', message: 'unknown park "p1"' });
  });
});

describe('OperatorGuard: sessions, METRICS_AUTH, API_AUTH=off, origins', () => {
  const route = (key: string) => routes.find((r) => r.key === key)!;

  it('the session cookie stands for its token; an unknown or expired session is a 401 invalid_token', () => {
    const a = auth();
    const s = a.sessions.create(tokens.verify(token.operator)!.tokenId);
    expect(run(a, route('GET /api/rejections'), { cookie: `park_session=${s.id}` }).outcome).toBe('pass');
    expect(run(a, route('GET /api/rejections'), { cookie: 'park_session=nope' })).toEqual({ outcome: 401, wwwAuthenticate: 'Bearer realm="park-twin", error="invalid_token"' });
    clock.advance(13 * 3_600_000);
    expect(run(a, route('GET /api/rejections'), { cookie: `park_session=${s.id}` }).outcome).toBe(401);
  });

  it('METRICS_AUTH=off opens /metrics only', () => {
    const a = auth({ metricsAuth: 'off' });
    expect(run(a, route('GET /metrics'), {}).outcome).toBe('pass');
    expect(run(a, route('GET /api/parks'), {}).outcome).toBe(401);
  });

  it('API_AUTH=off: everything an operator may, but no token or device management over the network', () => {
    const a = auth({ auth: 'off' });
    for (const r of routes) expect([r.key, run(a, r, {}).outcome]).toEqual([r.key, EXPECTED[r.key] === 'admin' ? 403 : 'pass']);
  });

  it('a state-changing request from a foreign Origin is a 403 whatever its token; the own origin and ALLOWED_ORIGINS pass', () => {
    const post = route('POST /api/tokens');
    expect(run(auth(), post, { ...bearer(token.admin), origin: 'https://evil.example' }).outcome).toBe(403);
    expect(run(auth(), route('POST /api/session'), { origin: 'https://evil.example' }).outcome).toBe(403);
    expect(run(auth(), post, { ...bearer(token.admin), origin: 'http://gw.local:3000' }).outcome).toBe('pass');
    expect(run(auth(), post, { ...bearer(token.admin), origin: 'https://twin.example.com' }).outcome).toBe('pass');
    // Reading is not state-changing: a foreign origin cannot read the answer anyway (no CORS).
    expect(run(auth(), route('GET /api/parks'), { ...bearer(token.viewer), origin: 'https://evil.example' }).outcome).toBe('pass');
  });
});
