import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, REPO_ROOT } from '../config/gateway-config';
import { ApiTokenStore, checkTokensFileMode, hashToken, inScope, newToken, readTokensFile, roleAtLeast, writeTokensFile } from './api-tokens';

const NOW = Date.parse('2026-11-27T08:00:00Z');
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-tokens-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('operator tokens (contract §8)', () => {
  it('a token is ptk_<16 hex id>_<43 base64url>: 256 random bits, stored as its SHA-256', () => {
    const { token, record } = newToken('a', 'viewer', undefined, NOW);
    expect(token).toMatch(/^ptk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(token.split('_')[1]).toBe(record.id);
    expect(record.hash).toBe(hashToken(token));
    expect(record.hash).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(token.slice(22));
    expect(newToken('a', 'viewer', undefined, NOW).token).not.toBe(token);
  });

  it('roles include the ones below them; no parks means every park', () => {
    expect([roleAtLeast('admin', 'operator'), roleAtLeast('operator', 'operator'), roleAtLeast('viewer', 'operator')]).toEqual([true, true, false]);
    expect(inScope({ name: 'a', tokenId: '1', role: 'viewer' }, 'any')).toBe(true);
    expect(inScope({ name: 'a', tokenId: '1', role: 'viewer', parks: ['p1'] }, 'p2')).toBe(false);
  });

  it.each([
    ['nothing', undefined],
    ['an empty string', ''],
    ['another scheme', 'abc'],
    ['a token with one character changed', 'CHANGE'],
    ['a known id with another secret', 'SECRET'],
    ['a token with a trailing space', 'SPACE'],
  ])('verify refuses %s', (_what, presented) => {
    const store = new ApiTokenStore({ version: 1, tokens: [] });
    const { token } = store.add('a', 'admin', undefined, NOW);
    const variants: Record<string, string> = { CHANGE: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), SECRET: `${token.slice(0, 21)}_${'x'.repeat(43)}`, SPACE: `${token} ` };
    expect(store.verify(presented === undefined ? undefined : (variants[presented] ?? presented))).toBeUndefined();
    expect(store.verify(token)).toMatchObject({ name: 'a', role: 'admin' });
  });

  it('add, list (without hashes), revoke; names are unique', () => {
    const store = new ApiTokenStore({ version: 1, tokens: [] });
    const v = store.add('v', 'viewer', ['demo', 'demo'], NOW);
    expect(v.record).toEqual({ id: expect.any(String), name: 'v', role: 'viewer', parks: ['demo'], createdAt: '2026-11-27T08:00:00.000Z' });
    expect(() => store.add('v', 'admin', undefined, NOW)).toThrow(/exists/);
    expect(store.list()).toEqual([v.record]);
    expect(store.revoke('v')).toBe(true);
    expect(store.revoke('v')).toBe(false);
    expect(store.verify(v.token)).toBeUndefined();
  });

  it('writes the file mode 0600 and merges with changes made on disk meanwhile (npm run tokens while the gateway runs)', () => {
    const file = path.join(dir, 'merge.json');
    const gateway = new ApiTokenStore(readTokensFile(file, { mustExist: false }), file);
    const a = gateway.add('a', 'admin', undefined, NOW);
    const cli = new ApiTokenStore(readTokensFile(file, { mustExist: true }), file);
    const b = cli.add('b', 'viewer', undefined, NOW);
    gateway.add('c', 'operator', undefined, NOW);
    expect(readTokensFile(file, { mustExist: true }).tokens.map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(a.token);
    // The gateway's own write merged b in; a revoke on disk is seen at reload (SIGHUP).
    expect(gateway.verify(b.token)).toBeDefined();
    cli.revoke('a');
    expect(gateway.verify(a.token)).toBeDefined();
    gateway.reload();
    expect(gateway.verify(a.token)).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['the wrong shape', '{"version":2}', /\$ must be \{"version": 1/],
    ['a bad role', JSON.stringify({ version: 1, tokens: [{ id: '0123456789abcdef', name: 'a', role: 'root', hash: `sha256$${'0'.repeat(64)}` }] }), /\$\.tokens\[0\]\.role must be one of viewer, operator, admin/],
    ['a duplicate name', JSON.stringify({ version: 1, tokens: [0, 1].map((i) => ({ id: `012345678900000${i}`, name: 'a', role: 'viewer', hash: `sha256$${'0'.repeat(64)}` })) }), /\$\.tokens\[1\]\.name duplicates "a"/],
    ['an empty hash', JSON.stringify({ version: 1, tokens: [{ id: '0123456789abcdef', name: 'a', role: 'viewer', hash: '' }] }), /\$\.tokens\[0\]\.hash must be a sha256 hash/],
    ['an empty park list', JSON.stringify({ version: 1, tokens: [{ id: '0123456789abcdef', name: 'a', role: 'viewer', hash: `sha256$${'0'.repeat(64)}`, parks: [] }] }), /\$\.tokens\[0\]\.parks must list/],
  ])('a file with %s stops start-up naming the file and the place', (_what, text, message) => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, text);
    expect(() => readTokensFile(file, { mustExist: true })).toThrow(ConfigError);
    expect(() => readTokensFile(file, { mustExist: true })).toThrow(message);
    expect(() => readTokensFile(file, { mustExist: true })).toThrow(file);
  });

  it('a missing file with API_AUTH=required names the command that makes one', () => {
    expect(() => readTokensFile(path.join(dir, 'none.json'), { mustExist: true })).toThrow(/npm run tokens -- add --name admin --role admin/);
  });

  it.each([
    [0o600, {}],
    [0o640, { warn: expect.stringMatching(/readable by its group \(mode 640\); run chmod 600/) }],
    [0o644, { warn: expect.stringMatching(/readable by everyone/) }],
    [0o620, { refuse: expect.stringMatching(/writable by its group.*anyone could add an admin token/) }],
    [0o666, { refuse: expect.stringMatching(/writable by everyone/) }],
  ])('file mode %o: %j', (mode, result) => {
    const file = path.join(dir, `mode-${mode.toString(8)}.json`);
    writeTokensFile(file, { version: 1, tokens: [] });
    fs.chmodSync(file, mode);
    expect(checkTokensFileMode(file)).toEqual(result);
  });
});

