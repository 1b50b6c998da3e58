import { REJECT_REASONS } from '@park/telemetry';
import { GatewayMetrics } from './gateway.metrics';

/** The value of one sample line of the exposition text. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('GatewayMetrics (contract §7: /metrics)', () => {
  it('starts every reason at 0 and counts rejections per reason', () => {
    const m = new GatewayMetrics();
    expect(Object.keys(m.rejected)).toEqual([...REJECT_REASONS]);
    expect(m.rejectedTotal).toBe(0);
    m.reject('bad_json');
    m.reject('bad_json');
    m.reject('too_large', 5);
    expect(m.rejected.bad_json).toBe(2);
    expect(m.rejected.too_large).toBe(5);
    expect(m.rejectedTotal).toBe(7);
  });

  it('renders Prometheus text with HELP and TYPE for every metric', () => {
    const m = new GatewayMetrics();
    m.messagesReceived = 4;
    m.readingsReceived = 9;
    m.readingsAccepted = 6;
    m.reject('future_ts', 3);
    m.pointsWritten = 6;
    m.gauges.gateway_write_backlog_lines = { help: 'Backlog.', read: () => 42 };
    const text = m.render();
    expect(text.endsWith('\n')).toBe(true);
    expect(sample(text, 'gateway_messages_received_total')).toBe(4);
    expect(sample(text, 'gateway_readings_received_total')).toBe(9);
    expect(sample(text, 'gateway_readings_accepted_total')).toBe(6);
    expect(sample(text, 'gateway_points_written_total')).toBe(6);
    expect(sample(text, 'gateway_write_backlog_lines')).toBe(42);
    for (const r of REJECT_REASONS) expect(sample(text, `gateway_readings_rejected_total{reason="${r}"}`)).toBe(r === 'future_ts' ? 3 : 0);
    expect(text).toContain('# TYPE gateway_readings_rejected_total counter');
    expect(text).toContain('# TYPE gateway_write_backlog_lines gauge');
    // every sample has a TYPE line for its family
    const families = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
    for (const l of text.split('\n').filter((x) => x && !x.startsWith('#'))) {
      const name = l.split(/[{ ]/)[0].replace(/_(bucket|sum|count)$/, '');
      expect(families.has(name) || families.has(l.split(/[{ ]/)[0])).toBe(true);
    }
  });

  it('keeps a cumulative write-latency histogram', () => {
    const m = new GatewayMetrics();
    m.writeLatency.observe(0.003);
    m.writeLatency.observe(0.2);
    m.writeLatency.observe(30);
    const text = m.render();
    expect(sample(text, 'gateway_write_latency_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sample(text, 'gateway_write_latency_seconds_bucket{le="0.1"}')).toBe(1);
    expect(sample(text, 'gateway_write_latency_seconds_bucket{le="0.25"}')).toBe(2);
    expect(sample(text, 'gateway_write_latency_seconds_bucket{le="10"}')).toBe(2);
    expect(sample(text, 'gateway_write_latency_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(sample(text, 'gateway_write_latency_seconds_count')).toBe(3);
    expect(sample(text, 'gateway_write_latency_seconds_sum')).toBeCloseTo(30.203, 9);
  });
});
