import fc from 'fast-check';
import { expect } from 'vitest';
import type { ActionDefinition } from '../../lib/action.js';
import { percentEncode } from '@alibaba-kms-compatible/client/signing';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { parseXml } from '../contract/support.js';
import { ACCOUNT_ID, ALIAS, DISABLED_KEY_ID, KEY_ID, KEY_VERSION_ID, keyArnOf, OTHER_KEY_ID, REGION, type TestService } from './service.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from './rsa.js';
import { type Credentials, signedRpcRequest, signedV3Request } from './sign.js';

/**
 * Generators and checks for the property-based contract suite (test/contract/fuzz-parameters.test.ts):
 * nasty parameter values, every client signing path, and the "an Alibaba error, never a fault" check.
 */

// ---------------------------------------------------------------------------------------------
// Requests

/** The five ways a client can sign and carry parameters. */
export const SIGNING_PATHS = ['rpc-get', 'rpc-post-query', 'rpc-post-form', 'v3-query', 'v3-form'] as const;
export type SigningPath = (typeof SIGNING_PATHS)[number];

/** A parameter list; names may repeat in the list, the first one wins when it is sent. */
export type ParamPairs = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * A null-prototype record of parameters: a parameter named `__proto__` or `constructor` is data,
 * kept as an own property through the signing helpers' spreads and `Object.entries`.
 */
export function paramRecord(pairs: ParamPairs): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  for (const [name, value] of pairs) if (!Object.hasOwn(record, name)) record[name] = value;
  return record;
}

export function formEncode(params: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(params)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&'),
  );
}

/** A correctly signed request for `action` carrying `params` over one signing path. */
export function signedRequest(
  path: SigningPath,
  who: Credentials,
  action: string,
  params: Record<string, string>,
  options: { nonce?: string } = {},
): RpcRequest {
  switch (path) {
    case 'rpc-get':
      return signedRpcRequest(who, action, params, { method: 'GET', nonce: options.nonce });
    case 'rpc-post-query':
      return signedRpcRequest(who, action, params, { method: 'POST', nonce: options.nonce });
    case 'rpc-post-form':
      return signedRpcRequest(who, action, params, { method: 'POST', form: true, nonce: options.nonce });
    case 'v3-query':
      return signedV3Request(who, action, params, { nonce: options.nonce });
    case 'v3-form':
      return signedV3Request(who, action, {}, { body: formEncode(params), contentType: 'application/x-www-form-urlencoded', nonce: options.nonce });
  }
}

export const signingPath = fc.constantFrom(...SIGNING_PATHS);

/** The request parameter names of an Action on Alibaba's API, read from its parameter schema (an object, or an object piped into a transform). */
export function parameterNamesOf(action: ActionDefinition): string[] {
  const shapeOf = (schema: unknown): Record<string, unknown> | undefined => {
    const def = (schema as { _zod?: { def?: { shape?: Record<string, unknown>; in?: unknown } } } | undefined)?._zod?.def;
    if (def?.shape && typeof def.shape === 'object') return def.shape;
    if (def?.in) return shapeOf(def.in);
    return undefined;
  };
  const shape = shapeOf(action.alibaba?.params);
  if (!shape) throw new Error(`cannot read the parameter names of ${action.name}: its parameters are not an object schema`);
  return Object.keys(shape);
}

// ---------------------------------------------------------------------------------------------
// Values

