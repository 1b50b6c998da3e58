import { ID_PATTERN, parseTopic, sensorTopic } from './topic';

const id64 = 'a'.repeat(64);
const id65 = 'a'.repeat(65);

describe('parseTopic (contract §2: park/{park}/{building}/{kind}/{sensor})', () => {
  it.each([
    ['park/demo/b01/energy/m01', { park: 'demo', building: 'b01', kind: 'energy', sensor: 'm01' }],
    ['park/demo/b01/carbon/c01', { park: 'demo', building: 'b01', kind: 'carbon', sensor: 'c01' }],
    ['park/demo/b01/occupancy/o01', { park: 'demo', building: 'b01', kind: 'occupancy', sensor: 'o01' }],
    ['park/0/9/energy/x', { park: '0', building: '9', kind: 'energy', sensor: 'x' }],
    ['park/a_b-c/b-1_x/energy/s_-', { park: 'a_b-c', building: 'b-1_x', kind: 'energy', sensor: 's_-' }],
    [`park/${id64}/${id64}/energy/${id64}`, { park: id64, building: id64, kind: 'energy', sensor: id64 }],
  ])('accepts %s', (topic, address) => {
    expect(parseTopic(topic)).toEqual({ ok: true, address });
  });

  it.each([
    // wrong number of levels
    ['park', /park\/\{park\}/],
    ['park/demo', /park\/\{park\}/],
    ['park/demo/b01/energy', /park\/\{park\}/],
    ['park/demo/b01/energy/m01/extra', /park\/\{park\}/],
    ['park/demo/b01/energy/m01/', /park\/\{park\}/],
    ['/park/demo/b01/energy/m01', /park\/\{park\}/],
    // a root other than park/ (the broker only hands park/ topics to ingest, but parseTopic must still refuse)
    ['parks/demo/b01/energy/m01', /park\/\{park\}/],
    ['Park/demo/b01/energy/m01', /park\/\{park\}/],
    ['', /park\/\{park\}/],
    // bad ids
    ['park/Demo/b01/energy/m01', /^park "Demo"/],
    ['park/demo/B01/energy/m01', /^building "B01"/],
    ['park/demo/b01/energy/M01', /^sensor "M01"/],
    ['park//b01/energy/m01', /^park ""/],
    ['park/demo//energy/m01', /^building ""/],
    ['park/demo/b01/energy/', /^sensor ""/],
    ['park/_demo/b01/energy/m01', /^park "_demo"/],
    ['park/demo/-b01/energy/m01', /^building "-b01"/],
    ['park/demo/b 01/energy/m01', /^building "b 01"/],
    ['park/demo/b.01/energy/m01', /^building "b.01"/],
    ['park/démo/b01/energy/m01', /^park "démo"/],
    [`park/${id65}/b01/energy/m01`, /^park "a{65}" must match/],
    [`park/demo/${id65}/energy/m01`, /^building "a{65}" must match/],
    [`park/demo/b01/energy/${id65}`, /^sensor "a{65}" must match/],
    // bad kinds
    ['park/demo/b01/Energy/m01', /^kind "Energy" must be one of energy, carbon, occupancy/],
    ['park/demo/b01/water/m01', /^kind "water"/],
    ['park/demo/b01/+/m01', /^kind "\+"/],
    ['park/demo/b01//m01', /^kind ""/],
  ])('refuses %j', (topic, detail) => {
    const r = parseTopic(topic);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail).toMatch(detail);
  });

  it('keeps the detail of a huge level short', () => {
    const r = parseTopic(`park/${'x'.repeat(100_000)}/b01/energy/m01`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail.length).toBeLessThan(200);
  });

  it('round-trips with sensorTopic', () => {
    const address = { park: 'demo', building: 'b07', kind: 'carbon' as const, sensor: 'c02' };
    expect(sensorTopic(address)).toBe('park/demo/b07/carbon/c02');
    expect(parseTopic(sensorTopic(address))).toEqual({ ok: true, address });
  });

  it('ID_PATTERN is the contract rule', () => {
    expect(ID_PATTERN.source).toBe('^[a-z0-9][a-z0-9_-]{0,63}$');
  });
});
