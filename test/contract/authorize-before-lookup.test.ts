import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../lib/policy/policy.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { ReadRecordingStore } from '../helpers/read-recording-store.js';
import { ACCOUNT_ID, ADMIN, ALIAS, createTestService, KEY_ID, KEY_VERSION_ID, keyArnOf, REGION, type TestService } from '../helpers/service.js';
import { type Credentials, signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';
import { withVersionId } from './support.js';

/*
 * Authorise before anything that depends on whether the resource exists. For every Action that
 * names a key, an alias or a ciphertext, a caller whose policy allows nothing on such a resource
 * gets the same answer for an existing and a missing one, and the store is not read for it: no
 * lookup, so no time of a lookup to tell them apart (a deterministic stand-in for a timing test).
 * A caller with rights still learns that a resource is missing.
 */

const MISSING_KEY_ID = '33333333-2222-4333-8444-555555555555';
const MISSING_ALIAS = 'alias/missing';
const MISSING_VERSION_ID = 'cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const aliasArnOf = (alias: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:${alias}`;

/** Each way of naming a key, existing and missing. */
const KEY_FORMS: Array<[form: string, existing: string, missing: string]> = [
  ['key id', KEY_ID, MISSING_KEY_ID],
  ['key ARN', keyArnOf(KEY_ID), keyArnOf(MISSING_KEY_ID)],
  ['alias', ALIAS, MISSING_ALIAS],
  ['alias ARN', aliasArnOf(ALIAS), aliasArnOf(MISSING_ALIAS)],
];

type Slot = 'key' | 'alias name' | 'blob';
/** An Action, which of its parameters names the resource that varies, and a valid request around it. */
type Case = [action: string, slot: Slot, params: (resource: string, blob: string) => Record<string, string>];

const wrapping = { PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' };

const CASES: Case[] = [
  ['GenerateDataKey', 'key', (k) => ({ KeyId: k })],
  ['GenerateDataKeyWithoutPlaintext', 'key', (k) => ({ KeyId: k })],
  ['Encrypt', 'key', (k) => ({ KeyId: k, Plaintext: 'x' })],
  ['Decrypt', 'blob', (_k, blob) => ({ CiphertextBlob: blob })],
  ['ReEncrypt', 'blob', (_k, blob) => ({ CiphertextBlob: blob, DestinationKeyId: KEY_ID })],
  ['ReEncrypt', 'key', (k, blob) => ({ CiphertextBlob: blob, DestinationKeyId: k })],
  ['ExportDataKey', 'blob', (_k, blob) => ({ CiphertextBlob: blob, ...wrapping })],
  ['GenerateAndExportDataKey', 'key', (k) => ({ KeyId: k, ...wrapping })],
  ['DescribeKey', 'key', (k) => ({ KeyId: k })],
  ['CreateKeyVersion', 'key', (k) => ({ KeyId: k })],
  ['ListKeyVersions', 'key', (k) => ({ KeyId: k })],
  ['DescribeKeyVersion', 'key', (k) => ({ KeyId: k, KeyVersionId: KEY_VERSION_ID })],
  ['UpdateRotationPolicy', 'key', (k) => ({ KeyId: k, EnableAutomaticRotation: 'false' })],
  ['EnableKey', 'key', (k) => ({ KeyId: k })],
  ['DisableKey', 'key', (k) => ({ KeyId: k })],
  ['ScheduleKeyDeletion', 'key', (k) => ({ KeyId: k, PendingWindowInDays: '7' })],
  ['CancelKeyDeletion', 'key', (k) => ({ KeyId: k })],
  ['CreateAlias', 'key', (k) => ({ AliasName: 'alias/new-one', KeyId: k })],
  ['CreateAlias', 'alias name', (a) => ({ AliasName: a, KeyId: KEY_ID })],
  ['UpdateAlias', 'alias name', (a) => ({ AliasName: a, KeyId: KEY_ID })],
  ['UpdateAlias', 'key', (k) => ({ AliasName: ALIAS, KeyId: k })],
  ['DeleteAlias', 'alias name', (a) => ({ AliasName: a })],
  ['ListAliasesByKeyId', 'key', (k) => ({ KeyId: k })],
  ['UpdateKeyDescription', 'key', (k) => ({ KeyId: k, Description: 'd' })],
  ['SetDeletionProtection', 'key', (k) => ({ KeyId: k, EnableDeletionProtection: 'true' })],
  ['TagResource', 'key', (k) => ({ KeyId: k, Tags: '[{"TagKey":"team","TagValue":"a"}]' })],
  ['UntagResource', 'key', (k) => ({ KeyId: k, TagKeys: '["team"]' })],
  ['ListResourceTags', 'key', (k) => ({ KeyId: k })],
  ['GetParametersForImport', 'key', (k) => ({ KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })],
  ['ImportKeyMaterial', 'key', (k) => ({ KeyId: k, EncryptedKeyMaterial: 'AAAA', ImportToken: 'token' })],
  ['DeleteKeyMaterial', 'key', (k) => ({ KeyId: k })],
];

/** Pairs of requests that differ only in whether the resource they name exists. */
function pairsOf(slot: Slot): Array<[form: string, existing: string, missing: string]> {
  if (slot === 'key') return KEY_FORMS;
  if (slot === 'alias name') return [['alias name', ALIAS, MISSING_ALIAS]];
  return [['ciphertext', 'existing', 'missing']];
}

/** Callers whose policies allow nothing on any key, each in another way. */
const policy = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '1', Statement });
const DENIED_CALLERS: Array<[who: string, credentials: Credentials, policy: PolicyDocument]> = [
  [
    'allowed only an Action about no key',
    { accessKeyId: 'testRandomOnly1', accessKeySecret: 'random-only-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:GenerateRandom', Resource: '*' }),
  ],
  [
    'allowed everything on alias ARNs only (aliases are authorised on their key)',
    { accessKeyId: 'testAliasArns01', accessKeySecret: 'alias-arns-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:*', Resource: ['acs:kms:*:*:alias/*', 'arn:aws:kms:*:*:alias/*'] }),
  ],
  [
    'allowed everything, with every key action denied',
    { accessKeyId: 'testKeysDenied1', accessKeySecret: 'keys-denied-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:*', Resource: 'acs:kms:*:*:key/*' }),
  ],
  [
    'allowed keys of another region only',
    { accessKeyId: 'testElsewhere01', accessKeySecret: 'elsewhere-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:*', Resource: 'acs:kms:eu-central-1:*:key/*' }),
  ],
  [
    'allowed every key, but only from an address it does not call from',
    { accessKeyId: 'testOtherNet001', accessKeySecret: 'other-net-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:*', Resource: '*', Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }),
  ],
  [
    'with a tag-conditioned policy (keys read for their tags) for an Action about no key',
    { accessKeyId: 'testTagPolicy01', accessKeySecret: 'tag-policy-secret-0123456789' },
    policy({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*', Condition: { StringEquals: { 'kms:tag/team': 'a' } } }),
  ],
];

let t: TestService;
let store: ReadRecordingStore;
let existingBlob: string;
let missingBlob: string;

beforeAll(async () => {
  // No cache: every lookup reaches the store, so a lookup cannot hide behind a cache hit.
  store = new ReadRecordingStore(new MemoryKeyStore());
  t = await createTestService({ store, cacheTtlMs: 0 });
  for (const [, credentials, document] of DENIED_CALLERS) {
    await t.service.accessKeys.create({ ...credentials, status: 'Enabled', createdAt: new Date().toISOString(), policy: document });
  }
  existingBlob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'secret' }))).body.CiphertextBlob;
  missingBlob = withVersionId(existingBlob, MISSING_VERSION_ID);
});

