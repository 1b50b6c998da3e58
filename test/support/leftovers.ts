/**
 * Clean-up of what an earlier, killed test run left behind. Every process
 * and folder the tests create is tagged by the pid of the jest process that
 * owns it: `.data/test-<kind>-<ownerPid>[-n]` (data dirs, spools, config
 * files). When the owner is dead, its servers and gateways are orphans
 * holding ports and disk, and are removed here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processes } from './deploy';

const OWNED_DIR = /^test-[a-z]+-(\d+)(?:-|$)/;

/** `.data/test-<kind>-<pid>-<n>`: a fresh folder owned by this process. */
export function ownedDir(kind: string): string {
  counter += 1;
  const dir = path.join(processes.dataRoot, `test-${kind}-${process.pid}-${MODULE_RUN}${counter}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
let counter = 0;
// jest loads this module afresh for every test file in the same process, so
// the counter restarts: a per-load tag keeps names of different files apart.
export const MODULE_RUN = Math.random().toString(36).slice(2, 7);

/**
 * Kills processes whose command line or environment names a test folder of
 * a dead owner (influxd/mosquitto by their config path, gateways by
 * WAL_DIR), then removes such folders. Linux /proc only; elsewhere only the
 * folders are removed. `includeOwn`: also what this process owns (at the end
 * of the run, when nothing of ours should still be running: jest's sandbox
 * has its own `process` events, so no exit hook there kills forgotten
 * children).
 * @returns what was done, for the setup log
 */
export function reapLeftovers({ includeOwn = false }: { includeOwn?: boolean } = {}): { killed: number[]; removed: string[] } {
  const root = processes.dataRoot;
  const killed: number[] = [];
  const removed: string[] = [];
  const isOrphaned = (owner: number) => (owner === process.pid ? includeOwn : !processes.isAlive(owner));
  const marker = `${root}${path.sep}test-`;

  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    pids = [];
  }
  for (const entry of pids) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const text = readProc(pid, 'cmdline') + '\0' + readProc(pid, 'environ');
    let at = text.indexOf(marker);
    while (at >= 0) {
      const m = OWNED_DIR.exec(text.slice(at + root.length + 1));
      if (m && isOrphaned(Number(m[1]))) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.push(pid);
        } catch {
          // gone meanwhile, or not ours to kill
        }
        break;
      }
      at = text.indexOf(marker, at + 1);
    }
  }

  let names: string[] = [];
  try {
    names = fs.readdirSync(root);
  } catch {
    names = [];
  }
  for (const name of names) {
    const m = OWNED_DIR.exec(name);
    if (m && isOrphaned(Number(m[1]))) {
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return { killed, removed };
}

function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}