export const ALIAS_ARN = (alias: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:${alias}`;
export const SEEDED_KEY_IDS = [KEY_ID, OTHER_KEY_ID, DISABLED_KEY_ID] as const;
export const SEEDED_ALIASES = [ALIAS, 'alias/other', 'alias/disabled'] as const;
/** An alias the fuzz service adds, naming a key of its own that is pending deletion. */
export const PENDING_ALIAS = 'alias/pending';

/** Names JavaScript objects answer to without being told: any of them reaching a plain object lookup is a bug. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'] as const;

/** Values an adversarial tester tries in every parameter. */
export const NASTY_LITERALS: readonly string[] = [
  ...PROTOTYPE_NAMES,
  '',
  ' ',
  '   ',
  '\t',
  '\n',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '𝄞',
  '🔑',
  'e\u0301',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e3',
  '0x10',
  '{}',
  '[]',
  '%',
  '%00',
  '%zz',
  '%ED%A0%80',
  '+',
  '&',
  '=',
  '&Action=ListKeys',
  '.',
  '..',
  '../..',
  '../../etc/passwd',
  'a/../b',
  '\\',
  '"',
  "'",
  '<x>&amp;</x>',
  ']]>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: template syntax as a hostile value
  '${x}',
  '*',
  '?',
  // Aliases that are not well-formed, and well-formed ones on the edges.
  'alias/*',
  'alias/',
  'alias/a b',
  'alias/x ',
  ' alias/test',
  'alias/test ',
  'alias/test\u0000',
  'ALIAS/test',
  'Alias/test',
  'alias/.',
  'alias/..',
  'alias/../keys/x',
  'alias/a..b',
  'alias/.hidden',
  'alias/a!b',
  'alias/é',
  'alias/acs',
  'alias/acs/x',
  'alias//',
  'alias///',
  'alias/a/',
  'alias/-',
  `alias/${'a'.repeat(254)}`,
  `alias/${'a'.repeat(255)}`,
  `alias/${'a'.repeat(256)}`,
  `alias/${'a'.repeat(300)}`,
  `alias/${'/'.repeat(255)}`,
  `alias/${'a/'.repeat(127)}a`,
  // ARNs with wildcards, missing or wrong parts, another region or account.
  `acs:kms:${REGION}:${ACCOUNT_ID}:alias/*`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:alias/`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:alias/a b`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:key/*`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:key/`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:key/../keys/x`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:key/${KEY_ID}:x`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:`,
  `acs:kms:${REGION}:${ACCOUNT_ID}`,
  `acs:kms:${REGION}:${ACCOUNT_ID}:keys/${KEY_ID}`,
  `acs:kms:*:*:key/${KEY_ID}`,
  `acs:kms:*:*:alias/test`,
  `acs:kms:cn-shanghai:${ACCOUNT_ID}:key/${KEY_ID}`,
  `acs:kms:${REGION}:9999999999999999:alias/test`,
  `acs:ram:${REGION}:${ACCOUNT_ID}:key/${KEY_ID}`,
  'acs:kms:::key/x',
  'acs:kms:::alias/test',
  'acs:',
  'acs:kms',
  // Key ids on the edges of the accepted forms.
  'key-',
  'key-abc',
  `key-${'a'.repeat(64)}`,
  `key-${'a'.repeat(65)}`,
  'key-../x',
  'key-a/b',
  `${KEY_ID} `,
  ` ${KEY_ID}`,
  `${KEY_ID}\u0000`,
  `keys/${KEY_ID}`,
  `${KEY_ID}/../${OTHER_KEY_ID}`,
  KEY_VERSION_ID,
  KEY_VERSION_ID.toUpperCase(),
  '00000000-0000-0000-0000-000000000000',
];

/** Strings of control characters and NULs. */
const controlString = fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 12 });

/** Long strings, up to several KB (several times more as UTF-8 and percent-encoded). */
export const longString = fc.oneof(
  fc.tuple(fc.integer({ min: 129, max: 9000 }), fc.constantFrom('a', 'é', '𝄞', '\u0000', ' ', '/', '%', '"', '9')).map(([n, c]) => c.repeat(n)),
  fc.string({ unit: 'binary', minLength: 200, maxLength: 3000 }),
);

/** Full Unicode strings (every code point but lone surrogates, which no client can percent-encode). */
export const unicodeString = (maxLength = 40) => fc.string({ unit: 'binary', maxLength });

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_LITERALS) },
  { weight: 2, arbitrary: unicodeString() },
  { weight: 1, arbitrary: controlString },
  { weight: 1, arbitrary: longString },
);

/** `alias/` + 1–60 well-formed characters (mostly names that do not exist). */
export const wellFormedAlias = fc.stringMatching(/^[A-Za-z0-9_\-/]{1,60}$/).map((s) => `alias/${s}`);

/** The seeded keys (and the pending one) by id, alias or ARN. */
export const seededKeyReference: fc.Arbitrary<string> = fc.constantFrom(
  ...SEEDED_KEY_IDS,
  ...SEEDED_ALIASES,
  PENDING_ALIAS,
  ...SEEDED_KEY_IDS.map(keyArnOf),
  ...[...SEEDED_ALIASES, PENDING_ALIAS].map(ALIAS_ARN),
);

/** A character an alias name may not hold (anything but `A-Z a-z 0-9 _ - /`). */
const notAliasCharacter = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/^[A-Za-z0-9_\-/]$/.test(c));

/** `alias/…` that is not well-formed: a character outside the set, nothing after `alias/`, or more than 255 after it. */
export const malformedAlias: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'alias/',
    'alias/*',
    'alias/a b',
    'alias/x ',
    'alias/..',
    'alias/a..b',
    'alias/.x',
    'alias/a.b',
    'alias/é',
    'alias/\u0000',
    `alias/${'a'.repeat(256)}`,
    `alias/${'a'.repeat(300)}`,
  ),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9_\-/]{0,30}$/), notAliasCharacter, fc.stringMatching(/^[A-Za-z0-9_\-/]{0,30}$/))
    .map(([a, c, b]) => `alias/${a}${c}${b}`),
  fc.integer({ min: 256, max: 1500 }).map((n) => `alias/${'ab/_-'.repeat(Math.ceil(n / 5)).slice(0, n)}`),
);

/** A key reference: seeded ids, aliases and ARNs (mostly), fresh ones, and nasty text. */
export const keyReference: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: seededKeyReference },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map(keyArnOf) },
  { weight: 1, arbitrary: fc.stringMatching(/^key-[a-z0-9]{4,30}$/) },
  { weight: 1, arbitrary: wellFormedAlias },
  { weight: 1, arbitrary: wellFormedAlias.map(ALIAS_ARN) },
  { weight: 4, arbitrary: nastyString },
);

