/**
 * `npm run credentials -- <command>`: manages device credentials.
 *
 *   add --username <name> --publish <filter> [--publish <filter>...] [--note <text>] [--file <path>] [--json]
 *   list [--file <path>]
 *   remove --username <name> [--file <path>]
 *
 * The password of a new credential is printed once and never stored.
 */
import * as path from 'node:path';
import { ConfigError, REPO_ROOT } from '../config/gateway-config';
import { hashPassword, newPassword, readCredentialsFile, writeCredentialsFile } from './device-credentials';
import { isValidFilterForDevice } from './topic-filter';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n\n`);
  process.stderr.write(
    [
      'usage: npm run credentials -- add --username <name> --publish <topic filter> [--publish ...] [--note <text>] [--file <path>] [--json]',
      '       npm run credentials -- list [--file <path>]',
      '       npm run credentials -- remove --username <name> [--file <path>]',
      '',
      `The file defaults to $DEVICE_CREDENTIALS or ${path.relative(process.cwd(), path.join(REPO_ROOT, '.data/device-credentials.json'))}.`,
      "A device should be limited to its own topics, e.g. --publish 'park/demo/b01/energy/m01' or 'park/demo/b01/#'.",
    ].join('\n') + '\n',
  );
  process.exit(msg ? 2 : 0);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const opts: { username?: string; publish: string[]; note?: string; file?: string; json: boolean } = { publish: [], json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const val = () => {
      const v = rest[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--username') opts.username = val();
    else if (a === '--publish') opts.publish.push(val());
    else if (a === '--note') opts.note = val();
    else if (a === '--file') opts.file = val();
    else if (a === '--json') opts.json = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  const file = path.resolve(opts.file ?? process.env.DEVICE_CREDENTIALS ?? path.join(REPO_ROOT, '.data/device-credentials.json'));
  if (cmd === 'add') {
    if (!opts.username || !/^[A-Za-z0-9._-]{1,128}$/.test(opts.username)) usage('--username is required: 1-128 letters, digits, ".", "_" or "-"');
    if (opts.publish.length === 0) usage('at least one --publish topic filter is required');
    for (const f of opts.publish) {
      const why = isValidFilterForDevice(f);
      if (why) usage(`--publish ${f}: ${why}`);
    }
    const content = readCredentialsFile(file, { mustExist: false });
    if (content.devices.some((d) => d.username === opts.username)) usage(`username ${opts.username} already exists in ${file}; remove it first`);
    const password = newPassword();
    content.devices.push({ username: opts.username, hash: await hashPassword(password, true), publish: opts.publish, createdAt: new Date().toISOString(), ...(opts.note ? { note: opts.note } : {}) });
    writeCredentialsFile(file, content);
    if (opts.json) process.stdout.write(JSON.stringify({ username: opts.username, password, file }) + '\n');
    else process.stdout.write(`added ${opts.username} to ${file}\nusername: ${opts.username}\npassword: ${password}\n(the password is shown once; it is stored only as a salted PBKDF2 hash)\n`);
  } else if (cmd === 'list') {
    const content = readCredentialsFile(file, { mustExist: true });
    for (const d of content.devices) process.stdout.write(`${d.username}\t${d.publish.join(' ')}\t${d.createdAt}${d.note ? `\t${d.note}` : ''}\n`);
  } else if (cmd === 'remove') {
    if (!opts.username) usage('--username is required');
    const content = readCredentialsFile(file, { mustExist: true });
    const before = content.devices.length;
    content.devices = content.devices.filter((d) => d.username !== opts.username);
    if (content.devices.length === before) usage(`no credential ${opts.username} in ${file}`);
    writeCredentialsFile(file, content);
    process.stdout.write(`removed ${opts.username} from ${file}\n`);
  } else usage(cmd ? `unknown command ${cmd}` : undefined);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`error: ${e instanceof ConfigError ? e.message : (e as Error).stack}\n`);
  process.exit(1);
});
