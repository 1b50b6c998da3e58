import { MIN, T0 } from '../testing/readings.fixture';
import { alarmEpisodes, lateAlarms } from './late-alarms';
import { Alarm, AlarmRule, Severity } from './vital-signs';

const at = (m: number) => T0 + m * MIN;
const a = (state: Alarm['state'], m: number, severity: Severity = 'warn', rule: AlarmRule = 'demand', building = 'b1'): Alarm => ({
  parkId: 'tp', building, rule, severity, state, value: 1, threshold: 1, message: '', tsMs: at(m),
});
const brief = (x: Alarm) => `${x.building}/${x.rule}:${x.severity}:${x.state}@${(x.tsMs - T0) / MIN}${x.late ? ' late' : ''}`;

describe('alarmEpisodes', () => {
  it('pairs raises and clears per building, rule and severity; open ones have no clear', () => {
    const eps = alarmEpisodes([a('raised', -5, 'warn', 'offline')], [
      a('cleared', 2, 'warn', 'offline'), a('raised', 3), a('cleared', 4), a('cleared', 7, 'critical'), a('raised', 8),
    ]);
    expect(eps.map((e) => `${brief(e.raised)} .. ${e.cleared ? brief(e.cleared) : 'open'}`)).toEqual([
      'b1/offline:warn:raised@-5 .. b1/offline:warn:cleared@2',
      'b1/demand:warn:raised@3 .. b1/demand:warn:cleared@4',
      'b1/demand:warn:raised@8 .. open',
    ]);
  });
});

describe('lateAlarms (contract §8: alarms found in re-derived windows)', () => {
  it.each<[string, Alarm[], Alarm[], Alarm[], string[], string[]]>([
    [
      'a peak the live derivation missed (its meter was buffering): raised and cleared late',
      [], [a('raised', 1, 'warn', 'offline'), a('cleared', 9, 'warn', 'offline')], [a('raised', 3), a('cleared', 6)],
      ['b1/demand:warn:raised@3 late', 'b1/demand:warn:cleared@6 late'], [],
    ],
    [
      'the same episode as the live one, at the same time: nothing new',
      [], [a('raised', 3), a('cleared', 6)], [a('raised', 3), a('cleared', 6)], [], [],
    ],
    [
      'the same episode found a window earlier than live raised it: not a second raise',
      [], [a('raised', 4), a('cleared', 6)], [a('raised', 3), a('cleared', 6)], [], [],
    ],
    [
      'an episode that ends where the live one begins (live saw its load smeared into the next window): no window in common, both stand',
      [], [a('raised', 6, 'critical')], [a('raised', 3, 'critical'), a('cleared', 6, 'critical')],
      ['b1/demand:critical:raised@3 late', 'b1/demand:critical:cleared@6 late'], [],
    ],
    [
      'an episode that still holds at the range end: for the live derivation to take over',
      [], [], [a('raised', 3)], [], ['b1/demand:warn:raised@3 late'],
    ],
    [
      'still holding, and live raised it later (it went on past the range): a duplicate, dropped',
      [], [a('raised', 12)], [a('raised', 3)], [], [],
    ],
    [
      'an alarm active at the start that storage still holds but the windows end: its end (see `ended`), then a new episode is new',
      [a('raised', -2)], [], [a('cleared', 1), a('raised', 4), a('cleared', 5)],
      ['b1/demand:warn:raised@4 late', 'b1/demand:warn:cleared@5 late'], [],
    ],
    [
      'once the stored alarm was cleared, a new episode is new',
      [a('raised', -2)], [a('cleared', 2)], [a('cleared', 1), a('raised', 4), a('cleared', 5)],
      ['b1/demand:warn:raised@4 late', 'b1/demand:warn:cleared@5 late'], [],
    ],
    [
      'a change of severity: only the part live did not have, in order (clear before raise at one time)',
      [], [a('raised', 5, 'critical'), a('cleared', 8, 'critical')],
      [a('raised', 2), a('cleared', 5), a('raised', 5, 'critical'), a('cleared', 8, 'critical')],
      ['b1/demand:warn:raised@2 late', 'b1/demand:warn:cleared@5 late'], [],
    ],
    [
      'other buildings and rules are separate',
      [], [a('raised', 3, 'warn', 'co2')], [a('raised', 3, 'warn', 'co2'), a('raised', 3, 'warn', 'co2', 'b2'), a('cleared', 4, 'warn', 'co2', 'b2')],
      ['b2/co2:warn:raised@3 late', 'b2/co2:warn:cleared@4 late'], [],
    ],
  ])('%s', (_name, initial, stored, recomputed, closed, open) => {
    const got = lateAlarms(initial, stored, recomputed);
    expect(got.closed.map(brief)).toEqual(closed);
    expect(got.open.map(brief)).toEqual(open);
  });

  it.each<[string, Alarm[], Alarm[], Alarm[], string[]]>([
    [
      'an alarm active at the start that the windows show ending, storage not: its clear, late (a gap no gateway derived)',
      [a('raised', -2)], [], [a('cleared', 3)], ['b1/demand:warn:cleared@3 late'],
    ],
    [
      'storage cleared it already (live): nothing',
      [a('raised', -2)], [a('cleared', 6)], [a('cleared', 3)], [],
    ],
    [
      'still holding by the re-derivation too: nothing',
      [a('raised', -2)], [], [], [],
    ],
  ])('%s', (_name, initial, stored, recomputed, ended) => {
    const got = lateAlarms(initial, stored, recomputed);
    expect(got.ended.map(brief)).toEqual(ended);
    expect(got.closed).toEqual([]);
    expect(got.open).toEqual([]);
  });
});
