import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { redactUrl } from './redact';

describe('redactUrl (issue 8 finding 4: credentials inside MQTT_URL and INFLUX_URL)', () => {
  it.each([
    ['mqtt://gw:s3cret@broker.local:1883', 'mqtt://gw:***@broker.local:1883'],
    ['https://admin:p%40ss@influx:8086/path?q=1', 'https://admin:***@influx:8086/path?q=1'],
    ['mqtts://:onlypass@h', 'mqtts://:***@h'],
    ['mqtt://user@h:1883', 'mqtt://user@h:1883'],
    ['http://127.0.0.1:8086', 'http://127.0.0.1:8086'],
    ['cannot connect to mqtt://a:b@h:1 and http://c:d@i', 'cannot connect to mqtt://a:***@h:1 and http://c:***@i'],
    ['not a url: mqtt://a:b c@', 'not a url: mqtt://a:b c@'],
  ])('%s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });
});

describe('the logger censors secrets (contract §8: no secret in a log line)', () => {
  function capture(): { log: ReturnType<typeof createLogger>; lines: () => string } {
    let text = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((text += chunk.toString()), done()) });
    return { log: createLogger('info', sink), lines: () => text };
  }

  it('finding 4: URL credentials in any field or in the message', () => {
    const { log, lines } = capture();
    log.info({ url: 'mqtt://gw:hunter2@broker:1883', err: 'connect ECONNREFUSED http://u:hunter2@influx:8086' }, 'connecting to mqtt://gw:hunter2@broker');
    log.warn('lost https://x:hunter2@h');
    expect(lines()).not.toContain('hunter2');
    expect(lines()).toContain('mqtt://gw:***@broker:1883');
  });

  it('authorization headers, cookies, passwords, tokens and session ids', () => {
    const { log, lines } = capture();
    log.info({ req: { headers: { authorization: 'Bearer ptk_secret', cookie: 'park_session=sid_secret' } } }, 'request');
    log.info({ headers: { authorization: 'Bearer ptk_secret2' }, password: 'pw_secret', token: 'tk_secret', sessionId: 'sid2_secret' }, 'x');
    log.info({ res: { headers: { 'set-cookie': 'park_session=sid3_secret' } } }, 'y');
    expect(lines()).not.toMatch(/secret/);
    expect(lines()).toContain('"authorization":"***"');
  });
});
