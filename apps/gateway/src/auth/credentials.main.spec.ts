import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../config/gateway-config';
import { readCredentialsFile, verifyPassword } from './device-credentials';

/** Runs `npm run credentials -- ...` the way an operator does, as a child process. */
function credentials(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(REPO_ROOT, 'node_modules/.bin/tsx'),
      ['--tsconfig', 'tsconfig.base.json', 'apps/gateway/src/auth/credentials.main.ts', ...args],
      { cwd: REPO_ROOT, timeout: 30_000, env: { ...process.env, DEVICE_CREDENTIALS: '' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

// Each command is a fresh tsx process (about 1-2 s to start on a loaded machine).
jest.setTimeout(30_000);

describe('credentials CLI (npm run credentials)', () => {
  let dir: string;
  let file: string;
  let password: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-cli-'));
    file = path.join(dir, 'creds', 'devices.json');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('add --json prints the password once and stores only its hash, mode 0600', async () => {
    const r = await credentials(['add', '--username', 'u', '--publish', 'park/demo/b01/#', '--file', file, '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(r.stdout) as { username: string; password: string; file: string };
    expect(printed.username).toBe('u');
    expect(printed.file).toBe(file);
    password = printed.password;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);

    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(password);
    const content = readCredentialsFile(file, { mustExist: true });
    expect(content.devices).toHaveLength(1);
    expect(content.devices[0]).toMatchObject({ username: 'u', publish: ['park/demo/b01/#'] });
    await expect(verifyPassword(password, content.devices[0].hash)).resolves.toBe(true);
  });

  it('add prints a second device for a human, with its filters and note', async () => {
    const r = await credentials(['add', '--username', 'b02.gw', '--publish', 'park/demo/b02/energy/+', '--publish', 'park/demo/b02/carbon/+', '--note', 'roof gateway', '--file', file]);
    expect(r.code).toBe(0);
    const m = /^added b02\.gw to (.+)\nusername: b02\.gw\npassword: ([A-Za-z0-9_-]{24})\n\(the password is shown once; it is stored only as a salted PBKDF2 hash\)\n$/.exec(r.stdout);
    expect(m?.[1]).toBe(file);
    const devices = readCredentialsFile(file, { mustExist: true }).devices;
    expect(devices.map((d) => d.username)).toEqual(['u', 'b02.gw']);
    expect(devices[1]).toMatchObject({ publish: ['park/demo/b02/energy/+', 'park/demo/b02/carbon/+'], note: 'roof gateway' });
    expect(fs.readFileSync(file, 'utf8')).not.toContain(m![2]);
    // the first device's password still checks
    await expect(verifyPassword(password, devices[0].hash)).resolves.toBe(true);
  });

  it('list shows each device with its filters and never a password or hash', async () => {
    const r = await credentials(['list', '--file', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines.map((l) => [l[0], l[1], l[3]])).toEqual([
      ['u', 'park/demo/b01/#', undefined],
      ['b02.gw', 'park/demo/b02/energy/+ park/demo/b02/carbon/+', 'roof gateway'],
    ]);
    expect(r.stdout).not.toContain('scrypt$');
    expect(r.stdout).not.toContain(password);
  });

  it('refuses a duplicate username and a filter unfit for a device, with exit code 2', async () => {
    const [dup, wide] = await Promise.all([
      credentials(['add', '--username', 'u', '--publish', 'park/demo/b01/#', '--file', file]),
      credentials(['add', '--username', 'v', '--publish', 'park/#', '--file', file]),
    ]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain(`error: username u already exists in ${file}; remove it first`);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain('error: --publish park/#: a device credential must name its park (park/<park>/...)');
    expect(readCredentialsFile(file, { mustExist: true }).devices).toHaveLength(2);
  });

  it('remove deletes one device and keeps the file private', async () => {
    const r = await credentials(['remove', '--username', 'u', '--file', file]);
    expect(r).toMatchObject({ code: 0, stdout: `removed u from ${file}\n` });
    expect(readCredentialsFile(file, { mustExist: true }).devices.map((d) => d.username)).toEqual(['b02.gw']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['devices.json']);
  });
});
