import { describe, expect, it } from 'vitest';
import { action as encrypt, MAX_PLAINTEXT_BYTES } from '../../functions/encrypt.js';
import { action as generateDataKey } from '../../functions/generate-data-key.js';
import { InvalidParameterError, MissingParameterError, UnsupportedMediaTypeError } from '../../lib/errors.js';
import { DEFAULT_DATA_KEY_BYTES } from '../../lib/operations/data-key.js';
import { operationInput, queryParams, rpcParams } from '../../lib/rpc/params.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { validateInput } from '../../lib/protocol/alibaba/schema.js';

const FORM = 'application/x-www-form-urlencoded';

function request(rawQuery: string, body = '', contentType?: string): RpcRequest {
  return { method: body ? 'POST' : 'GET', path: '/', rawQuery, headers: contentType ? { 'content-type': contentType } : {}, body: Buffer.from(body) };
}

/** Runs `fn` and returns what it threw (failing when it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function invalidParameter(fn: () => unknown): InvalidParameterError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidParameterError);
  return error as InvalidParameterError;
}

/** Parameters as the dispatcher hands them to an operation schema. */
const inputOf = (params: Record<string, string>) => operationInput(new Map(Object.entries(params)));
const dataKey = (params: Record<string, string>) => validateInput(generateDataKey.alibaba!.params, inputOf(params));
const encryptInput = (params: Record<string, string>) => validateInput(encrypt.alibaba!.params, inputOf(params));