const aliasName: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEEDED_ALIASES, PENDING_ALIAS) },
  { weight: 3, arbitrary: wellFormedAlias },
  { weight: 4, arbitrary: nastyString },
);

const integerText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 1100 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' 7',
      '7 ',
      '+7',
      '07',
      '0007',
      '7.0',
      '7e0',
      '0x10',
      '1_0',
      '999999999',
      '1000000000',
      '99999999999999999999',
      '٧',
      '７',
      '-0',
      '1,000',
    ),
  },
  { weight: 2, arbitrary: nastyString },
);

const booleanText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('true', 'false', 'TRUE', 'False', 'tRuE') },
  { weight: 1, arbitrary: fc.constantFrom('1', '0', 'yes', 'on', ' true', 'true ', 'truee', '') },
  { weight: 1, arbitrary: nastyString },
);

const rotationInterval: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('7d', '30d', '730d', '604800s', '63072000s') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '6d',
      '731d',
      '604799s',
      '63072001s',
      '0d',
      '-7d',
      '7D',
      '7 d',
      ' 7d',
      '7',
      'd',
      's',
      '1e3d',
      '999999999d',
      '9999999999d',
      '7d7d',
      '7h',
    ),
  },
  { weight: 1, arbitrary: nastyString },
);

const keySpec: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('AES_256', 'AES_128') },
  { weight: 2, arbitrary: fc.constantFrom('aes_256', 'AES_512', 'AES_256 ', 'Aliyun_AES_256', ...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: nastyString },
);

/** Only one value is supported for CreateKey's KeySpec, KeyUsage, Origin and ProtectionLevel. */
const onlyValue = (valid: string) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(valid) },
    { weight: 1, arbitrary: fc.constantFrom(valid.toLowerCase(), `${valid} `, ...PROTOTYPE_NAMES) },
    { weight: 1, arbitrary: nastyString },
  );

const plaintext: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: unicodeString(200).filter((s) => s.length > 0) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('x', '', 'x'.repeat(6144), 'x'.repeat(6145), 'é'.repeat(3072), 'é'.repeat(3073), '🔑'.repeat(1536), '🔑'.repeat(1537)),
  },
  { weight: 2, arbitrary: nastyString },
);

const description: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: unicodeString(100) },
  { weight: 1, arbitrary: fc.constantFrom('d'.repeat(8192), 'd'.repeat(8193), '𝄞'.repeat(4096), '𝄞'.repeat(4097)) },
  { weight: 2, arbitrary: nastyString },
);

const keyVersionId: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(KEY_VERSION_ID) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: nastyString },
);

const format: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('JSON', 'XML', 'json', 'xml') },
  { weight: 1, arbitrary: fc.constantFrom('', 'YAML', 'JSON ', ...PROTOTYPE_NAMES) },
);

// --- EncryptionContext --------------------------------------------------------------------------

export type ContextPairs = ReadonlyArray<readonly [key: string, value: string]>;

/** Context keys: names JavaScript objects react to, dotted keys (the flattened form's separator), unicode, the empty string. */
export const contextKey: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...PROTOTYPE_NAMES,
      '',
      ' ',
      '.',
      '..',
      'a.b',
      '.a',
      'a.',
      'EncryptionContext',
      'k',
      'K',
      'k ',
      '中',
      '🔑',
      'e\u0301',
      '\u00e9',
      '&',
      '=',
      '%',
      '+',
      '"',
      '\\',
      '\u0000',
    ),
  },
  { weight: 2, arbitrary: unicodeString(12) },
);

export const contextValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('', ' ', 'v', 'V', ...PROTOTYPE_NAMES, '{}', '[]', '\u0000', '🔑', 'a&b=c') },
  { weight: 3, arbitrary: unicodeString(24) },
);

/** Pairs with distinct keys. */
export const contextPairs = (minLength: number, maxLength: number): fc.Arbitrary<ContextPairs> =>
  fc.uniqueArray(fc.tuple(contextKey, contextValue), { selector: ([k]) => k, minLength, maxLength });

/** A JSON string token, optionally with every non-ASCII character written as `\uXXXX` (as `ensure_ascii` JSON writers do). */
export function jsonString(text: string, escapeAll = false): string {
  const json = JSON.stringify(text);
  return escapeAll ? json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** The JSON text of a context, pairs in the given order. */
export function contextJson(pairs: ContextPairs, escapeAll = false): string {
  return `{${pairs.map(([k, v]) => `${jsonString(k, escapeAll)}:${jsonString(v, escapeAll)}`).join(',')}}`;
}

/** The flattened form the older SDK sends: `<name>.<key>=<value>`. */
export function contextFlattened(name: string, pairs: ContextPairs): Array<[string, string]> {
  return pairs.map(([k, v]) => [`${name}.${k}`, v]);
}

/** A permutation of `items`. */
export const permutationOf = <T>(items: readonly T[]): fc.Arbitrary<T[]> =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });

/** EncryptionContext texts that are not a flat object of string → string, or are on an edge. */
export const NASTY_CONTEXT_TEXTS: readonly string[] = [
  '{"a":"\\ud800"}',
  '{"\\ud800":"a"}',
  '{"a":"\\udc00\\ud800"}',
  '{"a":"x\\udbffy"}',
  '{"a":"\\ud83d\\udd11"}',
  '{"a":"1","a":"2"}',
  '{"a":"1","\\u0061":"2"}',
  '{"__proto__":"x","__proto__":"y"}',
  '{"a":{"b":"c"}}',
  '{"a":1}',
  '{"a":null}',
  '{"a":true}',
  '{"a":["b"]}',
  '{"__proto__":"x"}',
  '{"__proto__":{"a":"b"}}',
  '{"constructor":"x"}',
  '{"constructor":{"prototype":"x"}}',
  '{"toString":"x"}',
  '{"":""}',
  '{}',
  '[]',
  '[["a","b"]]',
  'null',
  '"a"',
  '1',
  'true',
  '{',
  '{"a":"b"',
  '{"a":"b"}{"c":"d"}',
  "{'a':'b'}",
  '{"a":"b",}',
  '{a:"b"}',
  ' {"a":"b"} ',
  '\ufeff{"a":"b"}',
  '{"a":"b\\u0000"}',
  '{"a\\"b":"c"}',
  '{"a":"\\"","b":"\\\\"}',
  `{"a":"${'x'.repeat(8200)}"}`,
  `{"a":"${'x'.repeat(8184)}"}`,
];

/** A well-formed context parameter: JSON text (any key order, maybe all escaped) or flattened pairs. */
export const validContextParameter = (name: string): PairsArbitrary =>
  fc.oneof(
    fc.tuple(contextPairs(0, 4), fc.boolean()).map(([pairs, escapeAll]): Array<[string, string]> => [[name, contextJson(pairs, escapeAll)]]),
    contextPairs(1, 4).map((pairs) => contextFlattened(name, pairs)),
  );

/** An EncryptionContext-style parameter: JSON text, flattened pairs, nasty text, or both forms at once. */
export const contextParameter = (name: string): fc.Arbitrary<Array<[string, string]>> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(contextPairs(0, 4), fc.boolean()).map(([pairs, escapeAll]): Array<[string, string]> => [[name, contextJson(pairs, escapeAll)]]),
    },
    { weight: 3, arbitrary: contextPairs(1, 4).map((pairs) => contextFlattened(name, pairs)) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_CONTEXT_TEXTS).map((text): Array<[string, string]> => [[name, text]]) },
    { weight: 1, arbitrary: nastyString.map((text): Array<[string, string]> => [[name, text]]) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(contextPairs(1, 2), contextPairs(1, 2))
        .map(([a, b]): Array<[string, string]> => [[name, contextJson(a)], ...contextFlattened(name, b)]),
    },
  );

// --- CiphertextBlob ----------------------------------------------------------------------------

/** Ciphertext blobs from real ones: as they are, truncated, bit-flipped, re-headed, re-encoded; and random Base64 and nasty text. */
export function ciphertextBlob(realBlobs: readonly string[]): fc.Arbitrary<string> {
  const real = fc.constantFrom(...realBlobs);
  const bytesOf = (b: string) => Buffer.from(b, 'base64');
  return fc.oneof(
    { weight: 3, arbitrary: real },
    { weight: 1, arbitrary: fc.tuple(real, fc.nat()).map(([b, n]) => b.slice(0, n % b.length)) },
    {
      weight: 1,
      arbitrary: fc.tuple(real, fc.nat()).map(([b, n]) =>
        bytesOf(b)
          .subarray(0, n % bytesOf(b).length)
          .toString('base64'),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(real, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, n, bit]) => {
        const bytes = bytesOf(b);
        bytes[n % bytes.length]! ^= 1 << bit;
        return bytes.toString('base64');
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          real,
          fc.constantFrom(KEY_VERSION_ID.toUpperCase(), 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', '00000000-0000-0000-0000-000000000000', 'x'.repeat(36)),
        )
        .map(([b, v]) => {
          const bytes = bytesOf(b);
          bytes.write(v, 0, 'latin1');
          return bytes.toString('base64');
        }),
    },
    { weight: 1, arbitrary: real.map((b) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')) },
    { weight: 1, arbitrary: fc.tuple(real, fc.constantFrom('\n', ' ', '=', '==', '\u0000', 'A')).map(([b, s]) => `${b}${s}`) },
    { weight: 1, arbitrary: real.map((b) => `${b.slice(0, 20)}\n${b.slice(20)}`) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 200 }).map((u) => Buffer.from(u).toString('base64')) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 64, maxLength: 200 })
        .map((u) => Buffer.concat([Buffer.from(KEY_VERSION_ID, 'latin1'), Buffer.from(u)]).toString('base64')),
    },
    { weight: 1, arbitrary: fc.constantFrom('A'.repeat(16_384), 'A'.repeat(16_385), 'AAAA'.repeat(4097)) },
    { weight: 2, arbitrary: nastyString },
  );
}

// --- Requests -----------------------------------------------------------------------------------

/** Pairs to add to a request for one parameter (a flattened map is several). */
export type PairsArbitrary = fc.Arbitrary<Array<[string, string]>>;