/** The request's answer and the resource entries it read (access keys aside: every request reads its own). */
async function answer(request: RpcRequest) {
  const from = store.reads.length;
  const response = await t.call({ ...request, sourceIp: '203.0.113.9' });
  const reads = store.reads.slice(from).filter((name) => !name.startsWith('access-keys/'));
  return {
    status: response.status,
    code: (response.body.Code ?? response.body.__type) as string,
    message: (response.body.Message ?? response.body.message) as string,
    reads,
  };
}

/** The message without the names the caller wrote, which it may echo. */
const shape = (message: string) =>
  [KEY_ID, MISSING_KEY_ID, ALIAS, MISSING_ALIAS, KEY_VERSION_ID, MISSING_VERSION_ID].reduce((m, name) => m.replaceAll(name, '<named>'), message);

describe('A caller who may not act on any resource of the kind gets the same answer, without a lookup', () => {
  describe.each(DENIED_CALLERS)('caller %s', (_who, credentials) => {
    it.each(CASES)('%s (%s)', async (action, slot, params) => {
      for (const [form, existing, missing] of pairsOf(slot)) {
        const blobs = slot === 'blob' ? [existingBlob, missingBlob] : [existingBlob, existingBlob];
        const [present, absent] = [
          await answer(signedRpcRequest(credentials, action, params(existing, blobs[0]!))),
          await answer(signedRpcRequest(credentials, action, params(missing, blobs[1]!))),
        ];
        const what = `${action} by ${form}`;
        expect([absent.status, absent.code, shape(absent.message)], what).toEqual([present.status, present.code, shape(present.message)]);
        expect(['Forbidden.NoPermission', 'Forbidden.AliasNotFound'], what).toContain(present.code);
        expect(present.reads, what).toEqual([]);
        expect(absent.reads, what).toEqual([]);
      }
    });
  });

  it('on the AWS protocol as well: aliases, keys and ciphertexts', async () => {
    const [, credentials] = DENIED_CALLERS[0]!;
    const requests: Array<[operation: string, existing: unknown, missing: unknown]> = [
      ['DeleteAlias', { AliasName: ALIAS }, { AliasName: MISSING_ALIAS }],
      ['UpdateAlias', { AliasName: ALIAS, TargetKeyId: KEY_ID }, { AliasName: MISSING_ALIAS, TargetKeyId: KEY_ID }],
      ['DescribeKey', { KeyId: ALIAS }, { KeyId: MISSING_ALIAS }],
      ['DescribeKey', { KeyId: KEY_ID }, { KeyId: MISSING_KEY_ID }],
      ['Decrypt', { CiphertextBlob: existingBlob }, { CiphertextBlob: missingBlob }],
    ];
    for (const [operation, existing, missing] of requests) {
      const present = await answer(signedAwsRequest(credentials, operation, existing));
      const absent = await answer(signedAwsRequest(credentials, operation, missing));
      expect([absent.status, absent.code, shape(absent.message)], operation).toEqual([present.status, present.code, shape(present.message)]);
      expect(present.status, operation).toBeGreaterThanOrEqual(400);
      expect([present.reads, absent.reads], operation).toEqual([[], []]);
    }
  });
});

describe('A caller with rights still learns what is missing', () => {
  it.each(CASES.filter(([action, slot]) => !(action === 'CreateAlias' && slot === 'alias name')))(
    '%s (%s): the documented not-found answer',
    async (action, slot, params) => {
      for (const [form, , missing] of pairsOf(slot)) {
        const absent = await answer(signedRpcRequest(ADMIN, action, params(missing, slot === 'blob' ? missingBlob : existingBlob)));
        const expected = form.startsWith('alias') ? 'Forbidden.AliasNotFound' : slot === 'blob' ? 'Forbidden.KeyVersionNotFound' : 'Forbidden.KeyNotFound';
        expect([absent.status, absent.code], `${action} by ${form}`).toEqual([404, expected]);
      }
    },
  );

  it('CreateAlias of a name already taken is AliasAlreadyExists for a caller allowed on the key, as Alibaba and AWS document', async () => {
    const taken = await answer(signedRpcRequest(ADMIN, 'CreateAlias', { AliasName: ALIAS, KeyId: KEY_ID }));
    expect([taken.status, taken.code]).toEqual([400, 'AliasAlreadyExists']);
  });
});
