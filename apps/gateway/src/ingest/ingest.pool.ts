import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ParkModel, PayloadLimits } from '@park/telemetry';
import { REPO_ROOT } from '../config/gateway-config';
import { Logger } from '../observability/logger';
import { ProcessedMessage } from './message.processor';
import { decodeResults, encodeBatch, WorkerResult } from './worker.codec';

/** What a worker is started with. */
export interface WorkerInit {
  parks: ParkModel[];
  limits: PayloadLimits;
}


interface Slot {
  worker: Worker;
  inFlight: Map<number, { resolve: (r: ProcessedMessage[]) => void; reject: (e: Error) => void }>;
}

/**
 * The worker threads of ingest (GATEWAY_WORKERS): batches go round-robin to
 * the least busy worker; results come back by batch id. A worker that dies
 * fails its batches (the caller processes them again) and is replaced.
 */
export class IngestPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private readonly failures: number[] = [];

  constructor(
    readonly size: number,
    private readonly init: WorkerInit,
    private readonly log: Logger,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  /** Workers running. */
  get running(): number {
    return this.slots.length;
  }

  /** Processes a batch on a worker. Rejects if the worker dies with it, or if none is left. */
  run(topics: string[], payloads: Uint8Array[], nowMs: number[]): Promise<ProcessedMessage[]> {
    if (this.slots.length === 0) return Promise.reject(new Error('no ingest worker is running'));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Busy workers keep the process alive; idle ones do not hold up an exit.
      if (slot.inFlight.size === 0) slot.worker.ref();
      slot.inFlight.set(id, { resolve, reject });
      const { batch, transfer } = encodeBatch(id, topics, payloads, nowMs);
      slot.worker.postMessage(batch, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(index: number): Slot {
    // tsx in development and tests (the .ts file), plain node from dist/.
    const file = path.join(__dirname, `ingest.worker${path.extname(__filename)}`);
    const fromSource = file.endsWith('.ts');
    // From source (development, tests) the worker registers tsx's require
    // hook first; tsx finds the @park/* paths through the workspace tsconfig.
    const worker = fromSource
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, {
          eval: true,
          workerData: this.init,
          env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? path.join(REPO_ROOT, 'tsconfig.base.json') },
          name: `ingest-${index}`,
        })
      : new Worker(file, { workerData: this.init, name: `ingest-${index}` });
    const slot: Slot = { worker, inFlight: new Map() };
    worker.on('message', (r: WorkerResult) => {
      const p = slot.inFlight.get(r.id);
      if (!p) return;
      slot.inFlight.delete(r.id);
      if (slot.inFlight.size === 0) worker.unref();
      p.resolve(decodeResults(r));
    });
    const fail = (why: string) => {
      const lost = [...slot.inFlight.values()];
      slot.inFlight.clear();
      for (const p of lost) p.reject(new Error(`ingest worker ${index} ${why}`));
      const at = this.slots.indexOf(slot);
      if (this.closed || at < 0) return;
      const now = Date.now();
      this.failures.push(now);
      while (this.failures.length > 0 && this.failures[0] < now - 60_000) this.failures.shift();
      if (this.failures.length > 3 * this.size) {
        // Workers that keep dying are not restarted in a loop: the main thread does their work.
        this.slots.splice(at, 1);
        this.log.error({ worker: index, why, running: this.slots.length }, 'an ingest worker keeps failing and is not restarted; the main thread processes messages instead');
        return;
      }
      this.log.error({ worker: index, why, batches: lost.length }, 'an ingest worker stopped; its messages are processed again on the main thread and the worker is replaced');
      this.slots[at] = this.spawn(index);
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    worker.unref();
    return slot;
  }
}
