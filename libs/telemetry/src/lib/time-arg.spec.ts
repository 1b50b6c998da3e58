import { parseTimeArg } from './time-arg';

const NOW = Date.parse('2025-11-26T10:00:00Z');

describe('parseTimeArg', () => {
  it.each([
    ['now', NOW],
    ['-2h', NOW - 7_200_000],
    ['-10m', NOW - 600_000],
    ['-90s', NOW - 90_000],
    ['-1d', NOW - 86_400_000],
    ['+10m', NOW + 600_000],
    ['-1.5h', NOW - 5_400_000],
    ['1764201600000', 1_764_201_600_000],
    ['2025-11-27T00:00:00Z', Date.parse('2025-11-27T00:00:00Z')],
    ['2025-11-27T08:00:00+08:00', Date.parse('2025-11-27T00:00:00Z')],
  ])('%s', (arg, expected) => expect(parseTimeArg(arg, NOW)).toBe(expected));

  it.each(['yesterday', '-2x', '2h', '2025-13-45'])('%s is not a time', (arg) => expect(parseTimeArg(arg, NOW)).toBeNaN());
});
