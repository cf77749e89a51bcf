import { describe, expect, it } from 'vitest';
import { encodeEncryptionContext, MAX_ENCRYPTION_CONTEXT_CHARS, parseEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { InvalidParameterError } from '../../lib/errors.js';

const encodeJson = (json: string) => encodeEncryptionContext(parseEncryptionContext(json));
const hex = (b: Buffer) => b.toString('hex');

function parseError(value: unknown, parameter?: string): InvalidParameterError {
  try {
    parseEncryptionContext(value, parameter);
  } catch (e) {
    if (e instanceof InvalidParameterError) return e;
    throw e;
  }
  throw new Error('parseEncryptionContext accepted the value');
}

describe('Module: encryption-context', () => {
  describe('function parseEncryptionContext', () => {
    it('when given JSON text of string → string, it returns those pairs', () => {
      expect([...parseEncryptionContext('{"tenant":"acme","path":"a/b c"}')]).toEqual([
        ['tenant', 'acme'],
        ['path', 'a/b c'],
      ]);
    });

    it('when given the flattened object the older SDK sends, it returns those pairs', () => {
      expect([...parseEncryptionContext({ tenant: 'acme', 中: 'é' })]).toEqual([
        ['tenant', 'acme'],
        ['中', 'é'],
      ]);
    });

    it('when absent, "{}" or an empty flattened object, it is the empty context and encodes identically', () => {
      expect(parseEncryptionContext(undefined).size).toBe(0);
      expect(parseEncryptionContext('{}').size).toBe(0);
      expect(parseEncryptionContext({}).size).toBe(0);
      const absent = encodeEncryptionContext(parseEncryptionContext(undefined));
      expect(hex(absent)).toBe('00000000');
      expect(encodeJson('{}').equals(absent)).toBe(true);
      expect(encodeEncryptionContext(parseEncryptionContext({})).equals(absent)).toBe(true);
    });

    it('when a key is "__proto__", it is kept as plain data', () => {
      const context = parseEncryptionContext('{"__proto__":"x","a":"b"}');
      expect(context.get('__proto__')).toBe('x');
      expect(context.size).toBe(2);
    });

    it.each([
      ['an array', '["a","b"]'],
      ['a number value', '{"a":1}'],
      ['a boolean value', '{"a":true}'],
      ['a null value', '{"a":null}'],
      ['a nested object', '{"a":{"b":"c"}}'],
      ['an array value', '{"a":["b"]}'],
      ['a JSON string', '"text"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
      ['invalid JSON', '{a:b}'],
      ['truncated JSON', '{"a":"b"'],
    ])('when given %s, it throws InvalidParameterError naming EncryptionContext', (_what, value) => {
      const error = parseError(value);
      expect(error.parameter).toBe('EncryptionContext');
      expect(error.message).toContain('"EncryptionContext"');
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('InvalidParameter');
    });

    it('when a flattened object has a non-string value, it throws InvalidParameterError', () => {
      expect(parseError({ a: 1 }).parameter).toBe('EncryptionContext');
    });

    it(`when the JSON text is exactly ${MAX_ENCRYPTION_CONTEXT_CHARS} characters, it is accepted; one more is refused`, () => {
      expect(MAX_ENCRYPTION_CONTEXT_CHARS).toBe(8192);
      const at = (n: number) => `{"k":"${'v'.repeat(n - 8)}"}`;
      expect(at(8192).length).toBe(8192);
      expect(parseEncryptionContext(at(8192)).get('k')).toHaveLength(8184);
      expect(at(8193).length).toBe(8193);
      expect(parseError(at(8193)).message).toMatch(/8192 characters/);
    });

    it('when a flattened object serialises to more than 8192 characters, it is refused', () => {
      expect(parseError({ k: 'v'.repeat(8200) }).parameter).toBe('EncryptionContext');
    });

    it('when a parameter name is given, errors name that parameter', () => {
      expect(parseError('[]', 'SourceEncryptionContext').parameter).toBe('SourceEncryptionContext');
    });
  });

  describe('function encodeEncryptionContext', () => {
    it('when given a small context, it writes u32be count, then per pair sorted by key: u32be len k, k, u32be len v, v', () => {
      const encoded = encodeJson('{"b":"2","a":"xy"}');
      expect(hex(encoded)).toBe(
        [
          '00000002', // two pairs
          '00000001',
          '61',
          '00000002',
          '7879', // "a" → "xy"
          '00000001',
          '62',
          '00000001',
          '32', // "b" → "2"
        ].join(''),
      );
    });

    it('when keys and values are multi-byte, the lengths count UTF-8 bytes', () => {
      expect(hex(encodeJson('{"中":"é"}'))).toBe('00000001' + '00000003' + 'e4b8ad' + '00000002' + 'c3a9');
    });

    it('when keys differ only where the boundary between key and value lies, the encodings differ ({"ab":"c"} ≠ {"a":"bc"})', () => {
      expect(encodeJson('{"ab":"c"}').equals(encodeJson('{"a":"bc"}'))).toBe(false);
    });

    it('when a value imitates separators, it cannot collide with two pairs ({"a":"b&c=d"} ≠ {"a":"b","c":"d"})', () => {
      expect(encodeJson('{"a":"b&c=d"}').equals(encodeJson('{"a":"b","c":"d"}'))).toBe(false);
    });

    it('when the same pairs arrive in another order, the encodings are equal', () => {
      expect(encodeJson('{"a":"1","b":"2","c":"3"}').equals(encodeJson('{"c":"3","a":"1","b":"2"}'))).toBe(true);
      expect(encodeJson('{"a":"1","b":"2"}').equals(encodeEncryptionContext(parseEncryptionContext({ b: '2', a: '1' })))).toBe(true);
    });

    it('when keys or values differ only in case, the encodings differ', () => {
      expect(encodeJson('{"a":"b"}').equals(encodeJson('{"A":"b"}'))).toBe(false);
      expect(encodeJson('{"a":"b"}').equals(encodeJson('{"a":"B"}'))).toBe(false);
    });

    it('when sorting, it orders keys by their UTF-8 bytes (not UTF-16 code units, not case-folded)', () => {
      // UTF-16 puts U+1F600 (a surrogate pair, 0xD83D…) before U+FFFD; UTF-8 puts EF BF BD before F0 9F 98 80.
      const encoded = encodeEncryptionContext(
        new Map([
          ['😀', '1'],
          ['\uFFFD', '2'],
          ['a', '3'],
          ['Z', '4'],
        ]),
      );
      const keys: string[] = [];
      let offset = 4;
      for (let i = 0; i < encoded.readUInt32BE(0); i++) {
        const kLen = encoded.readUInt32BE(offset);
        keys.push(encoded.toString('utf8', offset + 4, offset + 4 + kLen));
        offset += 4 + kLen;
        offset += 4 + encoded.readUInt32BE(offset);
      }
      expect(offset).toBe(encoded.length);
      expect(keys).toEqual(['Z', 'a', '\uFFFD', '😀']);
    });

    it('when a value is empty, it is encoded with length 0 and differs from an absent pair', () => {
      expect(hex(encodeJson('{"a":""}'))).toBe('00000001' + '00000001' + '61' + '00000000');
      expect(encodeJson('{"a":""}').equals(encodeJson('{}'))).toBe(false);
    });
  });
});
