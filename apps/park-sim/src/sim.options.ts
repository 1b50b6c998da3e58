/**
 * Command-line options of `npm run sim`. Parsing is pure (argv, environment
 * and the wall clock are passed in) so that every error message is tested;
 * reading files (park models, credentials) is left to sim.main.ts.
 */
import { DEFAULT_LATE_MS, FaultRates, NO_FAULTS, parseFaultSpec, parseScenarios, Scenario, SCENARIO_EFFECTS, SCENARIO_KINDS } from '@park/park-sim';
import { MAX_READINGS_PER_MESSAGE, parseTimeArg } from '@park/telemetry';

/** The bundled demo park (contract §1: the default park model). */
export const DEFAULT_PARK_MODEL = 'apps/gateway/parks/demo.park.json';
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';
export const DEFAULT_IN_FLIGHT = 500;

export interface SimOptions {
  /** Park model files; each park is simulated. */
  parkModels: string[];
  url: string;
  username?: string;
  password?: string;
  /** JSON file with {"username","password"}; fills what the flags left unset. */
  credentialsFile?: string;
  qos: 0 | 1;
  seed: number;
  /** Simulated seconds per wall second; unset: backfill as fast as possible up to now, then real time. */
  speed?: number;
  /** Simulated start, epoch ms; unset: now. */
  fromMs?: number;
  /** Simulated end, epoch ms; unset: run until stopped (or `durationS`). */
  toMs?: number;
  durationS?: number;
  /** Readings of one sensor per message, 1..1000. */
  batch: number;
  /** Publishes awaiting their PUBACK at most, per broker connection. */
  inFlight: number;
  faults: FaultRates;
  lateMs: number;
  scenarios: Scenario[];
  /** NDJSON file for the ground truth. */
  truthFile?: string;
  quiet: boolean;
  /**
   * Continue what InfluxDB holds of each park (`--continue`): its meters
   * from their stored registers, nothing sent again for a period that has
   * readings. Undefined: a fresh simulation.
   */
  resumeFrom?: { url: string; db: string; token?: string };
}

export type ParseOutcome =
  | { ok: true; help: true }
  | { ok: true; help: false; options: SimOptions; warnings: string[] }
  | { ok: false; error: string };

export const SIM_USAGE = `Usage: npm run sim -- [options]

Publishes the sensors of a park model over MQTT, with realistic daily shapes,
optional faults and scenarios, and an optional ground-truth file. See
docs/simulator.md.

Park and broker
  --park-model <file[,file]>  park model(s) to simulate      [env PARK_MODEL, default ${DEFAULT_PARK_MODEL}]
  --url <url>                 mqtt://, mqtts://, ws://, wss://  [env MQTT_URL, default ${DEFAULT_MQTT_URL}]
  --username <name>           MQTT username                   [env MQTT_USERNAME]
  --password <secret>         MQTT password                   [env MQTT_PASSWORD]
  --credentials <file>        JSON {"username","password"}, e.g. the output of
                              npm run credentials -- add --json
  --qos 0|1                   QoS of every publish            [default 1]
  --in-flight <n>             publishes awaiting PUBACK at most [default ${DEFAULT_IN_FLIGHT}]

Time
  --seed <n>                  seed of every random choice     [default: random, printed]
  --from <t>                  simulated start                 [default now]
  --to <t>                    simulated end                   [default: run until Ctrl-C]
  --duration <s>              stop after this many simulated seconds
  --speed <x>                 simulated seconds per real second
                              (unset: what lies in the past is sent as fast as the
                              broker takes it, then real time)
  --batch <n>                 up to n readings of one sensor per message (1..${MAX_READINGS_PER_MESSAGE},
                              and at most 64 KiB)             [default 1]
  <t> is "now", an ISO 8601 time, epoch milliseconds, or relative to now:
  -2h, -30m, -90s, -1d, +10m.

Faults and scenarios
  --faults <spec>             e.g. dropout=0.01,spike=0.001,reset=0.0005,late=0.01,
                              duplicate=0.01,malformed=0.001 (probability per reading)
  --late-ms <ms>              delay of late readings          [default ${DEFAULT_LATE_MS}]
  --scenario <kind>:<building>[@<from>-<to>]  (repeatable or comma-separated;
                              from/to in simulated seconds since the start)
${SCENARIO_KINDS.map((k) => `      ${k.padEnd(9)} ${SCENARIO_EFFECTS[k]}`).join('\n')}

Continuing a stored run
  --continue                  continue what InfluxDB holds of each park: meters go on
                              from their stored registers, and nothing is sent for a
                              period that already has readings (the start moves to the
                              newest stored reading when that is later than --from)
  --influx-url <url>          the gateway's InfluxDB          [env INFLUX_URL, default http://127.0.0.1:8086]
  --influx-db <name>          its database                    [env INFLUX_DB, default park; INFLUX_TOKEN for 2.x/3.x]

Output
  --truth <file>              write the ground truth per building and minute (NDJSON)
  --quiet                     no progress lines on stderr
  --help                      this text
`;

const FLAGS = new Set([
  'park-model', 'url', 'username', 'password', 'credentials', 'qos', 'in-flight', 'seed', 'from', 'to', 'duration',
  'speed', 'batch', 'faults', 'late-ms', 'scenario', 'truth', 'influx-url', 'influx-db',
]);
const SWITCHES = new Set(['quiet', 'help', 'continue']);

/**
 * Parses `argv` (without node and script). Flags win over the environment.
 * `randomSeed` supplies the seed when none is given (the run prints it, so it
 * can be reproduced).
 */
