/**
 * Entry points the fuzz harness drives: the pure functions in this process,
 * and the real gateway over MQTT (TCP), MQTT over WebSocket, the live
 * stream and HTTP. Each `run*` takes one generated case and resolves when
 * the gateway has answered it (or closed, or a short timeout passed); it
 * never rejects. Pure-function checks return what is wrong, or undefined.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import WebSocket from 'ws';
import { DEFAULT_PAYLOAD_LIMITS, excerptOf, indexPark, ParkIndex, parseParkModel, parsePayload, parseTopic, REJECT_REASONS, SensorAddress, validateParkModel } from '@park/telemetry';
import { MessageProcessor } from '../../apps/gateway/src/ingest/message.processor';
import { encodeLine, FieldValue } from '../../apps/gateway/src/influx/line-protocol';
import * as wire from '../../apps/gateway/src/testing/mqtt-wire';
import { HttpCase, MqttScript, WsCase } from './fuzz.arbitraries';

/** Contract §3's valid values, to check every accepted reading against. */
const VALID: Record<string, (v: number) => boolean> = {
  powerKw: (v) => Math.abs(v) <= 1e6,
  energyKwh: (v) => v >= 0,
  co2Ppm: (v) => v >= 0 && v <= 50_000,
  emissionKgco2e: (v) => v >= 0,
  count: (v) => Number.isInteger(v) && v >= 0 && v <= 100_000,
};

const REASONS = new Set<string>(REJECT_REASONS);
const LINE = /^(energy|carbon|occupancy),building=[a-z0-9_-]+,park=[a-z0-9_-]+,sensor=[a-z0-9_-]+(,source=(grid|pv)|,zone=[^ ]+)? ([a-z0-9_]+=(-?[0-9][0-9.e+-]*|[0-9]+i))(,[a-z0-9_]+=(-?[0-9][0-9.e+-]*|[0-9]+i))* [0-9]+$/;

/** parsePayload: total, every reading valid per contract §3, every rejection short and with a contract reason. */
export function checkPayload(payload: Buffer, address: SensorAddress, nowMs: number): string | undefined {
  const r = parsePayload(payload, address, 'park/fuzz', nowMs);
  if (r.readings.length + r.rejections.length === 0) return 'parsePayload accounted for nothing';
  for (const reading of r.readings) {
    if (!Number.isInteger(reading.tsMs) || reading.tsMs > nowMs + DEFAULT_PAYLOAD_LIMITS.maxFutureMs || reading.tsMs < nowMs - DEFAULT_PAYLOAD_LIMITS.maxAgeMs) return `reading accepted with ts ${reading.tsMs}`;
    let fields = 0;
    for (const [prop, valid] of Object.entries(VALID)) {
      const v = (reading as unknown as Record<string, unknown>)[prop];
      if (v === undefined) continue;
      fields++;
      if (typeof v !== 'number' || !Number.isFinite(v) || !valid(v)) return `reading accepted with ${prop}=${String(v)}`;
    }
    if (fields === 0) return 'reading accepted without a field';
  }
  for (const x of r.rejections) {
    if (!REASONS.has(x.reason)) return `rejection reason ${x.reason}`;
    if (x.excerpt.length > 200 || /[\u0000-\u001f]/.test(x.excerpt)) return `excerpt of ${x.excerpt.length} chars or with control characters`;
    if (x.detail.length > 1000) return `detail of ${x.detail.length} chars`;
  }
  return undefined;
}

/** MessageProcessor (what the ingest workers run): total, its lines well-formed line protocol with finite fields only. */
export function checkProcessor(processor: MessageProcessor, topic: string, payload: Buffer, nowMs: number): string | undefined {
  const p = processor.process(topic, payload, nowMs);
  if (p.received < 1) return 'a message counted as no reading';
  if ((p.lines === '') !== (p.lineCount === 0)) return `lines and lineCount disagree (${p.lineCount})`;
  if (p.lineCount > 0) {
    const lines = p.lines.split('\n');
    if (lines.length !== p.lineCount) return `lineCount ${p.lineCount} for ${lines.length} lines`;
    const bad = lines.find((l) => !LINE.test(l) || /NaN|Infinity/.test(l));
    if (bad) return `line ${excerptOf(bad)}`;
  }
  if (p.readings.length + p.rejections.length !== p.received) return 'readings + rejections != received';
  return undefined;
}

/** parseTopic: total; an accepted topic has contract ids. */
export function checkTopic(topic: string): string | undefined {
  const t = parseTopic(topic);
  if (!t.ok) return t.detail.length > 400 ? `topic detail of ${t.detail.length} chars` : undefined;
  const { park, building, sensor } = t.address;
  const id = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  return id.test(park) && id.test(building) && id.test(sensor) ? undefined : `topic accepted: ${excerptOf(topic)}`;
}

/** encodeLine (every point the gateway writes): never a non-finite field, never a line without one. */
export function checkEncodeLine(measurement: string, tags: Record<string, string>, fields: Record<string, number>, tsMs: number): string | undefined {
  const line = encodeLine(measurement, tags, fields as Record<string, FieldValue>, tsMs);
  const finite = Object.entries(fields).filter(([k, v]) => k !== '' && Number.isFinite(v));
  if (line === undefined) return finite.length > 0 ? 'a point with finite fields was dropped' : undefined;
  if (finite.length === 0) return `a line without a finite field: ${excerptOf(line)}`;
  if (/(=|,)-?(NaN|Infinity)/.test(line)) return `non-finite value in ${excerptOf(line)}`;
  return undefined;
}

