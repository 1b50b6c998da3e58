import { jsonSyntaxErrorText, parseJsonText } from './json-text';

describe('parseJsonText', () => {
  it('parses JSON', () => {
    expect(parseJsonText('{"id": "p", "n": [1, 2.5, null, true]}')).toEqual({ ok: true, value: { id: 'p', n: [1, 2.5, null, true] } });
  });

  it.each<[string, string, number, number]>([
    ['a trailing comma', '{\n  "id": "p",\n  "buildings": [1, 2,]\n}\n', 3, 22],
    ['a missing value', '{\n  "id": \n}', 3, 1],
    ['an unquoted key', '{\n\n    id: "p"}', 3, 5],
    ['a missing comma', '{"id": "p"\n "name": "x"}', 2, 2],
    ['a truncated file', '{\n  "id": "p",\n  "name": "x"', 3, 14],
    ['an empty file', '', 1, 1],
    ['trailing text', '{"id": "p"}\n}', 2, 1],
    ['a control character in a string', '{"id": "a\tb"}', 1, 10],
    ['a single-quoted string', "{\n 'id': 1}", 2, 2],
    ['a bad escape', '{"id": "a\\xb"}', 1, 11],
    ['a byte-order mark', '\ufeff{"id": "p"}', 1, 1],
    ['a misspelt literal', '{"a": [tru]}', 1, 8],
    ['a number with a leading zero', '{"height": 012}', 1, 13],
  ])('gives line and column of %s, with JSON.parse’s message', (_what, text, line, column) => {
    const r = parseJsonText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.at).toEqual({ line, column });
    expect(r.error.message).toBe(messageOf(() => JSON.parse(text)));
  });

  it('still answers, without a place, when the text nests too deep to scan', () => {
    const text = '['.repeat(200_000);
    const r = parseJsonText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.at).toBeUndefined();
    expect(r.error.message).toBe(messageOf(() => JSON.parse(text)));
  });
});

describe('jsonSyntaxErrorText', () => {
  it.each([
    [{ message: 'Unexpected end of JSON input', at: { line: 3, column: 14 } }, 'is not valid JSON at line 3, column 14: Unexpected end of JSON input'],
    [{ message: 'Maximum call stack size exceeded' }, 'is not valid JSON: Maximum call stack size exceeded'],
  ])('%j', (error, text) => expect(jsonSyntaxErrorText(error)).toBe(text));
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected JSON.parse to throw');
}
