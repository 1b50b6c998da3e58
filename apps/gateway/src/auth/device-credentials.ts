import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { excerptOf } from '@park/telemetry';
import { ConfigError } from '../config/gateway-config';
import { MAX_USERNAME_BYTES } from './client-id.rule';
import { LoginQueue } from './login.queue';
import { isValidFilter, isValidFilterForDevice, topicMatches } from './topic-filter';
import { VerifiedCredentialCache } from './verified-credential.cache';

const scrypt = promisify(crypto.scrypt) as (pw: crypto.BinaryLike, salt: crypto.BinaryLike, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const pbkdf2 = promisify(crypto.pbkdf2);

/** scrypt cost parameters (RFC 7914); N=2^15 costs ~50-100 ms per check. */
export const SCRYPT_PARAMS = { N: 32768, r: 8, p: 1, keyLen: 32 } as const;

/**
 * PBKDF2-HMAC-SHA256 (RFC 8018) for the passwords this project generates.
 * Those are 144 random bits (`newPassword`): no amount of key stretching
 * adds to that, while a 32 MiB scrypt per login let a fleet reconnecting
 * after a restart, or a flood of bogus CONNECTs, starve real devices (issue
 * 8 finding 6). 1,000 iterations cost about a millisecond (Mosquitto's own
 * password files use 101 of PBKDF2-SHA512). scrypt hashes in older files
 * still verify.
 */
export const PBKDF2_PARAMS = { iterations: 1000, keyLen: 32, digest: 'sha256' } as const;

/** One device credential as stored in the credentials file. Never holds the password. */
export interface DeviceCredential {
  username: string;
  /** `pbkdf2-sha256$<iterations>$<salt b64>$<key b64>` (generated passwords) or `scrypt$N$r$p$<salt b64>$<key b64>` */
  hash: string;
  /** MQTT topic filters this credential may publish to, e.g. `park/demo/b01/+/+`. */
  publish: string[];
  createdAt: string;
  note?: string;
}

export interface CredentialsFile {
  version: 1;
  devices: DeviceCredential[];
}

/**
 * Hashes a password with a fresh random salt: PBKDF2 for a password made by
 * {@link newPassword} (`generated`), scrypt for anything a person chose.
 */
export async function hashPassword(password: string, generated = false): Promise<string> {
  const salt = crypto.randomBytes(16);
  if (generated) {
    const { iterations, keyLen, digest } = PBKDF2_PARAMS;
    const key = await pbkdf2(password, salt, iterations, keyLen, digest);
    return `pbkdf2-sha256$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
  }
  const { N, r, p, keyLen } = SCRYPT_PARAMS;
  const key = await scrypt(password, salt, keyLen, { N, r, p, maxmem: 256 * N * r });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length === 4 && parts[0] === 'pbkdf2-sha256') {
    const iterations = Number(parts[1]);
    const salt = Buffer.from(parts[2], 'base64');
    const expected = Buffer.from(parts[3], 'base64');
    if (!isPbkdf2Cost(iterations) || expected.length < MIN_KEY_BYTES || salt.length < MIN_SALT_BYTES) return false;
    const key = await pbkdf2(password, salt, iterations, expected.length, 'sha256');
    return crypto.timingSafeEqual(key, expected);
  }
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  // A damaged hash is a failed login, not a server error.
  if (!isScryptCost(N, r, p)) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  // A key of a few bytes (or none: "A" decodes to nothing) would match any
  // password: such a hash is refused at start-up, and never matches here.
  if (expected.length < MIN_KEY_BYTES || salt.length < MIN_SALT_BYTES) return false;
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 });
  return crypto.timingSafeEqual(key, expected);
}

function isPbkdf2Cost(iterations: number): boolean {
  return Number.isInteger(iterations) && iterations >= 1 && iterations <= 10_000_000;
}

function isScryptCost(N: number, r: number, p: number): boolean {
  return Number.isInteger(N) && N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0 && Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
}

/** Shortest derived key and salt a stored hash may have (hashPassword makes 32 and 16 bytes). */
const MIN_KEY_BYTES = 16;
const MIN_SALT_BYTES = 8;

/** Is this a well-formed hash as hashPassword makes them? */
export function isPasswordHash(stored: string): boolean {
  return passwordHashProblem(stored) === undefined;
}

/**
 * What is wrong with a stored hash, or undefined when it is one
 * hashPassword could have made: scheme, cost parameters, base64, and a salt
 * and key long enough to mean something (a hash with an empty key accepts
 * every password, issue 8 finding 9).
 */
export function passwordHashProblem(stored: string): string | undefined {
  const parts = stored.split('$');
  let saltB64: string;
  let keyB64: string;
  if (parts.length === 4 && parts[0] === 'pbkdf2-sha256') {
    if (!isPbkdf2Cost(Number(parts[1]))) return `has an unusable iteration count ${parts[1]}`;
    [saltB64, keyB64] = [parts[2], parts[3]];
  } else if (parts.length === 6 && parts[0] === 'scrypt') {
    const [N, r, p] = parts.slice(1, 4).map(Number);
    if (!isScryptCost(N, r, p)) return `has unusable cost parameters N=${parts[1]}, r=${parts[2]}, p=${parts[3]}`;
    [saltB64, keyB64] = [parts[4], parts[5]];
  } else return stored === '' ? 'is empty' : 'is not of the form pbkdf2-sha256$<iterations>$<salt>$<key> or scrypt$N$r$p$<salt>$<key>';
  if (!/^[A-Za-z0-9+/]+=*$/.test(saltB64) || !/^[A-Za-z0-9+/]+=*$/.test(keyB64)) return 'has a salt or key that is not base64';
  const salt = Buffer.from(saltB64, 'base64').length;
  const key = Buffer.from(keyB64, 'base64').length;
  if (key < MIN_KEY_BYTES) return `has a ${key}-byte key, which would accept almost any password (at least ${MIN_KEY_BYTES} bytes)`;
  if (salt < MIN_SALT_BYTES) return `has a ${salt}-byte salt (at least ${MIN_SALT_BYTES} bytes)`;
  return undefined;
}

/** A new random device password (24 URL-safe characters, 144 bits). */
export function newPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}

/**
 * Reads and checks a credentials file. Throws ConfigError naming the file,
 * the JSON path and the fix.
 */
export function readCredentialsFile(file: string, { mustExist }: { mustExist: boolean }): CredentialsFile {
  if (!fs.existsSync(file)) {
    if (!mustExist) return { version: 1, devices: [] };
    throw new ConfigError(
      `device credentials file ${file} does not exist, and MQTT_AUTH=required. ` +
        `Create a credential with: npm run credentials -- add --username <device> --publish 'park/<park>/<building>/#' ` +
        `(or set DEVICE_CREDENTIALS to an existing file, or MQTT_AUTH=off to accept anonymous devices)`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`device credentials file ${file}: is not valid JSON (${(e as Error).message}); fix it or recreate it with npm run credentials -- add`);
  }
  const where = (p: string, msg: string) => new ConfigError(`device credentials file ${file}: ${p} ${msg}`);
  const d = doc as Partial<CredentialsFile>;
  if (typeof d !== 'object' || d === null || d.version !== 1 || !Array.isArray(d.devices)) {
    throw where('$', 'must be {"version": 1, "devices": [...]}');
  }
  const names = new Set<string>();
  const recreate = (username: string) =>
    `; recreate the credential: npm run credentials -- remove --username ${username} && npm run credentials -- add --username ${username} --publish 'park/<park>/<building>/#'`;
  d.devices.forEach((c, i) => {
    if (typeof c?.username !== 'string' || c.username.length === 0) throw where(`$.devices[${i}].username`, 'must be a non-empty string');
    // Contract §8: usernames are at most 128 bytes; one that is longer could never log in.
    if (Buffer.byteLength(c.username) > MAX_USERNAME_BYTES || /[\u0000-\u001f\u007f]/.test(c.username)) {
      throw where(`$.devices[${i}].username`, `must be at most ${MAX_USERNAME_BYTES} bytes of printable UTF-8; rename the device`);
    }
    if (names.has(c.username)) throw where(`$.devices[${i}].username`, `duplicates "${c.username}"; remove one of them`);
    names.add(c.username);
    if (typeof c.hash !== 'string') throw where(`$.devices[${i}].hash`, `must be a password hash made by npm run credentials -- add${recreate(c.username)}`);
    const problem = passwordHashProblem(c.hash);
    if (problem) throw where(`$.devices[${i}].hash`, `must be a password hash made by npm run credentials -- add: it ${problem}${recreate(c.username)}`);
    if (!Array.isArray(c.publish) || c.publish.length === 0) throw where(`$.devices[${i}].publish`, 'must list at least one topic filter, e.g. "park/demo/b01/#"');
    c.publish.forEach((f, j) => {
      if (typeof f !== 'string' || !isValidFilter(f)) throw where(`$.devices[${i}].publish[${j}]`, `"${excerptOf(f, 80)}" is not a valid MQTT topic filter`);
      // The rule of npm run credentials, for hand-edited files too: "#" or
      // "park/+/..." would let one device write any park's telemetry.
      const unfit = isValidFilterForDevice(f);
      if (unfit) throw where(`$.devices[${i}].publish[${j}]`, `"${f}" is not allowed: ${unfit}; narrow it to the device's own topics, e.g. "park/<park>/<building>/#"`);
    });
  });
  return d as CredentialsFile;
}

