/**
 * The files the simulator reads: park models and a credentials file. Errors
 * name the file, the JSON path inside it and the fix (style: errors carry
 * their context).
 */
import * as fs from 'node:fs';
import { duplicateParkIds, jsonSyntaxErrorText, ParkModel, parkModelFailureText, parseJsonText, parseParkModel } from '@park/telemetry';
import { Scenario } from '@park/park-sim';

/** A problem with the simulator's inputs; the command prints it and exits 2. */
export class SimInputError extends Error {}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SimInputError(`${what} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Reads and validates park models (contract §4) with the same loader as the
 * gateway. Throws a SimInputError naming the file and the line and column,
 * or every problem's JSON path.
 */
export function loadParkModels(files: readonly string[]): ParkModel[] {
  const loaded = files.map((file) => {
    const parsed = parseParkModel(readText(file, 'park model'));
    if (!parsed.ok) throw new SimInputError(parkModelFailureText(file, parsed));
    return { source: file, model: parsed.model };
  });
  const [dup] = duplicateParkIds(loaded);
  if (dup) throw new SimInputError(`park model ${dup.source}: $.id "${dup.id}" is also the id of ${dup.firstSource}; simulated parks need distinct ids`);
  return loaded.map((f) => f.model);
}

/** Reads `{"username": "...", "password": "..."}` (other keys are ignored). */
export function readCredentials(file: string): { username: string; password: string } {
  const json = parseJsonText(readText(file, 'credentials file'));
  if (!json.ok) throw new SimInputError(`credentials file ${file}: ${jsonSyntaxErrorText(json.error)}`);
  const doc = json.value as Record<string, unknown>;
  for (const key of ['username', 'password']) {
    if (typeof doc?.[key] !== 'string' || (doc[key] as string).length === 0) {
      throw new SimInputError(`credentials file ${file}: $.${key} must be a non-empty string; expected {"username": "...", "password": "..."} as printed by npm run credentials -- add --json`);
    }
  }
  return { username: doc.username as string, password: doc.password as string };
}

/** Checks that every scenario names a building of a simulated park. */
export function checkScenarioTargets(scenarios: readonly Scenario[], parks: readonly ParkModel[]): void {
  for (const s of scenarios) {
    const found = parks.some((p) => (s.park === undefined || s.park === p.id) && p.buildings.some((b) => b.id === s.building));
    if (!found) {
      const ids = parks.map((p) => `${p.id}: ${p.buildings.map((b) => b.id).join(' ')}`).join('; ');
      throw new SimInputError(`--scenario ${s.kind}:${s.park ? `${s.park}/` : ''}${s.building}: no such building in the simulated park(s) (${ids})`);
    }
  }
}
