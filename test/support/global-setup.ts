/**
 * Jest globalSetup (integration and browser projects): checks the Debian
 * packages, removes leftovers of killed runs, and starts the run's one shared
 * InfluxDB on free ports with a fresh data dir. Its URL goes to
 * process.env.INFLUX_URL, which the test workers inherit (they start after
 * this); an INFLUX_URL from the caller's shell is replaced, so tests never
 * write into a real database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { influxdb, packages, processes, type InfluxdbServer } from './deploy';
import { ensureBuilt } from './build';
import { reapLeftovers } from './leftovers';

/** Where global-teardown.ts finds the shared server (same jest process). */
export const SHARED_KEY = '__parkSharedInflux';

/** Data dir of the shared server: `.data/test-influx-<jest pid>`. */
export function sharedDataDir(): string {
  return path.join(processes.dataRoot, `test-influx-${process.pid}`);
}

export default async function globalSetup(): Promise<void> {
  const scope = globalThis as Record<string, unknown>;
  if (scope[SHARED_KEY]) return; // both projects name this module; jest runs it once, but be sure
  packages.ensureDebianPackages(['influxdb', 'mosquitto', 'chromium', 'openssl']);
  ensureBuilt();
  const { killed, removed } = reapLeftovers();
  if (killed.length + removed.length > 0) {
    console.log(`\n[global-setup] removed leftovers of killed test runs: pids ${killed.join(', ') || '-'}; dirs ${removed.join(', ') || '-'}`);
  }
  const dataDir = sharedDataDir();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const server: InfluxdbServer = await influxdb.startInfluxdb({ dataDir });
  scope[SHARED_KEY] = server;
  // For a teardown in another process or a post-mortem: who serves what.
  fs.writeFileSync(path.join(dataDir, 'shared.json'), JSON.stringify({ pid: server.pid, url: server.url, owner: process.pid }) + '\n');
  process.env.INFLUX_URL = server.url;
  process.env.PARK_TEST_INFLUX_DATA = dataDir;
}
