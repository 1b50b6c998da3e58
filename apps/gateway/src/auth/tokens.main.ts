/**
 * `npm run tokens -- <command>`: manages operator tokens (contract §8).
 *
 *   add --name <name> --role viewer|operator|admin [--park <id> ...] [--file <path>] [--json]
 *   list [--file <path>] [--json]
 *   revoke --name <name> [--file <path>]
 *
 * A new token is printed once and stored only as a SHA-256 hash. No --park:
 * every park. A running gateway sees changes on SIGHUP or restart; changes
 * made over `/api/tokens` apply at once.
 */
import * as path from 'node:path';
import { ConfigError, REPO_ROOT } from '../config/gateway-config';
import { ApiTokenStore, readTokensFile, Role, ROLES, TOKEN_NAME } from './api-tokens';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n\n`);
  process.stderr.write(
    [
      'usage: npm run tokens -- add --name <name> --role viewer|operator|admin [--park <id> ...] [--file <path>] [--json]',
      '       npm run tokens -- list [--file <path>] [--json]',
      '       npm run tokens -- revoke --name <name> [--file <path>]',
      '',
      `The file defaults to $API_TOKENS or ${path.relative(process.cwd(), path.join(REPO_ROOT, '.data/api-tokens.json'))}.`,
      'Without --park the token sees every park. A running gateway reads changes on SIGHUP (kill -HUP <pid>) or restart.',
    ].join('\n') + '\n',
  );
  process.exit(msg ? 2 : 0);
}

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  const opts: { name?: string; role?: string; parks: string[]; file?: string; json: boolean } = { parks: [], json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const val = () => {
      const v = rest[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--name') opts.name = val();
    else if (a === '--role') opts.role = val();
    else if (a === '--park') opts.parks.push(val());
    else if (a === '--file') opts.file = val();
    else if (a === '--json') opts.json = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  const file = path.resolve(opts.file ?? (process.env.API_TOKENS || path.join(REPO_ROOT, '.data/api-tokens.json')));
  if (cmd === 'add') {
    if (!opts.name || !TOKEN_NAME.test(opts.name)) usage('--name is required: 1-64 letters, digits, ".", "_" or "-"');
    if (!opts.role || !(ROLES as readonly string[]).includes(opts.role)) usage(`--role is required: one of ${ROLES.join(', ')}`);
    for (const p of opts.parks) if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p)) usage(`--park ${p}: not a park id ([a-z0-9][a-z0-9_-]{0,63})`);
    const store = new ApiTokenStore(readTokensFile(file, { mustExist: false }), file);
    if (store.list().some((t) => t.name === opts.name)) usage(`a token named ${opts.name} exists in ${file}; revoke it first`);
    const { token, record } = store.add(opts.name, opts.role as Role, opts.parks, Date.now());
    if (opts.json) process.stdout.write(JSON.stringify({ name: record.name, role: record.role, parks: record.parks ?? null, token, file }) + '\n');
    else
      process.stdout.write(
        `added ${record.name} (${record.role}, ${record.parks ? `parks ${record.parks.join(', ')}` : 'every park'}) to ${file}\n` +
          `token: ${token}\n(the token is shown once; it is stored only as a SHA-256 hash)\n`,
      );
  } else if (cmd === 'list') {
    const store = new ApiTokenStore(readTokensFile(file, { mustExist: true }), file);
    if (opts.json) process.stdout.write(JSON.stringify(store.list()) + '\n');
    else for (const t of store.list()) process.stdout.write(`${t.name}\t${t.role}\t${t.parks ? t.parks.join(',') : '*'}\t${t.createdAt}\n`);
  } else if (cmd === 'revoke') {
    if (!opts.name) usage('--name is required');
    const store = new ApiTokenStore(readTokensFile(file, { mustExist: true }), file);
    if (!store.revoke(opts.name)) usage(`no token named ${opts.name} in ${file}`);
    process.stdout.write(`revoked ${opts.name} in ${file}\n`);
  } else usage(cmd ? `unknown command ${cmd}` : undefined);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`error: ${e instanceof ConfigError ? e.message : (e as Error).stack}\n`);
  process.exit(1);
}
