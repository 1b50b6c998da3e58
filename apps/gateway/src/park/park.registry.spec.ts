import { indexPark } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import { ParkRegistry } from './park.registry';

const T0 = Date.parse('2026-11-27T08:00:00Z');

describe('ParkRegistry', () => {
  it('serves the parks it was given', () => {
    const reg = new ParkRegistry([indexPark(testPark('a')), indexPark(testPark('b'))]);
    expect(reg.all().map((p) => p.model.id)).toEqual(['a', 'b']);
    expect(reg.get('b')?.model.id).toBe('b');
    expect(reg.get('c')).toBeUndefined();
  });

  it('looks sensors up by building and id', () => {
    const reg = new ParkRegistry([indexPark(testPark())]);
    const park = reg.get('tp')!;
    expect(reg.sensor(park, 'b1', 'pv1')).toMatchObject({ kind: 'energy', source: 'pv' });
    expect(reg.sensor(park, 'b2', 'pv1')).toBeUndefined();
    expect(reg.sensor(park, 'b9', 'm1')).toBeUndefined();
  });

  it('tallies unregistered sensors with first and last sighting (contract §4)', () => {
    const reg = new ParkRegistry([indexPark(testPark())]);
    expect(reg.unregisteredSensors()).toEqual([]);
    reg.noteUnregistered('tp', 'b1', 'energy', 'm9', 2, T0);
    reg.noteUnregistered('tp', 'b2', 'carbon', 'x', 1, T0 + 1000);
    reg.noteUnregistered('tp', 'b1', 'energy', 'm9', 3, T0 + 5000);
    expect(reg.unregisteredSensors()).toEqual([
      { park: 'tp', building: 'b1', kind: 'energy', sensor: 'm9', readings: 5, firstSeen: '2026-11-27T08:00:00.000Z', lastSeen: '2026-11-27T08:00:05.000Z' },
      { park: 'tp', building: 'b2', kind: 'carbon', sensor: 'x', readings: 1, firstSeen: '2026-11-27T08:00:01.000Z', lastSeen: '2026-11-27T08:00:01.000Z' },
    ]);
  });

  it('finding 9: admits at most 1000 distinct unregistered sensors per park; known ones keep counting, other parks have their own room', () => {
    const reg = new ParkRegistry([indexPark(testPark()), indexPark(testPark('other'))]);
    const admitted = Array.from({ length: 1200 }, (_, i) => reg.noteUnregistered('tp', 'b1', 'energy', `x${i}`, 1, T0));
    expect(admitted.filter(Boolean)).toHaveLength(1000);
    expect(admitted.slice(0, 1000).every(Boolean)).toBe(true);
    expect(reg.noteUnregistered('tp', 'b1', 'energy', 'x0', 4, T0)).toBe(true);
    // the same id under another kind is another series
    expect(reg.noteUnregistered('tp', 'b1', 'carbon', 'x0', 1, T0)).toBe(false);
    expect(reg.noteUnregistered('other', 'b1', 'energy', 'x1000', 1, T0)).toBe(true);
    const list = reg.unregisteredSensors();
    expect(list).toHaveLength(1001);
    expect(list[0]).toMatchObject({ sensor: 'x0', readings: 5 });
    expect(list.some((s) => s.park === 'tp' && s.sensor === 'x1000')).toBe(false);
  });

  it.each([0, 3])('the cap is configurable (%i)', (max) => {
    const reg = new ParkRegistry([indexPark(testPark())], max);
    const admitted = Array.from({ length: 5 }, (_, i) => reg.noteUnregistered('tp', 'b1', 'energy', `x${i}`, 1, T0));
    expect(admitted).toEqual([0, 1, 2, 3, 4].map((i) => i < max));
  });

  it('lists sensors stamped ahead of the clock, with how far (contract §8)', () => {
    const reg = new ParkRegistry([indexPark(testPark())]);
    reg.noteSkewed('tp', 'b1', 'c1', 290_000, T0);
    reg.noteSkewed('tp', 'b1', 'c1', 1_000, T0 + 1000);
    expect(reg.skewedSensors()).toEqual([{ park: 'tp', building: 'b1', sensor: 'c1', readings: 2, lastAheadMs: 1000, maxAheadMs: 290_000, lastSeen: '2026-11-27T08:00:01.000Z' }]);
  });

  it('counts each implausible register step once, however often its windows are derived (contract §8)', () => {
    const reg = new ParkRegistry([indexPark(testPark())]);
    expect(reg.noteImplausible('tp', 'b1', 'm1', 'energy_kwh', T0, 1.7e308, 2.8)).toBe(true);
    expect(reg.noteImplausible('tp', 'b1', 'm1', 'energy_kwh', T0, 1.7e308, 2.8)).toBe(false);
    expect(reg.noteImplausible('tp', 'b1', 'm1', 'energy_kwh', T0 + 10_000, 1.7e308, 2.8)).toBe(true);
    expect(reg.implausibleSensors()).toEqual([
      { park: 'tp', building: 'b1', sensor: 'm1', field: 'energy_kwh', steps: 2, last: { t: '2026-11-27T08:00:10.000Z', increase: 1.7e308, limit: 2.8 } },
    ]);
  });
});
