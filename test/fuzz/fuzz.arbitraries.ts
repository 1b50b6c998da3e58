/**
 * What the fuzz harness throws at the gateway, as fast-check arbitraries
 * (seeded, so a run and any one case can be replayed): topics, payloads,
 * MQTT packets and connection scripts, HTTP requests, WebSocket frames,
 * park model documents. Biased towards the inputs that reach deep (valid
 * topics of the demo park, readings around now) and the ones that broke
 * things before (deep nesting, huge numbers, odd unicode, duplicate and
 * `__proto__` keys, broken lengths).
 */
import fc from 'fast-check';
import * as wire from '../../apps/gateway/src/testing/mqtt-wire';

/** The demo park's buildings and sensors (apps/gateway/parks/demo.park.json), so that fuzzed readings get stored. */
export interface ParkShape {
  id: string;
  sensors: Array<{ building: string; kind: string; id: string }>;
}

/** Strings that have broken parsers before, and the plain ASCII and unicode of every day. */
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'NaN',
      'Infinity',
      '-Infinity',
      'null',
      'undefined',
      '\u0000',
      '\ud800',
      '\udc00x',
      '\u2028\u2029',
      '\u202e',
      '\ufeff',
      '😀',
      '中文',
      '%00',
      '%ff',
      '%2e%2e%2f',
      '../../etc/passwd',
      '${jndi:x}',
      "'; DROP MEASUREMENT energy; --",
      '" OR 1=1',
      '\\',
      '\n',
      '\r\n',
      'a'.repeat(300),
    ),
  },
);

/** Numbers as JSON text, including what JSON.parse turns into ±Infinity, -0 and denormals. */
export const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.integer({ min: 0, max: 100_000 }).map(String),
  fc.constantFrom('0', '-0', '1e400', '-1e400', '1.7e308', '1.7976931348623157e308', '5e-324', '-5e-324', '1e-400', '1e6', '1000000.0000001', '-1000000', '50000', '50000.0001', '100000', '100001', '3.0', '3.5', '1E3', '0.1e1', '123456789012345678901234567890'),
);

/** A JSON value as text, with numbers from {@link numberText} and nasty strings. */
const leafText = fc.oneof(numberText, nastyString.map((s) => JSON.stringify(s)), fc.constantFrom('true', 'false', 'null', '"NaN"', '"Infinity"', '"1.5"', '[]', '{}'));

/** `ts` values: around now (stored), just past the bounds (rejected), odd forms. */
function tsText(nowMs: number) {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: nowMs - 6 * 86_400_000, max: nowMs + 60_000 }).map(String) },
    { weight: 1, arbitrary: fc.integer({ min: nowMs - 8 * 86_400_000, max: nowMs + 600_000 }).map(String) },
    { weight: 1, arbitrary: fc.integer({ min: nowMs - 6 * 86_400_000, max: nowMs }).map((t) => JSON.stringify(new Date(t).toISOString())) },
    { weight: 1, arbitrary: fc.constantFrom('"2026-02-30T00:00:00Z"', '"2026-11-27T25:00:00Z"', '"2026-11-27 08:00:00+08:00"', '"not a date"', '-1', '1e400', 'null', '1764201600000.5', '"1764201600000"') },
  );
}

const FIELDS = ['power_kw', 'energy_kwh', 'co2_ppm', 'emission_kgco2e', 'count'];

