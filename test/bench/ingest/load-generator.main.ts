/**
 * The load generator: a child process of the benchmark (so that its CPU is
 * not counted as the target's and its event loop does not pace the probe),
 * driven over IPC by {@link LoadGenerator}. It opens the publishing
 * connections, then paces single-reading QoS 1 messages at the asked rate,
 * every connection at its share (its meters over all meters), with at most
 * `window` messages awaiting PUBACK per connection. Messages the window did
 * not let out in time are not sent later: they are "held back", the sign
 * that the target sets the pace.
 */
import { performance } from 'node:perf_hooks';
import type { GeneratorCommand, GeneratorEvent } from './load.generator';
import { QosOnePublisher } from './mqtt.publisher';

const TICK_MS = 5;

interface Connection {
  publisher: QosOnePublisher;
  sensors: number[];
  cursor: number;
  /** Share of the total rate: its meters over all meters of this process. */
  share: number;
  /** Messages due by the pacing but not yet sent. */
  owed: number;
  /** Messages assigned so far in the current step. */
  assigned: number;
}

let topics: string[] = [];
let basePowerKw: Float64Array = new Float64Array(0);
/** Per meter: the last `ts` sent (so a meter never repeats a timestamp: identity is measurement + tags + ts). */
let lastTs: Float64Array = new Float64Array(0);
/** Per meter: its import register, Wh (integer, so that kWh prints with at most 3 decimals). */
let energyWh: Float64Array = new Float64Array(0);
const connections: Connection[] = [];
let running = false;
let fromTs = 0;
let firstTs = Number.POSITIVE_INFINITY;
let lastTsOfStep = 0;
let disconnects = 0;
const disconnectReasons: string[] = [];

function send(event: GeneratorEvent): void {
  process.send?.(event);
}

function nextPayload(k: number, now: number): string {
  const ts = Math.max(now, lastTs[k] + 1, fromTs);
  const previous = lastTs[k];
  const powerKw = basePowerKw[k] + (ts % 10) / 10;
  if (previous > 0) energyWh[k] += Math.round((powerKw * (ts - previous)) / 3600);
  lastTs[k] = ts;
  if (ts < firstTs) firstTs = ts;
  if (ts > lastTsOfStep) lastTsOfStep = ts;
  return `{"ts":${ts},"power_kw":${powerKw},"energy_kwh":${energyWh[k] / 1000}}`;
}

function pump(c: Connection): void {
  if (c.owed === 0 || !c.publisher.canSend) return;
  const now = Date.now();
  c.publisher.cork();
  while (c.owed > 0 && c.publisher.canSend) {
    const k = c.sensors[c.cursor];
    c.cursor = c.cursor + 1 === c.sensors.length ? 0 : c.cursor + 1;
    c.publisher.publish(topics[k], nextPayload(k, now));
    c.owed -= 1;
  }
  c.publisher.uncork();
}

async function connectAll(command: Extract<GeneratorCommand, { type: 'connect' }>): Promise<void> {
  const started = performance.now();
  topics = command.topics;
  basePowerKw = Float64Array.from(command.basePowerKw);
  lastTs = new Float64Array(topics.length);
  energyWh = Float64Array.from(topics, (_, k) => 1e9 + k * 1000);
  const publishing = command.connections.reduce((n, c) => n + c.sensors.length, 0);
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= command.connections.length) return;
      const spec = command.connections[i];
      try {
        const publisher = await QosOnePublisher.connect({
          host: command.host,
          port: command.port,
          clientId: spec.clientId,
          username: spec.username,
          password: spec.password,
          window: command.window,
          keepaliveS: command.keepaliveS,
          localAddress: command.sourceAddresses.length > 0 ? command.sourceAddresses[i % command.sourceAddresses.length] : undefined,
          connackTimeoutMs: command.connackTimeoutMs,
          clean: true,
        });
        const c: Connection = { publisher, sensors: spec.sensors, cursor: 0, share: publishing > 0 ? spec.sensors.length / publishing : 0, owed: 0, assigned: 0 };
        publisher.onAck = () => {
          if (running) pump(c);
        };
        publisher.onClose = (reason) => {
          disconnects += 1;
          if (disconnectReasons.length < 5) disconnectReasons.push(`${spec.clientId}: ${reason}`);
        };
        connections.push(c);
      } catch (error) {
        failed += 1;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.connections.length) }, worker));
  send({ type: 'connected', connected: connections.length, failed, errors, ms: Math.round(performance.now() - started) });
}

async function run(command: Extract<GeneratorCommand, { type: 'run' }>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const sent0 = connections.reduce((n, c) => n + c.publisher.sent, 0);
  const acked0 = connections.reduce((n, c) => n + c.publisher.acked, 0);
  const disconnects0 = disconnects;
  fromTs = command.fromTs;
  firstTs = Number.POSITIVE_INFINITY;
  lastTsOfStep = 0;
  for (const c of connections) {
    c.owed = 0;
    c.assigned = 0;
  }
  const durationMs = command.seconds * 1000;
  const startedAt = Date.now();
  const start = performance.now();
  running = true;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsedMs = Math.min(performance.now() - start, durationMs);
      for (const c of connections) {
        // The epsilon keeps 2000 × 0.001 × 5000 / 1000 from flooring to 9.
        const due = Math.floor((command.rate * c.share * elapsedMs) / 1000 + 1e-6);
        if (due > c.assigned) {
          c.owed += due - c.assigned;
          c.assigned = due;
        }
        pump(c);
      }
      if (elapsedMs >= durationMs) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  running = false;
  const lastPublishAt = Date.now();
  const heldBack = connections.reduce((n, c) => n + c.owed, 0);
  for (const c of connections) c.owed = 0;
  const sent = connections.reduce((n, c) => n + c.publisher.sent, 0) - sent0;
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'published',
    sent,
    heldBack,
    firstTs: Number.isFinite(firstTs) ? firstTs : 0,
    lastTs: lastTsOfStep,
    startedAt,
    lastPublishAt,
    cpuPct: ((cpu.user + cpu.system) / 1000 / (lastPublishAt - startedAt)) * 100,
  });
  // Then wait for the PUBACKs (a slow target acknowledges late).
  const ackDeadline = Date.now() + command.ackTimeoutMs;
  while (connections.some((c) => !c.publisher.closed && c.publisher.inflight > 0) && Date.now() < ackDeadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  send({
    type: 'acked',
    acked: connections.reduce((n, c) => n + c.publisher.acked, 0) - acked0,
    unacked: connections.reduce((n, c) => n + c.publisher.inflight, 0),
    strayAcks: connections.reduce((n, c) => n + c.publisher.strayAcks, 0),
    ackedAt: Date.now(),
    disconnects: disconnects - disconnects0,
    disconnectReasons: [...disconnectReasons],
  });
}

async function closeAll(): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < connections.length; i = next++) await connections[i].publisher.end();
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  send({ type: 'closed' });
}

process.on('message', (command: GeneratorCommand) => {
  const failed = (error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  if (command.type === 'connect') connectAll(command).catch(failed);
  else if (command.type === 'run') run(command).catch(failed);
  else if (command.type === 'close') closeAll().then(() => process.exit(0), failed);
});
// The benchmark died: do not linger with thousands of connections.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the benchmark stops us (the
// connections first), or we go when it is gone.
process.on('SIGINT', () => undefined);
send({ type: 'ready' });
