import { isValidFilter, isValidFilterForDevice, reachesProtectedTopics, topicMatches } from './topic-filter';

describe('topicMatches (MQTT 3.1.1 §4.7)', () => {
  it.each<[string, string, boolean]>([
    ['park/demo/b01/energy/m01', 'park/demo/b01/energy/m01', true],
    ['park/demo/b01/energy/m01', 'park/demo/b01/energy/m02', false],
    ['park/demo/b01/energy/m01', 'park/demo/b01/energy', false],
    ['park/demo/b01/energy', 'park/demo/b01/energy/m01', false],
    ['park/demo/b01/#', 'park/demo/b01/energy/m01', true],
    ['park/demo/b01/#', 'park/demo/b01', true], // '#' also matches the parent level
    ['park/demo/b01/#', 'park/demo/b012/energy/m01', false],
    ['park/demo/b01/#', 'park/demo/b02/energy/m01', false],
    ['park/demo/#', 'park/other/b01/energy/m01', false],
    ['#', 'park/demo/b01/energy/m01', true],
    ['#', 'anything', true],
    ['park/demo/+/energy/+', 'park/demo/b07/energy/m03', true],
    ['park/demo/+/energy/+', 'park/demo/b07/carbon/c01', false],
    ['park/demo/+/energy/+', 'park/demo/b07/energy', false],
    ['park/demo/+/energy/+', 'park/demo/b07/energy/m03/x', false],
    ['park/+/+/+/+', 'park/demo/b01/energy/m01', true],
    ['park/+', 'park/', true], // '+' matches an empty level
    ['park/+/b01/#', 'park/demo/b01/occupancy/o01', true],
    ['+/demo/b01/energy/m01', 'park/demo/b01/energy/m01', true],
    ['Park/demo/b01/energy/m01', 'park/demo/b01/energy/m01', false], // case-sensitive
    ['park/demo/b01/energy/m01/', 'park/demo/b01/energy/m01', false],
    ['park/demo/b01/#/x', 'park/demo/b01/energy/m01', false], // '#' not last: matches nothing
  ])('%s ~ %s is %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('isValidFilter (MQTT 3.1.1 §4.7.1)', () => {
  it.each<[string, boolean]>([
    ['park/demo/b01/energy/m01', true],
    ['park/demo/b01/#', true],
    ['park/+/+/energy/+', true],
    ['#', true],
    ['+', true],
    ['/', true],
    ['park//x', true],
    ['', false],
    ['park/#/x', false],
    ['park/demo#', false],
    ['park/de+mo', false],
    ['park/++', false],
    ['park/##', false],
    ['#/park', false],
    ['x'.repeat(65535), true],
    ['x'.repeat(65536), false],
  ])('%j is %s', (filter, expected) => {
    expect(isValidFilter(filter)).toBe(expected);
  });
});

describe('reachesProtectedTopics (devices may not read telemetry or broker internals)', () => {
  it.each<[string, boolean]>([
    ['park/#', true],
    ['park/demo/b01/energy/m01', true],
    ['park', true],
    ['#', true],
    ['+/demo/#', true],
    ['+', true],
    ['$SYS/#', true],
    ['$SYS/broker/clients', true],
    ['$share/g/park/#', true],
    ['$share/g/#', true],
    ['$share/g/$SYS/#', true],
    ['$share/g/cmd/b01', false],
    ['cmd/demo/b01/#', false],
    ['devices/m01/config', false],
    ['parking/lot', false],
    ['/park/#', false],
  ])('%s is %s', (filter, expected) => {
    expect(reachesProtectedTopics(filter)).toBe(expected);
  });
});

describe('isValidFilterForDevice', () => {
  it.each<[string, string | undefined]>([
    ['park/demo/b01/energy/m01', undefined],
    ['park/demo/b01/#', undefined],
    ['park/demo/+/energy/+', undefined],
    ['park/demo/#', undefined],
    ['park/#', 'a device credential must name its park (park/<park>/...)'],
    ['park/+/b01/#', 'a device credential must name its park (park/<park>/...)'],
    ['#', 'telemetry filters start with park/{park}/'],
    ['other/demo', 'telemetry filters start with park/{park}/'],
    ['park', 'telemetry filters start with park/{park}/'],
    ['$SYS/x', 'devices may not publish to $-topics'],
    ['park/demo/#/x', 'not a valid MQTT topic filter'],
    ['', 'not a valid MQTT topic filter'],
  ])('%j → %s', (filter, why) => {
    expect(isValidFilterForDevice(filter)).toBe(why);
  });
});
