/**
 * Short, printable excerpts of what a device sent, for `/api/rejections`
 * (contract §3) and log lines. Everything here runs on untrusted input on the
 * rejection path, so it is total and bounded: no recursion (a JSON document
 * nested 6,000 deep must not exhaust the stack, issue 8 finding 1), no
 * `JSON.stringify`/`String()` of a whole structure, and work proportional to
 * the excerpt, not to the input.
 */

/** Longest excerpt, in UTF-16 units (contract §3: "a short excerpt"). */
export const EXCERPT_CHARS = 200;

const UTF8_LOOSE = new TextDecoder('utf-8');

/** Control characters (C0, DEL, C1) and the line/paragraph separators become spaces. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Cuts a value down to a short, printable excerpt: a string or the UTF-8
 * bytes of a payload as they are, anything else as JSON-like text (objects
 * and arrays written level by level with an explicit stack, stopping at
 * `maxChars`). Never throws, whatever the value.
 */
export function excerptOf(value: unknown, maxChars = EXCERPT_CHARS): string {
  let s: string;
  if (typeof value === 'string') s = value.length > maxChars * 2 ? value.slice(0, maxChars * 2) : value;
  else if (value instanceof Uint8Array) s = UTF8_LOOSE.decode(value.subarray(0, maxChars * 4));
  else if (value !== null && typeof value === 'object') s = boundedJson(value, maxChars + 1);
  else s = String(value as string);
  s = s.replace(UNPRINTABLE, ' ');
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}

/** One step of the serializer: text to emit, or a container to open. */
type Step = { text: string } | { open: unknown };

/**
 * JSON-like text of a value, at most about `limit` characters. Iterative:
 * containers are expanded from a stack of pending steps, so depth costs heap,
 * not call stack, and the walk stops as soon as `limit` is reached (a wide or
 * deep document costs no more than its first `limit` characters).
 */
export function boundedJson(value: unknown, limit: number): string {
  let out = '';
  const stack: Step[] = [{ open: value }];
  while (stack.length > 0 && out.length < limit) {
    const step = stack.pop() as Step;
    if ('text' in step) {
      out += step.text;
      continue;
    }
    const v = step.open;
    if (Array.isArray(v)) {
      // Pushed in reverse so they pop in order; only as many items as could
      // still fit (each takes at least one character).
      const room = Math.min(v.length, limit - out.length);
      stack.push({ text: v.length > room ? ',…]' : ']' });
      for (let i = room - 1; i >= 0; i--) {
        stack.push({ open: v[i] });
        if (i > 0) stack.push({ text: ',' });
      }
      out += '[';
    } else if (v !== null && typeof v === 'object') {
      let keys: string[];
      try {
        keys = Object.keys(v);
      } catch {
        keys = [];
      }
      const room = Math.min(keys.length, limit - out.length);
      stack.push({ text: keys.length > room ? ',…}' : '}' });
      for (let i = room - 1; i >= 0; i--) {
        let item: unknown;
        try {
          item = (v as Record<string, unknown>)[keys[i]];
        } catch {
          item = undefined;
        }
        stack.push({ open: item });
        stack.push({ text: `${primitive(keys[i], limit)}:` });
        if (i > 0) stack.push({ text: ',' });
      }
      out += '{';
    } else out += primitive(v, limit);
  }
  return out;
}

/** A primitive as JSON would write it (strings cut to `limit` first, so quoting stays cheap). */
function primitive(v: unknown, limit: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > limit ? v.slice(0, limit) : v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return `${v}`;
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
    default:
      return 'null';
  }
}
