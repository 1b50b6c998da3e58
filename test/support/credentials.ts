/**
 * Device credentials for tests, made with the project's own command
 * (`npm run credentials -- add ...`), so tests exercise the real file format.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST } from './build';
import { processes } from './deploy';

/**
 * Adds a device to a credentials file (created when missing) and returns its
 * password, which the command prints only once.
 * @param file the gateway's DEVICE_CREDENTIALS file
 * @param username the device's MQTT username
 * @param patterns MQTT topic filters (`+`, `#`) the device may publish to
 */
export async function addCredential(file: string, username: string, patterns: string[]): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const args = [DIST.credentials, 'add', '--username', username];
  for (const pattern of patterns) args.push('--publish', pattern);
  args.push('--file', file, '--json');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { cwd: processes.repoRoot, timeout: 60_000 }, (error, out, err) => {
      if (error) reject(new Error(`credentials add ${username} to ${file} failed (exit code ${error.code}): ${err.trim() || error.message}`));
      else resolve(out);
    });
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`credentials add ${username} printed no JSON: ${stdout.slice(0, 300)}`);
  }
  if (typeof parsed.password !== 'string' || parsed.username !== username) {
    throw new Error(`credentials add ${username} printed unexpected JSON: ${line}`);
  }
  return parsed.password;
}
