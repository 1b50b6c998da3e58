import { ParkLayout } from './park-layout';
import { latestOf, latestWith, Series } from './reading-series';
import { NowState } from './vital-signs';

/** The instantaneous state of a park: per building and for the whole park (contract §7, `now`). */
export interface NowSnapshot {
  park: NowState;
  buildings: Record<string, NowState>;
}

interface NowTotals {
  gridKw: number;
  pvKw: number;
  occupancy: number;
  co2Sum: number;
  co2N: number;
  online: number;
  total: number;
  skewed: number;
  latestTsMs: number;
}

const emptyTotals = (): NowTotals => ({
  gridKw: 0, pvKw: 0, occupancy: 0, co2Sum: 0, co2N: 0, online: 0, total: 0, skewed: 0, latestTsMs: -Infinity,
});

function nowStateOf(t: NowTotals): NowState {
  const s = { grid_kw: t.gridKw, pv_kw: t.pvKw, occupancy: t.occupancy } as NowState;
  if (t.co2N > 0) s.co2_ppm = t.co2Sum / t.co2N;
  s.sensors_online = t.online;
  s.sensors_total = t.total;
  if (t.skewed > 0) s.sensors_skewed = t.skewed;
  if (t.latestTsMs > -Infinity) s.latest_ts_ms = t.latestTsMs;
  return s;
}

/**
 * The state at `nowMs` from each sensor's latest readings (by event time):
 * `grid_kw`/`pv_kw` sum the latest `power_kw` of each meter (held whatever its
 * age, as the `NowState` type says; silence shows in `sensors_online`),
 * `occupancy` sums the latest counts of sensors not silent for more than
 * 3 × intervalS, `co2_ppm` is the mean of each CO2 sensor's latest value,
 * `sensors_online` applies the same silence rule at `nowMs`, and
 * `sensors_skewed` counts the sensors whose latest reading is stamped after
 * `nowMs` (a device clock ahead of the gateway's, contract §8).
 */
export function nowState(layout: ParkLayout, series: readonly Series[], nowMs: number): NowSnapshot {
  const park = emptyTotals();
  const buildings: Record<string, NowState> = {};
  for (const b of layout.buildings) {
    const t = emptyTotals();
    for (const i of b.sensors) {
      const slot = layout.sensors[i];
      const s = series[i];
      const last = latestOf(s);
      t.total++;
      if (!last) continue;
      if (last.tsMs > t.latestTsMs) t.latestTsMs = last.tsMs;
      if (nowMs - last.tsMs <= slot.limitMs) t.online++;
      if (last.tsMs > nowMs) t.skewed++;
      if (slot.kind === 'energy') {
        const p = latestWith(s, 'powerKw', Infinity)?.powerKw;
        if (p !== undefined) {
          if (slot.source === 'pv') t.pvKw += p;
          else t.gridKw += p;
        }
      } else if (slot.kind === 'carbon') {
        const c = latestWith(s, 'co2Ppm', Infinity)?.co2Ppm;
        if (c !== undefined) {
          t.co2Sum += c;
          t.co2N++;
        }
      } else {
        const c = latestWith(s, 'count', Infinity);
        if (c && nowMs - c.tsMs <= slot.limitMs) t.occupancy += c.count as number;
      }
    }
    buildings[b.id] = nowStateOf(t);
    park.gridKw += t.gridKw;
    park.pvKw += t.pvKw;
    park.occupancy += t.occupancy;
    park.co2Sum += t.co2Sum;
    park.co2N += t.co2N;
    park.online += t.online;
    park.total += t.total;
    park.skewed += t.skewed;
    if (t.latestTsMs > park.latestTsMs) park.latestTsMs = t.latestTsMs;
  }
  return { park: nowStateOf(park), buildings };
}
