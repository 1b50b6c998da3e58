import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/gateway-config';

/**
 * Operator tokens (contract §8, "Operator authentication"): the file format,
 * hashing and look-up. A token is shown once when it is made and stored only
 * as a hash.
 *
 * Why SHA-256 and not scrypt as for device passwords: a token is 256 random
 * bits, so there is nothing to guess and no dictionary to slow down; a slow
 * hash would only make every API request cost tens of milliseconds (GitHub's
 * and InfluxDB 2.x's API tokens are stored the same way). The token carries
 * its record's id (`ptk_<id>_<secret>`) so the record is found without
 * comparing against every hash, and the hashes are compared in constant time.
 */

/** Operator roles, each allowed everything the previous one is (contract §8). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Does `role` include everything `needed` allows? */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** One token as stored in the file. Never holds the token. */
export interface ApiTokenRecord {
  /** Public id, part of the token: finds the record. 16 hex digits. */
  id: string;
  /** Unique, chosen by the admin: `revoke --name` uses it. */
  name: string;
  role: Role;
  /** The parks it may see; absent = all parks. */
  parks?: string[];
  /** `sha256$<hex of SHA-256(token)>` */
  hash: string;
  createdAt: string;
}

export interface ApiTokensFile {
  version: 1;
  tokens: ApiTokenRecord[];
}

/** What an authenticated request may do: the token's name, role and park scope. */
export interface Operator {
  /** The token's name (for logs; never the token). */
  name: string;
  /** The token's id (sessions refer to it, so revoking a token ends its sessions). */
  tokenId: string;
  role: Role;
  /** undefined = every park. */
  parks?: readonly string[];
}

/** May this operator see this park? */
export function inScope(op: Operator, parkId: string): boolean {
  return op.parks === undefined || op.parks.includes(parkId);
}