export interface ParamGenerator {
  /** A value the Action accepts (an existing or missing key, a value in range): gets requests past validation. */
  valid(name: string, action: string): PairsArbitrary;
  /** Anything: valid values, edges, and nasty text. */
  any(name: string, action: string): PairsArbitrary;
}

/** An EXTERNAL key the fuzz service makes, and an import token and wrapped material for it (see fuzzImportFixture). */
export interface ImportFixture {
  keyId: string;
  importToken: string;
  encryptedKeyMaterial: string;
}

const IMPORT_ACTIONS = new Set(['GetParametersForImport', 'ImportKeyMaterial', 'DeleteKeyMaterial']);
const TAG_ACTIONS = new Set(['TagResource', 'UntagResource', 'ListResourceTags']);
/** The secrets the fuzz service makes (test/contract/fuzz-parameters.test.ts): one live, one pending deletion. */
export const FUZZ_SECRETS = ['fuzz/secret', 'fuzz/pending'] as const;

/** The value generators of each known parameter name; any other name gets nasty text. */
export function parameterGenerator(realBlobs: readonly string[], imports?: ImportFixture): ParamGenerator {
  const one = (arb: fc.Arbitrary<string>) => (name: string) => arb.map((v): Array<[string, string]> => [[name, v]]);
  const blob = ciphertextBlob(realBlobs);
  const int = (min: number, max: number) => one(fc.integer({ min, max }).map(String));
  const importKey = imports ? fc.constant(imports.keyId) : seededKeyReference;
  const validTable: Record<string, (name: string, action: string) => PairsArbitrary> = {
    KeyId: (name, action) =>
      one(
        IMPORT_ACTIONS.has(action)
          ? fc.oneof({ weight: 6, arbitrary: importKey }, { weight: 1, arbitrary: seededKeyReference })
          : fc.oneof({ weight: 4, arbitrary: seededKeyReference }, { weight: 1, arbitrary: fc.uuid() }),
      )(name),
    DestinationKeyId: one(seededKeyReference),
    AliasName: one(fc.oneof(fc.constantFrom(...SEEDED_ALIASES), wellFormedAlias)),
    KeySpec: (name, action) => one(action === 'CreateKey' ? fc.constant('Aliyun_AES_256') : fc.constantFrom('AES_256', 'AES_128'))(name),
    KeyUsage: one(fc.constant('ENCRYPT/DECRYPT')),
    Origin: one(fc.constantFrom('Aliyun_KMS', 'EXTERNAL')),
    ProtectionLevel: one(fc.constant('SOFTWARE')),
    NumberOfBytes: int(1, 1024),
    PageNumber: int(1, 4),
    PageSize: int(1, 100),
    PendingWindowInDays: int(7, 366),
    RotationInterval: (name, action) => (action === 'CreateSecret' ? fc.constant([]) : one(fc.constantFrom('7d', '30d', '730d', '604800s', '63072000s'))(name)),
    EnableAutomaticRotation: (name, action) => one(action === 'CreateSecret' ? fc.constant('false') : fc.constantFrom('true', 'false'))(name),
    DryRun: one(fc.constantFrom('true', 'false', 'false')),
    EncryptionContext: validContextParameter,
    SourceEncryptionContext: validContextParameter,
    DestinationEncryptionContext: validContextParameter,
    CiphertextBlob: one(fc.constantFrom(...realBlobs)),
    Plaintext: one(unicodeString(200).filter((s) => s.length > 0)),
    Description: one(unicodeString(100)),
    KeyVersionId: one(fc.constant(KEY_VERSION_ID)),
    Format: one(fc.constantFrom('JSON', 'XML')),
    PasswordLength: int(8, 128),
    ExcludeCharacters: one(fc.string({ unit: fc.constantFrom(...'abcXYZ019!"\\/ '), maxLength: 12 })),
    ExcludeLowercase: one(fc.constantFrom('true', 'false', 'false')),
    ExcludeUppercase: one(fc.constantFrom('true', 'false', 'false')),
    ExcludeNumbers: one(fc.constantFrom('true', 'false', 'false')),
    ExcludePunctuation: one(fc.constantFrom('true', 'false', 'false')),
    RequireEachIncludedType: one(fc.constantFrom('true', 'false')),
    ProtectedResourceArn: one(fc.constantFrom(...SEEDED_KEY_IDS.map((id) => `acs:kms:${REGION}:${ACCOUNT_ID}:key/${id}`))),
    EnableDeletionProtection: one(fc.constantFrom('true', 'false')),
    DeletionProtectionDescription: one(unicodeString(100)),
    Tags: one(
      fc
        .uniqueArray(
          fc.record({
            TagKey: fc.constantFrom('project', 'env', 'team/a', 'cost.center', 'x:y@z'),
            TagValue: fc.constantFrom('', 'alpha', 'Prod-1', 'a/b\\c'),
          }),
          { minLength: 1, maxLength: 4, selector: (t) => t.TagKey },
        )
        .map((tags) => JSON.stringify(tags)),
    ),
    TagKeys: one(fc.uniqueArray(fc.constantFrom('project', 'env', 'team/a', 'missing'), { minLength: 1, maxLength: 3 }).map((keys) => JSON.stringify(keys))),
    PublicKeyBlob: one(fc.constant(TEST_RSA_PUBLIC_KEY_BLOB)),
    WrappingAlgorithm: (name, action) =>
      one(
        action === 'GetParametersForImport'
          ? fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5')
          : fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'),
      )(name),
    WrappingKeySpec: one(fc.constant('RSA_2048')),
    ImportToken: one(imports ? fc.constant(imports.importToken) : fc.base64String({ minLength: 4, maxLength: 64 })),
    EncryptedKeyMaterial: one(imports ? fc.constant(imports.encryptedKeyMaterial) : fc.base64String({ minLength: 4, maxLength: 344 })),
    KeyMaterialExpireUnix: one(fc.oneof(fc.constant('0'), fc.integer({ min: 2_000_000_000, max: 4_000_000_000 }).map(String))),
    // The fuzz service's secrets (FUZZ_SECRETS), or a new name; the tag Actions mostly tag keys
    // (SecretName with KeyId is a 400), sometimes a secret.
    SecretName: (name, action) =>
      TAG_ACTIONS.has(action)
        ? fc.oneof({ weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: one(fc.constantFrom(...FUZZ_SECRETS))(name) })
        : one(
            fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...FUZZ_SECRETS) },
              { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_/+=.@-]{1,40}$/).filter((n) => !n.startsWith('acs/')) },
            ),
          )(name),
    CertificateId: () => fc.constant([]),
    VersionId: one(fc.oneof(fc.constantFrom('v1', 'v2'), fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/))),
    SecretData: one(unicodeString(100).filter((s) => s.length > 0)),
    SecretDataType: one(fc.constantFrom('text', 'text', 'binary')),
    SecretType: one(fc.constant('Generic')),
    VersionStage: one(fc.constantFrom('ACSCurrent', 'ACSPrevious', 'ACSPending', 'AWSCURRENT', 'custom')),
    VersionStages: one(fc.constantFrom('["ACSCurrent"]', '{"VersionStage":["custom"]}', '["custom","ACSPending"]')),
    MoveToVersion: one(fc.constantFrom('v1', 'v2')),
    RemoveFromVersion: one(fc.constantFrom('v1', 'v2')),
    RecoveryWindowInDays: int(7, 30),
    ForceDeleteWithoutRecovery: one(fc.constantFrom('true', 'false', 'false')),
    IncludeDeprecated: one(fc.constantFrom('true', 'false')),
    FetchTags: one(fc.constantFrom('true', 'false')),
    FetchExtendedConfig: one(fc.constantFrom('true', 'false')),
    Filters: one(fc.constantFrom('[]', '[{"Key":"SecretName","Values":["fuzz"]}]', '[{"Key":"TagKey","Values":["env","x"]}]')),
    EncryptionKeyId: one(seededKeyReference),
    // Managed-secret parameters: refused; a sane request leaves them out.
    ExtendedConfig: () => fc.constant([]),
    Policy: () => fc.constant([]),
    DKMSInstanceId: () => fc.constant([]),
  };
  const anyTable: Record<string, (name: string, action: string) => PairsArbitrary> = {
    KeyId: one(keyReference),
    DestinationKeyId: one(keyReference),
    AliasName: one(aliasName),
    KeySpec: one(fc.oneof(keySpec, onlyValue('Aliyun_AES_256'))),
    KeyUsage: one(onlyValue('ENCRYPT/DECRYPT')),
    Origin: one(fc.oneof(onlyValue('Aliyun_KMS'), onlyValue('EXTERNAL'))),
    ProtectionLevel: one(onlyValue('SOFTWARE')),
    NumberOfBytes: one(integerText),
    PageNumber: one(integerText),
    PageSize: one(integerText),
    PendingWindowInDays: one(integerText),
    RotationInterval: one(rotationInterval),
    EnableAutomaticRotation: one(booleanText),
    DryRun: one(booleanText),
    EncryptionContext: contextParameter,
    SourceEncryptionContext: contextParameter,
    DestinationEncryptionContext: contextParameter,
    CiphertextBlob: one(blob),
    Plaintext: one(plaintext),
    Description: one(description),
    KeyVersionId: one(keyVersionId),
    Format: one(format),
    PasswordLength: one(integerText),
    ExcludeLowercase: one(booleanText),
    ExcludeUppercase: one(booleanText),
    ExcludeNumbers: one(booleanText),
    ExcludePunctuation: one(booleanText),
    RequireEachIncludedType: one(booleanText),
    ProtectedResourceArn: one(keyReference),
    EnableDeletionProtection: one(booleanText),
    DeletionProtectionDescription: one(description),
    PublicKeyBlob: one(
      fc.oneof(
        fc.constant(TEST_RSA_PUBLIC_KEY_BLOB),
        fc.constant(`-----BEGIN PUBLIC KEY-----\n${TEST_RSA_PUBLIC_KEY_BLOB}\n-----END PUBLIC KEY-----`),
        fc.integer({ min: 0, max: TEST_RSA_PUBLIC_KEY_BLOB.length - 1 }).map((cut) => TEST_RSA_PUBLIC_KEY_BLOB.slice(0, cut)),
        fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u).toString('base64')),
        nastyString,
      ),
    ),
    WrappingAlgorithm: one(fc.oneof(fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2PKE'), nastyString)),
    WrappingKeySpec: one(fc.oneof(fc.constantFrom('RSA_2048', 'EC_SM2', 'RSA_4096'), nastyString)),
    ImportToken: one(
      fc.oneof(
        ...(imports
          ? [fc.constant(imports.importToken), fc.integer({ min: 0, max: imports.importToken.length - 1 }).map((cut) => imports.importToken.slice(0, cut))]
          : []),
        fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u).toString('base64')),
        nastyString,
      ),
    ),
    EncryptedKeyMaterial: one(
      fc.oneof(
        ...(imports ? [fc.constant(imports.encryptedKeyMaterial)] : []),
        fc.uint8Array({ minLength: 250, maxLength: 260 }).map((u) => Buffer.from(u).toString('base64')),
        nastyString,
      ),
    ),
    KeyMaterialExpireUnix: one(fc.oneof(integerText, fc.constantFrom('0', '-1', '1.5', '253402300799', '253402300800', '99999999999999'))),
  };
  const any = (name: string, action: string) => (Object.hasOwn(anyTable, name) ? anyTable[name]!(name, action) : one(nastyString)(name));
  return {
    any,
    valid: (name, action) => (Object.hasOwn(validTable, name) ? validTable[name]!(name, action) : any(name, action)),
  };
}

