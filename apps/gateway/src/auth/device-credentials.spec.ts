import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/gateway-config';
import { ManualClock } from '../core/clock';
import { LoginQueue, LoginQueueFullError } from './login.queue';
import { VerifiedCredentialCache } from './verified-credential.cache';
import {
  CredentialsFile,
  DeviceAuthenticator,
  hashPassword,
  newPassword,
  readCredentialsFile,
  PBKDF2_PARAMS,
  passwordHashProblem,
  SCRYPT_PARAMS,
  verifyPassword,
  writeCredentialsFile,
} from './device-credentials';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-creds-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('password hashing (scrypt, RFC 7914)', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword('correct horse');
  });

  it('stores the parameters, a salt and the key, never the password', () => {
    const parts = hash.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', String(SCRYPT_PARAMS.N), String(SCRYPT_PARAMS.r), String(SCRYPT_PARAMS.p)]);
    expect(Buffer.from(parts[4], 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5], 'base64')).toHaveLength(SCRYPT_PARAMS.keyLen);
    expect(hash).not.toContain('correct horse');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    await expect(verifyPassword('correct horse', hash)).resolves.toBe(true);
    await expect(verifyPassword('correct horsE', hash)).resolves.toBe(false);
    await expect(verifyPassword('', hash)).resolves.toBe(false);
  });

  it('salts: the same password hashes differently twice', async () => {
    const again = await hashPassword('correct horse');
    expect(again).not.toBe(hash);
    await expect(verifyPassword('correct horse', again)).resolves.toBe(true);
  });

  it('finding 9: a hash whose key is empty or short never matches, whatever the password', async () => {
    const salt = Buffer.alloc(16).toString('base64');
    for (const key of ['A', 'AA==', Buffer.alloc(8).toString('base64')]) {
      await expect(verifyPassword('anything', `scrypt$1024$8$1$${salt}$${key}`)).resolves.toBe(false);
      await expect(verifyPassword('', `scrypt$1024$8$1$${salt}$${key}`)).resolves.toBe(false);
    }
  });

  it('refuses hashes of another scheme', async () => {
    await expect(verifyPassword('x', 'bcrypt$2b$10$abc')).resolves.toBe(false);
    await expect(verifyPassword('x', 'plain')).resolves.toBe(false);
  });

  it('makes long random passwords', () => {
    const a = newPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(newPassword()).not.toBe(a);
  });
});

describe('password hashing of generated passwords (PBKDF2-HMAC-SHA256, RFC 8018)', () => {
  it('finding 6: a generated password gets a cheap hash, which verifies like the scrypt one', async () => {
    const password = newPassword();
    const hash = await hashPassword(password, true);
    const parts = hash.split('$');
    expect(parts[0]).toBe('pbkdf2-sha256');
    expect(Number(parts[1])).toBe(PBKDF2_PARAMS.iterations);
    expect(Buffer.from(parts[2], 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[3], 'base64')).toHaveLength(PBKDF2_PARAMS.keyLen);
    expect(hash).not.toContain(password);
    await expect(verifyPassword(password, hash)).resolves.toBe(true);
    await expect(verifyPassword(`${password}x`, hash)).resolves.toBe(false);
    expect(passwordHashProblem(hash)).toBeUndefined();
  });

  it('finding 9: a PBKDF2 hash with an empty or short key, or a silly iteration count, is refused', async () => {
    const salt = Buffer.alloc(16).toString('base64');
    await expect(verifyPassword('x', `pbkdf2-sha256$1000$${salt}$A`)).resolves.toBe(false);
    expect(passwordHashProblem(`pbkdf2-sha256$1000$${salt}$AA==`)).toMatch(/byte key/);
    expect(passwordHashProblem(`pbkdf2-sha256$0$${salt}$${Buffer.alloc(32).toString('base64')}`)).toMatch(/iteration count/);
    expect(passwordHashProblem('')).toBe('is empty');
  });
});

