/**
 * Anomalies for the trends alarms (contract §8; docs/trends.md measures
 * their detection): scenario kinds that change what a building draws or
 * what one of its meters says, over a span of the run.
 *
 * | kind | effect |
 * |---|---|
 * | stuck | the building's first grid meter keeps sending the same `energy_kwh` (its register is stuck) while its power and the building's load go on |
 * | creep | base-load creep: the building draws an extra CREEP_SHARE_PER_DAY (4 %) × contractedKw for every day since the span began, day and night |
 * | peak | a planned peak: on weekdays 14:00–16:00 park time the building draws PLANNED_PEAK_SHARE × contractedKw |
 *
 * Kept apart from the physics (load-profiles.ts) and the stream faults
 * (faults.ts): the simulator asks these functions and changes nothing else.
 */
import { BuildingModel } from '@park/telemetry';
import { dayKind, localHour, ParkLocalTime, SHANGHAI_TIME } from './load-profiles';
import { Scenario, scenarioActive } from './scenarios';

/** Extra base load per day of creep, share of contractedKw (4 %/day: chillers, compressors or heaters left running, one more each day). */
export const CREEP_SHARE_PER_DAY = 0.04;
/** A planned peak's demand, share of contractedKw (above the 90 % of the demand rules). */
export const PLANNED_PEAK_SHARE = 0.97;
/** Local hours of the planned peak, weekdays. */
export const PLANNED_PEAK_FROM_H = 14;
export const PLANNED_PEAK_TO_H = 16;

const DAY_MS = 86_400_000;

/** Whether the planned-peak hours hold at `tMs` (weekday, 14:00–16:00 park time: `zone`, the model's time zone). */
export function plannedPeakHours(tMs: number, zone: ParkLocalTime = SHANGHAI_TIME): boolean {
  const h = localHour(tMs, zone);
  return dayKind(tMs, zone) === 'weekday' && h >= PLANNED_PEAK_FROM_H && h < PLANNED_PEAK_TO_H;
}

/**
 * A building's gross load with the `creep` and `peak` anomalies applied
 * (unchanged without them). `startMs`: the run's start, from which the
 * scenarios' seconds count.
 */
export function anomalyLoadKw(scenarios: readonly Scenario[], parkId: string, b: BuildingModel, startMs: number, tMs: number, grossKw: number, zone: ParkLocalTime = SHANGHAI_TIME): number {
  if (scenarios.length === 0) return grossKw;
  let kw = grossKw;
  for (const s of scenarios) {
    if (s.kind !== 'creep' || s.building !== b.id || (s.park !== undefined && s.park !== parkId)) continue;
    const fromMs = startMs + s.fromS * 1000;
    if (tMs >= fromMs && tMs < startMs + s.toS * 1000) kw += (CREEP_SHARE_PER_DAY * b.contractedKw * (tMs - fromMs)) / DAY_MS;
  }
  if (plannedPeakHours(tMs, zone) && scenarioActive(scenarios, 'peak', parkId, b.id, startMs, tMs)) kw = Math.max(kw, PLANNED_PEAK_SHARE * b.contractedKw);
  return kw;
}

/** The meter a `stuck` anomaly sticks: the building's first grid meter. */
export function stuckMeterOf(b: BuildingModel): string | undefined {
  return b.sensors.find((s) => s.kind === 'energy' && (s.source ?? 'grid') === 'grid')?.id;
}

/**
 * The register a meter sends at `tMs`: while a `stuck` anomaly holds for
 * its building and it is the stuck meter, the value it sent when the
 * anomaly began (`frozen` remembers it per sensor key); else its true
 * register. The meter's internal count goes on, so the register jumps when
 * the anomaly ends, as a real one that was stuck on the bus does.
 */
export function stuckRegister(
  frozen: Map<number, number>,
  scenarios: readonly Scenario[],
  parkId: string,
  b: BuildingModel,
  sensorId: string,
  sensorKey: number,
  startMs: number,
  tMs: number,
  trueValue: number,
): number {
  if (scenarios.length === 0 || sensorId !== stuckMeterOf(b) || !scenarioActive(scenarios, 'stuck', parkId, b.id, startMs, tMs)) {
    frozen.delete(sensorKey);
    return trueValue;
  }
  const v = frozen.get(sensorKey);
  if (v !== undefined) return v;
  frozen.set(sensorKey, trueValue);
  return trueValue;
}
