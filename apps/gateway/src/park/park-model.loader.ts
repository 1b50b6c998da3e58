import * as fs from 'node:fs';
import { indexPark, ParkIndex, ParkModel, validateParkModel } from '@park/telemetry';
import { ConfigError } from '../config/gateway-config';

/** Line and column of a JSON.parse error position, for the error message. */
function lineCol(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return ` at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * Reads and validates one park model file (contract §4). A bad file throws a
 * ConfigError naming the file, the JSON path inside it and the problem.
 */
export function loadParkModel(file: string): ParkModel {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`park model ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set PARK_MODEL to an existing file or unset it for the bundled demo park`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`park model ${file}: is not valid JSON${lineCol(text, (e as Error).message)}: ${(e as Error).message}`);
  }
  const problems = validateParkModel(doc);
  if (problems.length > 0) {
    const list = problems.slice(0, 20).map((p) => `  - ${p.path}: ${p.message}`).join('\n');
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    throw new ConfigError(`park model ${file}: ${problems.length} problem(s) against the park model schema (libs/telemetry/src/lib/park-model.schema.json):\n${list}${more}`);
  }
  return doc as ParkModel;
}

/** Loads every configured file; park ids must be unique across them. */
export function loadParks(files: string[]): ParkIndex[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    const model = loadParkModel(file);
    const other = seen.get(model.id);
    if (other) {
      throw new ConfigError(`park model ${file}: $.id "${model.id}" is already used by ${other}; every park served must have its own id`);
    }
    seen.set(model.id, file);
    return indexPark(model);
  });
}
