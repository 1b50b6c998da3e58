/**
 * CPU and memory of the systems under test, from Linux /proc: a process and
 * all its descendants (a gateway that forks workers is still measured whole;
 * worker threads are inside the process anyway).
 */
import * as fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** A snapshot of a process tree. */
export interface TreeSample {
  /** When it was taken (performance.now()). */
  atMs: number;
  /** Sum of VmRSS over the tree, bytes. */
  rssBytes: number;
  /** Sum of user + system CPU over the tree, seconds (processes that exited in between are missing). */
  cpuS: number;
  /** The pids measured. */
  pids: number[];
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** `stat` fields after the command name: [0] is the state, [1] the ppid, [11]/[12] utime/stime. */
function statFields(pid: number): string[] | undefined {
  const stat = readProc(pid, 'stat');
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The pid and its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** RSS of one process, bytes (0 when gone). */
export function rssBytes(pid: number): number {
  const status = readProc(pid, 'status');
  const kb = status ? /^VmRSS:\s+(\d+)/m.exec(status)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : 0;
}

/** Peak RSS (VmHWM) of one process, bytes. */
export function peakRssBytes(pid: number): number {
  const status = readProc(pid, 'status');
  const kb = status ? /^VmHWM:\s+(\d+)/m.exec(status)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : 0;
}

/** CPU seconds (user + system) of one process. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S : 0;
}

/** Samples the tree under each root (roots are measured separately, e.g. Node-RED and Mosquitto). */
export function sampleTree(root: number): TreeSample {
  const pids = processTree(root);
  return {
    atMs: performance.now(),
    rssBytes: pids.reduce((n, pid) => n + rssBytes(pid), 0),
    cpuS: pids.reduce((n, pid) => n + cpuSeconds(pid), 0),
    pids,
  };
}

/** CPU between two samples as % of one core. */
export function cpuPct(from: TreeSample, to: TreeSample): number {
  const wallS = (to.atMs - from.atMs) / 1000;
  return wallS > 0 ? ((to.cpuS - from.cpuS) / wallS) * 100 : 0;
}

/** Soft and hard limits of open files of this process (children inherit them). */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readProc(process.pid, 'limits') ?? '');
  const value = (s: string | undefined) => (s === undefined ? 0 : s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}
