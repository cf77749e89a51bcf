import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAwsBody } from '../../lib/protocol/aws/wire.js';
import { parseEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { KmsError } from '../../lib/errors.js';
import { duplicateJsonKey } from '../../lib/strict-json.js';

describe('duplicateJsonKey', () => {
  it.each([
    ['at the top level', '{"a":1,"a":2}', 'a'],
    ['at depth 1', '{"EncryptionContext":{"t":"x","t":"y"}}', 't'],
    ['at depth 2', '{"x":{"y":{"k":1,"k":1}}}', 'k'],
    ['inside an array of objects', '{"Tags":[{"TagKey":"a"},{"TagKey":"a","TagKey":"b"}]}', 'TagKey'],
    ['escaped once', '{"a":1,"\\u0061":2}', 'a'],
    ['escaped both times, differently', '{"\\u00e9":1,"\\u00E9":2}', 'é'],
    ['raw and escaped non-ASCII', '{"é":1,"\\u00e9":2}', 'é'],
    ['an escaped quote in the key', '{"a\\"b":1,"a\\u0022b":2}', 'a"b'],
    ['the empty key', '{"":1,"":2}', ''],
    ['"__proto__"', '{"__proto__":1,"__proto__":2}', '__proto__'],
    ['with whitespace around', ' { "a" : 1 ,\n "a" : 2 } ', 'a'],
  ])('finds a key given twice %s', (_where, text, key) => {
    JSON.parse(text);
    expect(duplicateJsonKey(text)).toBe(key);
  });

  it.each([
    ['one key per object', '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}'],
    ['the same text as a key and a value', '{"a":"a","b":"a"}'],
    ['a value holding what looks like a key', '{"a":"\\",\\"a\\":1","b":{}}'],
    ['keys differing only by case', '{"a":1,"A":2}'],
    ['an array of strings', '["a","a"]'],
    ['an empty object', '{}'],
    ['a string', '"a"'],
  ])('finds none in %s', (_what, text) => {
    JSON.parse(text);
    expect(duplicateJsonKey(text)).toBeUndefined();
  });

  // A JSON tree whose objects are lists of entries (so a key may repeat), written with keys
  // sometimes \u-escaped; the reference answer comes from the tree itself.
  type Tree = { object: Array<[string, Tree]> } | { array: Tree[] } | { leaf: string | number | boolean | null };
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ leaf: fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)) }),
      fc.record({ object: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'é', '"', '\\', '', 'x y'), tie('tree')), { maxLength: 4 }) }),
      fc.record({ array: fc.array(tie('tree'), { maxLength: 3 }) }),
    ),
  })).tree;
  const escapeAll = (s: string) => `"${[...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  const write = (t: Tree, escapeNext: () => boolean): string =>
    'leaf' in t
      ? JSON.stringify(t.leaf)
      : 'array' in t
        ? `[${t.array.map((x) => write(x, escapeNext)).join(',')}]`
        : `{${t.object.map(([k, v]) => `${escapeNext() ? escapeAll(k) : JSON.stringify(k)}:${write(v, escapeNext)}`).join(',')}}`;
  const repeats = (t: Tree): boolean =>
    'leaf' in t
      ? false
      : 'array' in t
        ? t.array.some(repeats)
        : new Set(t.object.map(([k]) => k)).size !== t.object.length || t.object.some(([, v]) => repeats(v));

  it('property: on any JSON text, it finds a repeated key exactly when some object repeats one, however keys are escaped', () => {
    fc.assert(
      fc.property(tree, fc.infiniteStream(fc.boolean()), (t, coins) => {
        const text = write(t, () => coins.next().value as boolean);
        JSON.parse(text);
        expect(duplicateJsonKey(text) !== undefined).toBe(repeats(t));
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseAwsBody: strict', () => {
  const refusal = (body: Buffer) => {
    try {
      parseAwsBody(body);
    } catch (err) {
      expect(err).toBeInstanceOf(KmsError);
      return { code: (err as KmsError).code, status: (err as KmsError).statusCode, message: (err as Error).message };
    }
    throw new Error('expected the body to be refused');
  };
  const body = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

  it.each([
    ['\\xFF in a context value', body('{"KeyId":"k","EncryptionContext":{"t":"', [0xff], '"}}')],
    ['\\xFE in a context value', body('{"KeyId":"k","EncryptionContext":{"t":"', [0xfe], '"}}')],
    ['an overlong "/" (C0 AF) in a context value', body('{"EncryptionContext":{"t":"', [0xc0, 0xaf], '"}}')],
    ['an overlong NUL (E0 80 80) in a context key', body('{"EncryptionContext":{"', [0xe0, 0x80, 0x80], '":"v"}}')],
    ['a UTF-8-encoded surrogate (ED A0 80) in a context key', body('{"EncryptionContext":{"', [0xed, 0xa0, 0x80], '":"v"}}')],
    ['a lone continuation byte in a top-level key', body('{"', [0x80], '":1}')],
    ['a truncated sequence at the end', body('{"a":"b"}', [0xe2, 0x82])],
    ['\\xFF outside any string', body('{"a":1}', [0xff])],
  ])('invalid UTF-8 (%s) is a 400 SerializationException, never U+FFFD', (_what, bytes) => {
    expect(refusal(bytes)).toMatchObject({ code: 'MalformedRequest', status: 400, message: 'The request body is not valid UTF-8.' });
  });

  it('two contexts that a lax decoder makes one (\\xFF and \\xFE) are both refused', () => {
    const a = body('{"EncryptionContext":{"t":"', [0xff], '"}}');
    const b = body('{"EncryptionContext":{"t":"', [0xfe], '"}}');
    expect(a.toString('utf8')).toBe(b.toString('utf8'));
    expect(refusal(a).code).toBe('MalformedRequest');
    expect(refusal(b).code).toBe('MalformedRequest');
  });

  it.each([
    ['at the top level', '{"KeyId":"a","KeyId":"b"}'],
    ['in the EncryptionContext (depth 1)', '{"KeyId":"k","EncryptionContext":{"t":"1","t":"2"}}'],
    ['at depth 2', '{"Recipient":{"x":{"a":1,"a":2}}}'],
    ['escaped', '{"a":1,"\\u0061":2}'],
    ['escaped, in the EncryptionContext', '{"EncryptionContext":{"t":"1","\\u0074":"2"}}'],
  ])('a key given twice %s is a 400 SerializationException', (_where, text) => {
    expect(refusal(Buffer.from(text))).toMatchObject({ code: 'MalformedRequest', status: 400 });
  });

  it('valid UTF-8 (multi-byte, 4-byte, escaped surrogate pairs) and distinct keys are read as sent', () => {
    const text = '{"EncryptionContext":{"é":"日本","😀":"\\ud83d\\ude00"},"KeyId":"k"}';
    expect(parseAwsBody(Buffer.from(text))).toEqual({ EncryptionContext: { é: '日本', '😀': '😀' }, KeyId: 'k' });
    expect(parseAwsBody(Buffer.alloc(0))).toEqual({});
  });

  it('a leading BOM is refused as before (not JSON)', () => {
    expect(refusal(body([0xef, 0xbb, 0xbf], '{}')).code).toBe('MalformedRequest');
  });
});

describe('the Alibaba EncryptionContext shares the rule', () => {
  it.each(['{"a":"1","a":"2"}', '{"a":"1","\\u0061":"2"}', '{"\\u0061":"1","a":"1"}'])('%s is InvalidParameter', (text) => {
    expect(() => parseEncryptionContext(text)).toThrow(/more than once/);
  });
});