/** Token names: what `--name` accepts. */
export const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const TOKEN_FORMAT = /^ptk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const HASH_FORMAT = /^sha256\$[0-9a-f]{64}$/;
const PARK_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** SHA-256 of a token, as stored. */
export function hashToken(token: string): string {
  return `sha256$${crypto.createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** A new token and its record (the token itself is returned once, for printing). */
export function newToken(name: string, role: Role, parks: string[] | undefined, nowMs: number): { token: string; record: ApiTokenRecord } {
  const id = crypto.randomBytes(8).toString('hex');
  const token = `ptk_${id}_${crypto.randomBytes(32).toString('base64url')}`;
  return { token, record: { id, name, role, ...(parks && parks.length > 0 ? { parks: [...new Set(parks)] } : {}), hash: hashToken(token), createdAt: new Date(nowMs).toISOString() } };
}

/**
 * Reads and checks a token file. A missing file is an empty one unless
 * `mustExist`. Throws ConfigError naming the file, the JSON path and the fix.
 */
export function readTokensFile(file: string, { mustExist }: { mustExist: boolean }): ApiTokensFile {
  if (!fs.existsSync(file)) {
    if (!mustExist) return { version: 1, tokens: [] };
    throw new ConfigError(
      `operator token file ${file} does not exist, and API_AUTH=required. ` +
        `Create an admin token with: npm run tokens -- add --name admin --role admin ` +
        `(or set API_TOKENS to an existing file, or API_AUTH=off to leave the API open on a trusted network)`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`operator token file ${file}: is not valid JSON (${(e as Error).message}); fix it or recreate it with npm run tokens -- add`);
  }
  const where = (p: string, msg: string) => new ConfigError(`operator token file ${file}: ${p} ${msg}`);
  const d = doc as Partial<ApiTokensFile>;
  if (typeof d !== 'object' || d === null || d.version !== 1 || !Array.isArray(d.tokens)) throw where('$', 'must be {"version": 1, "tokens": [...]}');
  const names = new Set<string>();
  const ids = new Set<string>();
  d.tokens.forEach((t, i) => {
    const at = `$.tokens[${i}]`;
    if (typeof t !== 'object' || t === null) throw where(at, 'must be an object');
    if (typeof t.name !== 'string' || !TOKEN_NAME.test(t.name)) throw where(`${at}.name`, 'must be 1-64 letters, digits, ".", "_" or "-"');
    if (names.has(t.name)) throw where(`${at}.name`, `duplicates "${t.name}"; revoke one of them`);
    names.add(t.name);
    if (typeof t.id !== 'string' || !/^[0-9a-f]{16}$/.test(t.id) || ids.has(t.id)) throw where(`${at}.id`, 'must be a unique 16-digit hex id made by npm run tokens -- add');
    ids.add(t.id);
    if (!(ROLES as readonly unknown[]).includes(t.role)) throw where(`${at}.role`, `must be one of ${ROLES.join(', ')}`);
    if (typeof t.hash !== 'string' || !HASH_FORMAT.test(t.hash)) throw where(`${at}.hash`, 'must be a sha256 hash made by npm run tokens -- add');
    if (t.parks !== undefined) {
      if (!Array.isArray(t.parks) || t.parks.length === 0) throw where(`${at}.parks`, 'must list at least one park id, or be absent for every park');
      t.parks.forEach((p, j) => {
        if (typeof p !== 'string' || !PARK_ID.test(p)) throw where(`${at}.parks[${j}]`, `"${String(p)}" is not a park id`);
      });
    }
  });
  return d as ApiTokensFile;
}

/**
 * Problems with who may read or write the file: group- or world-writable
 * (anyone could add an admin token) is refused; readable by others is a
 * warning, as Mosquitto 2 does for its password file (the hashes of random
 * tokens cannot be reversed, but they are nobody else's business).
 */
export function checkTokensFileMode(file: string): { refuse?: string; warn?: string } {
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    return {};
  }
  const fix = `run chmod 600 ${file}`;
  if (mode & 0o022) return { refuse: `operator token file ${file} is writable by ${mode & 0o002 ? 'everyone' : 'its group'} (mode ${mode.toString(8)}): anyone could add an admin token; ${fix}` };
  if (mode & 0o044) return { warn: `operator token file ${file} is readable by ${mode & 0o004 ? 'everyone' : 'its group'} (mode ${mode.toString(8)}); ${fix}` };
  return {};
}

/** Writes the file atomically, readable by its owner only. */
export function writeTokensFile(file: string, content: ApiTokensFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The tokens in memory, looked up by the id inside a token. Changes made over
 * the API (`/api/tokens`) go to the file at once and apply to the next
 * request; changes made with `npm run tokens` while the gateway runs apply on
 * `reload()` (SIGHUP) or restart.
 */
export class ApiTokenStore {
  private byId = new Map<string, ApiTokenRecord>();
  private readonly hashLength = Buffer.byteLength(hashToken(''));

  constructor(
    private content: ApiTokensFile,
    /** Where add/revoke write; undefined = memory only (specs). */
    private readonly file?: string,
  ) {
    this.index();
  }

  /** Loads the store from its file (ConfigError naming the file and the fix). */
  static fromFile(file: string): ApiTokenStore {
    return new ApiTokenStore(readTokensFile(file, { mustExist: true }), file);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The operator a presented token stands for; undefined for a malformed, unknown or revoked token. */
  verify(token: string | undefined): Operator | undefined {
    if (typeof token !== 'string') return undefined;
    const m = TOKEN_FORMAT.exec(token);
    if (!m) return undefined;
    const record = this.byId.get(m[1]);
    // Compare even when the id is unknown, so that timing tells nothing.
    const expected = Buffer.from(record?.hash ?? hashToken('no such token'));
    const presented = Buffer.from(hashToken(token));
    const equal = expected.length === this.hashLength && presented.length === this.hashLength && crypto.timingSafeEqual(expected, presented);
    return equal && record ? toOperator(record) : undefined;
  }

  /** The operator of a token id still in the store (sessions keep the id, never the token). */
  byTokenId(id: string): Operator | undefined {
    const record = this.byId.get(id);
    return record ? toOperator(record) : undefined;
  }

  /** Every record, without hashes. */
  list(): Array<Omit<ApiTokenRecord, 'hash'>> {
    return this.content.tokens.map(({ hash: _hash, ...rest }) => rest);
  }

  /** Makes a token; returns it once. Throws TokenStoreError for a taken name. */
  add(name: string, role: Role, parks: string[] | undefined, nowMs: number): { token: string; record: Omit<ApiTokenRecord, 'hash'> } {
    if (!TOKEN_NAME.test(name)) throw new TokenStoreError('bad_name', 'name must be 1-64 letters, digits, ".", "_" or "-"');
    if (this.content.tokens.some((t) => t.name === name)) throw new TokenStoreError('exists', `a token named "${name}" exists; revoke it first`);
    const { token, record } = newToken(name, role, parks, nowMs);
    this.save({ version: 1, tokens: [...this.content.tokens, record] });
    const { hash: _hash, ...shown } = record;
    return { token, record: shown };
  }

  /** Revokes a token by name; false when there is none. */
  revoke(name: string): boolean {
    const tokens = this.content.tokens.filter((t) => t.name !== name);
    if (tokens.length === this.content.tokens.length) return false;
    this.save({ version: 1, tokens });
    return true;
  }

  /** Re-reads the file (SIGHUP): tokens added or revoked with `npm run tokens` apply. */
  reload(): void {
    if (!this.file) return;
    this.content = readTokensFile(this.file, { mustExist: true });
    this.index();
  }

  private save(content: ApiTokensFile): void {
    // Re-read first: `npm run tokens` may have changed the file since we loaded it.
    if (this.file) {
      const onDisk = readTokensFile(this.file, { mustExist: false });
      const added = content.tokens.filter((t) => !this.content.tokens.some((c) => c.id === t.id));
      const removed = new Set(this.content.tokens.filter((c) => !content.tokens.some((t) => t.id === c.id)).map((t) => t.id));
      content = { version: 1, tokens: [...onDisk.tokens.filter((t) => !removed.has(t.id)), ...added] };
      writeTokensFile(this.file, content);
    }
    this.content = content;
    this.index();
  }

  private index(): void {
    this.byId = new Map(this.content.tokens.map((t) => [t.id, t]));
  }
}

/** Why the store refused a change (the API answers 409 or 400). */
export class TokenStoreError extends Error {
  constructor(
    readonly code: 'bad_name' | 'exists',
    message: string,
  ) {
    super(message);
  }
}

function toOperator(r: ApiTokenRecord): Operator {
  return { name: r.name, tokenId: r.id, role: r.role, parks: r.parks };
}
