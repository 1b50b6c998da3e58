import { clientIdFits, clientIdOwnershipProblem, clientIdProblem, ConnectIds, usernameProblem } from './client-id.rule';

const ids = (clientId: string, clean = true, protocolVersion = 4): ConnectIds => ({ clientId, clean, protocolVersion });

describe('client id rules of contract §8 (issue 8 finding 5)', () => {
  it.each<[string, ConnectIds, string | undefined]>([
    ['a 128-byte id', ids('c'.repeat(128)), undefined],
    ['a 128-byte id of 2-byte characters', ids('é'.repeat(64)), undefined],
    ['finding 5: a 129-byte id', ids('c'.repeat(129)), 'the client id is 129 bytes; at most 128 are allowed (contract §8)'],
    ['a 20,000-character id over MQTT 3.1.1', ids('c'.repeat(20_000)), 'the client id is 20000 bytes; at most 128 are allowed (contract §8)'],
    ['65 three-byte characters (195 bytes)', ids('中'.repeat(65)), 'the client id is 195 bytes; at most 128 are allowed (contract §8)'],
    ['a long id over MQTT 3.1 (23 lifted to 128)', ids('c'.repeat(100), true, 3), undefined],
    ['zero-length with a clean session', ids('', true), undefined],
    ['finding 5: zero-length with a persistent session', ids('', false), 'a zero-length client id needs a clean session [MQTT-3.1.3-8]'],
    ['zero-length over MQTT 3.1', ids('', true, 3), 'MQTT 3.1 needs a client id (zero-length client ids came with MQTT 3.1.1)'],
  ])('%s', (_what, c, problem) => {
    expect(clientIdProblem(c)).toBe(problem);
  });

  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['b01-m01', undefined],
    ['u'.repeat(128), undefined],
    ['u'.repeat(129), 'the username is 129 bytes; at most 128 are allowed (contract §8)'],
  ])('username %j', (username, problem) => {
    expect(usernameProblem(username)).toBe(problem);
  });

  it.each<[string, string, boolean]>([
    ['b01-m01', 'b01-m01', true],
    ['b01-m01-1', 'b01-m01', true],
    ['b01-m01-', 'b01-m01', true],
    ['', 'b01-m01', true],
    ['b01-m01x', 'b01-m01', false],
    ['b01-m0', 'b01-m01', false],
    ['x-b01-m01', 'b01-m01', false],
    ['B01-M01', 'b01-m01', false],
    ['b01_m01-1', 'b01-m01', false],
  ])('client id %j fits username %j: %s', (clientId, username, fits) => {
    expect(clientIdFits(clientId, username)).toBe(fits);
  });

  it.each<[string, string, string | undefined, string | undefined]>([
    ['b1-gw-7', 'b1-gw', 'b1-gw', undefined],
    ['b1-7', 'b1', 'b1', undefined],
    ['', 'b1', undefined, undefined],
    // finding 5: one device cannot take over another's client id (and so disconnect it)
    ['b2-gw', 'b1', 'b2-gw', 'device "b1" must use the client id "b1" or one starting with "b1-" (contract §8)'],
    ['b1-gw-7', 'b1', 'b1-gw', 'the client id belongs to device "b1-gw", whose username it starts with'],
    ['b1-gw', 'b1', 'b1-gw', 'the client id belongs to device "b1-gw", whose username it starts with'],
  ])('client id %j for device %j (owner %j)', (clientId, username, owner, problem) => {
    expect(clientIdOwnershipProblem(clientId, username, owner)).toBe(problem);
  });
});
