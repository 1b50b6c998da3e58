import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEMO_PARK_MODEL, loadConfig, REPO_ROOT } from './gateway-config';

describe('loadConfig (contract §1)', () => {
  it('has the contract defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      httpHost: '127.0.0.1',
      mqttHost: '127.0.0.1',
      httpPort: 3000,
      mqttPort: 1883,
      mqttWsPort: 3000,
      tls: undefined,
      api: { auth: 'required', tokensFile: path.join(REPO_ROOT, '.data/api-tokens.json'), metricsAuth: 'required', allowedOrigins: [] },
      live: { maxClients: 500 },
      mqttUrl: undefined,
      mqttShareGroup: undefined,
      mqttAuth: 'required',
      deviceCredentialsFile: path.join(REPO_ROOT, '.data/device-credentials.json'),
      influx: { url: 'http://127.0.0.1:8086', db: 'park', bucket: undefined, org: undefined, token: undefined, api: undefined, batchSize: 5000, flushIntervalMs: 100, createDb: true },
      wal: { dir: path.join(REPO_ROOT, '.data/wal'), maxBytes: 10_240 * 1024 * 1024, segmentBytes: 64 * 1024 * 1024, cacheBytes: 64 * 1024 * 1024, legacySpoolDir: path.join(REPO_ROOT, '.data/spool'), fsync: true },
      parkModelFiles: [DEMO_PARK_MODEL],
      payloadLimits: { maxFutureMs: 5 * 60_000, maxAgeMs: 7 * 24 * 3_600_000 },
      vitals: { windowMs: 60_000, allowedLatenessMs: 30_000 },
      trends: { refitMs: 3_600_000, historyDays: 28 },
      logLevel: 'info',
      deviceLogin: { cacheTtlMs: 86_400_000, maxConcurrent: 2, maxQueued: 100, connectRatePerS: 100, connectBurst: 1000 },
      unregisteredMax: 1000,
    });
    expect(c.mqttClientId).toBe(`park-gateway-${os.hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40)}-3000`);
  });

  it('keeps the MQTT client id stable across restarts and distinct per HTTP port', () => {
    expect(loadConfig({}).mqttClientId).toBe(loadConfig({}).mqttClientId);
    expect(loadConfig({ HTTP_PORT: '3001' }).mqttClientId).toMatch(/^park-gateway-[A-Za-z0-9_-]*-3001$/);
    expect(loadConfig({ MQTT_CLIENT_ID: 'gw-a' }).mqttClientId).toBe('gw-a');
  });

  it('the demo park is the bundled file', () => {
    expect(DEMO_PARK_MODEL).toBe(path.join(REPO_ROOT, 'apps/gateway/parks/demo.park.json'));
  });

  it('reads every variable of contract §1', () => {
    const c = loadConfig({
      HOST: '0.0.0.0',
      HTTP_PORT: '8080',
      MQTT_PORT: '0',
      MQTT_URL: 'mqtt://broker.local:1883/',
      MQTT_AUTH: 'off',
      MQTT_SHARE_GROUP: 'gw_1',
      DEVICE_CREDENTIALS: '/etc/park/creds.json',
      INFLUX_URL: 'https://influx.local:8086//',
      INFLUX_DB: 'twin',
      INFLUX_BUCKET: 'b',
      INFLUX_ORG: 'o',
      INFLUX_TOKEN: 't',
      INFLUX_API: 'v2',
      PARK_MODEL: '/p/a.json, /p/b.json',
      MAX_FUTURE_S: '60',
      MAX_AGE_S: '3600',
    });
    expect(c).toMatchObject({
      httpHost: '0.0.0.0',
      mqttHost: '0.0.0.0',
      httpPort: 8080,
      mqttPort: 0,
      mqttUrl: 'mqtt://broker.local:1883',
      mqttAuth: 'off',
      mqttShareGroup: 'gw_1',
      deviceCredentialsFile: '/etc/park/creds.json',
      influx: { url: 'https://influx.local:8086', db: 'twin', bucket: 'b', org: 'o', token: 't', api: 'v2' },
      parkModelFiles: ['/p/a.json', '/p/b.json'],
      payloadLimits: { maxFutureMs: 60_000, maxAgeMs: 3_600_000 },
    });
    expect(c.mqttClientId).toMatch(/-8080$/);
  });

  it('contract §8: MQTT_HOST and HTTP_HOST bind apart, both default to HOST', () => {
    expect(loadConfig({ HOST: '10.0.0.5', MQTT_HOST: '0.0.0.0' })).toMatchObject({ mqttHost: '0.0.0.0', httpHost: '10.0.0.5' });
    expect(loadConfig({ HTTP_HOST: '127.0.0.1', MQTT_HOST: '10.1.1.1', MQTT_WS_PORT: '8083' })).toMatchObject({ mqttHost: '10.1.1.1', httpHost: '127.0.0.1', mqttWsPort: 8083 });
    expect(loadConfig({ MQTT_PORT: 'off' }).mqttPort).toBeUndefined();
  });

  it('contract §8: TLS by file, MQTT_TLS_PORT default 8883, TLS_CA optional', () => {
    expect(loadConfig({ TLS_CERT: '/etc/park/cert.pem', TLS_KEY: '/etc/park/key.pem' }).tls).toEqual({ certFile: '/etc/park/cert.pem', keyFile: '/etc/park/key.pem', caFile: undefined, mqttPort: 8883 });
    expect(loadConfig({ TLS_CERT: 'c', TLS_KEY: 'k', TLS_CA: 'ca', MQTT_TLS_PORT: '9883' }).tls).toMatchObject({ caFile: path.resolve('ca'), mqttPort: 9883 });
  });

  it.each([
    [{ TLS_CERT: 'c' }, /TLS_KEY is not set but TLS_CERT is/],
    [{ TLS_KEY: 'k' }, /TLS_CERT is not set but TLS_KEY is/],
    [{ TLS_CA: 'ca' }, /TLS_CA is set but TLS_CERT and TLS_KEY are not/],
    [{ API_AUTH: 'maybe' }, /API_AUTH="maybe".*required, off/],
    [{ METRICS_AUTH: 'no' }, /METRICS_AUTH="no"/],
    [{ ALLOWED_ORIGINS: 'https://a.example/path' }, /ALLOWED_ORIGINS has "https:\/\/a.example\/path", which is not an origin/],
    [{ ALLOWED_ORIGINS: 'a.example' }, /not an origin/],
    [{ LIVE_MAX_CLIENTS: '0' }, /LIVE_MAX_CLIENTS="0"/],
  ])('contract §8 settings: %j stops start-up naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('contract §8: API_AUTH, API_TOKENS, METRICS_AUTH, ALLOWED_ORIGINS, LIVE_MAX_CLIENTS', () => {
    expect(loadConfig({ API_AUTH: 'off', API_TOKENS: '/etc/park/tokens.json', METRICS_AUTH: 'off', ALLOWED_ORIGINS: 'https://twin.example.com, http://localhost:5173/', LIVE_MAX_CLIENTS: '20' })).toMatchObject({
      api: { auth: 'off', tokensFile: '/etc/park/tokens.json', metricsAuth: 'off', allowedOrigins: ['https://twin.example.com', 'http://localhost:5173'] },
      live: { maxClients: 20 },
    });
  });

  it('finding 4: a bad MQTT_URL or INFLUX_URL is named without its password', () => {
    expect(() => loadConfig({ MQTT_URL: 'http://gw:hunter2@broker:1883' })).toThrow(/MQTT_URL="http:\/\/gw:\*\*\*@broker:1883" has protocol http:/);
    expect(() => loadConfig({ INFLUX_URL: 'ftp://u:hunter2@x' })).not.toThrow(/hunter2/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ HTTP_PORT: '', MQTT_AUTH: '', INFLUX_URL: '', PARK_MODEL: '  ', INFLUX_API: '' })).toMatchObject({
      httpPort: 3000,
      mqttAuth: 'required',
      influx: { url: 'http://127.0.0.1:8086', api: undefined },
      parkModelFiles: [DEMO_PARK_MODEL],
    });
  });

  it('ignores empty entries of a PARK_MODEL list', () => {
    expect(loadConfig({ PARK_MODEL: '/p/a.json,, /p/b.json ,' }).parkModelFiles).toEqual(['/p/a.json', '/p/b.json']);
  });

  it('resolves relative paths against the working directory', () => {
    expect(loadConfig({ PARK_MODEL: 'parks/x.json' }).parkModelFiles).toEqual([path.resolve('parks/x.json')]);
  });

  it.each<[Record<string, string>, string, RegExp]>([
    [{ HTTP_PORT: 'http' }, 'HTTP_PORT', /HTTP_PORT="http" is invalid: expected an integer in 0\.\.65535 \(default 3000\); fix or unset it/],
    [{ HTTP_PORT: '65536' }, 'HTTP_PORT', /integer in 0\.\.65535/],
    [{ HTTP_PORT: '-1' }, 'HTTP_PORT', /integer in 0\.\.65535/],
    [{ MQTT_PORT: '18.83' }, 'MQTT_PORT', /integer in 0\.\.65535 \(default 1883\)/],
    [{ MQTT_AUTH: 'yes' }, 'MQTT_AUTH', /MQTT_AUTH="yes" is invalid: expected one of required, off; fix or unset it/],
    [{ MQTT_AUTH: 'Required' }, 'MQTT_AUTH', /expected one of required, off/],
    [{ MQTT_URL: 'broker:1883' }, 'MQTT_URL', /MQTT_URL="broker:1883" has protocol broker:; expected one of mqtt:, mqtts:, tcp:, ws:, wss:/],
    [{ MQTT_URL: 'not a url' }, 'MQTT_URL', /MQTT_URL="not a url" is not a URL; expected e\.g\. mqtt:\/\/127\.0\.0\.1/],
    [{ MQTT_URL: 'http://127.0.0.1:1883' }, 'MQTT_URL', /has protocol http:/],
    [{ MQTT_SHARE_GROUP: 'a/b' }, 'MQTT_SHARE_GROUP', /MQTT_SHARE_GROUP="a\/b" is invalid: use 1-64 letters, digits, "_" or "-"/],
    [{ MQTT_SHARE_GROUP: '#' }, 'MQTT_SHARE_GROUP', /is invalid/],
    [{ INFLUX_URL: '127.0.0.1:8086' }, 'INFLUX_URL', /INFLUX_URL="127\.0\.0\.1:8086" is not a URL; expected e\.g\. http:\/\/127\.0\.0\.1/],
    [{ INFLUX_URL: 'influx://127.0.0.1:8086' }, 'INFLUX_URL', /has protocol influx:; expected one of http:, https:/],
    [{ INFLUX_URL: 'localhost' }, 'INFLUX_URL', /INFLUX_URL="localhost" is not a URL; expected e\.g\. http:\/\/127\.0\.0\.1/],
    [{ INFLUX_API: 'v3' }, 'INFLUX_API', /INFLUX_API="v3" is invalid: expected one of v1, v2/],
    [{ INFLUX_BATCH_SIZE: '0' }, 'INFLUX_BATCH_SIZE', /integer in 1\.\.100000/],
    [{ INFLUX_FLUSH_MS: 'fast' }, 'INFLUX_FLUSH_MS', /integer in 1\.\.60000/],
    [{ WAL_MAX_MB: '0.5' }, 'WAL_MAX_MB', /integer in 1\.\.10000000/],
    [{ GATEWAY_WORKERS: '-1' }, 'GATEWAY_WORKERS', /integer in 0\.\.64/],
    [{ MAX_FUTURE_S: '-5' }, 'MAX_FUTURE_S', /integer in 0\.\.31536000 \(default 300\)/],
    [{ MAX_AGE_S: '0' }, 'MAX_AGE_S', /integer in 1\.\.315360000 \(default 604800\)/],
    [{ VITALS_WINDOW_MS: '10' }, 'VITALS_WINDOW_MS', /integer in 1000\.\.3600000/],
    [{ VITALS_LATENESS_MS: 'x' }, 'VITALS_LATENESS_MS', /integer in 0\.\.3600000/],
    [{ MQTT_AUTH_CACHE_S: '-1' }, 'MQTT_AUTH_CACHE_S', /integer in 0\.\.2592000 \(default 86400\)/],
    [{ MQTT_AUTH_CONCURRENCY: '0' }, 'MQTT_AUTH_CONCURRENCY', /integer in 1\.\.64 \(default 2\)/],
    [{ MQTT_AUTH_QUEUE: 'many' }, 'MQTT_AUTH_QUEUE', /integer in 0\.\.100000 \(default 100\)/],
    [{ MQTT_CONNECT_RATE: '1.5' }, 'MQTT_CONNECT_RATE', /integer in 0\.\.1000000 \(default 100\)/],
    [{ MQTT_CONNECT_BURST: '0' }, 'MQTT_CONNECT_BURST', /integer in 1\.\.1000000 \(default 1000\)/],
    [{ UNREGISTERED_MAX: '-1' }, 'UNREGISTERED_MAX', /integer in 0\.\.1000000 \(default 1000\)/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /LOG_LEVEL="verbose" is invalid: expected one of fatal, error, warn, info, debug, trace, silent/],
  ])('%j is a ConfigError naming %s and the fix', (env, name, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe('ConfigError');
    expect((error as Error).message).toContain(`environment variable ${name}=`);
    expect((error as Error).message).toMatch(message);
  });

  it('INFLUX_CREATE_DB=false turns database creation off', () => {
    expect(loadConfig({ INFLUX_CREATE_DB: 'false' }).influx.createDb).toBe(false);
    expect(loadConfig({ INFLUX_CREATE_DB: 'true' }).influx.createDb).toBe(true);
  });

  it('reads the tuning knobs', () => {
    const c = loadConfig({ INFLUX_BATCH_SIZE: '100', INFLUX_FLUSH_MS: '50', WAL_DIR: '/tmp/wal', WAL_MAX_MB: '2', WAL_SEGMENT_MB: '1', WAL_CACHE_MB: '3', SPOOL_DIR: '/tmp/sp', VITALS_WINDOW_MS: '5000', VITALS_LATENESS_MS: '0', LOG_LEVEL: 'silent' });
    expect(c.influx.batchSize).toBe(100);
    expect(c.influx.flushIntervalMs).toBe(50);
    expect(c.wal).toEqual({ dir: '/tmp/wal', maxBytes: 2 * 1024 * 1024, segmentBytes: 1024 * 1024, cacheBytes: 3 * 1024 * 1024, legacySpoolDir: '/tmp/sp', fsync: true });
    expect(c.vitals).toEqual({ windowMs: 5000, allowedLatenessMs: 0, idleMs: 0, startHoldMs: 10_000 });
    expect(loadConfig({ VITALS_LATENESS_MS: '20000' }).vitals.idleMs).toBe(20_000);
    expect(loadConfig({ VITALS_IDLE_MS: '5000' }).vitals.idleMs).toBe(5000);
    expect(c.logLevel).toBe('silent');
  });

  it('reads the device login limits and the unregistered-sensor cap (issue 8 findings 6 and 9)', () => {
    const c = loadConfig({ MQTT_AUTH_CACHE_S: '0', MQTT_AUTH_CONCURRENCY: '4', MQTT_AUTH_QUEUE: '0', MQTT_CONNECT_RATE: '0', MQTT_CONNECT_BURST: '20', UNREGISTERED_MAX: '0' });
    expect(c.deviceLogin).toEqual({ cacheTtlMs: 0, maxConcurrent: 4, maxQueued: 0, connectRatePerS: 0, connectBurst: 20 });
    expect(c.unregisteredMax).toBe(0);
  });
});
