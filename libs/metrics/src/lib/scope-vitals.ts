import { addCo2Readings, Co2Stats, countAt, emptyCo2Stats, onlineAt } from './occupancy';
import { ParkLayout } from './park-layout';
import { PowerMeter, peakKw } from './peak';
import { Series } from './reading-series';
import { ParkVitals, VitalSigns, Window } from './vital-signs';
import { windowHours } from './window';

/**
 * What a window's vital signs take from the readings besides the
 * cumulative quantities: these depend only on readings inside the window or
 * before its end, so they are final once the window closes.
 */
export interface BuildingSnapshot {
  peakKw: number;
  occupancy: number;
  co2: Co2Stats;
  online: number;
  total: number;
  /**
   * Sensors not heard from yet that need not have been: the park's data
   * began less than their silence limit before the window end (see
   * {@link offlineAlarmRatio}).
   */
  starting: number;
}

export interface WindowSnapshot {
  buildings: BuildingSnapshot[];
  parkPeakKw: number;
}

/**
 * Builds the snapshot function over a park's per-sensor series (indexed like
 * `layout.sensors`). `firstDataMs`: when the park's data began (the first
 * reading the derivation has), for {@link BuildingSnapshot.starting}.
 */
export function windowSnapshotter(layout: ParkLayout, series: readonly Series[], firstDataMs: () => number = () => -Infinity): (w: Window) => WindowSnapshot {
  const meter = (i: number): PowerMeter => ({ series: series[i], limitMs: layout.sensors[i].limitMs });
  const buildingMeters = layout.buildings.map((b) => b.grid.map(meter));
  const parkMeters = layout.grid.map(meter);
  return (w) => ({
    buildings: layout.buildings.map((b, bi): BuildingSnapshot => {
      let occupancy = 0;
      for (const i of b.occupancy) occupancy += countAt(series[i], w.endMs, layout.sensors[i].limitMs);
      const co2 = emptyCo2Stats();
      for (const i of b.carbon) addCo2Readings(co2, series[i], w);
      let online = 0;
      let starting = 0;
      const first = firstDataMs();
      for (const i of b.sensors) {
        const s = series[i];
        if (onlineAt(s, w.endMs, layout.sensors[i].limitMs)) online++;
        else if (first < w.endMs && w.endMs - first <= layout.sensors[i].limitMs && !(s.length > 0 && s[0].tsMs < w.endMs)) starting++;
      }
      return { peakKw: peakKw(buildingMeters[bi], w), occupancy, co2, online, total: b.sensors.length, starting };
    }),
    parkPeakKw: peakKw(parkMeters, w),
  });
}

interface ScopeTotals {
  energyKwh: number;
  pvKwh: number;
  emissionKg: number;
  peakKw: number;
  occupancy: number;
  capacity: number;
  co2: Co2Stats;
  online: number;
  total: number;
}

/** Contract §6 formulas for one scope. `status` is left `ok` for the alarm evaluator to set. */
function vitalSignsOf(t: ScopeTotals, hours: number, emissionFactor: number): VitalSigns {
  const v = {} as VitalSigns;
  v.energy_kwh = t.energyKwh;
  v.pv_kwh = t.pvKwh;
  v.load_kw = t.energyKwh / hours;
  v.peak_kw = t.peakKw;
  // Shares are never negative, so the sum is 0 exactly when both are 0.
  const supplied = t.energyKwh + t.pvKwh;
  if (supplied > 0) v.renewable_share = t.pvKwh / supplied;
  v.carbon_kgco2e = t.energyKwh * emissionFactor + t.emissionKg;
  v.occupancy = t.occupancy;
  if (t.capacity > 0) v.occupancy_rate = t.occupancy / t.capacity;
  if (t.co2.n > 0) {
    v.co2_ppm_avg = t.co2.sumPpm / t.co2.n;
    v.co2_ppm_max = t.co2.maxPpm;
  }
  if (t.total > 0) v.online_ratio = t.online / t.total;
  v.status = 'ok';
  return v;
}

/**
 * The vital signs of every scope for one window, from the per-sensor
 * cumulative shares in the window (kWh for meters, kg CO2e for carbon
 * sensors, indexed like `layout.sensors`) and the window's snapshot. Sums run
 * in model order, so the same inputs give bit-identical results live and in
 * a recompute.
 */
export function assembleVitals(layout: ParkLayout, w: Window, shares: ArrayLike<number>, snap: WindowSnapshot): ParkVitals {
  const hours = windowHours(w);
  const ef = layout.index.emissionFactor;
  const park: ScopeTotals = {
    energyKwh: 0, pvKwh: 0, emissionKg: 0, peakKw: snap.parkPeakKw, occupancy: 0,
    capacity: 0, co2: emptyCo2Stats(), online: 0, total: 0,
  };
  const buildings: Record<string, VitalSigns> = {};
  layout.buildings.forEach((b, bi) => {
    const s = snap.buildings[bi];
    let energyKwh = 0;
    for (const i of b.grid) energyKwh += shares[i];
    let pvKwh = 0;
    for (const i of b.pv) pvKwh += shares[i];
    let emissionKg = 0;
    for (const i of b.carbon) emissionKg += shares[i];
    const t: ScopeTotals = {
      energyKwh, pvKwh, emissionKg, peakKw: s.peakKw, occupancy: s.occupancy,
      capacity: b.model.capacity, co2: s.co2, online: s.online, total: s.total,
    };
    buildings[b.id] = vitalSignsOf(t, hours, ef);
    park.energyKwh += energyKwh;
    park.pvKwh += pvKwh;
    park.emissionKg += emissionKg;
    park.occupancy += s.occupancy;
    park.capacity += b.model.capacity;
    park.co2.sumPpm += s.co2.sumPpm;
    park.co2.n += s.co2.n;
    if (s.co2.maxPpm > park.co2.maxPpm) park.co2.maxPpm = s.co2.maxPpm;
    park.online += s.online;
    park.total += s.total;
  });
  return { parkId: layout.parkId, window: { startMs: w.startMs, endMs: w.endMs }, park: vitalSignsOf(park, hours, ef), buildings };
}

/**
 * Where the contract is silent (issue 11, no false alarms on start): the
 * share of sensors online that the `offline` alarm judges. When a park's
 * data begins (a first deployment, the first readings after its whole
 * history), each sensor reports for the first time at its own phase within
 * its interval; one not heard from yet, whose silence limit has not passed
 * since the data began, is starting, not offline. `online_ratio` itself
 * stays as contract §6 defines it. Per building id: the ratio over the
 * sensors that are not starting (undefined when all are), for the buildings
 * that have starting sensors.
 */
export function offlineAlarmRatio(layout: ParkLayout, snap: WindowSnapshot): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  layout.buildings.forEach((b, bi) => {
    const s = snap.buildings[bi];
    if (s.starting > 0) out.set(b.id, s.total > s.starting ? s.online / (s.total - s.starting) : undefined);
  });
  return out;
}
