/**
 * Scenario overrides: conditions a test wants to provoke on purpose (an
 * overloaded building, stale air, a crowd, a building gone silent), so that
 * the gateway's alarms (contract §6) can be exercised on demand.
 */
import { ID_PATTERN } from '@park/telemetry';

export const SCENARIO_KINDS = ['overload', 'co2', 'crowding', 'silent', 'stuck', 'creep', 'peak'] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

/** What each scenario does, for `--help` and the docs. */
export const SCENARIO_EFFECTS: Record<ScenarioKind, string> = {
  overload: 'grid import of the building ~130 % of contractedKw (demand alarm: critical)',
  co2: 'indoor CO2 of the building ~1800 ppm (co2 alarm: critical)',
  crowding: 'people in the building ~1.3 × capacity (crowding alarm: critical)',
  silent: 'no sensor of the building publishes (offline alarm); registers keep counting',
  stuck: "the building's first grid meter repeats its energy_kwh (stuck register) while its power goes on (stuck_meter alarm)",
  creep: 'base-load creep: +4 % of contractedKw of extra load per day since the start of the span (baseload alarm)',
  peak: 'a planned peak: weekdays 14:00-16:00 at 97 % of contractedKw (demand_forecast alarm ahead of it)',
};

/** One override, active on [fromS, toS) simulated seconds after the run's start. */
export interface Scenario {
  kind: ScenarioKind;
  /** Park id when given as `park/building`; any park otherwise. */
  park?: string;
  building: string;
  fromS: number;
  toS: number;
}

/**
 * Parses `kind:building[@from-to]` items (repeatable, or comma-separated in
 * one argument). `building` may be `park/building` when several parks run.
 * `from`/`to` are simulated seconds since the start; either may be left out.
 */
export function parseScenarios(specs: string[]): { ok: true; scenarios: Scenario[] } | { ok: false; error: string } {
  const scenarios: Scenario[] = [];
  for (const item of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9]+):([^@]+)(?:@(.*))?$/.exec(item);
    if (!m) return { ok: false, error: `--scenario: "${item}" must be <kind>:<building>[@<from>-<to>], e.g. overload:b01@60-600` };
    const [, kind, target, range] = m;
    if (!(SCENARIO_KINDS as readonly string[]).includes(kind)) {
      return { ok: false, error: `--scenario: unknown kind "${kind}" in "${item}"; use ${SCENARIO_KINDS.join(', ')}` };
    }
    const parts = target.split('/');
    if (parts.length > 2 || !parts.every((p) => ID_PATTERN.test(p))) {
      return { ok: false, error: `--scenario: "${target}" in "${item}" must be a building id or park/building` };
    }
    let fromS = 0;
    let toS = Infinity;
    if (range !== undefined) {
      const r = /^(\d+(?:\.\d+)?)?-(\d+(?:\.\d+)?)?$/.exec(range);
      if (!r || (r[1] === undefined && r[2] === undefined)) {
        return { ok: false, error: `--scenario: "@${range}" in "${item}" must be @<from>-<to> in simulated seconds since the start, e.g. @60-600 or @300-` };
      }
      fromS = r[1] === undefined ? 0 : Number(r[1]);
      toS = r[2] === undefined ? Infinity : Number(r[2]);
      if (toS <= fromS) return { ok: false, error: `--scenario: in "${item}" the end ${toS} s must be after the start ${fromS} s` };
    }
    const [park, building] = parts.length === 2 ? parts : [undefined, parts[0]];
    scenarios.push({ kind: kind as ScenarioKind, ...(park ? { park } : {}), building, fromS, toS });
  }
  return { ok: true, scenarios };
}

/** Whether a scenario of `kind` holds for a building at `tMs`. */
export function scenarioActive(
  scenarios: readonly Scenario[],
  kind: ScenarioKind,
  parkId: string,
  buildingId: string,
  startMs: number,
  tMs: number,
): boolean {
  const s = (tMs - startMs) / 1000;
  return scenarios.some(
    (c) => c.kind === kind && c.building === buildingId && (c.park === undefined || c.park === parkId) && s >= c.fromS && s < c.toS,
  );
}