/** One reading object as JSON text: contract fields and others, duplicate keys, `__proto__`. */
function readingText(nowMs: number) {
  const member = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), numberText) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('ts'), tsText(nowMs)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), leafText) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'x', 'ts'), fc.oneof(leafText, fc.constant('{"power_kw": 5}'))) },
    { weight: 1, arbitrary: fc.tuple(nastyString, leafText) },
  );
  return fc.array(member, { minLength: 0, maxLength: 6 }).map((ms) => `{${ms.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}

/** A payload as bytes: readings, arrays of them, deep nesting, garbage, invalid UTF-8, oversize. */
export function payloadArb(nowMs: number): fc.Arbitrary<Buffer> {
  const reading = readingText(nowMs);
  const text = fc.oneof(
    { weight: 10, arbitrary: reading },
    { weight: 4, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: reading }, { weight: 1, arbitrary: leafText }), { maxLength: 12 }).map((a) => `[${a.join(',')}]`) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1003 }).map((n) => `[${Array(n).fill('{"power_kw":1}').join(',')}]`) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 32_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => open.repeat(depth) + (open === '[' ? '' : '1') + (open === '[' ? ']' : '}').repeat(depth)) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 40_000 }).map((depth) => '['.repeat(depth)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: leafText },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '{', '[', '{"power_kw":1,}', '{"power_kw":1}{"power_kw":2}', '\ufeff{"power_kw":1}', '{"power_kw":NaN}', '{"power_kw":Infinity}', '{"power_kw":0x10}', '{power_kw:1}', "{'power_kw':1}") },
  );
  return fc.oneof(
    { weight: 12, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.tuple(reading, fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00])).map(([t, bad]) => Buffer.concat([Buffer.from(t.slice(0, 3)), Buffer.from(bad), Buffer.from(t.slice(3))])) },
    { weight: 1, arbitrary: fc.integer({ min: 65_530, max: 70_000 }).map((n) => Buffer.alloc(n, 0x20)) },
  );
}

/** Topics: the demo park's own (stored), near misses, and anything at all. */
export function topicArb(park: ParkShape): fc.Arbitrary<string> {
  const level = fc.oneof(fc.constantFrom('demo', 'b01', 'b13', 'b99', 'm01', 'energy', 'carbon', 'occupancy', 'water', '', '+', '#', 'B01', 'a'.repeat(64), 'a'.repeat(65), '$SYS', 'park'), nastyString);
  return fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...park.sensors).map((s) => `park/${park.id}/${s.building}/${s.kind}/${s.id}`) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...park.sensors), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/)).map(([s, id]) => `park/${park.id}/${s.building}/${s.kind}/${id}`) },
    { weight: 3, arbitrary: fc.array(level, { minLength: 0, maxLength: 7 }).map((l) => ['park', ...l].join('/')) },
    { weight: 1, arbitrary: fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/')) },
    { weight: 1, arbitrary: fc.constantFrom('park', 'park/', '/park/demo/b01/energy/m01', 'park//b01/energy/m01', 'cmd/demo/b01', `park/${'x/'.repeat(120)}`, 'park/demo/b01/energy/m01/extra') },
  );
}

/** One MQTT packet's bytes: well-formed packets of every type, odd flags, broken lengths, garbage. */
export function packetArb(park: ParkShape, nowMs: number): fc.Arbitrary<Buffer> {
  const id = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 65535 }));
  const qos = fc.oneof({ weight: 8, arbitrary: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }, { weight: 1, arbitrary: fc.constant(3 as 0) });
  const publish = fc.record({ topic: topicArb(park), payload: payloadArb(nowMs), qos, messageId: id, dup: fc.boolean(), retain: fc.boolean() }).map((p) => wire.publish(p));
  const filter = fc.oneof(fc.constantFrom('#', '+', 'park/#', '$SYS/#', 'cmd/demo/#', '$share/g/park/#', '$share//x', 'a/#/b', 'a+', ''), topicArb(park));
  const subscribe = fc.tuple(id, fc.array(fc.tuple(filter, fc.integer({ min: 0, max: 3 }) as fc.Arbitrary<0>), { minLength: 0, maxLength: 4 })).map(([i, f]) => wire.subscribe(i, f));
  const unsubscribe = fc.tuple(id, fc.array(filter, { maxLength: 3 })).map(([i, f]) => wire.packet(wire.PacketType.UNSUBSCRIBE, 2, Buffer.concat([Buffer.from([i >> 8, i & 0xff]), ...f.map((x) => wire.str(x))])));
  const ack = fc.tuple(fc.constantFrom(wire.PacketType.PUBACK, wire.PacketType.PUBREC, wire.PacketType.PUBREL, wire.PacketType.PUBCOMP), id, fc.integer({ min: 0, max: 15 })).map(([t, i, flags]) => wire.packet(t, t === wire.PacketType.PUBREL && flags % 2 === 0 ? 2 : flags, Buffer.from([i >> 8, i & 0xff])));
  const control = fc.constantFrom(wire.pingreq(), wire.disconnect(), wire.packet(0, 0, Buffer.alloc(0)), wire.packet(15, 0, Buffer.alloc(3)), wire.packet(wire.PacketType.PINGREQ, 5, Buffer.alloc(0)), wire.packet(wire.PacketType.CONNACK, 0, Buffer.from([0, 0])), wire.packet(wire.PacketType.SUBACK, 0, Buffer.from([0, 1, 0])));
  const broken = fc.oneof(
    fc.constantFrom(
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), // a 5-byte Remaining Length [MQTT-2.2.3]
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), // 256 MiB declared
      Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]), // 2 MiB declared: closed before buffering
      Buffer.from([0x30, 0x02, 0x00, 0x05]), // topic length past the end
      Buffer.from([0x32, 0x03, 0x00, 0x00, 0x01]), // QoS 1, empty topic
      Buffer.from([0x82, 0x02, 0x00, 0x01]), // SUBSCRIBE without a filter
      Buffer.from([0x30]), // a fixed header cut short
    ),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
    publish.chain((p) => fc.integer({ min: 1, max: Math.max(1, p.length - 1) }).map((n) => p.subarray(0, n))),
  );
  return fc.oneof({ weight: 12, arbitrary: publish }, { weight: 2, arbitrary: subscribe }, { weight: 1, arbitrary: unsubscribe }, { weight: 3, arbitrary: ack }, { weight: 2, arbitrary: control }, { weight: 2, arbitrary: broken }, { weight: 1, arbitrary: connectArb({ username: 'x', password: 'y' }) });
}

/** CONNECT packets: the fuzz device's own, and every odd variant. */
export function connectArb(device: { username: string; password: string }): fc.Arbitrary<Buffer> {
  const clientId = fc.oneof(fc.constant(device.username), fc.stringMatching(/^[a-z0-9]{1,8}$/).map((s) => `${device.username}-${s}`), fc.constantFrom('', 'c'.repeat(129), 'c'.repeat(20_000), 'mqttjs_1', '\u0000', '😀'), nastyString);
  const structured = fc
    .record({
      clientId,
      clean: fc.boolean(),
      username: fc.option(fc.oneof(fc.constant(device.username), nastyString, fc.constant('u'.repeat(200))), { nil: undefined }),
      password: fc.option(fc.oneof(fc.constant(device.password), nastyString), { nil: undefined }),
      keepaliveS: fc.constantFrom(0, 1, 60, 65535),
      protocolVersion: fc.constantFrom<3 | 4 | 5>(3, 4, 4, 4, 5),
      will: fc.option(fc.record({ topic: fc.constantFrom('park/demo/b01/energy/m01', 'status/x', '#', ''), payload: fc.constantFrom('{"power_kw":1}', 'gone', ''), qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2), retain: fc.boolean() }), { nil: undefined }),
    })
    .map((o) => wire.connect(o));
  // Raw CONNECTs: unknown protocol names and levels, reserved flag bit, password without username.
  const raw = fc
    .tuple(fc.constantFrom('MQTT', 'MQIsdp', 'mqtt', '', 'HTTP'), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
    .map(([name, level, flags, rest]) => wire.packet(wire.PacketType.CONNECT, 0, Buffer.concat([wire.str(name), Buffer.from([level, flags, 0, 60]), Buffer.from(rest)])));
  return fc.oneof({ weight: 4, arbitrary: structured }, { weight: 1, arbitrary: raw });
}

/** A connection's script: how it starts, then packets, sent in one write or in chunks. */
export interface MqttScript {
  /** 'device': the fuzz device logs in properly (answered from the credential cache after the first time). */
  start: 'device' | 'odd-connect' | 'no-connect';
  connect?: Buffer;
  packets: Buffer[];
  /** Byte offsets where the stream is cut into separate writes. */
  cuts: number[];
  /** The 127.x.y.z address it connects from (per-address limits). */
  local: string;
}

export function mqttScriptArb(park: ParkShape, nowMs: number, device: { username: string; password: string }): fc.Arbitrary<MqttScript> {
  return fc.record({
    start: fc.constantFrom<MqttScript['start']>('device', 'device', 'device', 'device', 'device', 'device', 'odd-connect', 'no-connect'),
    connect: connectArb(device),
    // Mostly anything; sometimes only readings on the park's own topics, so
    // that a connection lives long enough to store some and feed the vitals.
    packets: fc.oneof(
      { weight: 3, arbitrary: fc.array(packetArb(park, nowMs), { minLength: 1, maxLength: 8 }) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.record({ topic: fc.constantFrom(...park.sensors).map((s) => `park/${park.id}/${s.building}/${s.kind}/${s.id}`), payload: payloadArb(nowMs), qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2), messageId: fc.integer({ min: 1, max: 65535 }) }).map((p) => wire.publish(p)),
          { minLength: 1, maxLength: 10 },
        ),
      },
    ),
    cuts: fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 3 }),
    local: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 60 })).map(([a, b]) => `127.0.${a}.${b}`),
  });
}

/** An HTTP request: a route of the API (or not), a query string of odd parameters, a method. */
export interface HttpCase {
  method: string;
  path: string;
  /** Raw bytes instead of a well-formed request (malformed request lines and headers). */
  raw?: Buffer;
}

export function httpCaseArb(park: ParkShape): fc.Arbitrary<HttpCase> {
  const parkId = fc.oneof({ weight: 4, arbitrary: fc.constant(park.id) }, { weight: 1, arbitrary: nastyString });
  const value = fc.oneof(
    fc.constantFrom('load_kw', 'energy_kwh', 'co2_ppm_avg', 'occupancy', 'constructor', '__proto__', 'toString', 'b01', 'b99', '1m', '15m', '1h', '1d', '2d', 'today', 'month', 'now', '-2h', '-1d', '-10000d', '2026-11-27T00:00:00Z', '0', '-1', '1e308', 'NaN', '500', '501'),
    nastyString,
    fc.constant('x'.repeat(10_000)),
  );
  const params = fc.array(fc.tuple(fc.constantFrom('metric', 'building', 'from', 'to', 'every', 'period', 'limit', 'reason', 'x', '__proto__'), value), { maxLength: 6 });
  const route = fc.oneof(
    fc.constantFrom('/api/health', '/api/parks', '/api/rejections', '/metrics', '/api/openapi.json', '/', '/index.html', '/api', '/api/', '/api/live', '/mqtt', '/api/parks/', '/nope', '/api/docs', '/%2e%2e/%2e%2e/etc/passwd', '//api//health'),
    parkId.map((p) => `/api/parks/${pct(p)}`),
    fc.tuple(parkId, fc.constantFrom('vitals', 'history', 'alarms', 'kpis', 'nope', '')).map(([p, r]) => `/api/parks/${pct(p)}/${r}`),
  );
  const query = params.map((ps) => (ps.length ? `?${ps.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}` : ''));
  const structured = fc.record({ method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND'), path: fc.tuple(route, query).map(([r, qs]) => r + qs) });
  const raw = fc
    .oneof(
      fc.constantFrom('GET / HTTP/1.1\r\n\r\n', 'GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n', 'GET /api/health\r\n\r\n', `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, `GET / HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(20_000)}\r\n\r\n`, 'POST /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nabc', 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'GET /api/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n', 'GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bad\r\nSec-WebSocket-Version: 13\r\n\r\n'),
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    )
    .map((text) => ({ method: 'RAW', path: '', raw: Buffer.from(text, 'latin1') }));
  return fc.oneof({ weight: 6, arbitrary: structured }, { weight: 1, arbitrary: raw });
}

