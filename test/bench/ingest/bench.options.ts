/**
 * Options of `npm run bench` (flags, some also as environment variables).
 * A bad value stops the run with a message naming the flag and what it takes.
 */
import { parseArgs } from 'node:util';
import type { TargetKind } from './bench.targets';

/** One publishing connection, or many devices sharing the load. */
export type LoadMode = 'single' | 'devices';

/** What the run does. */
export type Scenario = { kind: 'ladder'; rates: number[]; stepS: number; maxFails: number } | { kind: 'soak'; minutes: number; rate: number } | { kind: 'idle'; connections: number; settleS: number };

export interface BenchOptions {
  scenario: Scenario;
  targets: TargetKind[];
  modes: LoadMode[];
  devices: number;
  buildings: number;
  meters: number;
  registered: number;
  /** In-flight QoS 1 window of the single connection and of each device. */
  window: number;
  deviceWindow: number;
  loadProcs: number;
  /** Gateway MQTT_AUTH: `devices` = required for devices and idle connections, off for the single connection. */
  auth: 'devices' | 'on' | 'off';
  /** Readings must be queryable this long after the last publish of a step. */
  deadlineS: number;
  /** Heap snapshots: rates of the ladder (or every step), the end of a soak, before/after idle connections. */
  heapSnapshot: { rates: number[] | 'all' } | undefined;
  gatewayEnv: Record<string, string>;
  joinCount: number;
  joinTimeoutS: number;
  sourceAddresses: number | undefined;
  jsonFile: string | undefined;
}

export const USAGE = `usage: npm run bench -- [options]

Measures ingestion end to end (publisher → broker → InfluxDB 1.6) of the
gateway and, with --peer, of Node-RED + Mosquitto, back to back (issue 10).

what to run (default: the rate ladder)
  --peer node-red          also measure the peer (installed into .data/bench-peers)
  --skip-gateway           measure the peer alone
  --mode single|devices|both   one publishing connection, --devices connections, or both
                           (ladder default both; env BENCH_MODES)
  --rates 5000,10000,...   the ladder (env BENCH_RATES)
  --step-s 15              seconds per rate (env BENCH_STEP_S)
  --max-fails 2            stop the ladder after this many failed rates
  --soak <minutes> --rate <n>   one rate for a long time, RSS every 10 s (default mode single)
  --idle [--connections 10000] [--settle-s 10]   idle authenticated device connections, RSS before/after

load
  --devices 1000           device connections in devices mode (env BENCH_DEVICES)
  --buildings 250 --meters 20   meters the load publishes to
  --registered 5000        sensors in the park model (e.g. 30000; env BENCH_REGISTERED)
  --window 1000            QoS 1 messages in flight on the single connection
  --device-window 16       ... per device connection
  --load-procs 1           load generator processes
  --source-addresses <k>   spread connections over 127.0.0.1..k (ephemeral ports)
  --auth devices|on|off    gateway MQTT_AUTH (devices: required except for the single connection)
  --deadline-s 5           pass: every reading queryable this long after the last publish

gateway and peer
  --workers <n>            GATEWAY_WORKERS for the gateway, 0 = none (any env var passes through too)
  --gateway-env K=V        more gateway environment (repeatable)
  --join-count 1000 --join-timeout-s 1   the peer's join node
  --heap-snapshot all|<rate,...>   heap snapshots (gateway SIGUSR2, Node-RED SIGPWR) into test-artifacts/heap/
  --json <file>            also write the JSON result there (default test-artifacts/bench/)`;

/** A bad option: the message names the flag. */
export class OptionError extends Error {}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new OptionError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

function intList(flag: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined || value === '') return fallback;
  return value.split(',').map((v) => positiveInt(flag, v.trim(), 0));
}

/** Default ladder: around the figures and its 40,000/s goal. */
export const DEFAULT_RATES = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000];

