import { NO_FAULTS } from '@park/park-sim';
import { DEFAULT_IN_FLIGHT, DEFAULT_MQTT_URL, DEFAULT_PARK_MODEL, parseSimArgs, SIM_USAGE } from './sim.options';

const NOW = Date.parse('2025-11-26T10:00:00Z');
const parse = (argv: string[], env: Record<string, string> = {}) => parseSimArgs(argv, env, NOW, () => 4242);
const options = (argv: string[], env: Record<string, string> = {}) => {
  const r = parse(argv, env);
  if (!r.ok || r.help) throw new Error(`expected options, got ${JSON.stringify(r)}`);
  return r.options;
};

describe('parseSimArgs', () => {
  it('has defaults from the contract and the environment', () => {
    expect(options([])).toEqual({
      parkModels: [DEFAULT_PARK_MODEL],
      url: DEFAULT_MQTT_URL,
      username: undefined,
      password: undefined,
      credentialsFile: undefined,
      qos: 1,
      seed: 4242,
      speed: undefined,
      fromMs: undefined,
      toMs: undefined,
      durationS: undefined,
      batch: 1,
      inFlight: DEFAULT_IN_FLIGHT,
      faults: NO_FAULTS,
      lateMs: 90_000,
      scenarios: [],
      truthFile: undefined,
      quiet: false,
      resumeFrom: undefined,
    });
    const fromEnv = options([], { PARK_MODEL: 'a.json, b.json', MQTT_URL: 'ws://127.0.0.1:3000/mqtt', MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p' });
    expect(fromEnv.parkModels).toEqual(['a.json', 'b.json']);
    expect(fromEnv.url).toBe('ws://127.0.0.1:3000/mqtt');
    expect([fromEnv.username, fromEnv.password]).toEqual(['u', 'p']);
  });

  it('lets flags win over the environment, and a credentials file over environment credentials', () => {
    const env = { MQTT_URL: 'mqtt://env:1883', MQTT_USERNAME: 'env-user', MQTT_PASSWORD: 'env-pw' };
    const o = options(['--url', 'mqtt://flag:1883', '--username', 'flag-user'], env);
    expect([o.url, o.username, o.password]).toEqual(['mqtt://flag:1883', 'flag-user', 'env-pw']);
    const c = options(['--credentials', 'dev.json'], env);
    expect([c.username, c.password, c.credentialsFile]).toEqual([undefined, undefined, 'dev.json']);
  });

  it('reads every option, in both --flag value and --flag=value forms', () => {
    const o = options([
      '--park-model=x.json', '--qos', '0', '--seed', '7', '--from', '-2h', '--to=now', '--duration', '600', '--speed', '60',
      '--batch', '500', '--in-flight', '50', '--faults', 'dropout=0.1', '--late-ms', '5000', '--scenario', 'co2:b03',
      '--scenario', 'silent:b05@60-120', '--truth', 't.ndjson', '--quiet',
    ]);
    expect(o).toMatchObject({
      parkModels: ['x.json'], qos: 0, seed: 7, fromMs: NOW - 7_200_000, toMs: NOW, durationS: 600, speed: 60, batch: 500,
      inFlight: 50, faults: { ...NO_FAULTS, dropout: 0.1 }, lateMs: 5000, truthFile: 't.ndjson', quiet: true,
    });
    expect(o.scenarios.map((s) => `${s.kind}:${s.building}`)).toEqual(['co2:b03', 'silent:b05']);
  });

  it('--continue reads InfluxDB from the flags or the gateway’s environment', () => {
    expect(options(['--continue']).resumeFrom).toEqual({ url: 'http://127.0.0.1:8086', db: 'park', token: undefined });
    expect(options(['--continue'], { INFLUX_URL: 'http://db:8086/', INFLUX_DB: 'twin', INFLUX_TOKEN: 't' }).resumeFrom).toEqual({ url: 'http://db:8086', db: 'twin', token: 't' });
    expect(options(['--continue', '--influx-url', 'https://db', '--influx-db', 'x']).resumeFrom).toMatchObject({ url: 'https://db', db: 'x' });
    expect(parse(['--influx-db', 'x'])).toEqual({ ok: false, error: '--influx-url and --influx-db go with --continue' });
    expect(parse(['--continue', '--influx-url', 'db:8086'])).toMatchObject({ ok: false, error: expect.stringMatching(/must be http:\/\/host/) });
  });

  it('answers --help', () => {
    expect(parse(['--qos', '1', '--help'])).toEqual({ ok: true, help: true });
    expect(SIM_USAGE).toContain('--park-model');
    expect(SIM_USAGE).toContain('overload');
  });

  it('warns when backfilling beyond the gateway stale limit', () => {
    const r = parse(['--from', '-8d', '--to', '-7d']);
    expect(r.ok && !r.help && r.warnings.join()).toMatch(/stale_ts/);
  });

  it.each([
    [['--qos', '2'], /--qos 2: use 0 or 1/],
    [['--nope'], /unknown option --nope/],
    [['extra'], /unexpected argument "extra"/],
    [['--url'], /--url needs a value/],
    [['--from', '--to', 'now'], /--from needs a value/],
    [['--url', 'http://x'], /--url "http:\/\/x" must be mqtt:\/\//],
    [['--batch', '1001'], /--batch 1001: must be an integer from 1 to 1000 \(contract §3/],
    [['--batch', '0'], /--batch 0/],
    [['--in-flight', 'many'], /--in-flight many: must be an integer/],
    [['--seed', '-1'], /--seed -1: must be an integer/],
    [['--speed', '0'], /--speed 0: must be a number > 0/],
    [['--duration', '-5'], /--duration -5: must be a number of seconds > 0/],
    [['--from', 'yesterday'], /--from yesterday: use now, an ISO 8601 time/],
    [['--from', '-1h', '--to', '-2h'], /--to .* must be after the start/],
    [['--to', '-1h'], /--to .* must be after the start/],
    [['--faults', 'dropout=2'], /--faults: dropout=2 must be a probability/],
    [['--scenario', 'meltdown:b01'], /--scenario: unknown kind "meltdown"/],
    [['--quiet=yes'], /--quiet takes no value/],
    [['--park-model', ','], /give at least one park model/],
  ])('rejects %j', (argv, message) => {
    const r = parse(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