/** Writes the file atomically, readable by its owner only. */
export function writeCredentialsFile(file: string, content: CredentialsFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The authenticated identity of a connected device. */
export interface DeviceIdentity {
  username: string;
  publish: string[];
}

/** What makes logins cheap and bounded under a storm (issue 8 finding 6); both optional. */
export interface LoginCost {
  /** Passwords verified recently: a reconnect costs an HMAC instead of a scrypt. */
  cache?: VerifiedCredentialCache;
  /** The bound on password checks running and waiting. */
  queue?: LoginQueue;
}

/**
 * Device authentication and publish authorization, over the credentials
 * file loaded at start-up. `replace()` swaps in a new file's content (a
 * change over `/api/devices`, or SIGHUP): new logins see it at once, and so
 * do connected devices, whose identity object is shared and updated in place
 * (a removed device's next publish is refused and its connection closed).
 */
export class DeviceAuthenticator {
  private byName: Map<string, DeviceCredential>;
  /** One identity per username, shared by its connections, so that replace() reaches them. */
  private readonly identities = new Map<string, DeviceIdentity>();

  constructor(
    file: CredentialsFile,
    private readonly cost: LoginCost = {},
  ) {
    this.byName = new Map(file.devices.map((c) => [c.username, c]));
  }

  get size(): number {
    return this.byName.size;
  }

  /**
   * Resolves to the identity, or undefined for an unknown user or a wrong
   * password. A password verified within the cache's TTL against the same
   * hash is accepted from the cache; every other check is a scrypt, through
   * the queue: rejects with LoginQueueFullError when the queue is full.
   */
  async authenticate(username: string | undefined, password: Buffer | string | undefined): Promise<DeviceIdentity | undefined> {
    if (!username || password === undefined) return undefined;
    const cred = this.byName.get(username);
    const pw = password.toString();
    if (cred && this.cost.cache?.matches(username, pw, cred.hash)) return this.identityOf(cred);
    // Unknown users still pay one check so that timing does not reveal which names exist.
    const check = () => verifyPassword(pw, cred?.hash ?? DUMMY_HASH);
    const ok = await (this.cost.queue ? this.cost.queue.run(check) : check());
    if (!ok || !cred) return undefined;
    this.cost.cache?.remember(username, pw, cred.hash);
    return this.identityOf(cred);
  }

  /**
   * The device a client id belongs to (contract §8): the longest known
   * username that is the id itself or, followed by `-`, starts it. With
   * devices `b1` and `b1-gw`, `b1-gw-7` is `b1-gw`'s. Undefined when no
   * device's username fits. Cost: one lookup per `-` in the id (at most 128
   * bytes).
   */
  ownerOf(clientId: string): string | undefined {
    if (this.byName.has(clientId)) return clientId;
    for (let i = clientId.lastIndexOf('-'); i > 0; i = clientId.lastIndexOf('-', i - 1)) {
      const prefix = clientId.slice(0, i);
      if (this.byName.has(prefix)) return prefix;
    }
    return undefined;
  }

  /**
   * The identity of a device that presented a client certificate the TLS
   * layer verified against TLS_CA (contract §8): its subject CN is the
   * username. undefined when no credential has that username (the
   * certificate proves a name, the credentials file says what it may do).
   */
  authenticateCertificate(commonName: string): DeviceIdentity | undefined {
    const cred = this.byName.get(commonName);
    return cred ? this.identityOf(cred) : undefined;
  }

  /** Swaps in a new credentials file's content (live: see the class comment). */
  replace(file: CredentialsFile): void {
    this.byName = new Map(file.devices.map((c) => [c.username, c]));
    for (const [username, identity] of this.identities) {
      const cred = this.byName.get(username);
      identity.publish = cred ? cred.publish : [];
      if (!cred) this.identities.delete(username);
    }
  }

  /** May this identity publish on this topic? */
  static mayPublish(identity: DeviceIdentity, topic: string): boolean {
    return identity.publish.some((f) => topicMatches(f, topic));
  }

  private identityOf(cred: DeviceCredential): DeviceIdentity {
    let identity = this.identities.get(cred.username);
    if (!identity) {
      identity = { username: cred.username, publish: cred.publish };
      this.identities.set(cred.username, identity);
    }
    return identity;
  }
}

const DUMMY_HASH = `pbkdf2-sha256$${PBKDF2_PARAMS.iterations}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
