/**
 * `npm run fuzz -- [--cases N] [--seed S] [--concurrency C]`
 * `npm run fuzz -- --replay <category>:<chunk seed>:<index> --now <ms>`
 *
 * Throws structured and random input at every entry point of a real gateway
 * (compiled build, embedded broker with device authentication, a private
 * InfluxDB 1.6 on free ports) and at the pure functions behind them; prints
 * cases/s, totals and findings; exits 1 on any finding. The full run of
 * issue 8 is `--cases 1000000`. See docs/security-devices.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt } from '../support/build';
import { addCredential } from '../support/credentials';
import { influxdb, processes } from '../support/deploy';
import { startGateway } from '../support/gateway';
import { ownedDir, reapLeftovers } from '../support/leftovers';
import { caseOf, CATEGORIES, Category, FUZZ_GATEWAY_ENV, replay, runFuzz } from './fuzz.harness';
import { printReport } from './fuzz.report';

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    out[a.slice(2)] = argv[i + 1] ?? '';
    i++;
  }
  return out;
}

async function main(): Promise<number> {
  const a = args(process.argv.slice(2));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  ensureBuilt();
  const nowMs = a.now ? Number(a.now) : Date.now();
  const repoRoot = processes.repoRoot;
  const credentials = path.join(ownedDir('fuzz'), 'device-credentials.json');
  const device = { username: 'fuzz-dev', password: '' };

  if (a.replay) {
    const [category, seed, index] = a.replay.split(':');
    if (!(CATEGORIES as readonly string[]).includes(category)) throw new Error(`--replay: category must be one of ${CATEGORIES.join(', ')}`);
    const c = caseOf(category as Category, Number(seed), Number(index), nowMs, repoRoot, device);
    say(`case ${a.replay}: ${JSON.stringify(c, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `<${(v as { data: number[] }).data.length} bytes>` : v)).slice(0, 2000)}`);
    if (category === 'pure') {
      say(await replay('pure', c, undefined, nowMs, repoRoot));
      return 0;
    }
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-fuzz-influx-'));
  const influx = await influxdb.startInfluxdb({ dataDir });
  process.env.INFLUX_URL = influx.url;
  device.password = await addCredential(credentials, device.username, ['park/demo/#']);
  const gateway = await startGateway({ name: 'fuzz', env: { ...FUZZ_GATEWAY_ENV, DEVICE_CREDENTIALS: credentials, INFLUX_DB: 'fuzz' } });
  const target = { gateway, influxUrl: influx.url, device };
  try {
    if (a.replay) {
      const [category, seed, index] = a.replay.split(':');
      const c = caseOf(category as Category, Number(seed), Number(index), nowMs, repoRoot, device);
      say(await replay(category as Category, c, target, nowMs, repoRoot));
      return gateway.running ? 0 : 1;
    }
    const seed = a.seed ? Number(a.seed) : Math.floor(Math.random() * 2 ** 31);
    const cases = a.cases ? Number(a.cases) : 100_000;
    say(`fuzzing a real gateway (log: ${gateway.logFile}) with ${cases} cases, seed ${seed}; the machine may be shared, so rates vary`);
    const report = await runFuzz(target, { cases, seed, nowMs, concurrency: a.concurrency ? Number(a.concurrency) : undefined, progress: say }, repoRoot);
    printReport(report, say);
    return report.findings.length === 0 && report.harnessUnhandled === 0 && report.gatewayUp ? 0 : 1;
  } finally {
    await gateway.stop();
    await influx.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    reapLeftovers({ includeOwn: true }); // this run's WAL, credentials and gateway folders
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
    process.exit(2);
  },
);