/** Parses argv (after the script) and the BENCH_* variables. */
export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        peer: { type: 'string' },
        'skip-gateway': { type: 'boolean' },
        mode: { type: 'string' },
        rates: { type: 'string' },
        'step-s': { type: 'string' },
        'max-fails': { type: 'string' },
        soak: { type: 'string' },
        rate: { type: 'string' },
        idle: { type: 'boolean' },
        connections: { type: 'string' },
        'settle-s': { type: 'string' },
        devices: { type: 'string' },
        buildings: { type: 'string' },
        meters: { type: 'string' },
        registered: { type: 'string' },
        window: { type: 'string' },
        'device-window': { type: 'string' },
        'load-procs': { type: 'string' },
        'source-addresses': { type: 'string' },
        auth: { type: 'string' },
        'deadline-s': { type: 'string' },
        workers: { type: 'string' },
        'gateway-env': { type: 'string', multiple: true },
        'join-count': { type: 'string' },
        'join-timeout-s': { type: 'string' },
        'heap-snapshot': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) throw new OptionError('');

  const targets: TargetKind[] = [];
  if (!v['skip-gateway']) targets.push('gateway');
  const peer = v.peer ?? env.BENCH_PEER;
  if (peer !== undefined && peer !== '') {
    if (peer !== 'node-red') throw new OptionError(`--peer: the only peer is "node-red", got "${peer}"`);
    targets.push('node-red');
  }
  if (targets.length === 0) throw new OptionError('--skip-gateway needs --peer node-red: nothing to measure');

  let scenario: Scenario;
  if (v.soak !== undefined) {
    if (v.idle) throw new OptionError('--soak and --idle are separate runs: choose one');
    if (v.rate === undefined) throw new OptionError('--soak <minutes> needs --rate <readings/s>');
    const minutes = Number(v.soak);
    if (!(minutes > 0)) throw new OptionError(`--soak must be a positive number of minutes, got "${v.soak}"`);
    scenario = { kind: 'soak', minutes, rate: positiveInt('--rate', v.rate, 0) };
  } else if (v.idle) {
    scenario = { kind: 'idle', connections: positiveInt('--connections', v.connections, 10_000), settleS: positiveInt('--settle-s', v['settle-s'], 10) };
  } else {
    if (v.rate !== undefined) throw new OptionError('--rate goes with --soak; the ladder takes --rates');
    scenario = {
      kind: 'ladder',
      rates: intList('--rates', v.rates ?? env.BENCH_RATES, DEFAULT_RATES),
      stepS: positiveInt('--step-s', v['step-s'] ?? env.BENCH_STEP_S, 15),
      maxFails: positiveInt('--max-fails', v['max-fails'], 2),
    };
  }

  const modeText = v.mode ?? env.BENCH_MODES ?? (scenario.kind === 'ladder' ? 'both' : scenario.kind === 'soak' ? 'single' : 'devices');
  const modes: LoadMode[] = modeText === 'both' ? ['single', 'devices'] : (modeText.split(',') as LoadMode[]);
  for (const m of modes) if (m !== 'single' && m !== 'devices') throw new OptionError(`--mode must be single, devices or both, got "${modeText}"`);

  const buildings = positiveInt('--buildings', v.buildings, 250);
  const meters = positiveInt('--meters', v.meters, 20);
  const registered = positiveInt('--registered', v.registered ?? env.BENCH_REGISTERED, buildings * meters);
  if (registered < buildings * meters) throw new OptionError(`--registered (${registered}) must be at least --buildings × --meters (${buildings * meters})`);

  const auth = (v.auth ?? 'devices') as BenchOptions['auth'];
  if (!['devices', 'on', 'off'].includes(auth)) throw new OptionError(`--auth must be devices, on or off, got "${v.auth}"`);

  const gatewayEnv: Record<string, string> = {};
  if (v.workers !== undefined) {
    // 0 is the gateway's "parse on the main thread".
    if (!/^\d+$/.test(v.workers)) throw new OptionError(`--workers must be a whole number (0: no worker threads), got "${v.workers}"`);
    gatewayEnv.GATEWAY_WORKERS = v.workers;
  }
  for (const pair of v['gateway-env'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new OptionError(`--gateway-env must be KEY=VALUE, got "${pair}"`);
    gatewayEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }

  let heapSnapshot: BenchOptions['heapSnapshot'];
  if (v['heap-snapshot'] !== undefined) heapSnapshot = { rates: v['heap-snapshot'] === 'all' ? 'all' : intList('--heap-snapshot', v['heap-snapshot'], []) };

  const window = positiveInt('--window', v.window, 1000);
  const deviceWindow = positiveInt('--device-window', v['device-window'], 16);
  if (window > 65535 || deviceWindow > 65535) throw new OptionError('--window and --device-window are MQTT packet ids: at most 65535');

  return {
    scenario,
    targets,
    modes,
    devices: positiveInt('--devices', v.devices ?? env.BENCH_DEVICES, 1000),
    buildings,
    meters,
    registered,
    window,
    deviceWindow,
    loadProcs: positiveInt('--load-procs', v['load-procs'], 1),
    auth,
    deadlineS: positiveInt('--deadline-s', v['deadline-s'], 5),
    heapSnapshot,
    gatewayEnv,
    joinCount: positiveInt('--join-count', v['join-count'], 1000),
    joinTimeoutS: positiveInt('--join-timeout-s', v['join-timeout-s'], 1),
    sourceAddresses: v['source-addresses'] === undefined ? undefined : positiveInt('--source-addresses', v['source-addresses'], 1),
    jsonFile: v.json,
  };
}
