/** A place in a text: 1-based line and column (a column counts UTF-16 units). */
export interface TextPosition {
  line: number;
  column: number;
}

/** Why a text is not JSON, and where. */
export interface JsonSyntaxError {
  /** JSON.parse's own message. */
  message: string;
  /** The first character that cannot be JSON; absent only when the text nests too deep to scan. */
  at?: TextPosition;
}

export type JsonText = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError };

/**
 * Parses JSON text (a configuration file, a credentials file). Never throws:
 * a syntax error comes back with its line and column, so the message can
 * point at the place to fix.
 */
export function parseJsonText(text: string): JsonText {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const offset = m ? Number(m[1]) : syntaxErrorOffset(text);
    return { ok: false, error: offset < 0 ? { message } : { message, at: positionOf(text, offset) } };
  }
}

/** `is not valid JSON at line 3, column 22: <JSON.parse's message>`, for an error naming the file before it. */
export function jsonSyntaxErrorText(error: JsonSyntaxError): string {
  return `is not valid JSON${error.at ? ` at line ${error.at.line}, column ${error.at.column}` : ''}: ${error.message}`;
}

/** Line and column of a character offset in `text`. */
function positionOf(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/**
 * Offset of the first JSON syntax error in `text`, or -1. Node 20's V8 leaves
 * the position out of the commonest JSON.parse messages ("Unexpected token
 * ']', ... is not valid JSON" for a trailing comma, "Unexpected end of JSON
 * input"), so we find it ourselves. Runs only on a text JSON.parse already
 * refused.
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