/** Percent-encodes the UTF-8 bytes of `s` (encodeURIComponent throws on lone surrogates). */
function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** WebSocket cases: MQTT scripts over /mqtt, and frames to the live stream. */
export type WsCase = { target: 'mqtt'; script: MqttScript; frameSizes: number[] } | { target: 'live'; frames: Array<{ data: Buffer | string; binary: boolean }>; closeCode?: number };

export function wsCaseArb(park: ParkShape, nowMs: number, device: { username: string; password: string }): fc.Arbitrary<WsCase> {
  const liveFrame = fc.oneof(
    nastyString.map((s) => ({ data: s, binary: false })),
    fc.json().map((s) => ({ data: s, binary: false })),
    fc.uint8Array({ maxLength: 200 }).map((b) => ({ data: Buffer.from(b), binary: true })),
    fc.constant({ data: 'x'.repeat(200_000), binary: false }),
  );
  return fc.oneof(
    fc.record({ target: fc.constant('mqtt' as const), script: mqttScriptArb(park, nowMs, device), frameSizes: fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 4 }) }),
    fc.record({ target: fc.constant('live' as const), frames: fc.array(liveFrame, { maxLength: 5 }), closeCode: fc.option(fc.constantFrom(1000, 1001, 1011, 3000, 4999), { nil: undefined }) }),
  );
}