export function parseSimArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  nowMs: number,
  randomSeed: () => number,
): ParseOutcome {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) return { ok: false, error: `unexpected argument "${arg}"; options start with -- (see --help)` };
    const [, name, inline] = m;
    if (SWITCHES.has(name)) {
      if (inline !== undefined) return { ok: false, error: `--${name} takes no value` };
      switches.add(name);
      continue;
    }
    if (!FLAGS.has(name)) return { ok: false, error: `unknown option --${name} (see --help)` };
    let value = inline;
    if (value === undefined) {
      // Relative times start with "-": "--from -2h" is a value, "--from --to" is not.
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return { ok: false, error: `--${name} needs a value` };
      value = next;
      i++;
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  if (switches.has('help')) return { ok: true, help: true };

  const one = (name: string): string | undefined => {
    const v = values.get(name);
    return v ? v[v.length - 1] : undefined;
  };
  const fail = (error: string): ParseOutcome => ({ ok: false, error });
  const warnings: string[] = [];

  const parkModels = (one('park-model') ?? env.PARK_MODEL ?? DEFAULT_PARK_MODEL).split(',').map((s) => s.trim()).filter(Boolean);
  if (parkModels.length === 0) return fail('--park-model: give at least one park model file');

  const url = one('url') ?? env.MQTT_URL ?? DEFAULT_MQTT_URL;
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/]/.test(url)) {
    return fail(`--url "${url}" must be mqtt://host[:port], mqtts://, ws://host[:port]/path or wss://`);
  }

  const qosText = one('qos') ?? '1';
  if (qosText !== '0' && qosText !== '1') return fail(`--qos ${qosText}: use 0 or 1 (contract §2 accepts QoS 0 and 1)`);

  const int = (name: string, min: number, max: number, dflt: number): number | string => {
    const v = one(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) return `--${name} ${v}: must be an integer from ${min} to ${max}`;
    return n;
  };
  const batch = int('batch', 1, MAX_READINGS_PER_MESSAGE, 1);
  if (typeof batch === 'string') return fail(`${batch} (contract §3: at most ${MAX_READINGS_PER_MESSAGE} readings per message)`);
  const inFlight = int('in-flight', 1, 65_535, DEFAULT_IN_FLIGHT);
  if (typeof inFlight === 'string') return fail(inFlight);
  const lateMs = int('late-ms', 0, 7 * 86_400_000, DEFAULT_LATE_MS);
  if (typeof lateMs === 'string') return fail(lateMs);
  const seedArg = int('seed', 0, 4_294_967_295, -1);
  if (typeof seedArg === 'string') return fail(seedArg);
  const seed = seedArg >= 0 ? seedArg : randomSeed() >>> 0;

  let speed: number | undefined;
  if (one('speed') !== undefined) {
    speed = Number(one('speed'));
    if (!Number.isFinite(speed) || speed <= 0) return fail(`--speed ${one('speed')}: must be a number > 0 (simulated seconds per real second)`);
  }
  let durationS: number | undefined;
  if (one('duration') !== undefined) {
    durationS = Number(one('duration'));
    if (!Number.isFinite(durationS) || durationS <= 0) return fail(`--duration ${one('duration')}: must be a number of seconds > 0`);
  }
  const time = (name: string): number | undefined | string => {
    const v = one(name);
    if (v === undefined) return undefined;
    const t = parseTimeArg(v, nowMs);
    return Number.isFinite(t) ? t : `--${name} ${v}: use now, an ISO 8601 time, epoch milliseconds, or -2h / -30m / +10m style`;
  };
  const fromMs = time('from');
  if (typeof fromMs === 'string') return fail(fromMs);
  const toMs = time('to');
  if (typeof toMs === 'string') return fail(toMs);
  const start = fromMs ?? nowMs;
  if (toMs !== undefined && toMs <= start) {
    return fail(`--to ${new Date(toMs).toISOString()} must be after the start ${new Date(start).toISOString()}`);
  }
  if (start < nowMs - 7 * 86_400_000) {
    warnings.push(`--from is more than 7 days ago: a gateway with default limits rejects such readings as stale_ts (contract §3)`);
  }

  let faults = NO_FAULTS;
  if (one('faults') !== undefined) {
    const f = parseFaultSpec(one('faults')!);
    if (!f.ok) return fail(f.error);
    faults = f.rates;
  }
  const sc = parseScenarios(values.get('scenario') ?? []);
  if (!sc.ok) return fail(sc.error);

  let resumeFrom: SimOptions['resumeFrom'];
  if (switches.has('continue')) {
    const influxUrl = (one('influx-url') ?? env.INFLUX_URL ?? 'http://127.0.0.1:8086').replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/.test(influxUrl)) return fail(`--influx-url "${influxUrl}" must be http://host[:port] or https://`);
    resumeFrom = { url: influxUrl, db: one('influx-db') ?? env.INFLUX_DB ?? 'park', token: env.INFLUX_TOKEN || undefined };
  } else if (one('influx-url') !== undefined || one('influx-db') !== undefined) {
    return fail('--influx-url and --influx-db go with --continue');
  }

  return {
    ok: true,
    help: false,
    warnings,
    options: {
      parkModels,
      url,
      username: one('username') ?? (one('credentials') ? undefined : env.MQTT_USERNAME),
      password: one('password') ?? (one('credentials') ? undefined : env.MQTT_PASSWORD),
      credentialsFile: one('credentials'),
      qos: qosText === '0' ? 0 : 1,
      seed,
      speed,
      fromMs,
      toMs,
      durationS,
      batch,
      inFlight,
      faults,
      lateMs,
      scenarios: sc.scenarios,
      truthFile: one('truth'),
      quiet: switches.has('quiet'),
      resumeFrom,
    },
  };
}
