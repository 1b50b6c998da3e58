/**
 * The benchmark's side of the load generator: forks one or more
 * `load-generator.main.ts` processes, shares the connections out among them
 * and combines what they report. Their CPU is theirs, not the target's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { processes, type ChildExit } from '../../support/deploy';
import type { LoadConnection, LoadSensor } from './load.plan';

/** Commands to a generator process. */
export type GeneratorCommand =
  | {
      type: 'connect';
      host: string;
      port: number;
      topics: string[];
      basePowerKw: number[];
      connections: Array<{ clientId: string; username?: string; password?: string; sensors: number[] }>;
      window: number;
      keepaliveS: number;
      sourceAddresses: string[];
      concurrency: number;
      connackTimeoutMs: number;
    }
  | { type: 'run'; rate: number; seconds: number; fromTs: number; ackTimeoutMs: number }
  | { type: 'close' };

/** What a generator process reports. */
export type GeneratorEvent =
  | { type: 'ready' }
  | { type: 'connected'; connected: number; failed: number; errors: string[]; ms: number }
  | { type: 'published'; sent: number; heldBack: number; firstTs: number; lastTs: number; startedAt: number; lastPublishAt: number; cpuPct: number }
  | { type: 'acked'; acked: number; unacked: number; strayAcks: number; ackedAt: number; disconnects: number; disconnectReasons: string[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** One step's publishing, over all generator processes. */
export interface Published {
  sent: number;
  /** Due at the offered rate but not sent because the windows were full. */
  heldBack: number;
  /** Smallest and largest `ts` of the step's readings (the step's time range in InfluxDB). */
  firstTs: number;
  lastTs: number;
  startedAt: number;
  /** Wall clock (epoch ms) when the last message of the step was written. */
  lastPublishAt: number;
  /** CPU of each generator process, % of one core. */
  cpuPct: number[];
}

/** One step's acknowledgements. */
export interface Acked {
  acked: number;
  unacked: number;
  strayAcks: number;
  ackedAt: number;
  disconnects: number;
  disconnectReasons: string[];
}

/** Connection options of {@link LoadGenerator.connect}. */
export interface ConnectOptions {
  url: string;
  sensors: LoadSensor[];
  connections: LoadConnection[];
  /** Password of every credential (the benchmark gives all its devices one). */
  password?: string;
  window: number;
  keepaliveS: number;
  sourceAddresses: string[];
  /** Connects in progress at once per process. */
  concurrency: number;
  connackTimeoutMs: number;
}

const ENTRY = path.join(__dirname, 'load-generator.main.ts');

type Child = ChildProcess & { exited: Promise<ChildExit> };

/** One or more generator processes driven together. */
export class LoadGenerator {
  private readonly waiting = new Map<Child, Array<(event: GeneratorEvent) => void>>();
  /** Per process: its connections' meters over all meters (its share of the rate). */
  private meterShare: number[] = [];

  private constructor(private readonly children: Child[]) {
    for (const child of children) {
      this.waiting.set(child, []);
      child.on('message', (event: GeneratorEvent) => {
        const queue = this.waiting.get(child) ?? [];
        const next = queue.shift();
        if (next) next(event);
      });
    }
  }

  /** Forks `count` processes and waits until each is ready. */
  static async start(count: number): Promise<LoadGenerator> {
    const children = Array.from({ length: count }, () =>
      processes.track(fork(ENTRY, [], { execArgv: ['--import', 'tsx'], cwd: processes.repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })),
    );
    const generator = new LoadGenerator(children);
    await Promise.all(children.map((c) => generator.next(c, 'ready', 60_000)));
    return generator;
  }

  /** The generator processes' pids (their CPU is not the target's). */
  get pids(): number[] {
    return this.children.map((c) => c.pid ?? 0);
  }

  /** Opens the connections, shared out round-robin among the processes. */
  async connect(o: ConnectOptions): Promise<{ connected: number; failed: number; errors: string[]; ms: number }> {
    const url = new URL(o.url);
    const meters = o.connections.reduce((n, c) => n + c.sensors.length, 0);
    this.meterShare = this.children.map((_, p) => o.connections.filter((_, i) => i % this.children.length === p).reduce((n, c) => n + c.sensors.length, 0) / Math.max(1, meters));
    const results = await Promise.all(
      this.children.map((child, p) => {
        const mine = o.connections.filter((_, i) => i % this.children.length === p);
        this.post(child, {
          type: 'connect',
          host: url.hostname,
          port: Number(url.port || 1883),
          topics: o.sensors.map((s) => s.topic),
          basePowerKw: o.sensors.map((s) => s.basePowerKw),
          connections: mine.map((c) => ({ clientId: c.clientId, username: c.username, password: c.username ? o.password : undefined, sensors: c.sensors })),
          window: o.window,
          keepaliveS: o.keepaliveS,
          sourceAddresses: o.sourceAddresses,
          concurrency: o.concurrency,
          connackTimeoutMs: o.connackTimeoutMs,
        });
        return this.next(child, 'connected', o.connackTimeoutMs * (1 + mine.length / Math.max(1, o.concurrency)) + 60_000);
      }),
    );
    return {
      connected: results.reduce((n, r) => n + r.connected, 0),
      failed: results.reduce((n, r) => n + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      ms: Math.max(...results.map((r) => r.ms)),
    };
  }

  /**
   * Publishes at `rate` messages/s for `seconds`, readings stamped no earlier
   * than `fromTs`. Resolves `published` as soon as the pacing ends (the
   * 5-second clock starts there) and `acked` once the PUBACKs are in (or
   * `ackTimeoutMs` passed).
   */
  run(rate: number, seconds: number, fromTs: number, ackTimeoutMs: number): { published: Promise<Published>; acked: Promise<Acked> } {
    const waits = this.children.map((child, p) => {
      const published = this.next(child, 'published', seconds * 1000 + 60_000);
      const acked = this.next(child, 'acked', seconds * 1000 + ackTimeoutMs + 120_000);
      acked.catch(() => undefined);
      // Each process paces its own connections: its share of the meters is
      // its share of the rate.
      this.post(child, { type: 'run', rate: rate * (this.meterShare[p] ?? 0), seconds, fromTs, ackTimeoutMs });
      return { published, acked };
    });
    const published = Promise.all(waits.map((w) => w.published)).then((rs) => ({
      sent: rs.reduce((n, r) => n + r.sent, 0),
      heldBack: rs.reduce((n, r) => n + r.heldBack, 0),
      firstTs: Math.min(...rs.filter((r) => r.sent > 0).map((r) => r.firstTs)),
      lastTs: Math.max(...rs.map((r) => r.lastTs)),
      startedAt: Math.min(...rs.map((r) => r.startedAt)),
      lastPublishAt: Math.max(...rs.map((r) => r.lastPublishAt)),
      cpuPct: rs.map((r) => r.cpuPct),
    }));
    const acked = Promise.all(waits.map((w) => w.acked)).then((rs) => ({
      acked: rs.reduce((n, r) => n + r.acked, 0),
      unacked: rs.reduce((n, r) => n + r.unacked, 0),
      strayAcks: rs.reduce((n, r) => n + r.strayAcks, 0),
      ackedAt: Math.max(...rs.map((r) => r.ackedAt)),
      disconnects: rs.reduce((n, r) => n + r.disconnects, 0),
      disconnectReasons: rs.flatMap((r) => r.disconnectReasons).slice(0, 5),
    }));
    // Awaited one after the other by the caller: a failure of the second
    // meanwhile must not be an unhandled rejection.
    published.catch(() => undefined);
    acked.catch(() => undefined);
    return { published, acked };
  }

  /** Disconnects every connection and ends the processes. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode === null && child.signalCode === null && child.connected) {
          this.post(child, { type: 'close' });
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([child.exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
          clearTimeout(timer);
        }
        await processes.stopChild(child, 2000);
      }),
    );
  }

  private post(child: Child, command: GeneratorCommand): void {
    child.send(command);
  }

  /** The next event of a process, which must be of `type` (an `error` event or an exit fails it). */
  private next<T extends GeneratorEvent['type']>(child: Child, type: T, timeoutMs: number): Promise<Extract<GeneratorEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator ${child.pid}: no "${type}" within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      void child.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`load generator ${child.pid} exited (code ${exit.code}, signal ${exit.signal}) while waiting for "${type}"`));
      });
      this.waiting.get(child)?.push((event) => {
        clearTimeout(timer);
        if (event.type === type) resolve(event as Extract<GeneratorEvent, { type: T }>);
        else if (event.type === 'error') reject(new Error(`load generator ${child.pid}: ${event.message}`));
        else reject(new Error(`load generator ${child.pid}: expected "${type}", got "${event.type}"`));
      });
    });
  }
}