describe('Module: rpc/params', () => {
  describe('function rpcParams', () => {
    it('when parameters are in the query and a form body, it reads both, keeping each source apart', () => {
      const params = rpcParams(request('Action=Encrypt&KeyId=alias%2Ftest', 'Plaintext=hi&DryRun=true', FORM));
      expect(params.query).toEqual([
        ['Action', 'Encrypt'],
        ['KeyId', 'alias/test'],
      ]);
      expect(params.form).toEqual([
        ['Plaintext', 'hi'],
        ['DryRun', 'true'],
      ]);
      expect(Object.fromEntries(params.all)).toEqual({ Action: 'Encrypt', KeyId: 'alias/test', Plaintext: 'hi', DryRun: 'true' });
    });

    it('when the form content type has a charset or other case, the body is still read', () => {
      expect(rpcParams(request('', 'A=1', `${FORM}; charset=UTF-8`)).all.get('A')).toBe('1');
      expect(rpcParams(request('', 'A=1', 'Application/X-WWW-Form-Urlencoded')).all.get('A')).toBe('1');
    });

    it.each([['application/json'], ['text/plain'], [undefined]])(
      'when a body is not a form (content type %s), it is refused rather than ignored: a V3 signature need not cover the content type',
      (type) => {
        expect(() => rpcParams(request('A=1', 'B=2', type))).toThrow(UnsupportedMediaTypeError);
      },
    );

    it('when a form body is not valid UTF-8, it is refused (no byte is silently replaced)', () => {
      const r = { ...request('A=1', '', FORM), body: Buffer.from([0x42, 0x3d, 0xff, 0xfe]) };
      expect(() => rpcParams(r)).toThrow(UnsupportedMediaTypeError);
    });

    it('when a value has "+", it is a space (form encoding), and %2B is a plus', () => {
      const params = rpcParams(request('A=a+b&B=a%2Bb', 'C=c+d', FORM)).all;
      expect(params.get('A')).toBe('a b');
      expect(params.get('B')).toBe('a+b');
      expect(params.get('C')).toBe('c d');
    });

    it("when values are percent-encoded UTF-8 or carry unencoded !'()*~, it decodes them", () => {
      expect(rpcParams(request("A=caf%C3%A9%20%E4%B8%AD&B=*!'()~")).all).toEqual(
        new Map([
          ['A', 'café 中'],
          ['B', "*!'()~"],
        ]),
      );
    });

    it('when a pair has no "=", its value is empty; empty pairs are skipped', () => {
      expect([...rpcParams(request('A&&B=1&')).all]).toEqual([
        ['A', ''],
        ['B', '1'],
      ]);
    });

    it.each([
      ['twice in the query', 'A=1&A=2', ''],
      ['twice, once encoded', 'A=1&%41=1', ''],
      ['in the query and the body', 'A=1', 'A=1'],
      ['twice in the body', '', 'A=1&A=2'],
    ])('when a name is given %s, it throws InvalidParameterError naming it', (_what, query, body) => {
      expect(invalidParameter(() => rpcParams(request(query, body, FORM))).parameter).toBe('A');
    });

    it.each(['A=%ZZ', 'A=%', 'A=%E4%B8', 'A=1&B=%G1'])('when the query "%s" has malformed percent-encoding, it throws InvalidParameterError', (query) => {
      invalidParameter(() => rpcParams(request(query)));
    });

    it('when a form body has malformed percent-encoding, it throws InvalidParameterError', () => {
      invalidParameter(() => rpcParams(request('', 'A=%zz', FORM)));
    });

    it('when a name is malformed, it throws InvalidParameterError', () => {
      invalidParameter(() => rpcParams(request('%ZZ=1')));
    });

    it('when called twice for one request, it returns the same parsed object; another request object is parsed afresh', () => {
      const r = request('A=1');
      const first = rpcParams(r);
      expect(rpcParams(r)).toBe(first);
      expect(rpcParams({ ...r })).not.toBe(first);
      expect(rpcParams({ ...r })).toEqual(first);
    });

    it('when a request is copied after it was parsed, the copy is parsed afresh from its own members', () => {
      const r = request('A=1', 'B=2', FORM);
      rpcParams(r);
      const copy = { ...r, body: Buffer.alloc(0) };
      expect([...rpcParams(copy).all]).toEqual([['A', '1']]);
      expect([...rpcParams(r).all]).toEqual([
        ['A', '1'],
        ['B', '2'],
      ]);
    });
  });

  describe('function queryParams', () => {
    it('when the query has parameters, it decodes them in order, whatever a body holds', () => {
      expect(queryParams('A=1&B=%2F+x')).toEqual([
        ['A', '1'],
        ['B', '/ x'],
      ]);
      expect(queryParams('')).toEqual([]);
    });

    it('when a name is given twice, it throws InvalidParameterError naming it', () => {
      expect(invalidParameter(() => queryParams('A=1&B=2&A=1')).parameter).toBe('A');
    });

    it('when the encoding is malformed, it throws InvalidParameterError', () => {
      invalidParameter(() => queryParams('A=%E4%B8'));
    });
  });

  describe('function operationInput', () => {
    it('when a map is flattened as EncryptionContext.k, it gathers the keys into one object', () => {
      const input = operationInput(
        new Map([
          ['KeyId', 'k'],
          ['EncryptionContext.tenant', 'acme'],
          ['EncryptionContext.a.b', 'dotted'],
        ]),
      );
      expect(input.KeyId).toBe('k');
      expect([...(input.EncryptionContext as Map<string, string>)]).toEqual([
        ['tenant', 'acme'],
        ['a.b', 'dotted'],
      ]);
    });

    it('when a map is given as JSON text, it stays text for the schema to parse', () => {
      expect(operationInput(new Map([['EncryptionContext', '{"a":"b"}']])).EncryptionContext).toBe('{"a":"b"}');
    });

    it.each([
      [
        ['EncryptionContext', '{"a":"b"}'],
        ['EncryptionContext.a', 'b'],
      ],
      [
        ['EncryptionContext.a', 'b'],
        ['EncryptionContext', '{"a":"b"}'],
      ],
    ])('when a map is given both as JSON and flattened (%j then %j), it throws InvalidParameterError', (first, second) => {
      const error = invalidParameter(() => operationInput(new Map([first as [string, string], second as [string, string]])));
      expect(error.parameter).toBe('EncryptionContext');
    });

    it('when "__proto__" is the only name, it is stored as an own value', () => {
      const input = operationInput(new Map([['__proto__', 'x']]));
      expect(Object.getOwnPropertyDescriptor(input, '__proto__')?.value).toBe('x');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('when "__proto__.k" is flattened, it becomes a map named "__proto__" and Object.prototype is untouched', () => {
      const input = operationInput(new Map([['__proto__.polluted', 'yes']]));
      expect(Object.getOwnPropertyDescriptor(input, '__proto__')?.value).toEqual(new Map([['polluted', 'yes']]));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('when a flattened key is "__proto__", it is an own key of the map', () => {
      const input = operationInput(new Map([['EncryptionContext.__proto__', 'y']]));
      expect([...(input.EncryptionContext as Map<string, string>)]).toEqual([['__proto__', 'y']]);
    });
  });
});

describe('Module: protocol/alibaba/schema with operations/data-key', () => {
  describe('GenerateDataKey parameters', () => {
    it.each([
      ['1', 1],
      ['16', 16],
      ['1024', 1024],
    ])('when NumberOfBytes is %s, the data key length is %i', (value, length) => {
      expect(dataKey({ KeyId: 'alias/test', NumberOfBytes: value }).length).toBe(length);
    });

    it.each(['0', '1025', 'abc', '1.5', '-1', '', ' 16', '1e3', '0x10', '9999999999'])(
      'when NumberOfBytes is "%s", it throws InvalidParameterError naming NumberOfBytes',
      (value) => {
        const error = invalidParameter(() => dataKey({ KeyId: 'alias/test', NumberOfBytes: value }));
        expect(error.parameter).toBe('NumberOfBytes');
        expect(error.message).toContain('"NumberOfBytes"');
      },
    );

    it.each([
      ['AES_128', 16],
      ['AES_256', 32],
    ])('when KeySpec is %s, the data key length is %i', (spec, length) => {
      expect(dataKey({ KeyId: 'alias/test', KeySpec: spec }).length).toBe(length);
    });

    it('when neither KeySpec nor NumberOfBytes is given, the length is DEFAULT_DATA_KEY_BYTES (32)', () => {
      expect(DEFAULT_DATA_KEY_BYTES).toBe(32);
      expect(dataKey({ KeyId: 'alias/test' }).length).toBe(32);
    });

    it.each(['AES_512', 'aes_256', ''])('when KeySpec is "%s" and NumberOfBytes is absent, it throws InvalidParameterError naming KeySpec', (spec) => {
      expect(invalidParameter(() => dataKey({ KeyId: 'alias/test', KeySpec: spec })).parameter).toBe('KeySpec');
    });

    it('when KeySpec is unknown but NumberOfBytes is given, NumberOfBytes is used and KeySpec ignored', () => {
      expect(dataKey({ KeyId: 'alias/test', KeySpec: 'AES_512', NumberOfBytes: '10' }).length).toBe(10);
    });

    it('when both are given, NumberOfBytes wins', () => {
      expect(dataKey({ KeyId: 'alias/test', KeySpec: 'AES_128', NumberOfBytes: '64' }).length).toBe(64);
      expect(dataKey({ KeyId: 'alias/test', KeySpec: 'AES_256', NumberOfBytes: '1' }).length).toBe(1);
    });

    it('when KeyId is missing, it throws MissingParameterError naming KeyId', () => {
      const error = thrown(() => dataKey({ NumberOfBytes: '16' }));
      expect(error).toBeInstanceOf(MissingParameterError);
      expect((error as MissingParameterError).parameter).toBe('KeyId');
      expect((error as MissingParameterError).message).toBe('The parameter "KeyId" is needed but not provided.');
    });

    it('when KeyId is empty, it throws InvalidParameterError naming KeyId', () => {
      expect(invalidParameter(() => dataKey({ KeyId: '' })).parameter).toBe('KeyId');
    });

    it.each([
      ['true', true],
      ['false', false],
      ['TRUE', true],
      ['False', false],
    ])('when DryRun is "%s", it is %s', (value, expected) => {
      expect((dataKey({ KeyId: 'alias/test', DryRun: value }) as { DryRun?: boolean }).DryRun).toBe(expected);
    });

    it('when DryRun is absent, it is undefined (not a dry run)', () => {
      expect((dataKey({ KeyId: 'alias/test' }) as { DryRun?: boolean }).DryRun).toBeUndefined();
    });

    it.each(['yes', '1', '', 'true '])('when DryRun is "%s", it throws InvalidParameterError naming DryRun', (value) => {
      expect(invalidParameter(() => dataKey({ KeyId: 'alias/test', DryRun: value })).parameter).toBe('DryRun');
    });

    it('when EncryptionContext is JSON text or flattened, it becomes the same map', () => {
      const json = dataKey({ KeyId: 'k', EncryptionContext: '{"b":"2","a":"1"}' }).EncryptionContext;
      const flat = dataKey({ KeyId: 'k', 'EncryptionContext.a': '1', 'EncryptionContext.b': '2' }).EncryptionContext;
      expect(new Map(json)).toEqual(
        new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      );
      expect(new Map(flat)).toEqual(
        new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      );
    });

    it('when EncryptionContext is not an object of strings, it throws InvalidParameterError naming EncryptionContext', () => {
      expect(invalidParameter(() => dataKey({ KeyId: 'k', EncryptionContext: '[1]' })).parameter).toBe('EncryptionContext');
    });
  });

  describe('Encrypt input (functions/encrypt.ts)', () => {
    it(`when Plaintext is exactly ${MAX_PLAINTEXT_BYTES} ASCII bytes, it is accepted`, () => {
      expect(MAX_PLAINTEXT_BYTES).toBe(6144);
      expect(encryptInput({ KeyId: 'k', Plaintext: 'a'.repeat(6144) }).Plaintext).toHaveLength(6144);
    });

    it('when Plaintext is 6145 bytes, it throws InvalidParameterError naming Plaintext', () => {
      expect(invalidParameter(() => encryptInput({ KeyId: 'k', Plaintext: 'a'.repeat(6145) })).parameter).toBe('Plaintext');
    });

    it('when Plaintext is multi-byte, it counts UTF-8 bytes, not characters', () => {
      expect(encryptInput({ KeyId: 'k', Plaintext: '中'.repeat(2048) }).Plaintext.toString('utf8')).toHaveLength(2048); // 6144 bytes
      expect(invalidParameter(() => encryptInput({ KeyId: 'k', Plaintext: `${'中'.repeat(2048)}a` })).parameter).toBe('Plaintext');
      expect(invalidParameter(() => encryptInput({ KeyId: 'k', Plaintext: 'é'.repeat(3073) })).parameter).toBe('Plaintext'); // 3073 chars, 6146 bytes
    });

    it('when Plaintext is missing, it throws MissingParameterError; when empty, InvalidParameterError', () => {
      expect(thrown(() => encryptInput({ KeyId: 'k' }))).toBeInstanceOf(MissingParameterError);
      expect(invalidParameter(() => encryptInput({ KeyId: 'k', Plaintext: '' })).parameter).toBe('Plaintext');
    });

    it('when KeyId is missing, it throws MissingParameterError naming KeyId', () => {
      const error = thrown(() => encryptInput({ Plaintext: 'x' }));
      expect(error).toBeInstanceOf(MissingParameterError);
      expect((error as MissingParameterError).parameter).toBe('KeyId');
    });
  });
});

describe('Module: zod (the schemas’ zod/mini, lib/zod.ts)', () => {
  it('when a string parameter arrives as a flattened map, the message is zod’s English one (its locale is loaded), naming the parameter', () => {
    // KeyId.x=1 makes KeyId a map: not a string.
    const error = invalidParameter(() => validateInput(encrypt.alibaba!.params, inputOf({ 'KeyId.x': '1', Plaintext: 'hi' })));
    expect(error.message).toContain('KeyId');
    expect(error.message).toMatch(/expected string, received Map/);
  });

  it('when a transform refuses its input (z.refuse), the parse fails with that message at that parameter; what passes is transformed', async () => {
    const { pipe, string, object, transform, refuse } = await import('../../lib/zod.js');
    const even = object({
      N: pipe(
        string(),
        transform((v: string, ctx) => (Number(v) % 2 === 0 ? Number(v) : refuse(ctx, v, 'It must be even.'))),
      ),
    });
    expect(validateInput(even, { N: '4' })).toEqual({ N: 4 });
    const error = invalidParameter(() => validateInput(even, { N: '3' }));
    expect(error.message).toContain('It must be even.');
    expect(error.message).toContain('N');
  });

  it('when parse (not safeParse) throws, isSchemaError recognises it, and nothing else', async () => {
    const { isSchemaError, string } = await import('../../lib/zod.js');
    const error = thrown(() => string().parse(5));
    expect(isSchemaError(error)).toBe(true);
    expect(isSchemaError(new Error('other'))).toBe(false);
    expect(isSchemaError(Object.assign(new Error('x'), { name: 'ZodError' }))).toBe(false);
  });
});
