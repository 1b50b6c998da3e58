/**
 * Jest globalTeardown: stops the shared InfluxDB of global-setup.ts and
 * removes its data dir, then whatever test folders and processes dead test
 * workers left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processes, type InfluxdbServer } from './deploy';
import { SHARED_KEY, sharedDataDir } from './global-setup';
import { reapLeftovers } from './leftovers';

export default async function globalTeardown(): Promise<void> {
  const scope = globalThis as Record<string, unknown>;
  const server = scope[SHARED_KEY] as InfluxdbServer | undefined;
  const dataDir = sharedDataDir();
  if (server) {
    await server.stop();
    delete scope[SHARED_KEY];
  } else {
    // Not the process that ran the setup: fall back to the recorded pid.
    try {
      const { pid } = JSON.parse(fs.readFileSync(path.join(dataDir, 'shared.json'), 'utf8')) as { pid: number };
      // Only if that pid still runs our config (pids get reused).
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) await processes.stopPid(pid);
    } catch {
      // nothing recorded: nothing started
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  // Gateways or servers a test forgot to stop (runInBand: owned by us).
  const { killed } = reapLeftovers({ includeOwn: true });
  if (killed.length > 0) console.log(`[global-teardown] killed processes the tests left running: ${killed.join(', ')}`);
}
