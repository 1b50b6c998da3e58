/**
 * The tests run the product as it runs in production: the compiled build in
 * dist/ (`npm run build`, which `npm ci` runs). The integration and browser
 * projects' global setup brings it up to date first (tsc is incremental and
 * the viewer is rebuilt only when its sources changed), so a test never runs
 * stale code.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { processes } from './deploy';

/** Paths of the compiled entry points, relative to the repository root. */
export const DIST = {
  gateway: 'dist/node/apps/gateway/src/main.js',
  credentials: 'dist/node/apps/gateway/src/auth/credentials.main.js',
  tokens: 'dist/node/apps/gateway/src/auth/tokens.main.js',
  recompute: 'dist/node/apps/gateway/src/vitals/recompute.main.js',
  sim: 'dist/node/apps/park-sim/src/sim.main.js',
};

export function ensureBuilt(): void {
  execFileSync(process.execPath, [path.join(processes.repoRoot, 'deploy/build.mjs'), '--quiet'], { cwd: processes.repoRoot, stdio: 'inherit' });
}