/** The park model loader's parser and validator: total; a model it accepts can be indexed. */
export function checkParkModel(text: string): string | undefined {
  const parsed = parseParkModel(text);
  try {
    validateParkModel(JSON.parse(text.length < 1_000_000 ? text : '{}'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) return `validateParkModel threw ${(e as Error).message}`;
  }
  if (parsed.ok) {
    const index: ParkIndex = indexPark(parsed.model);
    if (index.model.id !== parsed.model.id) return 'indexPark lost the id';
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bytes a script sends after connecting. */
function scriptBytes(s: MqttScript, device: { username: string; password: string }, n: number): Buffer {
  const start = s.start === 'device' ? wire.connect({ clientId: `${device.username}-f${n}`, username: device.username, password: device.password, keepaliveS: 30 }) : s.start === 'odd-connect' ? (s.connect as Buffer) : Buffer.alloc(0);
  // A PINGREQ last: its PINGRESP says the broker has dealt with everything before it.
  return Buffer.concat([start, ...s.packets, wire.pingreq()]);
}

/** Splits bytes at the given cuts. */
function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Did a PINGRESP (0xd0 0x00) arrive among these bytes? */
const hasPingresp = (chunks: Buffer[]) => new wire.PacketReader().push(Buffer.concat(chunks)).some((p) => p.type === wire.PacketType.PINGRESP);

/** One MQTT connection over TCP, driven by a script; resolves with the packets sent. */
/**
 * When a case is over: the broker answered the final PINGREQ, closed, or
 * stayed silent for `idleMs` (a truncated packet swallows the PINGREQ into
 * its body, and the broker rightly waits for the rest), at most `capMs`.
 */
function ending(finish: () => void, idleMs: number, capMs: number): { touch: () => void; clear: () => void } {
  const cap = setTimeout(finish, capMs);
  let idle = setTimeout(finish, idleMs);
  return {
    touch: () => {
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    },
    clear: () => {
      clearTimeout(cap);
      clearTimeout(idle);
    },
  };
}

export function runMqtt(port: number, s: MqttScript, device: { username: string; password: string }, n: number, idleMs = 400, capMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const bytes = scriptBytes(s, device, n);
    const received: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: s.local });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      timers.clear();
      socket.destroy();
      resolve(s.packets.length + 2);
    };
    const timers = ending(finish, idleMs, capMs);
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('data', (d: Buffer) => {
      timers.touch();
      received.push(d);
      if (hasPingresp(received)) finish();
    });
    socket.on('connect', async () => {
      for (const p of pieces(bytes, s.cuts)) {
        if (done) return;
        socket.write(p);
        timers.touch();
        if (s.cuts.length > 0) await sleep(1);
      }
    });
  });
}

/** One WebSocket case: an MQTT script over /mqtt in binary frames, or frames to /api/live. */
export function runWs(httpPort: number, c: WsCase, device: { username: string; password: string }, n: number, idleMs = 400, capMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const isMqtt = c.target === 'mqtt';
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/${isMqtt ? 'mqtt' : 'api/live'}`, isMqtt ? ['mqtt'] : undefined, { localAddress: isMqtt ? c.script.local : undefined, maxPayload: 64 * 1024 * 1024 });
    const received: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      timers.clear();
      ws.terminate();
      resolve(isMqtt ? c.script.packets.length + 2 : c.frames.length);
    };
    const timers = ending(finish, idleMs, capMs);
    ws.on('error', finish);
    ws.on('close', finish);
    ws.on('unexpected-response', finish);
    ws.on('message', (data: Buffer) => {
      timers.touch();
      if (!isMqtt) return;
      received.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      if (hasPingresp(received)) finish();
    });
    ws.on('open', () => {
      if (c.target === 'mqtt') {
        for (const p of pieces(scriptBytes(c.script, device, n), c.frameSizes)) ws.send(p, { binary: true });
        timers.touch();
        return;
      }
      for (const f of c.frames) ws.send(f.data, { binary: f.binary });
      // The live stream answers nothing to what clients send; give it a moment, then close as asked.
      setTimeout(() => {
        if (c.closeCode) ws.close(c.closeCode);
        else finish();
      }, 20);
    });
  });
}

/** What an HTTP case came to. */
export interface HttpOutcome {
  status?: number;
  /** A 5xx other than /api/health's 503 (degraded): a bug to report. */
  serverError?: string;
}

/** One HTTP request (or raw bytes on a TCP connection to the HTTP port). */
export function runHttp(httpPort: number, c: HttpCase, agent: http.Agent, timeoutMs = 10_000): Promise<HttpOutcome> {
  const raw = c.raw;
  if (raw) {
    return new Promise((resolve) => {
      const socket = net.connect({ port: httpPort, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      const finish = () => {
        clearTimeout(timer);
        socket.destroy();
        const head = Buffer.concat(chunks).toString('latin1', 0, 64);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
        const degradedHealth = status === 503 && /^[A-Z]+ \/api\/health/.test(raw.toString('latin1', 0, 40));
        resolve(Number.isFinite(status) && status >= 500 && !degradedHealth ? { status, serverError: `raw request ${excerptOf(raw.toString('latin1'))} → ${status}` } : { status: Number.isFinite(status) ? status : undefined });
      };
      const timer = setTimeout(finish, 2000);
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', finish);
      socket.on('close', finish);
      socket.on('connect', () => socket.end(raw));
    });
  }
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port: httpPort, method: c.method, path: c.path, agent, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const degradedHealth = status === 503 && c.path.startsWith('/api/health');
          resolve(status >= 500 && !degradedHealth ? { status, serverError: `${c.method} ${excerptOf(c.path, 300)} → ${status}` } : { status });
        });
        res.on('error', () => resolve({ status: res.statusCode }));
      });
    } catch {
      return resolve({}); // a path Node itself refuses to send
    }
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({}));
    req.end();
  });
}