describe('DeviceAuthenticator', () => {
  let auth: DeviceAuthenticator;
  beforeAll(async () => {
    auth = new DeviceAuthenticator({
      version: 1,
      devices: [
        { username: 'b01-meters', hash: await hashPassword('pw-b01'), publish: ['park/demo/b01/energy/+', 'park/demo/b01/carbon/c01'], createdAt: '2026-11-27T00:00:00Z' },
        { username: 'gw-b02', hash: await hashPassword('pw-b02'), publish: ['park/demo/b02/#'], createdAt: '2026-11-27T00:00:00Z' },
      ],
    });
  });

  it('knows how many devices it serves', () => {
    expect(auth.size).toBe(2);
  });

  it('authenticates a device with its password, as a string or bytes', async () => {
    const expected = { username: 'b01-meters', publish: ['park/demo/b01/energy/+', 'park/demo/b01/carbon/c01'] };
    await expect(auth.authenticate('b01-meters', 'pw-b01')).resolves.toEqual(expected);
    await expect(auth.authenticate('b01-meters', Buffer.from('pw-b01'))).resolves.toEqual(expected);
  });

  it.each<[string | undefined, string | undefined]>([
    ['b01-meters', 'pw-b02'], // another device's password
    ['nobody', 'pw-b01'], // unknown user
    ['b01-meters', undefined],
    [undefined, 'pw-b01'],
    ['', 'pw-b01'],
  ])('refuses user %j with password %j', async (user, pw) => {
    await expect(auth.authenticate(user, pw)).resolves.toBeUndefined();
  });

  it.each<[string, boolean]>([
    ['park/demo/b01/energy/m01', true],
    ['park/demo/b01/energy/pv1', true],
    ['park/demo/b01/carbon/c01', true],
    ['park/demo/b01/carbon/c02', false],
    ['park/demo/b01/occupancy/o01', false],
    ['park/demo/b02/energy/m01', false],
    ['park/other/b01/energy/m01', false],
  ])('b01-meters may publish to %s: %s', (topic, allowed) => {
    expect(DeviceAuthenticator.mayPublish({ username: 'b01-meters', publish: ['park/demo/b01/energy/+', 'park/demo/b01/carbon/c01'] }, topic)).toBe(allowed);
  });
});

describe('DeviceAuthenticator: client certificates and live changes (contract §8)', () => {
  const file = async (devices: Array<[string, string[]]>): Promise<CredentialsFile> => ({
    version: 1,
    devices: await Promise.all(devices.map(async ([username, publish]) => ({ username, hash: await hashPassword('pw'), publish, createdAt: '2026-11-27T00:00:00Z' }))),
  });

  it('a verified certificate CN that is a known username is that device; an unknown CN is nobody', async () => {
    const auth = new DeviceAuthenticator(await file([['b01-m01', ['park/demo/b01/#']]]));
    expect(auth.authenticateCertificate('b01-m01')).toEqual({ username: 'b01-m01', publish: ['park/demo/b01/#'] });
    expect(auth.authenticateCertificate('b09-m01')).toBeUndefined();
  });

  it('replace(): new devices log in at once; a connected device’s rights follow the file, a removed one may publish nothing', async () => {
    const auth = new DeviceAuthenticator(await file([['a', ['park/demo/b01/#']]]));
    const connected = (await auth.authenticate('a', 'pw'))!;
    expect(DeviceAuthenticator.mayPublish(connected, 'park/demo/b01/energy/m01')).toBe(true);
    auth.replace(await file([['a', ['park/demo/b02/#']], ['b', ['park/demo/b03/#']]]));
    expect(await auth.authenticate('b', 'pw')).toBeDefined();
    expect(DeviceAuthenticator.mayPublish(connected, 'park/demo/b01/energy/m01')).toBe(false);
    expect(DeviceAuthenticator.mayPublish(connected, 'park/demo/b02/energy/m01')).toBe(true);
    auth.replace(await file([['b', ['park/demo/b03/#']]]));
    expect(DeviceAuthenticator.mayPublish(connected, 'park/demo/b02/energy/m01')).toBe(false);
    expect(await auth.authenticate('a', 'pw')).toBeUndefined();
    expect(auth.size).toBe(1);
  });
});

