import * as fs from 'node:fs';
import { indexPark, ParkIndex, ParkModel, validateParkModel } from '@park/telemetry';
import { ConfigError } from '../config/gateway-config';

/**
 * Offset of the first JSON syntax error in `text`, or -1. Node 20's V8 leaves
 * the position out of the commonest JSON.parse messages ("Unexpected token
 * ']', ... is not valid JSON" for a trailing comma, "Unexpected end of JSON
 * input"), so the loader finds it itself. Runs only on a file JSON.parse
 * already refused.
 */
function syntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (s: string) => {
    if (!text.startsWith(s, i)) fail();
    i += s.length;
  };
  const token = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail();
    i = re.lastIndex;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const ESCAPE = /["\\/bfnrt]|u[0-9a-fA-F]{4}/y;
  const string = () => {
    literal('"');
    for (;;) {
      const c = text.charCodeAt(i);
      if (i >= text.length || c < 0x20) fail();
      i++;
      if (c === 0x22) return;
      if (c === 0x5c) token(ESCAPE);
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          string();
          ws();
          literal(':');
        }
        value();
        ws();
        if (text[i] === close) return void i++;
        literal(',');
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else token(NUMBER);
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return -1;
  } catch (e) {
    return typeof e === 'number' ? e : -1; // a RangeError: nesting too deep to scan
  }
}

/** Line and column of a JSON.parse error position, for the error message. */
function lineCol(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  const pos = m ? Number(m[1]) : syntaxErrorOffset(text);
  if (pos < 0) return '';
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
