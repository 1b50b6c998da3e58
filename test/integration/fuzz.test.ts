/**
 * Issue 8, "no input crashes it, and none poisons derived data": a seeded
 * slice of the fuzz harness (`npm run fuzz` runs a million cases) against
 * the real gateway process and the shared InfluxDB. A failure prints each
 * finding with the command that replays it.
 */
import * as path from 'node:path';
import { addCredential } from '../support/credentials';
import { processes } from '../support/deploy';
import { Gateway, startGateway } from '../support/gateway';
import { ownedDir } from '../support/leftovers';
import { sharedInfluxUrl } from '../support/services';
import { FUZZ_GATEWAY_ENV, runFuzz } from '../fuzz/fuzz.harness';
import { printReport } from '../fuzz/fuzz.report';

jest.setTimeout(180_000);

/** Fixed, so CI runs the same cases every time; `npm run fuzz -- --seed <n>` explores others. */
const SEED = 20_261_127;
const CASES = 20_000;

let gw: Gateway;

afterAll(async () => {
  expect(await gw?.stop()).toBe(0);
});

test(`finding 1 and the fuzz harness: ${CASES} seeded cases (pure functions, MQTT, MQTT over WebSocket, live stream, HTTP) crash nothing and poison nothing`, async () => {
  const credentials = path.join(ownedDir('fuzz'), 'device-credentials.json');
  const device = { username: 'fuzz-dev', password: await addCredential(credentials, 'fuzz-dev', ['park/demo/#']) };
  gw = await startGateway({ name: 'fuzz-slice', env: { ...FUZZ_GATEWAY_ENV, DEVICE_CREDENTIALS: credentials } });
  const report = await runFuzz({ gateway: gw, influxUrl: sharedInfluxUrl(), device }, { cases: CASES, seed: SEED }, processes.repoRoot);
  const lines: string[] = [];
  printReport(report, (l) => lines.push(l));
  // The report goes to the test output either way: cases/s, totals, what was stored.
  process.stdout.write(`${lines.join('\n')}\n`);
  expect(report.findings).toEqual([]);
  expect(report.harnessUnhandled).toBe(0);
  expect(report.gatewayUp).toBe(true);
  expect(report.totalCases).toBe(CASES);
  // It reached deep: readings were stored and vitals derived from them.
  expect(report.stored.energy?.points ?? 0).toBeGreaterThan(0);
  expect(report.stored.vitals?.points ?? 0).toBeGreaterThan(0);
});
