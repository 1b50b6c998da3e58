#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` leaves a runnable product):
// compiles the gateway and the simulator to plain JavaScript in dist/node
// (tsc, with decorator metadata for NestJS), lets the compiled code find the
// libs under their package names, and builds the twin viewer into
// dist/twin-viewer (Vite). Production runs `node dist/node/...`: no
// TypeScript at run time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const say = (line) => quiet || console.log(`[build] ${line}`);
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(what, command, args) {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[build] ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  say(`${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

run('gateway → dist/node/apps/gateway', bin('tsc'), ['-p', 'apps/gateway/tsconfig.build.json']);
run('simulator → dist/node/apps/park-sim', bin('tsc'), ['-p', 'apps/park-sim/tsconfig.build.json']);

// The compiled code imports `@park/<lib>`; Node finds these in
// dist/node/node_modules on its way up from dist/node/apps/...
for (const lib of fs.readdirSync(path.join(root, 'libs'))) {
  const entry = path.join(root, 'dist/node/libs', lib, 'src/index.js');
  if (!fs.existsSync(entry)) continue;
  const dir = path.join(root, 'dist/node/node_modules/@park', lib);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `@park/${lib}`, private: true, main: `../../../libs/${lib}/src/index.js` }, null, 2) + '\n');
}

// Vite has no incremental build: skip it when the bundle is newer than every source it is made of.
const newest = (dir) => {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
};
const viewer = path.join(root, 'dist/twin-viewer/index.html');
const sources = Math.max(...['apps/twin-viewer', 'libs/telemetry/src', 'libs/metrics/src'].map((d) => newest(path.join(root, d))));
if (fs.existsSync(viewer) && fs.statSync(viewer).mtimeMs > sources) say('twin viewer is up to date');
else run('twin viewer → dist/twin-viewer', bin('vite'), ['build', '--config', 'apps/twin-viewer/vite.config.mjs', '--logLevel', 'warn']);
fs.writeFileSync(path.join(root, 'dist/BUILD'), `${new Date().toISOString()}\n`);
