import { untrustedOptional, untrustedText } from './untrusted-text';

describe('untrustedText', () => {
  it.each<[string, string]>([
    ['b01-m01', 'b01-m01'],
    ['', ''],
    ['中文-设备', '中文-设备'],
    ['a\nb', 'a\\u000ab'],
    ['\u001b[2J', '\\u001b[2J'],
    ['x\u2028y\u0085', 'x\\u2028y\\u0085'],
  ])('%j prints as %j', (input, output) => {
    expect(untrustedText(input)).toBe(output);
  });

  it('finding 6: a 120,000-character client id becomes a bounded line that says how long it was', () => {
    const out = untrustedText('c'.repeat(120_000));
    expect(out).toBe(`${'c'.repeat(128)}…(120000 chars)`);
  });

  it('takes its bound as a parameter, and passes undefined through', () => {
    expect(untrustedText('abcdef', 3)).toBe('abc…(6 chars)');
    expect(untrustedOptional(undefined)).toBeUndefined();
    expect(untrustedOptional('a\tb')).toBe('a\\u0009b');
  });

  it('never throws, whatever it is given (a client id is null before CONNECT completes: found by the fuzz harness)', () => {
    expect(untrustedOptional(null)).toBeUndefined();
    expect(untrustedText(null as unknown as string)).toBe('null');
    expect(untrustedText(42 as unknown as string)).toBe('42');
  });
});
