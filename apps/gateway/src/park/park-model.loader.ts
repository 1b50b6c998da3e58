import * as fs from 'node:fs';
import { duplicateParkIds, indexPark, ParkIndex, ParkModel, parkModelFailureText, parseParkModel } from '@park/telemetry';
import { ConfigError } from '../config/gateway-config';

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
  const parsed = parseParkModel(text);
  if (!parsed.ok) throw new ConfigError(parkModelFailureText(file, parsed));
  return parsed.model;
}

/** Loads every configured file; park ids must be unique across them. */
export function loadParks(files: string[]): ParkIndex[] {
  const loaded = files.map((file) => ({ source: file, model: loadParkModel(file) }));
  const [dup] = duplicateParkIds(loaded);
  if (dup) {
    throw new ConfigError(`park model ${dup.source}: $.id "${dup.id}" is already used by ${dup.firstSource}; every park served must have its own id`);
  }
  return loaded.map(({ model }) => indexPark(model));
}
