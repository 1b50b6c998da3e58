import { Qos2Receipts } from './qos2-receipts';

describe('Qos2Receipts (issue 8 finding 8: QoS 2 ingested exactly once)', () => {
  it('a retransmission before PUBREL is a duplicate; after PUBREL the id is new again', () => {
    const r = new Qos2Receipts();
    const conn = {};
    expect(r.take(conn, 7)).toBe('new');
    expect(r.take(conn, 7)).toBe('duplicate');
    expect(r.take(conn, 8)).toBe('new');
    r.release(conn, 7);
    expect(r.take(conn, 7)).toBe('new');
  });

  it('sessions are apart: clean ones by connection, persistent ones by client id', () => {
    const r = new Qos2Receipts();
    expect(r.take({}, 1)).toBe('new');
    expect(r.take({}, 1)).toBe('new');
    expect(r.take('b1-gw', 1)).toBe('new');
    expect(r.take('b1-gw', 1)).toBe('duplicate'); // the same persistent session after a reconnect
    expect(r.take('b2-gw', 1)).toBe('new');
    r.dropPersistent('b1-gw'); // b1-gw came back with a clean session [MQTT-3.1.2-6]
    expect(r.has('b1-gw', 1)).toBe(false);
    expect(r.has('b2-gw', 1)).toBe(true);
  });

  it('refuses beyond its window per session', () => {
    const r = new Qos2Receipts(3);
    const conn = {};
    expect([1, 2, 3, 4].map((id) => r.take(conn, id))).toEqual(['new', 'new', 'new', 'full']);
    expect(r.take(conn, 2)).toBe('duplicate');
  });
});
