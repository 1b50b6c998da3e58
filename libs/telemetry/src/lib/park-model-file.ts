/**
 * The one park model file loader (contract §4), without the file system:
 * text in, a validated model or located problems out. The gateway and the
 * simulator read the file themselves and turn a failure into their own
 * error type with `parkModelFailureText`, so both say the same thing.
 */
import { JsonSyntaxError, jsonSyntaxErrorText, parseJsonText } from './json-text';
import { ModelProblem, ParkModel, validateParkModel } from './park-model';

/** Where the published schema lives, for messages (a reader fixes the file against it). */
const SCHEMA_FILE = 'libs/telemetry/src/lib/park-model.schema.json';
/** Problems listed in a message; the rest are counted. */
const LISTED_PROBLEMS = 20;

export type ParkModelText =
  | { ok: true; model: ParkModel }
  /** Not JSON: where the syntax breaks. */
  | { ok: false; reason: 'bad_json'; syntax: JsonSyntaxError }
  /** JSON, but not a park model: every problem with its JSON path. */
  | { ok: false; reason: 'invalid'; problems: ModelProblem[] };

/** Parses and validates the text of a park model file. Never throws. */
export function parseParkModel(text: string): ParkModelText {
  const json = parseJsonText(text);
  if (!json.ok) return { ok: false, reason: 'bad_json', syntax: json.error };
  const problems = validateParkModel(json.value);
  if (problems.length > 0) return { ok: false, reason: 'invalid', problems };
  return { ok: true, model: json.value as ParkModel };
}

/**
 * The message for a park model file that failed to parse: the file
 * (`source`), the line and column or the JSON path of each problem (the
 * first 20, then how many more), and the schema to check it against.
 */
export function parkModelFailureText(source: string, failure: Exclude<ParkModelText, { ok: true }>): string {
  if (failure.reason === 'bad_json') return `park model ${source}: ${jsonSyntaxErrorText(failure.syntax)}`;
  const { problems } = failure;
  const list = problems.slice(0, LISTED_PROBLEMS).map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  const more = problems.length > LISTED_PROBLEMS ? `\n  ... and ${problems.length - LISTED_PROBLEMS} more` : '';
  return `park model ${source}: ${problems.length} problem(s) against the park model schema (${SCHEMA_FILE}):\n${list}${more}`;
}

/** A park id that a later file repeats. */
export interface DuplicateParkId {
  id: string;
  /** The file that repeats it. */
  source: string;
  /** The first file with this id. */
  firstSource: string;
}

/**
 * Park ids repeated across files, in file order (readings are routed by park
 * id, contract §2, so two models cannot share one).
 */
export function duplicateParkIds(files: ReadonlyArray<{ source: string; model: ParkModel }>): DuplicateParkId[] {
  const first = new Map<string, string>();
  const duplicates: DuplicateParkId[] = [];
  for (const { source, model } of files) {
    const firstSource = first.get(model.id);
    if (firstSource === undefined) first.set(model.id, source);
    else duplicates.push({ id: model.id, source, firstSource });
  }
  return duplicates;
}