/** Every parameter name the table's operations take (and Format, which every request may carry). */
export function allParameterNames(actions: readonly ActionDefinition[]): string[] {
  return [...new Set([...actions.flatMap(parameterNamesOf), 'Format'])];
}

/** Parameter names no operation takes, or that only look like a flattened map. */
export const NASTY_PARAMETER_NAMES: readonly string[] = [
  ...PROTOTYPE_NAMES,
  '.',
  '.x',
  'x.',
  'KeyId.x',
  'KeyId.',
  'Plaintext.__proto__',
  'EncryptionContext.',
  'EncryptionContext.__proto__',
  'EncryptionContext.constructor',
  'EncryptionContext.a.b',
  'encryptioncontext',
  'keyid',
  'KEYID',
  ' KeyId',
  'KeyId ',
  'Key Id',
  'a\u0000b',
  '中',
  'x'.repeat(300),
];

/**
 * The parameters of one request for `action`, in one of two shapes:
 * - sane: each of its own parameters (most of the time) with a value it accepts, and maybe one
 *   of them replaced by anything: reaches resolve and execute, with one nasty value at a time;
 * - wild: each of its own parameters (most of the time) with anything.
 * Either may carry a few of other Actions' parameters, and a few nasty names.
 */
export function requestParameters(action: string, own: readonly string[], others: readonly string[], generate: ParamGenerator): PairsArbitrary {
  const none = fc.constant([] as Array<[string, string]>);
  const present = (arb: PairsArbitrary, absentWeight = 1) => fc.oneof({ weight: 6, arbitrary: arb }, { weight: absentWeight, arbitrary: none });
  const sane = fc
    .tuple(fc.tuple(...own.map((name) => present(generate.valid(name, action)))), fc.option(fc.nat({ max: Math.max(own.length - 1, 0) }), { freq: 2 }))
    .chain(([lists, replace]) =>
      replace === null || own.length === 0
        ? fc.constant(lists.flat())
        : generate.any(own[replace]!, action).map((bad) => lists.flatMap((list, i) => (i === replace ? bad : list))),
    );
  const wild = fc.tuple(...own.map((name) => present(generate.any(name, action)))).map((lists) => lists.flat());
  const other =
    others.length > 0
      ? fc
          .array(
            fc.constantFrom(...others).chain((name) => generate.any(name, action)),
            { minLength: 1, maxLength: 2 },
          )
          .map((l) => l.flat())
      : none;
  const nasty = fc.array(fc.tuple(fc.constantFrom(...NASTY_PARAMETER_NAMES), nastyString), { minLength: 1, maxLength: 2 });
  return fc
    .tuple(
      fc.oneof({ weight: 1, arbitrary: sane }, { weight: 1, arbitrary: wild }),
      fc.oneof({ weight: 5, arbitrary: none }, { weight: 1, arbitrary: other }),
      fc.oneof({ weight: 5, arbitrary: none }, { weight: 1, arbitrary: nasty }),
    )
    .map(([ownPairs, otherPairs, nastyPairs]) => [...ownPairs, ...otherPairs, ...(nastyPairs as Array<[string, string]>)]);
}

