/**
 * The files the simulator reads: park models and a credentials file. Errors
 * name the file, the JSON path inside it and the fix (style: errors carry
 * their context).
 */
import * as fs from 'node:fs';
import { ParkModel, validateParkModel } from '@park/telemetry';
import { Scenario } from './scenarios';

/** A problem with the simulator's inputs; the command prints it and exits 2. */
export class SimInputError extends Error {}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SimInputError(`${what} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1])).split('\n');
      where = ` at line ${before.length}, column ${before[before.length - 1].length + 1}`;
    }
    throw new SimInputError(`${what} ${file}: is not valid JSON${where}: ${(e as Error).message}`);
  }
}

/**
 * Reads and validates park models (contract §4). Throws a SimInputError
 * listing every problem as `file: $.json.path: message`.
 */
export function loadParkModels(files: readonly string[]): ParkModel[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    const doc = readJson(file, 'park model');
    const problems = validateParkModel(doc);
    if (problems.length > 0) {
      const list = problems.slice(0, 20).map((p) => `  ${file}: ${p.path}: ${p.message}`).join('\n');
      const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
      throw new SimInputError(`park model ${file} is invalid (schema: libs/telemetry/src/lib/park-model.schema.json):\n${list}${more}`);
    }
    const model = doc as ParkModel;
    const other = seen.get(model.id);
    if (other) throw new SimInputError(`park model ${file}: $.id "${model.id}" is also the id of ${other}; simulated parks need distinct ids`);
    seen.set(model.id, file);
    return model;
  });
}

/** Reads `{"username": "...", "password": "..."}` (other keys are ignored). */
export function readCredentials(file: string): { username: string; password: string } {
  const doc = readJson(file, 'credentials file') as Record<string, unknown>;
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