describe('npm run tokens', () => {
  jest.setTimeout(30_000);
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['--tsconfig', 'tsconfig.base.json', 'apps/gateway/src/auth/tokens.main.ts', ...args], { cwd: REPO_ROOT, timeout: 30_000, env: { ...process.env, API_TOKENS: '' } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
      ),
    );

  it('add prints the token once, list shows names and roles, revoke removes it', async () => {
    const file = path.join(dir, 'cli', 'tokens.json');
    const added = await run(['add', '--name', 'ops', '--role', 'operator', '--park', 'demo', '--file', file]);
    expect(added.code).toBe(0);
    const token = /token: (\S+)/.exec(added.stdout)![1];
    expect(new ApiTokenStore(readTokensFile(file, { mustExist: true })).verify(token)).toMatchObject({ name: 'ops', role: 'operator', parks: ['demo'] });
    expect(fs.readFileSync(file, 'utf8')).not.toContain(token);
    const list = await run(['list', '--file', file]);
    expect(list.stdout).toMatch(/^ops\toperator\tdemo\t/);
    expect(list.stdout).not.toContain(token);
    expect((await run(['add', '--name', 'x', '--role', 'root', '--file', file])).stderr).toMatch(/--role is required: one of viewer, operator, admin/);
    expect((await run(['revoke', '--name', 'ops', '--file', file])).code).toBe(0);
    expect(readTokensFile(file, { mustExist: true }).tokens).toEqual([]);
  });
});