/** Park model documents: the demo model with one value replaced, or any JSON. */
export function parkModelArb(demo: unknown): fc.Arbitrary<string> {
  const replaced = fc.tuple(fc.json({ maxDepth: 2 }), fc.nat(), fc.nat()).map(([v, a, b]) => {
    const doc = JSON.parse(JSON.stringify(demo)) as { buildings: Array<Record<string, unknown> & { sensors: Array<Record<string, unknown>> }> } & Record<string, unknown>;
    const building = doc.buildings[a % doc.buildings.length];
    const keys = ['id', 'footprint', 'height', 'capacity', 'contractedKw', 'floorAreaM2', 'sensors'];
    const target = b % 3 === 0 ? doc : b % 3 === 1 ? building : building.sensors[b % building.sensors.length] ?? building;
    const key = b % 3 === 0 ? ['id', 'landAreaKm2', 'gridEmissionFactorKgPerKwh', 'timeZone', 'holidays', 'buildings'][b % 6] : b % 3 === 1 ? keys[b % keys.length] : ['id', 'kind', 'source', 'intervalS', 'zone', 'maxKgPerH'][b % 6];
    (target as Record<string, unknown>)[key] = JSON.parse(v);
    return JSON.stringify(doc);
  });
  return fc.oneof({ weight: 3, arbitrary: replaced }, { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) }, { weight: 1, arbitrary: fc.string() });
}