/** Action names no table row serves. */
export const UNKNOWN_ACTIONS: readonly string[] = [
  'NoSuchAction',
  'decrypt',
  'DECRYPT',
  'Decrypt ',
  ' Decrypt',
  'Decrypt\u0000',
  'kms:Decrypt',
  'GenerateDataKey.',
  'ListKeys;DescribeKey',
  'RotateKeys',
  'DeleteExpiredKeys',
  'dispatch',
  // Served since the secrets Actions landed; the AWS-only and managed-secret ones are not.
  'BatchGetSecretValue',
  'RotateSecret',
  'createsecret',
  ...PROTOTYPE_NAMES,
  '',
  ' ',
  '*',
  '../DescribeKey',
  'A'.repeat(5000),
];

export const unknownAction: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...UNKNOWN_ACTIONS) },
  { weight: 1, arbitrary: unicodeString(30) },
);

// ---------------------------------------------------------------------------------------------
// Checks

export type CallResult = Awaited<ReturnType<TestService['call']>>;

/**
 * The longest Message an error may have: the longest fixed text plus two echoes of caller text cut
 * at 128 characters (lib/errors.ts: "an error never mirrors a large input").
 */
export const MAX_MESSAGE_CHARS = 600;

const STACK_TRACE = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|\.js:\d+|node_modules|node:internal/;

