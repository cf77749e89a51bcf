import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, AWS_OPERATIONS, SECRETS_MANAGER_OPERATIONS } from '../../functions/actions.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import {
  ALIAS_ARN,
  allParameterNames,
  type CallResult,
  contextFlattened,
  contextJson,
  contextPairs,
  type ContextPairs,
  contextValue,
  bodyFields,
  expectXmlCharactersOnly,
  expectNoFault,
  expectNoUnsentKeyId,
  fuzzRuns,
  jsonString,
  malformedAlias,
  nastyString,
  type ImportFixture,
  parameterGenerator,
  parameterNamesOf,
  paramRecord,
  PENDING_ALIAS,
  permutationOf,
  PROTOTYPE_NAMES,
  requestParameters,
  SEEDED_ALIASES,
  SEEDED_KEY_IDS,
  FUZZ_SECRETS,
  sentTexts,
  signedRequest,
  signingPath,
  SIGNING_PATHS,
  type SigningPath,
  unicodeString,
  unknownAction,
  wellFormedAlias,
} from '../helpers/fuzz.js';
import {
  ADMIN,
  ALIAS,
  CONSUMER,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  keyArnOf,
  OTHER_KEY_ID,
  PROVIDER,
  SCOPED,
  type TestService,
} from '../helpers/service.js';
import { type Credentials, isoSeconds, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { wrapMaterial } from '../../lib/crypto/import-wrap.js';
import { fixtureKeyIds, KEY_KIND_ACTIONS, type KeyKindsFixture, keyKindsFixture, withKeyKinds } from '../helpers/fuzz-key-kinds.js';
import { expectError } from './support.js';

/**
 * Property-based contract tests over the one Action table and every client signing path: the
 * classes of defects an adversarial tester found (faults on malformed input, unbound context
 * pairs, existence leaks to denied callers, unbounded signed fields), checked for every Action.
 * Seeds are fixed, so a failure reproduces; fast-check prints the shrunk counterexample.
 */

/**
 * Fixed seeds and modest run counts keep this file under a minute. To fuzz harder locally:
 * `FUZZ_SCALE=20 FUZZ_SEED=123 npx vitest run test/contract/fuzz-parameters.test.ts`
 * (FUZZ_SEED replaces every fixed seed; a failure prints the seed and path that reproduce it).
 */
const { runs, planned, scale } = fuzzRuns();
/** Thousands of signed requests each: a generous bound, so a loaded machine is no failure (the runs are fixed). */
const FUZZ_TIMEOUT_MS = 180_000;
afterAll(() => {
  console.log(`fuzz-parameters: ${planned()} cases (FUZZ_SCALE=${scale})`);
});

/** Allowed one action of another product: every KMS request of this caller is denied. */
const NOTHING: Credentials = { accessKeyId: 'testNothing001', accessKeySecret: 'nothing-secret-0123456789' };

const CALLERS = { ADMIN, PROVIDER, CONSUMER, SCOPED, NOTHING } as const;
type CallerName = keyof typeof CALLERS;
const caller = fc.oneof(
  { weight: 4, arbitrary: fc.constant<CallerName>('ADMIN') },
  { weight: 3, arbitrary: fc.constantFrom<CallerName>('PROVIDER', 'CONSUMER', 'SCOPED', 'NOTHING') },
);

/** The Actions of the Alibaba API: the table's rows with an Alibaba binding (the AWS-only ones are fuzzed by aws-fuzz.test.ts). */
const ALIBABA_ROUTES = ACTIONS.filter((route) => route.operation.alibaba !== undefined);
const TABLE_ACTIONS = ALIBABA_ROUTES.map((route) => route.action);
const ALL_PARAMETER_NAMES = allParameterNames(ALIBABA_ROUTES.map((route) => route.operation));

interface FuzzService {
  t: TestService;
  /** Real blobs: under KEY_ID, OTHER_KEY_ID and DISABLED_KEY_ID, with and without a context. */
  blobs: string[];
  /** The seeded key ids and the pending key's: what a caller allowed nothing must never learn. */
  keyIds: string[];
  /** An EXTERNAL key with a token and wrapped material, so the import Actions can succeed. */
  imports: ImportFixture;
  /** RSA, EC and HMAC keys with real signatures, ciphertexts and MACs (when asked for: RSA keys take time to make). */
  keyKinds?: KeyKindsFixture;
}

async function fuzzService(store?: FileKeyStore, options: { keyKinds?: boolean } = {}): Promise<FuzzService> {
  // Keeping the recent audit records, as the gateway does: ListAuditEvents can succeed.
  const t = await createTestService({ store, recentAudit: new RecentAuditRecords() });
  await t.service.accessKeys.create({
    ...NOTHING,
    status: 'Enabled',
    createdAt: new Date().toISOString(),
    // Allowed nothing (only actions of this service may be named, so a Deny of all says it).
    policy: { Version: '1', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] },
  });
  const ok = async (action: string, params: Record<string, string>) => {
    const r = await t.call(signedRpcRequest(ADMIN, action, params));
    expect(r.status, r.raw).toBe(200);
    return r.body;
  };
  await ok('EnableKey', { KeyId: DISABLED_KEY_ID });
  const blobs = [
    (await ok('Encrypt', { KeyId: KEY_ID, Plaintext: 'p' })).CiphertextBlob,
    (await ok('Encrypt', { KeyId: KEY_ID, Plaintext: 'p', EncryptionContext: '{"a":"b"}' })).CiphertextBlob,
    (await ok('GenerateDataKey', { KeyId: OTHER_KEY_ID })).CiphertextBlob,
    (await ok('GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID, 'EncryptionContext.__proto__': 'x' })).CiphertextBlob,
    (await ok('Encrypt', { KeyId: DISABLED_KEY_ID, Plaintext: 'p' })).CiphertextBlob,
  ] as string[];
  await ok('DisableKey', { KeyId: DISABLED_KEY_ID });
  // A key pending deletion, by a known alias: CancelKeyDeletion has something to cancel.
  const pending = (await ok('CreateKey', { Description: 'pending' })).KeyMetadata.KeyId as string;
  await ok('CreateAlias', { AliasName: PENDING_ALIAS, KeyId: pending });
  await ok('ScheduleKeyDeletion', { KeyId: pending, PendingWindowInDays: '7' });
  // Secrets: one live with two versions, one pending deletion (RestoreSecret has something to restore).
  await ok('CreateSecret', { SecretName: FUZZ_SECRETS[0], VersionId: 'v1', SecretData: 'one', Tags: '[{"TagKey":"env","TagValue":"x"}]' });
  await ok('PutSecretValue', { SecretName: FUZZ_SECRETS[0], VersionId: 'v2', SecretData: 'two' });
  await ok('CreateSecret', { SecretName: FUZZ_SECRETS[1], VersionId: 'v1', SecretData: 'one' });
  await ok('DeleteSecret', { SecretName: FUZZ_SECRETS[1] });
  const imports = await importFixture(ok);
  const keyKinds = options.keyKinds ? await keyKindsFixture(ok, (action, params) => t.call(signedRpcRequest(ADMIN, action, params))) : undefined;
  return { t, blobs, keyIds: [...SEEDED_KEY_IDS, pending, imports.keyId, ...(keyKinds ? fixtureKeyIds(keyKinds) : [])], imports, keyKinds };
}

/** An EXTERNAL key, and an import token and 32 bytes of material wrapped for it. */
async function importFixture(ok: (action: string, params: Record<string, string>) => Promise<Record<string, any>>): Promise<ImportFixture> {
  const keyId = (await ok('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
  const p = await ok('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  return { keyId, importToken: p.ImportToken, encryptedKeyMaterial: wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', Buffer.alloc(32, 9)) };
}

/** One request of the fuzz: an Action, a signing path, a caller and parameters. */
const fuzzRequest = (actions: fc.Arbitrary<string>, blobs: readonly string[], imports?: ImportFixture, keyKinds?: KeyKindsFixture) => {
  const base = parameterGenerator(blobs, imports);
  const generate = keyKinds ? withKeyKinds(base, keyKinds) : base;
  const byAction = new Map(ALIBABA_ROUTES.map((route) => [route.action, parameterNamesOf(route.operation)]));
  return fc
    .record({
      action: actions,
      path: signingPath,
      who: caller,
    })
    .chain((base) => {
      const own = byAction.get(base.action);
      // Unknown Actions get parameters drawn from every Action's names.
      const parameters = own
        ? requestParameters(
            base.action,
            [...own, 'Format'],
            ALL_PARAMETER_NAMES.filter((n) => !own.includes(n)),
            generate,
          )
        : requestParameters(base.action, [], ALL_PARAMETER_NAMES, generate);
      return parameters.map((pairs) => ({ ...base, pairs }));
    });
};

async function sendFuzz(fuzz: FuzzService, r: { action: string; path: SigningPath; who: CallerName; pairs: Array<[string, string]> }): Promise<CallResult> {
  const params = paramRecord(r.pairs);
  const result = await fuzz.t.call(signedRequest(r.path, CALLERS[r.who], r.action, params));
  const sent = sentTexts(r.action, Object.entries(params));
  expectNoFault(result, sent);
  if (r.who === 'NOTHING') expectNoUnsentKeyId(result, sent, fuzz.keyIds);
  return result;
}

describe('Property: no request is answered with a fault (never a 5xx, never a stack trace)', () => {
  it('when the Action table is read, every Action has parameter names to fuzz (but the two that take none, fuzzed with Format and strangers)', () => {
    const parameterless = new Set(['DescribeRegions', 'DescribeService']);
    for (const route of ALIBABA_ROUTES) expect(parameterNamesOf(route.operation).length > 0, route.action).toBe(!parameterless.has(route.action));
  });

  it('an Action without an Alibaba binding is served through the AWS API, so aws-fuzz.test.ts fuzzes it', () => {
    const awsServed = new Set([...AWS_OPERATIONS.values(), ...SECRETS_MANAGER_OPERATIONS.values()].flat());
    for (const route of ACTIONS.filter((r) => r.operation.alibaba === undefined)) expect(awsServed.has(route.action), route.action).toBe(true);
  });

  describe('over an in-memory store', () => {
    it.each(TABLE_ACTIONS)(
      'when %s gets nasty parameters over any signing path from any caller, it answers below 500 with an Alibaba error or a success',
      async (action) => {
        // The Actions of RSA, EC and HMAC keys are fuzzed with keys of those kinds in the service.
        const fuzz = await fuzzService(undefined, { keyKinds: KEY_KIND_ACTIONS.has(action) });
        let ok = 0;
        await fc.assert(
          fc.asyncProperty(fuzzRequest(fc.constant(action), fuzz.blobs, fuzz.imports, fuzz.keyKinds), async (r) => {
            const result = await sendFuzz(fuzz, r);
            // A dry run that would have succeeded answers 412 DryRunOperationError: it got past everything too.
            if (result.status === 200 || result.body.Code === 'DryRunOperationError') ok++;
          }),
          runs(0x5eed0001, 500),
        );
        expect(ok, `no request to ${action} succeeded: the generators only exercise validation`).toBeGreaterThan(0);
      },
    );

    it(
      'when an unknown Action is signed, it answers 4xx with an Alibaba error',
      async () => {
        const fuzz = await fuzzService();
        await fc.assert(
          fc.asyncProperty(fuzzRequest(unknownAction, fuzz.blobs, fuzz.imports), async (r) => {
            const result = await sendFuzz(fuzz, r);
            expect(result.status).toBeGreaterThanOrEqual(400);
          }),
          runs(0x5eed0002, 1000),
        );
      },
      FUZZ_TIMEOUT_MS,
    );
  });

  describe('over a file store (its entry-name check is where malformed names became 500s)', () => {
    const dirs: string[] = [];
    const fileFuzzService = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kms-fuzz-'));
      dirs.push(dir);
      return fuzzService(new FileKeyStore(dir), { keyKinds: true });
    };
    afterAll(async () => {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    it(
      'when any Action (or an unknown one) gets nasty parameters over any signing path from any caller, it answers below 500 with an Alibaba error or a success',
      async () => {
        const fuzz = await fileFuzzService();
        const actions = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...TABLE_ACTIONS) }, { weight: 1, arbitrary: unknownAction });
        await fc.assert(
          fc.asyncProperty(fuzzRequest(actions, fuzz.blobs, fuzz.imports, fuzz.keyKinds), async (r) => {
            await sendFuzz(fuzz, r);
          }),
          runs(0x5eed0003, 3000),
        );
      },
      FUZZ_TIMEOUT_MS,
    );

    it(
      'when a key reference or alias name is malformed (bare or in an ARN), every Action answers 400 InvalidParameter naming it, before authorisation (the name never reaches the store)',
      async () => {
        // A store of its own: ADMIN's fuzz above may have deleted or moved alias/test.
        const fuzz = await fileFuzzService();
        const slots = ALIBABA_ROUTES.flatMap((route) =>
          parameterNamesOf(route.operation)
            .filter((name) => name === 'KeyId' || name === 'DestinationKeyId' || name === 'AliasName')
            .map((parameter) => ({ action: route.action, parameter })),
        );
        // Everything else in the request names something that exists, so the malformed reference is what is judged.
        const rest = (action: string): Array<[string, string]> => [
          ['KeyId', KEY_ID],
          ['DestinationKeyId', KEY_ID],
          ['AliasName', action === 'CreateAlias' ? 'alias/fuzz-new' : ALIAS],
          ['CiphertextBlob', fuzz.blobs[0]!],
          ['Plaintext', 'p'],
          ['KeyVersionId', KEY_VERSION_ID],
          ['PendingWindowInDays', '7'],
          ['EnableAutomaticRotation', 'false'],
        ];
        // A caller allowed nothing is refused the same way where the reference is the first thing resolved.
        const firstResolved = (slot: { action: string; parameter: string }) =>
          slot.action !== 'ReEncrypt' && !(slot.action === 'UpdateAlias' && slot.parameter === 'KeyId');
        const input = fc
          .record({ slot: fc.constantFrom(...slots), alias: malformedAlias, arn: fc.boolean(), path: signingPath, nothing: fc.boolean() })
          .map((r) => ({ ...r, who: r.nothing && firstResolved(r.slot) ? NOTHING : ADMIN }));
        await fc.assert(
          fc.asyncProperty(input, async ({ slot, alias, arn, path, who }) => {
            // An ARN is only ever a key reference; as an AliasName it is simply not an alias name.
            const value = arn ? ALIAS_ARN(alias) : alias;
            const result = await fuzz.t.call(signedRequest(path, who, slot.action, paramRecord([[slot.parameter, value], ...rest(slot.action)])));
            expectError(result, 400, 'InvalidParameter', `"${slot.parameter}"`);
          }),
          runs(0x5eed0004, 600),
        );
      },
      FUZZ_TIMEOUT_MS,
    );
  });

  it(
    'when a request body is not form-encoded UTF-8 (another content type, none, or bytes that are not UTF-8), every Action answers 415 UnsupportedMediaType',
    async () => {
      const fuzz = await fuzzService();
      const contentType = fc.oneof(
        fc.constantFrom(
          undefined,
          '',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/octet-stream',
          'application/x-www-form',
          'form-urlencoded',
          ' application/x-www-form-urlencoded',
        ),
        unicodeString(30).filter((t) => !t.toLowerCase().startsWith('application/x-www-form-urlencoded')),
      );
      const notForm = fc.record({
        type: contentType,
        body: fc
          .oneof(
            fc.constantFrom('{"KeyId":"alias/test"}', `KeyId=${KEY_ID}`, '<KeyId>x</KeyId>'),
            unicodeString(200).filter((b) => b.length > 0),
          )
          .map((b) => Buffer.from(b)),
      });
      const notUtf8 = fc.record({
        type: fc.constantFrom(
          'application/x-www-form-urlencoded',
          'APPLICATION/X-WWW-FORM-URLENCODED',
          'application/x-www-form-urlencoded; charset=ISO-8859-1',
        ),
        body: fc
          .tuple(fc.stringMatching(/^[A-Za-z=&]{0,20}$/), fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80]))
          .map(([a, bad]) => Buffer.concat([Buffer.from(a), Buffer.from(bad)])),
      });
      const input = fc.record({
        action: fc.constantFrom(...TABLE_ACTIONS),
        v3: fc.boolean(),
        who: caller,
        content: fc.oneof(notForm, notUtf8),
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ action, v3, who, content }) => {
          const request = v3
            ? signedV3Request(
                CALLERS[who],
                action,
                { KeyId: KEY_ID },
                { body: content.body, ...(content.type === undefined ? {} : { contentType: content.type }) },
              )
            : signedRpcRequest(CALLERS[who], action, { KeyId: KEY_ID }, { method: 'POST' });
          if (!v3) {
            // pop-core's POST, with its body replaced by one that is not a form: the RPC signature does not cover the body's type.
            (request as { body: Buffer }).body = content.body;
            const headers = request.headers as Record<string, string>;
            if (content.type === undefined) delete headers['content-type'];
            else headers['content-type'] = content.type;
          }
          expectError(await fuzz.t.call(request), 415, 'UnsupportedMediaType');
        }),
        runs(0x5eed0005, 500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when KeySpec is anything but AES_256 or AES_128 (and NumberOfBytes is absent), GenerateDataKey and GenerateDataKeyWithoutPlaintext answer 400 InvalidParameter naming KeySpec',
    async () => {
      const fuzz = await fuzzService();
      const spec = fc
        .oneof(fc.constantFrom(...PROTOTYPE_NAMES, 'aes_256', 'AES_256 ', ' AES_128', 'AES_512', 'Aliyun_AES_256', ''), nastyString)
        .filter((v) => v !== 'AES_256' && v !== 'AES_128');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('GenerateDataKey', 'GenerateDataKeyWithoutPlaintext'), spec, signingPath, async (action, keySpec, path) => {
          const result = await fuzz.t.call(
            signedRequest(
              path,
              ADMIN,
              action,
              paramRecord([
                ['KeyId', KEY_ID],
                ['KeySpec', keySpec],
              ]),
            ),
          );
          expectError(result, 400, 'InvalidParameter', '"KeySpec"');
        }),
        runs(0x5eed0006, 300),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------

type Form = 'json' | 'flat';

/** A context as request parameters, in one form. */
function contextParams(name: string, pairs: ContextPairs, form: Form, escapeAll = false): Array<[string, string]> {
  if (form === 'flat') return contextFlattened(name, pairs);
  return [[name, contextJson(pairs, escapeAll)]];
}

describe('Property: every EncryptionContext pair a caller sends is bound', () => {
  let t: TestService;
  beforeAll(async () => {
    ({ t } = await fuzzService());
  });

  const call = (path: SigningPath, action: string, pairs: Array<[string, string]>) => t.call(signedRequest(path, ADMIN, action, paramRecord(pairs)));

  it(
    'when GenerateDataKey or Encrypt succeeds with a context (JSON or flattened), Decrypt refuses it without every pair exactly, and accepts it in the other form in any order',
    async () => {
      const input = fc
        .record({
          action: fc.constantFrom('GenerateDataKey', 'Encrypt'),
          keyId: fc.constantFrom(KEY_ID, ALIAS, keyArnOf(OTHER_KEY_ID)),
          pairs: contextPairs(1, 4),
          form: fc.constantFrom<Form>('json', 'flat'),
          escapeAll: fc.boolean(),
          encryptPath: signingPath,
          decryptPath: signingPath,
          plaintext: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        })
        .chain((r) => permutationOf(r.pairs).map((reordered) => ({ ...r, reordered })));
      await fc.assert(
        fc.asyncProperty(input, async (r) => {
          const other: Form = r.form === 'json' ? 'flat' : 'json';
          const made = await call(r.encryptPath, r.action, [
            ['KeyId', r.keyId],
            ...(r.action === 'Encrypt' ? ([['Plaintext', r.plaintext]] as Array<[string, string]>) : []),
            ...contextParams('EncryptionContext', r.pairs, r.form, r.escapeAll),
          ]);
          expect(made.status, made.raw).toBe(200);
          const blob = made.body.CiphertextBlob as string;
          const expected = r.action === 'Encrypt' ? r.plaintext : (made.body.Plaintext as string);
          const decrypt = (pairs: ContextPairs, form: Form, escapeAll = false) =>
            call(r.decryptPath, 'Decrypt', [['CiphertextBlob', blob], ...contextParams('EncryptionContext', pairs, form, escapeAll)]);
          const refused = async (pairs: ContextPairs, form: Form, why: string) => {
            const result = await decrypt(pairs, form);
            expect(result.body.Plaintext, why).toBeUndefined();
            expectError(result, 400, 'InvalidCiphertext');
          };

          await refused([], r.form, 'no context');
          await refused([], other, 'no context');
          for (let i = 0; i < r.pairs.length; i++) {
            const [k, v] = r.pairs[i]!;
            const without = r.pairs.filter((_, j) => j !== i);
            await refused(without, i % 2 === 0 ? r.form : other, `without ${JSON.stringify(k)}`);
            await refused(
              r.pairs.map(([kk, vv]) => [kk, kk === k ? `${v}x` : vv] as const),
              i % 2 === 0 ? other : r.form,
              `${JSON.stringify(k)} changed`,
            );
          }
          let extra = 'extra';
          while (r.pairs.some(([k]) => k === extra)) extra += '+';
          await refused([...r.pairs, [extra, '']], r.form, 'one pair more');

          for (const [form, escapeAll] of [
            [other, !r.escapeAll],
            [r.form, false],
          ] as const) {
            const accepted = await decrypt(r.reordered, form, escapeAll);
            expect(accepted.status, `${form}: ${accepted.raw}`).toBe(200);
            expect(accepted.body.Plaintext).toBe(expected);
          }
        }),
        runs(0x5eed0010, 500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when a context in JSON holds a lone surrogate in a key or a value, every Action that reads a context answers 400 InvalidParameter',
    async () => {
      const blob = (
        await call('rpc-get', 'Encrypt', [
          ['KeyId', KEY_ID],
          ['Plaintext', 'p'],
        ])
      ).body.CiphertextBlob as string;
      /** The JSON string token of `before` + a lone surrogate (as `\uXXXX` escape text) + `after`. */
      const withLoneSurrogate = (before: string, code: number, after: string, variant: 'alone' | 'reversed' | 'unpaired-high') => {
        const hex = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;
        const surrogates =
          variant === 'alone'
            ? hex(code)
            : variant === 'reversed'
              ? `${hex(0xdc00 | (code & 0x3ff))}${hex(0xd800 | (code & 0x3ff))}`
              : `${hex(0xd800 | (code & 0x3ff))}x`;
        return `${jsonString(before).slice(0, -1)}${surrogates}${jsonString(after).slice(1)}`;
      };
      const input = fc.record({
        target: fc.constantFrom(
          ['GenerateDataKey', 'EncryptionContext'],
          ['GenerateDataKeyWithoutPlaintext', 'EncryptionContext'],
          ['Encrypt', 'EncryptionContext'],
          ['Decrypt', 'EncryptionContext'],
          ['ReEncrypt', 'SourceEncryptionContext'],
          ['ReEncrypt', 'DestinationEncryptionContext'],
        ),
        pairs: contextPairs(1, 4),
        index: fc.nat(),
        inKey: fc.boolean(),
        code: fc.integer({ min: 0xd800, max: 0xdfff }),
        variant: fc.constantFrom('alone', 'reversed', 'unpaired-high') as fc.Arbitrary<'alone' | 'reversed' | 'unpaired-high'>,
        split: fc.nat(),
        path: signingPath,
      });
      await fc.assert(
        fc.asyncProperty(input, async (r) => {
          const [action, parameter] = r.target as [string, string];
          const at = r.index % r.pairs.length;
          const tokens = r.pairs.map(([k, v], i) => {
            if (i !== at) return `${jsonString(k)}:${jsonString(v)}`;
            // Cut between code points: a cut inside a pair would make the inserted surrogates pairs.
            const points = Array.from(r.inKey ? k : v);
            const cut = r.split % (points.length + 1);
            const bad = withLoneSurrogate(points.slice(0, cut).join(''), r.code, points.slice(cut).join(''), r.variant);
            return r.inKey ? `${bad}:${jsonString(v)}` : `${jsonString(k)}:${bad}`;
          });
          const json = `{${tokens.join(',')}}`;
          const params: Array<[string, string]> = [
            [parameter, json],
            ['KeyId', KEY_ID],
            ['Plaintext', 'p'],
            ['CiphertextBlob', blob],
            ['DestinationKeyId', KEY_ID],
          ];
          const result = await call(r.path, action, params);
          expectError(result, 400, 'InvalidParameter', `"${parameter}"`);
        }),
        runs(0x5eed0011, 800),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when a context in JSON gives a key twice (spelled alike or with escapes), every Action that reads a context answers 400 InvalidParameter',
    async () => {
      const blob = (
        await call('rpc-get', 'Encrypt', [
          ['KeyId', KEY_ID],
          ['Plaintext', 'p'],
        ])
      ).body.CiphertextBlob as string;
      /** Every UTF-16 unit of `text` as a `\uXXXX` escape: the same key, spelled differently. */
      const escapedEveryUnit = (text: string) =>
        `"${[...Array(text.length).keys()].map((i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;
      const input = fc.record({
        target: fc.constantFrom(
          ['GenerateDataKey', 'EncryptionContext'],
          ['Encrypt', 'EncryptionContext'],
          ['Decrypt', 'EncryptionContext'],
          ['ReEncrypt', 'SourceEncryptionContext'],
          ['ReEncrypt', 'DestinationEncryptionContext'],
        ),
        pairs: contextPairs(1, 4),
        index: fc.nat(),
        spelling: fc.constantFrom('same', 'non-ASCII escaped', 'every unit escaped'),
        value: contextValue,
        at: fc.nat(),
        path: signingPath,
      });
      await fc.assert(
        fc.asyncProperty(input, async (r) => {
          const [action, parameter] = r.target as [string, string];
          const [key] = r.pairs[r.index % r.pairs.length]!;
          const again = r.spelling === 'same' ? jsonString(key) : r.spelling === 'non-ASCII escaped' ? jsonString(key, true) : escapedEveryUnit(key);
          const tokens = r.pairs.map(([k, v]) => `${jsonString(k)}:${jsonString(v)}`);
          tokens.splice(r.at % (tokens.length + 1), 0, `${again}:${jsonString(r.value)}`);
          const params: Array<[string, string]> = [
            [parameter, `{${tokens.join(',')}}`],
            ['KeyId', KEY_ID],
            ['Plaintext', 'p'],
            ['CiphertextBlob', blob],
            ['DestinationKeyId', KEY_ID],
          ];
          expectError(await call(r.path, action, params), 400, 'InvalidParameter', `"${parameter}"`);
        }),
        runs(0x5eed0012, 600),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------

describe('Property: authorise before revealing', () => {
  let fuzz: FuzzService;
  /** Every entry name the key store was asked for, in order. */
  const reads: string[] = [];
  beforeAll(async () => {
    fuzz = await fuzzService();
    const store = fuzz.t.store;
    const get = store.get.bind(store);
    store.get = (name) => {
      reads.push(name);
      return get(name);
    };
  });

  /** Actions whose request names a key or an alias, and which parameters do. */
  const REFERENCE_SLOTS = ALIBABA_ROUTES.flatMap((route) =>
    parameterNamesOf(route.operation)
      .filter((name) => name === 'KeyId' || name === 'DestinationKeyId' || name === 'AliasName')
      .map((parameter) => ({ action: route.action, parameter, names: parameterNamesOf(route.operation) })),
  );

  const existingOrMissingKey = () =>
    fc.record({
      existing: fc.constantFrom(...fuzz.keyIds),
      missing: fc.oneof(fc.uuid(), fc.stringMatching(/^key-[a-z0-9]{24}$/)),
      arn: fc.boolean(),
    });
  const ALIASES: readonly string[] = [...SEEDED_ALIASES, PENDING_ALIAS];
  const existingOrMissingAlias = () =>
    fc.record({
      existing: fc.constantFrom(...ALIASES),
      missing: wellFormedAlias.filter((a) => !ALIASES.includes(a)),
      arn: fc.boolean(),
    });

  /** Two requests differing only in the reference: the other parameters are drawn once and sent with both. */
  const comparison = (kind: 'key' | 'alias') =>
    fc
      .record({
        slot: fc.constantFrom(...REFERENCE_SLOTS.filter((s) => (kind === 'key' ? s.parameter !== 'AliasName' : true))),
        path: signingPath,
        reference: kind === 'key' ? existingOrMissingKey() : existingOrMissingAlias(),
      })
      .chain((r) =>
        requestParameters(
          r.slot.action,
          r.slot.names.filter((n) => n !== r.slot.parameter),
          [],
          parameterGenerator(fuzz.blobs),
        ).map((pairs) => ({ ...r, pairs })),
      );

  const send = async (
    who: Credentials,
    r: { slot: { action: string; parameter: string }; path: SigningPath; pairs: Array<[string, string]> },
    reference: string,
  ) => {
    const pairs: Array<[string, string]> = [[r.slot.parameter, reference], ...r.pairs];
    const params = paramRecord(pairs);
    const result = await fuzz.t.call(signedRequest(r.path, who, r.slot.action, params));
    const sent = sentTexts(r.slot.action, Object.entries(params));
    expectNoFault(result, sent);
    return { result, sent };
  };

  it(
    'when a caller allowed nothing names an existing or a missing key id (bare or ARN), every Action answers with the same status and Code, and no body names a key it did not send',
    async () => {
      await fc.assert(
        fc.asyncProperty(comparison('key'), async (r) => {
          const ref = r.reference as { existing: string; missing: string; arn: boolean };
          const form = (id: string) => (ref.arn ? keyArnOf(id) : id);
          const existing = await send(NOTHING, r, form(ref.existing));
          const before = reads.length;
          const missing = await send(NOTHING, r, form(ref.missing));
          // Denied on the ARN the caller wrote, before the store is read: the missing key is never looked up.
          expect(reads.slice(before).filter((name) => name.includes(ref.missing))).toEqual([]);
          expectNoUnsentKeyId(existing.result, existing.sent, fuzz.keyIds);
          expectNoUnsentKeyId(missing.result, missing.sent, fuzz.keyIds);
          expect({ status: missing.result.status, code: missing.result.body.Code }).toEqual({
            status: existing.result.status,
            code: existing.result.body.Code,
          });
          expect(existing.result.status).toBeGreaterThanOrEqual(400);
        }),
        runs(0x5eed0020, 1500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when a restricted caller names an existing key it may not use or a missing key (bare or ARN), every Action answers with the same status and Code, and the missing key is never read',
    async () => {
      const restricted = fc.constantFrom<CallerName>('SCOPED', 'PROVIDER', 'CONSUMER');
      const input = comparison('key').chain((r) => restricted.map((who) => ({ ...r, who })));
      await fc.assert(
        fc.asyncProperty(input, async (r) => {
          const ref = r.reference as { existing: string; missing: string; arn: boolean };
          const principal = (await fuzz.t.service.accessKeys.lookup(CALLERS[r.who].accessKeyId))!;
          // Only keys the caller's own policy denies it for this Action: where it is allowed, "not found" is the right answer.
          fc.pre(!principal.policy.isAllowed(`kms:${r.slot.action}`, keyArnOf(ref.existing)));
          const form = (id: string) => (ref.arn ? keyArnOf(id) : id);
          const existing = await send(CALLERS[r.who], r, form(ref.existing));
          const before = reads.length;
          const missing = await send(CALLERS[r.who], r, form(ref.missing));
          expect(reads.slice(before).filter((name) => name.includes(ref.missing))).toEqual([]);
          expect({ status: missing.result.status, code: missing.result.body.Code }).toEqual({
            status: existing.result.status,
            code: existing.result.body.Code,
          });
          expect(existing.result.status).toBeGreaterThanOrEqual(400);
        }),
        runs(0x5eed0023, 1000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when a caller allowed nothing names an existing or a missing alias (bare or ARN), every Action answers with the same status, Code and Message (but for the alias), and no body names a key it did not send',
    async () => {
      await fc.assert(
        fc.asyncProperty(comparison('alias'), async (r) => {
          const ref = r.reference as { existing: string; missing: string; arn: boolean };
          // Another parameter naming the same alias would be echoed too: then the two answers differ in more than the reference.
          fc.pre(!r.pairs.some(([, v]) => v.includes(ref.existing) || v.includes(ref.missing)));
          // AliasName takes a bare name only; a key reference takes either.
          const form = (alias: string) => (ref.arn && r.slot.parameter !== 'AliasName' ? ALIAS_ARN(alias) : alias);
          const existing = await send(NOTHING, r, form(ref.existing));
          const missing = await send(NOTHING, r, form(ref.missing));
          expectNoUnsentKeyId(existing.result, existing.sent, fuzz.keyIds);
          expectNoUnsentKeyId(missing.result, missing.sent, fuzz.keyIds);
          const normalized = (result: CallResult, alias: string) => ({
            status: result.status,
            code: result.body.Code,
            message: String(result.body.Message).split(ALIAS_ARN(alias)).join('<ref>').split(alias).join('<ref>'),
          });
          expect(normalized(missing.result, ref.missing)).toEqual(normalized(existing.result, ref.existing));
          expect(existing.result.status).toBeGreaterThanOrEqual(400);
          if (existing.result.body.Code === 'Forbidden.AliasNotFound') {
            expect(existing.result.body.Message).toMatch(
              new RegExp(`^The specified alias "alias/[^"]*" is not found, or this access key may not use it for "kms:${r.slot.action}"\\.$`),
            );
          }
        }),
        runs(0x5eed0021, 1500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'when a scoped caller names an alias of a key it may not use or a missing alias, every Action answers with the same status, Code and Message (but for the alias)',
    async () => {
      // SCOPED may use KEY_ID only: alias/other and alias/disabled name keys it may not use.
      const denied = fc.record({
        existing: fc.constantFrom('alias/other', 'alias/disabled'),
        missing: wellFormedAlias.filter((a) => !(SEEDED_ALIASES as readonly string[]).includes(a)),
        arn: fc.boolean(),
      });
      // CreateAlias's AliasName names an alias to be made, not one to be used: a taken name must fail whoever names it.
      const slots = REFERENCE_SLOTS.filter((s) => !(s.action === 'CreateAlias' && s.parameter === 'AliasName'));
      const input = fc.record({ slot: fc.constantFrom(...slots), path: signingPath, reference: denied }).chain((r) =>
        requestParameters(
          r.slot.action,
          r.slot.names.filter((n) => n !== r.slot.parameter),
          [],
          parameterGenerator(fuzz.blobs),
        ).map((pairs) => ({ ...r, pairs })),
      );
      await fc.assert(
        fc.asyncProperty(input, async (r) => {
          // Another parameter naming the same alias would be echoed too: then the two answers differ in more than the reference.
          fc.pre(!r.pairs.some(([, v]) => v.includes(r.reference.existing) || v.includes(r.reference.missing)));
          // Nor may another parameter name a hidden key itself (SetDeletionProtection's ARN beside KeyId): a 403 names what was sent.
          fc.pre(!r.pairs.some(([, v]) => v.includes(OTHER_KEY_ID) || v.includes(DISABLED_KEY_ID)));
          const form = (alias: string) => (r.reference.arn && r.slot.parameter !== 'AliasName' ? ALIAS_ARN(alias) : alias);
          const existing = await send(SCOPED, r, form(r.reference.existing));
          const missing = await send(SCOPED, r, form(r.reference.missing));
          const normalized = (result: CallResult, alias: string) => ({
            status: result.status,
            code: result.body.Code,
            message: String(result.body.Message).split(ALIAS_ARN(alias)).join('<ref>').split(alias).join('<ref>'),
          });
          expect(normalized(missing.result, r.reference.missing)).toEqual(normalized(existing.result, r.reference.existing));
          expect(existing.result.body.KeyId).toBeUndefined();
          for (const hidden of [OTHER_KEY_ID, DISABLED_KEY_ID]) expect(existing.result.raw).not.toContain(hidden);
        }),
        runs(0x5eed0022, 1000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------

describe('Property: signed fields are bounded before anything is remembered', () => {
  let t: TestService;
  const claimed: string[] = [];
  beforeAll(async () => {
    ({ t } = await fuzzService());
    const nonces = t.service.nonces;
    const claim = nonces.claim.bind(nonces);
    nonces.claim = (accessKeyId, nonce, expiresAt) => {
      claimed.push(nonce);
      return claim(accessKeyId, nonce, expiresAt);
    };
  });

  const PRINTABLE = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
  /** Length from `min`, up to 70,000: mostly short of a few hundred, some very long. */
  const oversized = (min: number, unit: fc.Arbitrary<string>) =>
    fc
      .tuple(
        fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max: min + 300 }) }, { weight: 1, arbitrary: fc.integer({ min, max: 70_000 }) }),
        fc.string({ unit, minLength: 1, maxLength: 16 }),
      )
      .map(([n, chunk]) => chunk.repeat(Math.ceil(n / chunk.length)).slice(0, n));

  const badNonce = fc.oneof(
    oversized(129, PRINTABLE),
    fc
      .tuple(
        fc.string({ unit: PRINTABLE, maxLength: 60 }),
        fc.constantFrom(' ', '\t', '\n', '\r', '\u0000', '\u0001', '\u001f', '\u007f', '\u00a0', 'é', '🔑', '\u2028'),
        fc.string({ unit: PRINTABLE, maxLength: 60 }),
      )
      .map(([a, bad, b]) => `${a}${bad}${b}`),
  );

  type Field = 'nonce' | 'accessKeyId' | 'timestamp' | 'signature';
  const tampered = fc.oneof(
    badNonce.map((value) => ({ field: 'nonce' as Field, value })),
    oversized(65, fc.constantFrom('a', 'B', '7')).map((value) => ({ field: 'accessKeyId' as Field, value })),
    oversized(33, fc.constantFrom('0', 'Z', ':')).map((value) => ({ field: 'timestamp' as Field, value: `${isoSeconds(Date.now())}${value}` })),
    oversized(65, fc.constantFrom('a', 'f', '0', '=', '/')).map((value) => ({ field: 'signature' as Field, value })),
  );

  function tamperedRequest(path: SigningPath, action: string, field: Field, value: string): RpcRequest {
    const who = field === 'accessKeyId' ? { ...ADMIN, accessKeyId: value } : ADMIN;
    const params = { KeyId: KEY_ID };
    if (path.startsWith('v3')) {
      return signedV3Request(who, action, path === 'v3-query' ? params : {}, {
        ...(path === 'v3-form' ? { body: Buffer.from(`KeyId=${KEY_ID}`), contentType: 'application/x-www-form-urlencoded' } : {}),
        ...(field === 'nonce' ? { nonce: value } : {}),
        ...(field === 'timestamp' ? { date: value } : {}),
        afterSigning:
          field === 'signature'
            ? (request) => {
                request.headers.authorization = request.headers.authorization!.replace(/Signature=.*$/, `Signature=${value}`);
              }
            : undefined,
      });
    }
    return signedRpcRequest(who, action, params, {
      method: path === 'rpc-get' ? 'GET' : 'POST',
      form: path === 'rpc-post-form',
      ...(field === 'nonce' ? { nonce: value } : {}),
      ...(field === 'timestamp' ? { timestamp: value } : {}),
      afterSigning:
        field === 'signature'
          ? (all) => {
              all.Signature = value;
            }
          : undefined,
    });
  }

  it('when a request is signed correctly, its nonce is claimed once (the spy sees the store)', async () => {
    for (const path of SIGNING_PATHS) {
      const before = claimed.length;
      const result = await t.call(signedRequest(path, ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: `control-${path}` }));
      expect(result.status, result.raw).toBe(200);
      expect(claimed.slice(before)).toEqual([`control-${path}`]);
    }
  });

  it(
    'when a nonce, access key id, timestamp or signature is oversized or holds spaces or control characters, every Action over every signing path answers 400 IncompleteSignature and nothing is claimed',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...TABLE_ACTIONS), signingPath, tampered, async (action, path, { field, value }) => {
          const before = claimed.length;
          const result = await t.call(tamperedRequest(path, action, field, value));
          expectError(result, 400, 'IncompleteSignature');
          expect(result.raw.length, 'the error must not mirror the oversized field').toBeLessThan(2000);
          expect(claimed.length - before, `the nonce store was asked to remember a request with a bad ${field}`).toBe(0);
        }),
        runs(0x5eed0030, 1500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------

/*
 * Defects these properties found (each failed before its fix): a message that echoes caller input
 * echoes at most 128 code points, never half a surrogate pair, and nothing JSON or XML 1.0 refuses.
 */
describe('Echoed input in error messages', () => {
  let fuzz: FuzzService;
  beforeAll(async () => {
    fuzz = await fuzzService();
  });

  /**
   * Was: InvalidParameterError put the parameter *name* in its message untruncated, so
   * `GET /?<50,000 × N>=%zz` (unsigned, before any authentication) answered a 50 KB body.
   */
  it(
    'when a long parameter name is refused (given twice, given as text and flattened, or with bad percent-encoding), the error mirrors at most 128 characters of it',
    async () => {
      const input = fc.record({
        name: fc.integer({ min: 700, max: 50_000 }).map((n) => 'N'.repeat(n)),
        how: fc.constantFrom('bad percent-encoding', 'text and flattened', 'query and form'),
        path: signingPath,
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ name, how, path }) => {
          let request: RpcRequest;
          if (how === 'bad percent-encoding') {
            request = { method: 'GET', path: '/', rawQuery: `${name}=%zz`, headers: {}, body: Buffer.alloc(0) };
          } else if (how === 'text and flattened') {
            request = signedRequest(
              path,
              ADMIN,
              'DescribeKey',
              paramRecord([
                ['KeyId', KEY_ID],
                [name, 'a'],
                [`${name}.k`, 'b'],
              ]),
            );
          } else {
            request = signedV3Request(
              ADMIN,
              'DescribeKey',
              paramRecord([
                ['KeyId', KEY_ID],
                [name, 'a'],
              ]),
              { body: Buffer.from(`${name}=b`), contentType: 'application/x-www-form-urlencoded' },
            );
          }
          const result = await fuzz.t.call(request);
          expectNoFault(result, []);
        }),
        runs(0x5eed0040, 10),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  /**
   * Was: `DescribeKey KeyId=a<U+0000>b Format=XML` answered `<Message>The specified key
   * &quot;a<U+0000>b&quot; …`, which a strict XML parser refuses.
   */
  it(
    'when Format=XML and an error message echoes a control character, the body holds only characters XML 1.0 allows',
    async () => {
      const control = fc.constantFrom('\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f', '\ufffe', '\uffff');
      const input = fc.record({
        action: fc.constantFrom('DescribeKey', 'EnableKey', 'ListKeyVersions', 'GenerateDataKey', 'Encrypt', 'ScheduleKeyDeletion'),
        keyId: fc.tuple(fc.stringMatching(/^[a-z]{0,10}$/), control, fc.stringMatching(/^[a-z]{0,10}$/)).map(([a, c, b]) => `${a}${c}${b}`),
        path: signingPath,
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ action, keyId, path }) => {
          const result = await fuzz.t.call(
            signedRequest(
              path,
              ADMIN,
              action,
              paramRecord([
                ['KeyId', keyId],
                ['Plaintext', 'p'],
                ['PendingWindowInDays', '7'],
                ['Format', 'XML'],
              ]),
            ),
          );
          expect(result.status).toBeGreaterThanOrEqual(400);
          expectXmlCharactersOnly(result.raw);
        }),
        runs(0x5eed0041, 10),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  /**
   * Was: messages were cut at 128 UTF-16 units, which could split a surrogate pair:
   * `DescribeKey KeyId=<127 × "a">🔑tail` answered a JSON Message holding the lone escape `\ud83d`.
   */
  it(
    'when an echoed input is cut at 128 characters, it is never cut inside a surrogate pair',
    async () => {
      const input = fc.record({
        prefix: fc.integer({ min: 120, max: 127 }).map((n) => 'a'.repeat(n)),
        astral: fc.constantFrom('🔑', '𝄞', '😀', '𠀀'),
        format: fc.constantFrom('JSON', 'XML'),
        path: signingPath,
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ prefix, astral, format, path }) => {
          const keyId = `${prefix}${astral.repeat(8)}`;
          const result = await fuzz.t.call(
            signedRequest(
              path,
              ADMIN,
              'DescribeKey',
              paramRecord([
                ['KeyId', keyId],
                ['Format', format],
              ]),
            ),
          );
          expect(result.status).toBe(404);
          const message = String(bodyFields(result).Message);
          expect(message, 'the message holds a lone surrogate').not.toMatch(/\p{Cs}/u);
          expect(message, 'the message holds U+FFFD').not.toContain('\ufffd');
        }),
        runs(0x5eed0042, 20),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