describe('DeviceAuthenticator: login cost (issue 8 finding 6) and client id owners (finding 5)', () => {
  let file: CredentialsFile;
  beforeAll(async () => {
    file = {
      version: 1,
      devices: await Promise.all(
        ['b1', 'b1-gw', 'b2-gw'].map(async (username) => ({ username, hash: await hashPassword(`pw-${username}`), publish: ['park/demo/b01/#'], createdAt: '2026-11-27T00:00:00Z' })),
      ),
    };
  });

  /** An authenticator whose password checks are counted. */
  const counted = (ttlMs: number, clock: ManualClock, queue = new LoginQueue(2, 10)) => {
    const checks = { n: 0 };
    const run = queue.run.bind(queue);
    queue.run = (task) => (checks.n++, run(task));
    return { checks, queue, auth: new DeviceAuthenticator(file, { cache: new VerifiedCredentialCache(ttlMs, () => clock.now()), queue }) };
  };

  it('a reconnect within the TTL costs no scrypt; a wrong password, an unknown user or an expired entry does', async () => {
    const clock = new ManualClock(0);
    const { auth, checks } = counted(60_000, clock);
    await expect(auth.authenticate('b1-gw', 'pw-b1-gw')).resolves.toEqual({ username: 'b1-gw', publish: ['park/demo/b01/#'] });
    expect(checks.n).toBe(1);
    for (let i = 0; i < 5; i++) await expect(auth.authenticate('b1-gw', Buffer.from('pw-b1-gw'))).resolves.toMatchObject({ username: 'b1-gw' });
    expect(checks.n).toBe(1);
    await expect(auth.authenticate('b1-gw', 'wrong')).resolves.toBeUndefined();
    await expect(auth.authenticate('nobody', 'pw-b1-gw')).resolves.toBeUndefined();
    expect(checks.n).toBe(3);
    clock.advance(60_000);
    await expect(auth.authenticate('b1-gw', 'pw-b1-gw')).resolves.toMatchObject({ username: 'b1-gw' });
    expect(checks.n).toBe(4);
  });

  it('a changed credential is not served from the cache', async () => {
    const clock = new ManualClock(0);
    const cache = new VerifiedCredentialCache(60_000, () => clock.now());
    const before = new DeviceAuthenticator(file, { cache });
    await expect(before.authenticate('b1', 'pw-b1')).resolves.toBeDefined();
    // the same user with a new password (npm run credentials -- remove/add, then a restart or reload)
    const changed: CredentialsFile = { version: 1, devices: [{ ...file.devices[0], hash: await hashPassword('new-pw') }] };
    const after = new DeviceAuthenticator(changed, { cache });
    await expect(after.authenticate('b1', 'pw-b1')).resolves.toBeUndefined();
    await expect(after.authenticate('b1', 'new-pw')).resolves.toBeDefined();
  });

  it('replace() (SIGHUP, /api/devices): a new password is not served from the cache, the old one is refused at once', async () => {
    const clock = new ManualClock(0);
    const { auth, checks } = counted(60_000, clock);
    await expect(auth.authenticate('b1', 'pw-b1')).resolves.toBeDefined();
    await expect(auth.authenticate('b1', 'pw-b1')).resolves.toBeDefined();
    expect(checks.n).toBe(1);
    auth.replace({ version: 1, devices: [{ ...file.devices[0], hash: await hashPassword('new-pw') }, ...file.devices.slice(1)] });
    await expect(auth.authenticate('b1', 'pw-b1')).resolves.toBeUndefined();
    await expect(auth.authenticate('b1', 'new-pw')).resolves.toMatchObject({ username: 'b1' });
    auth.replace({ version: 1, devices: file.devices.slice(1) });
    await expect(auth.authenticate('b1', 'new-pw')).resolves.toBeUndefined();
  });

  it('refuses a check at once when the queue is full (the broker answers CONNACK 0x03)', async () => {
    const clock = new ManualClock(0);
    const { auth } = counted(0, clock, new LoginQueue(1, 1));
    const first = auth.authenticate('b1', 'pw-b1');
    const second = auth.authenticate('b2-gw', 'pw-b2-gw');
    await expect(auth.authenticate('b1-gw', 'pw-b1-gw')).rejects.toBeInstanceOf(LoginQueueFullError);
    await expect(first).resolves.toBeDefined();
    await expect(second).resolves.toBeDefined();
  });

  it.each<[string, string | undefined]>([
    ['b1', 'b1'],
    ['b1-7', 'b1'],
    ['b1-gw', 'b1-gw'],
    ['b1-gw-7', 'b1-gw'],
    ['b1-gw-7-x', 'b1-gw'],
    ['b1-gwx', 'b1'],
    ['b2-gw-1', 'b2-gw'],
    ['b2-1', undefined],
    ['b3', undefined],
    ['-b1', undefined],
    ['', undefined],
  ])('client id %j belongs to %j', (clientId, owner) => {
    expect(new DeviceAuthenticator(file).ownerOf(clientId)).toBe(owner);
  });
});

