import { energy, people, rd, tpIndex } from '../testing/readings.fixture';
import { parkLayout, slotOf } from './park-layout';

const layout = parkLayout(tpIndex());

describe('park layout', () => {
  it('groups each building sensors by role, in model order', () => {
    expect(layout.sensors.map((s) => `${s.building}/${s.model.id}`)).toEqual(['b1/m1', 'b1/pv1', 'b1/c1', 'b1/o1', 'b2/m1', 'b2/boiler', 'b2/o1']);
    expect(layout.buildings.map((b) => [b.grid, b.pv, b.carbon, b.occupancy])).toEqual([
      [[0], [1], [2], [3]],
      [[4], [], [5], [6]],
    ]);
    expect(layout.grid).toEqual([0, 4]);
    expect(layout.sensors[4].source).toBe('grid'); // b2/m1 has no source in the model: grid by default (contract §4)
    expect(layout.sensors[2].limitMs).toBe(180_000);
  });

  it('finds the model sensor of a reading, and none for what the model does not list', () => {
    expect(slotOf(layout, energy('b2', 'm1', 0, { powerKw: 1 }))?.index).toBe(4);
    expect(slotOf(layout, energy('b2', 'm9', 0, { powerKw: 1 }))).toBeUndefined(); // unregistered
    expect(slotOf(layout, energy('b9', 'm1', 0, { powerKw: 1 }))).toBeUndefined(); // unknown building
    expect(slotOf(layout, rd('b2', 'm1', 'energy', 0, { powerKw: 1 }, 'other'))).toBeUndefined(); // other park
    expect(slotOf(layout, people('b2', 'm1', 0, 3))).toBeUndefined(); // the model says m1 is an energy meter
  });
});
