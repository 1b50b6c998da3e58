import fc from 'fast-check';
import { boundedJson, EXCERPT_CHARS, excerptOf } from './excerpt';
import { parsePayload } from './payload';

/** A document of arrays (or objects) nested `depth` deep, as a device would send it. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('excerptOf', () => {
  it('keeps short values as they are', () => {
    expect(excerptOf('{"a":1}')).toBe('{"a":1}');
    expect(excerptOf({ a: 1 })).toBe('{"a":1}');
    expect(excerptOf(new TextEncoder().encode('abc'))).toBe('abc');
    expect(excerptOf(undefined)).toBe('undefined');
    expect(excerptOf(null)).toBe('null');
    expect(excerptOf(3)).toBe('3');
    expect(excerptOf([1, 'two', null, true, { b: [] }])).toBe('[1,"two",null,true,{"b":[]}]');
  });

  it.each<[string, unknown]>([
    ['a long string', 'x'.repeat(10_000)],
    ['long bytes', new Uint8Array(100_000).fill(0x61)],
    ['a wide array', Array.from({ length: 10_000 }, (_, i) => i)],
    ['a wide object', Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))],
    ['a long key', { ['k'.repeat(70_000)]: 1 }],
  ])('cuts %s to 200 characters with an ellipsis', (_what, value) => {
    const e = excerptOf(value);
    expect(e).toHaveLength(EXCERPT_CHARS);
    expect(e.endsWith('…')).toBe(true);
  });

  it('replaces control characters and line separators so the excerpt prints on one line', () => {
    expect(excerptOf('a\nb\tc\u0000d\u007f\u0085e\u2028f')).toBe('a b c d  e f');
  });

  it('survives values JSON cannot print', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(excerptOf(cyclic)).toMatch(/^\{"self":\{"self":/);
    expect(excerptOf(cyclic)).toHaveLength(EXCERPT_CHARS);
    expect(excerptOf(BigInt(7))).toBe('7');
    expect(excerptOf({ n: NaN, i: -Infinity, u: undefined })).toBe('{"n":null,"i":null,"u":null}');
    const hostile = { get boom() { throw new Error('getter'); } };
    expect(excerptOf(hostile)).toBe('{"boom":null}');
  });

  it.each([
    ['arrays', nestedArrays],
    ['objects', nestedObjects],
  ])('finding 1: %s nested 100,000 deep are cut, without recursion', (_what, make) => {
    const e = excerptOf(JSON.parse(make(100_000)));
    expect(e).toHaveLength(EXCERPT_CHARS);
    expect(e.startsWith(make(3).slice(0, 3))).toBe(true);
  });

  it('is total and bounded for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
        const e = excerptOf(v);
        return typeof e === 'string' && e.length <= EXCERPT_CHARS && !/[\u0000-\u001f]/.test(e);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes what JSON.stringify writes while it fits (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const json = JSON.stringify(v);
        return json.length > 500 || boundedJson(v, 1000) === json;
      }),
      { numRuns: 3000 },
    );
  });
});

describe('finding 1: one message crashed the gateway', () => {
  const address = { park: 'demo', building: 'b01', kind: 'energy' as const, sensor: 'm01' };
  const topic = 'park/demo/b01/energy/m01';

  it.each([
    ['arrays nested 6,000 deep', nestedArrays(6_000)],
    ['arrays nested 32,000 deep (64 KiB)', nestedArrays(32_000)],
    ['objects nested 6,000 deep', nestedObjects(6_000)],
    ['an array of arrays nested 6,000 deep', `[${nestedArrays(6_000)},{"power_kw":1}]`],
  ])('a payload of %s is rejected with a short excerpt, and nothing throws', (_what, text) => {
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(64 * 1024);
    const r = parsePayload(new TextEncoder().encode(text), address, topic, Date.now());
    expect(r.rejections.length).toBeGreaterThan(0);
    for (const x of r.rejections) {
      expect(['bad_json', 'no_fields']).toContain(x.reason);
      expect(x.excerpt.length).toBeLessThanOrEqual(EXCERPT_CHARS);
    }
  });
});
