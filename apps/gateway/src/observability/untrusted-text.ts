/**
 * Strings a peer chose (MQTT client ids, usernames, topics, topic filters)
 * on their way into a log line or an API answer: bounded and printable, so
 * that one CONNECT cannot write a 120 KB log line or move a terminal's
 * cursor (issue 8 finding 6).
 */

/** Default bound, in UTF-16 units: contract §8 allows 128-byte client ids and usernames. */
export const UNTRUSTED_TEXT_CHARS = 128;

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `s` with control characters written as `\uXXXX` and cut to `maxChars`;
 * a cut string ends with `…(N chars)`, so the reader knows it was longer.
 * Cost bounded by `maxChars`, whatever the length of `s`.
 */
export function untrustedText(value: string, maxChars = UNTRUSTED_TEXT_CHARS): string {
  // Typed string, but it comes from a peer through libraries: never trust the type either.
  const s = typeof value === 'string' ? value : String(value);
  const cut = s.length > maxChars;
  const head = (cut ? s.slice(0, maxChars) : s).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut ? `${head}…(${s.length} chars)` : head;
}

/** {@link untrustedText} for optional values (undefined and null become undefined). */
export function untrustedOptional(s: string | undefined | null, maxChars = UNTRUSTED_TEXT_CHARS): string | undefined {
  return s === undefined || s === null ? undefined : untrustedText(s, maxChars);
}