/**
 * Text with every value the caller sent (and its 128-character prefix, which messages echo)
 * taken out: what is left is what the service wrote itself.
 */
export function withoutEcho(text: string, sent: readonly string[]): string {
  let out = text;
  const echoes = sent.flatMap((s) => [s, s.slice(0, 128)]).filter((s) => s.length >= 2);
  for (const s of [...new Set(echoes)].sort((a, b) => b.length - a.length)) out = out.split(s).join('');
  return out;
}

/** The fields of a response body, JSON or XML (`<Error>` / `<KMS>`). */
export function bodyFields(result: CallResult): Record<string, unknown> {
  const type = result.headers['content-type'] ?? '';
  if (type.startsWith('text/xml')) {
    const parsed = parseXml(result.raw);
    return (parsed.Error ?? parsed.KMS ?? {}) as Record<string, unknown>;
  }
  expect(type).toMatch(/^application\/json/);
  return JSON.parse(result.raw) as Record<string, unknown>;
}

/**
 * Never a fault: status below 500; an error is an Alibaba error body (exactly RequestId, HostId,
 * Code, Message, Recommend; the RequestId echoed in `x-acs-request-id`) whose own text holds no
 * stack trace, source path or module path; a success is 200 with a RequestId.
 */
export function expectNoFault(result: CallResult, sent: readonly string[]): void {
  expect(result.status, `a ${result.status}: ${result.raw.slice(0, 500)}`).toBeLessThan(500);
  const fields = bodyFields(result);
  expect(typeof fields.RequestId).toBe('string');
  expect(result.headers['x-acs-request-id']).toBe(fields.RequestId);
  if (result.status >= 400) {
    expect(Object.keys(fields).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    expect(typeof fields.Code).toBe('string');
    expect((fields.Code as string).length).toBeGreaterThan(0);
    expect(typeof fields.Message).toBe('string');
    expect((fields.Message as string).length).toBeGreaterThan(0);
    expect((fields.Message as string).length, 'the message mirrors a large input').toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(withoutEcho(result.raw, sent)).not.toMatch(STACK_TRACE);
  } else {
    expect(result.status).toBe(200);
  }
}

/** Characters XML 1.0 cannot carry at all, not even escaped (the `Char` production), and lone surrogates. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** An XML body a strict parser accepts: only characters XML 1.0 allows. */
export function expectXmlCharactersOnly(raw: string): void {
  const bad = NOT_XML_CHAR.exec(raw);
  expect(
    bad &&
      `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${bad.index}: ${JSON.stringify(raw.slice(Math.max(0, bad.index - 60), bad.index + 20))}`,
    'an XML body holds a character XML 1.0 forbids',
  ).toBeNull();
}

/** Every name and value of a parameter list, and the Action: what the caller itself sent. */
export function sentTexts(action: string, pairs: ParamPairs): string[] {
  return [action, ...pairs.flat()];
}

/** No seeded key id appears in the body unless the caller itself sent it (as an id, in an ARN, anywhere). */
export function expectNoUnsentKeyId(result: CallResult, sent: readonly string[], keyIds: readonly string[] = SEEDED_KEY_IDS): void {
  for (const keyId of keyIds) {
    if (sent.some((s) => s.toLowerCase().includes(keyId.toLowerCase()))) continue;
    expect(result.raw.toLowerCase(), `the body names ${keyId}, which the caller never sent`).not.toContain(keyId.toLowerCase());
  }
}

/**
 * Run counts for fast-check properties: `numRuns` × FUZZ_SCALE (default 1), with the fixed seed
 * unless FUZZ_SEED is set (then FUZZ_SEED + seed). `planned()` is how many cases were asked for.
 */
export function fuzzRuns(): { scale: number; runs(seed: number, numRuns: number): fc.Parameters<unknown>; planned(): number } {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  let planned = 0;
  return {
    scale,
    runs(seed, numRuns) {
      const n = Math.max(1, Math.round(numRuns * scale));
      planned += n;
      return { seed: process.env.FUZZ_SEED === undefined ? seed : Number(process.env.FUZZ_SEED) + seed, numRuns: n };
    },
    planned: () => planned,
  };
}