describe('credentials file', () => {
  const file = (name: string, content: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
    return f;
  };
  // The shape hashPassword makes: a 16-byte salt and a 32-byte key.
  const SALT = Buffer.alloc(16, 1).toString('base64');
  const KEY = Buffer.alloc(32, 2).toString('base64');
  const good = { username: 'dev1', hash: `scrypt$32768$8$1$${SALT}$${KEY}`, publish: ['park/demo/b01/#'], createdAt: '2026-11-27T00:00:00Z' };

  it('writes atomically, readable by its owner only, and reads back', () => {
    const f = path.join(dir, 'sub/dir/creds.json');
    const content: CredentialsFile = { version: 1, devices: [{ ...good, note: 'roof meter' }] };
    writeCredentialsFile(f, content);
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['creds.json']);
    expect(readCredentialsFile(f, { mustExist: true })).toEqual(content);
  });

  it('a missing file is empty when it need not exist', () => {
    expect(readCredentialsFile(path.join(dir, 'absent.json'), { mustExist: false })).toEqual({ version: 1, devices: [] });
  });

  it('a missing file that must exist names the file and the three ways out', () => {
    const f = path.join(dir, 'absent.json');
    expect(() => readCredentialsFile(f, { mustExist: true })).toThrow(ConfigError);
    expect(() => readCredentialsFile(f, { mustExist: true })).toThrow(
      new RegExp(`^device credentials file ${f} does not exist, and MQTT_AUTH=required\\. Create a credential with: npm run credentials -- add .*DEVICE_CREDENTIALS.*MQTT_AUTH=off`),
    );
  });

  it.each<[string, unknown, string]>([
    ['not JSON', '{"version": 1,', ': is not valid JSON ('],
    ['an array', [], ': $ must be {"version": 1, "devices": [...]}'],
    ['another version', { version: 2, devices: [] }, ': $ must be {"version": 1, "devices": [...]}'],
    ['no device list', { version: 1 }, ': $ must be {"version": 1, "devices": [...]}'],
    ['a null device', { version: 1, devices: [good, null] }, ': $.devices[1].username must be a non-empty string'],
    ['an empty username', { version: 1, devices: [{ ...good, username: '' }] }, ': $.devices[0].username must be a non-empty string'],
    ['a duplicate username', { version: 1, devices: [good, { ...good }] }, ': $.devices[1].username duplicates "dev1"; remove one of them'],
    ['a plain password', { version: 1, devices: [{ ...good, hash: 'hunter2' }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add'],
    ['no filters', { version: 1, devices: [{ ...good, publish: [] }] }, ': $.devices[0].publish must list at least one topic filter'],
    ['a bad filter', { version: 1, devices: [{ ...good, publish: ['park/demo/b01/#', 'park/#/x'] }] }, ': $.devices[0].publish[1] "park/#/x" is not a valid MQTT topic filter'],
    ['a number filter', { version: 1, devices: [{ ...good, publish: [7] }] }, ': $.devices[0].publish[0] "7" is not a valid MQTT topic filter'],
    ['a 129-byte username', { version: 1, devices: [{ ...good, username: 'd'.repeat(129) }] }, ': $.devices[0].username must be at most 128 bytes of printable UTF-8; rename the device'],
    ['a username with a newline', { version: 1, devices: [{ ...good, username: 'a\nb' }] }, ': $.devices[0].username must be at most 128 bytes'],
    // finding 9: hashes that accept any password
    ['finding 9: an empty hash', { version: 1, devices: [{ ...good, hash: '' }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add: it is empty; recreate the credential: npm run credentials -- remove --username dev1 && npm run credentials -- add --username dev1'],
    ['finding 9: a hash with an empty key', { version: 1, devices: [{ ...good, hash: `scrypt$32768$8$1$${SALT}$A` }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add: it has a 0-byte key, which would accept almost any password'],
    ['a hash with a 3-byte key', { version: 1, devices: [{ ...good, hash: `scrypt$32768$8$1$${SALT}$BBBB` }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add: it has a 3-byte key'],
    ['a hash with a 3-byte salt', { version: 1, devices: [{ ...good, hash: `scrypt$32768$8$1$AAAA$${KEY}` }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add: it has a 3-byte salt'],
    ['a hash with a zero cost', { version: 1, devices: [{ ...good, hash: `scrypt$0$8$1$${SALT}$${KEY}` }] }, ': $.devices[0].hash must be a password hash made by npm run credentials -- add: it has unusable cost parameters N=0, r=8, p=1'],
    // finding 9: filters that reach every park
    ['finding 9: a "#" publish filter', { version: 1, devices: [{ ...good, publish: ['park/demo/b01/#', '#'] }] }, ': $.devices[0].publish[1] "#" is not allowed: telemetry filters start with park/{park}/; narrow it to the device\'s own topics, e.g. "park/<park>/<building>/#"'],
    ['a "park/#" publish filter', { version: 1, devices: [{ ...good, publish: ['park/#'] }] }, ': $.devices[0].publish[0] "park/#" is not allowed: a device credential must name its park (park/<park>/...)'],
    ['a "park/+/b01/#" publish filter', { version: 1, devices: [{ ...good, publish: ['park/+/b01/#'] }] }, ': $.devices[0].publish[0] "park/+/b01/#" is not allowed: a device credential must name its park'],
    ['a "$SYS/#" publish filter', { version: 1, devices: [{ ...good, publish: ['$SYS/#'] }] }, ': $.devices[0].publish[0] "$SYS/#" is not allowed: devices may not publish to $-topics'],
  ])('%s: the error names the file and the JSON path', (_what, content, message) => {
    const f = file('bad.json', content);
    let error: unknown;
    try {
      readCredentialsFile(f, { mustExist: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.startsWith(`device credentials file ${f}${message}`)).toBe(true);
  });
});
