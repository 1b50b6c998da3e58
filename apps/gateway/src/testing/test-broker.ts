import { Writable } from 'node:stream';
import pino from 'pino';
import { DEFAULT_PAYLOAD_LIMITS, indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { DeviceAuthenticator } from '../auth/device-credentials';
import { EmbeddedBroker, EmbeddedBrokerOptions } from '../broker/embedded.broker';
import { Clock, systemClock } from '../core/clock';
import { IngestService } from '../ingest/ingest.service';
import { RejectionLog } from '../ingest/rejection.log';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { ParkRegistry } from '../park/park.registry';
import { PointSink } from '../sink/point-sink';
import { MemorySink } from './memory.sink';
import { testBus } from './test-bus';

/** Options of {@link startTestBroker}. */
export interface TestBrokerOptions {
  authenticator?: DeviceAuthenticator;
  connectRate?: EmbeddedBrokerOptions['connectRate'];
  clock?: Clock;
  sink?: PointSink & { lines: string[] };
}

/**
 * A real embedded broker (aedes) on a free loopback port with the real
 * ingest pipeline behind it and an in-memory sink; its log lines are kept
 * (parsed JSON) for specs that check what is logged.
 */
export async function startTestBroker(o: TestBrokerOptions = {}) {
  const sink = o.sink ?? new MemorySink();
  const metrics = new GatewayMetrics();
  const registry = new ParkRegistry([indexPark(testPark())]);
  const rejections = new RejectionLog(50);
  const logLines: Array<Record<string, unknown> & { msg: string }> = [];
  const logSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'info' }, logSink);
  const ingest = new IngestService(registry, sink, metrics, rejections, testBus(), DEFAULT_PAYLOAD_LIMITS);
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, authenticator: o.authenticator, connectRate: o.connectRate }, ingest, log, metrics, o.clock ?? systemClock);
  await broker.start();
  return { broker, sink, metrics, registry, rejections, logLines, port: broker.boundPort as number, url: `mqtt://127.0.0.1:${broker.boundPort}` };
}
