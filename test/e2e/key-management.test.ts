import { createPublicKey, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../functions/actions.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import type { KeyRecord } from '../../lib/keyring/records.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import {
  ACTION_CLIENT_KINDS,
  type ActionClient,
  type ActionClientKind,
  createActionClient,
  createKmsSdkClient,
  KmsSdk,
  sdkError,
  serverCodeOf,
} from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, KEY_VERSION_ID, keyArnOf, OTHER_KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { openExportedDataKey, TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { wrapMaterial } from '../../lib/crypto/import-wrap.js';
import { openSealedDataDir, waitFor } from '../helpers/store-files.js';

/*
 * Every key-management Action through the official clients against the real gateway process:
 * pop-core (POST and GET) and openapi-client (V3 and v2 signing) through their generic calls, and
 * the typed methods of @alicloud/kms20160120 1.2.0 (every Action it has: see UNTYPED for those it lacks).
 * Then one full key lifecycle, and the gateway's scheduled rotation and deletion.
 */

const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CRYPTO_ACTIONS = ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt'];
/** The Actions of asymmetric keys: asymmetric-clients.test.ts drives them through the same official clients. */
const ASYMMETRIC_ACTIONS = ['AsymmetricSign', 'AsymmetricVerify', 'AsymmetricEncrypt', 'AsymmetricDecrypt', 'GetPublicKey'];
/** The secrets Actions: secrets.test.ts drives them through the same official clients. */
const SECRETS_ACTIONS = [
  'CreateSecret',
  'GetSecretValue',
  'PutSecretValue',
  'DescribeSecret',
  'ListSecrets',
  'ListSecretVersionIds',
  'UpdateSecret',
  'UpdateSecretVersionStage',
  'DeleteSecret',
  'RestoreSecret',
];
/** The key-management Actions of the table (ReEncrypt included) that the Alibaba API serves (AWS-only ones: aws-clients.test.ts). */
const KEY_MANAGEMENT_ACTIONS = ACTIONS.filter((a) => a.operation.alibaba)
  .map((a) => a.action)
  .filter((a) => !CRYPTO_ACTIONS.includes(a) && !ASYMMETRIC_ACTIONS.includes(a) && !SECRETS_ACTIONS.includes(a));
/** The Actions @alicloud/kms20160120 1.2.0 has no typed method for. */
const UNTYPED = ['ReEncrypt', 'SetDeletionProtection', 'ExportDataKey', 'GenerateAndExportDataKey', 'GenerateRandom', 'ListAuditEvents', 'DescribeAccessKey'];
const aliasArnOf = (aliasName: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:${aliasName}`;

/** Expects `call` to be refused with the service error `code`. */
async function expectRefused(call: () => Promise<unknown>, code: string): Promise<void> {
  const err = await sdkError(call);
  expect(serverCodeOf(err), JSON.stringify(err.data ?? err.message)).toBe(code);
  expect(err.data?.Code).toBe(code);
  expect(typeof err.data?.RequestId).toBe('string');
}

/** Within a minute of `ms` (the gateway's clock is the real one). */
function expectNear(iso: string, ms: number): void {
  expect(iso).toMatch(ISO_SECONDS);
  expect(Math.abs(Date.parse(iso) - ms)).toBeLessThan(60_000);
}

let dir: string;
let gateway: ReadyGateway;
const closers: Array<() => void> = [];

beforeAll(async () => {
  dir = await makeTempDir();
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
});

afterAll(async () => {
  for (const close of closers) close();
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  await removeDir(dir);
});

function actionClient(kind: ActionClientKind): ActionClient {
  const c = createActionClient(kind, { port: gateway.port }, ADMIN);
  closers.push(() => c.close());
  return c;
}

// ---------------------------------------------------------------------------------------------

describe.each(ACTION_CLIENT_KINDS)('official client %s (generic call): every key-management Action', (kind) => {
  let c: ActionClient;
  let n = 0;
  /** A fresh alias name for this client. */
  const aliasName = (what: string) => `alias/e2e-${kind}-${what}-${++n}`;
  const newKey = async (params: Record<string, string | boolean> = {}) => (await c.call('CreateKey', params)).KeyMetadata as Record<string, string>;
  const describeKey = async (keyId: string) => (await c.call('DescribeKey', { KeyId: keyId })).KeyMetadata as Record<string, string>;

  beforeAll(() => {
    c = actionClient(kind);
  });

  const SCENARIOS: Record<string, () => Promise<void>> = {
    async CreateKey() {
      const body = await c.call('CreateKey', { Description: `made by ${kind} — ü`, EnableAutomaticRotation: true, RotationInterval: '30d' });
      expect(Object.keys(body).sort()).toEqual(['KeyMetadata', 'RequestId']);
      expect(body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
      const m = body.KeyMetadata;
      expect(m.KeyId).toMatch(/^key-[a-z0-9]{24}$/);
      expect(m).toMatchObject({
        Arn: keyArnOf(m.KeyId),
        KeyState: 'Enabled',
        KeySpec: 'Aliyun_AES_256',
        KeyUsage: 'ENCRYPT/DECRYPT',
        Origin: 'Aliyun_KMS',
        ProtectionLevel: 'SOFTWARE',
        Description: `made by ${kind} — ü`,
        AutomaticRotation: 'Enabled',
        RotationInterval: '2592000s',
      });
      expect(m.PrimaryKeyVersion).toMatch(UUID);
      expectNear(m.CreationDate, Date.now());
      expect(m.NextRotationDate).toBe(isoSeconds(Date.parse(m.CreationDate) + 30 * DAY_MS));
      await expectRefused(() => c.call('CreateKey', { KeySpec: 'Aliyun_SM4' }), 'InvalidParameter');
      await expectRefused(() => c.call('CreateKey', { EnableAutomaticRotation: true, RotationInterval: '6d' }), 'InvalidParameter');
    },

    async DescribeKey() {
      for (const keyId of [KEY_ID, ALIAS, keyArnOf(KEY_ID)]) {
        const m = await describeKey(keyId);
        expect(m).toMatchObject({ KeyId: KEY_ID, Arn: keyArnOf(KEY_ID), KeyState: 'Enabled', PrimaryKeyVersion: KEY_VERSION_ID, Description: 'test key' });
      }
      await expectRefused(() => c.call('DescribeKey', { KeyId: 'key-doesnotexist0000000000' }), 'Forbidden.KeyNotFound');
      await expectRefused(() => c.call('DescribeKey', { KeyId: 'alias/e2e-nope' }), 'Forbidden.AliasNotFound');
    },

    async ListKeys() {
      const body = await c.call('ListKeys', { PageSize: 2, PageNumber: 1 });
      expect(body).toMatchObject({ PageNumber: 1, PageSize: 2 });
      expect(typeof body.TotalCount).toBe('number');
      expect(body.TotalCount).toBeGreaterThanOrEqual(3);
      expect(body.Keys.Key).toHaveLength(2);
      for (const key of body.Keys.Key) expect(key).toEqual({ KeyId: key.KeyId, KeyArn: keyArnOf(key.KeyId) });
      const all = await c.call('ListKeys', { PageSize: 100 });
      expect(all.Keys.Key.map((k: { KeyId: string }) => k.KeyId)).toEqual(expect.arrayContaining([KEY_ID, OTHER_KEY_ID]));
      const past = await c.call('ListKeys', { PageNumber: 1000 });
      expect(past.Keys.Key).toEqual([]);
      expect(past.TotalCount).toBe(all.TotalCount);
      await expectRefused(() => c.call('ListKeys', { PageSize: 101 }), 'InvalidParameter');
    },

    async CreateKeyVersion() {
      const key = await newKey();
      const body = await c.call('CreateKeyVersion', { KeyId: key.KeyId! });
      expect(body.KeyVersion.KeyId).toBe(key.KeyId);
      expect(body.KeyVersion.KeyVersionId).toMatch(UUID);
      expectNear(body.KeyVersion.CreationDate, Date.now());
      expect((await describeKey(key.KeyId!)).PrimaryKeyVersion).toBe(body.KeyVersion.KeyVersionId);
    },

    async ListKeyVersions() {
      const key = await newKey();
      const second = (await c.call('CreateKeyVersion', { KeyId: key.KeyId! })).KeyVersion;
      const body = await c.call('ListKeyVersions', { KeyId: key.KeyId! });
      expect(body).toMatchObject({ TotalCount: 2, PageNumber: 1, PageSize: 10 });
      expect(body.KeyVersions.KeyVersion.map((v: { KeyVersionId: string }) => v.KeyVersionId)).toEqual([key.PrimaryKeyVersion, second.KeyVersionId]);
      expect(body.KeyVersions.KeyVersion[1]).toEqual(second);
    },

    async DescribeKeyVersion() {
      const body = await c.call('DescribeKeyVersion', { KeyId: ALIAS, KeyVersionId: KEY_VERSION_ID });
      expect(body.KeyVersion).toEqual({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, CreationDate: expect.stringMatching(ISO_SECONDS) });
      await expectRefused(() => c.call('DescribeKeyVersion', { KeyId: OTHER_KEY_ID, KeyVersionId: KEY_VERSION_ID }), 'Forbidden.KeyVersionNotFound');
    },

    async UpdateRotationPolicy() {
      const key = await newKey();
      expect(Object.keys(await c.call('UpdateRotationPolicy', { KeyId: key.KeyId!, EnableAutomaticRotation: true, RotationInterval: '7d' }))).toEqual([
        'RequestId',
      ]);
      expect(await describeKey(key.KeyId!)).toMatchObject({
        AutomaticRotation: 'Enabled',
        RotationInterval: '604800s',
        NextRotationDate: isoSeconds(Date.parse(key.CreationDate!) + 7 * DAY_MS),
      });
      await c.call('UpdateRotationPolicy', { KeyId: key.KeyId!, EnableAutomaticRotation: false });
      expect((await describeKey(key.KeyId!)).AutomaticRotation).toBe('Disabled');
      await expectRefused(
        () => c.call('UpdateRotationPolicy', { KeyId: key.KeyId!, EnableAutomaticRotation: true, RotationInterval: '731d' }),
        'InvalidParameter',
      );
    },

    async EnableKey() {
      const key = await newKey();
      const blob = (await c.call('GenerateDataKey', { KeyId: key.KeyId! })).CiphertextBlob;
      await c.call('DisableKey', { KeyId: key.KeyId! });
      expect(Object.keys(await c.call('EnableKey', { KeyId: key.KeyId! }))).toEqual(['RequestId']);
      expect((await describeKey(key.KeyId!)).KeyState).toBe('Enabled');
      expect((await c.call('Decrypt', { CiphertextBlob: blob })).KeyId).toBe(key.KeyId);
      await c.call('EnableKey', { KeyId: key.KeyId! });
    },

    async DisableKey() {
      const key = await newKey();
      const blob = (await c.call('GenerateDataKey', { KeyId: key.KeyId! })).CiphertextBlob;
      expect(Object.keys(await c.call('DisableKey', { KeyId: key.KeyId! }))).toEqual(['RequestId']);
      expect((await describeKey(key.KeyId!)).KeyState).toBe('Disabled');
      await expectRefused(() => c.call('Decrypt', { CiphertextBlob: blob }), 'Rejected.Disabled');
      await expectRefused(() => c.call('GenerateDataKey', { KeyId: key.KeyId! }), 'Rejected.Disabled');
    },

    async ScheduleKeyDeletion() {
      const key = await newKey();
      await expectRefused(() => c.call('ScheduleKeyDeletion', { KeyId: key.KeyId!, PendingWindowInDays: 6 }), 'InvalidParameter');
      expect(Object.keys(await c.call('ScheduleKeyDeletion', { KeyId: key.KeyId!, PendingWindowInDays: 7 }))).toEqual(['RequestId']);
      const m = await describeKey(key.KeyId!);
      expect(m.KeyState).toBe('PendingDeletion');
      expectNear(m.DeleteDate!, Date.now() + 7 * DAY_MS);
      await expectRefused(() => c.call('GenerateDataKey', { KeyId: key.KeyId! }), 'Rejected.PendingDeletion');
      await expectRefused(() => c.call('EnableKey', { KeyId: key.KeyId! }), 'Rejected.StateModifiedFailed');
    },

    async CancelKeyDeletion() {
      const key = await newKey();
      await expectRefused(() => c.call('CancelKeyDeletion', { KeyId: key.KeyId! }), 'Rejected.StateModifiedFailed');
      await c.call('ScheduleKeyDeletion', { KeyId: key.KeyId!, PendingWindowInDays: 30 });
      expect(Object.keys(await c.call('CancelKeyDeletion', { KeyId: key.KeyId! }))).toEqual(['RequestId']);
      expect(await describeKey(key.KeyId!)).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
    },

    async CreateAlias() {
      const key = await newKey();
      const name = aliasName('create');
      expect(Object.keys(await c.call('CreateAlias', { AliasName: name, KeyId: key.KeyId! }))).toEqual(['RequestId']);
      expect((await describeKey(name)).KeyId).toBe(key.KeyId);
      await expectRefused(() => c.call('CreateAlias', { AliasName: name, KeyId: OTHER_KEY_ID }), 'AliasAlreadyExists');
      await expectRefused(() => c.call('CreateAlias', { AliasName: 'alias/acs/x', KeyId: key.KeyId! }), 'InvalidParameter');
    },

    async UpdateAlias() {
      const a = await newKey();
      const b = await newKey();
      const name = aliasName('update');
      await c.call('CreateAlias', { AliasName: name, KeyId: a.KeyId! });
      expect(Object.keys(await c.call('UpdateAlias', { AliasName: name, KeyId: b.KeyId! }))).toEqual(['RequestId']);
      expect((await c.call('GenerateDataKey', { KeyId: name })).KeyId).toBe(b.KeyId);
      await expectRefused(() => c.call('UpdateAlias', { AliasName: aliasName('missing'), KeyId: b.KeyId! }), 'Forbidden.AliasNotFound');
    },

    async DeleteAlias() {
      const key = await newKey();
      const name = aliasName('delete');
      await c.call('CreateAlias', { AliasName: name, KeyId: key.KeyId! });
      expect(Object.keys(await c.call('DeleteAlias', { AliasName: name }))).toEqual(['RequestId']);
      await expectRefused(() => c.call('DescribeKey', { KeyId: name }), 'Forbidden.AliasNotFound');
      expect((await describeKey(key.KeyId!)).KeyState).toBe('Enabled');
      await expectRefused(() => c.call('DeleteAlias', { AliasName: name }), 'Forbidden.AliasNotFound');
    },

    async ListAliases() {
      const body = await c.call('ListAliases', { PageSize: 100 });
      expect(body).toMatchObject({ PageNumber: 1, PageSize: 100 });
      expect(body.TotalCount).toBe(body.Aliases.Alias.length);
      expect(body.Aliases.Alias).toContainEqual({ AliasName: ALIAS, KeyId: KEY_ID, AliasArn: 'acs:kms:cn-hangzhou:1234567890123456:alias/test' });
      const page = await c.call('ListAliases', { PageSize: 1, PageNumber: 2 });
      expect(page.Aliases.Alias).toEqual([body.Aliases.Alias[1]]);
    },

    async ListAliasesByKeyId() {
      const key = await newKey();
      const names = [aliasName('by-key'), aliasName('by-key')];
      for (const name of names) await c.call('CreateAlias', { AliasName: name, KeyId: key.KeyId! });
      const body = await c.call('ListAliasesByKeyId', { KeyId: key.KeyId! });
      expect(body).toMatchObject({ TotalCount: 2, PageNumber: 1, PageSize: 10 });
      expect(body.Aliases.Alias).toEqual(names.sort().map((name) => ({ AliasName: name, KeyId: key.KeyId, AliasArn: aliasArnOf(name) })));
    },

    async ReEncrypt() {
      const source = await c.call('GenerateDataKey', { KeyId: KEY_ID, EncryptionContext: { from: kind } });
      const body = await c.call('ReEncrypt', {
        CiphertextBlob: source.CiphertextBlob,
        SourceEncryptionContext: { from: kind },
        DestinationKeyId: 'alias/other',
        DestinationEncryptionContext: { to: 'other', 'ü !*': "()'~" },
      });
      expect(body.KeyId).toBe(OTHER_KEY_ID);
      expect(body.KeyVersionId).toMatch(UUID);
      expect(body).not.toHaveProperty('Plaintext');
      const decrypted = await c.call('Decrypt', { CiphertextBlob: body.CiphertextBlob, EncryptionContext: { 'ü !*': "()'~", to: 'other' } });
      expect(decrypted).toMatchObject({ KeyId: OTHER_KEY_ID, KeyVersionId: body.KeyVersionId, Plaintext: source.Plaintext });
      await expectRefused(
        () => c.call('ReEncrypt', { CiphertextBlob: source.CiphertextBlob, SourceEncryptionContext: { from: 'elsewhere' }, DestinationKeyId: OTHER_KEY_ID }),
        'InvalidCiphertext',
      );
    },

    async UpdateKeyDescription() {
      const key = await newKey();
      const keyId = key.KeyId!;
      expect(Object.keys(await c.call('UpdateKeyDescription', { KeyId: keyId, Description: `renamed by ${kind} — ü` }))).toEqual(['RequestId']);
      expect((await describeKey(keyId)).Description).toBe(`renamed by ${kind} — ü`);
      await c.call('UpdateKeyDescription', { KeyId: keyId, Description: '' });
      expect((await describeKey(keyId)).Description).toBe('');
    },

    async SetDeletionProtection() {
      const key = await newKey();
      const keyId = key.KeyId!;
      await c.call('SetDeletionProtection', { ProtectedResourceArn: key.Arn!, EnableDeletionProtection: true, DeletionProtectionDescription: 'keep' });
      expect(await describeKey(keyId)).toMatchObject({ DeletionProtection: 'Enabled', DeletionProtectionDescription: 'keep' });
      await expectRefused(() => c.call('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 }), 'Rejected.StateModifiedFailed');
      await c.call('SetDeletionProtection', { ProtectedResourceArn: key.Arn!, EnableDeletionProtection: false });
      expect((await describeKey(keyId)).DeletionProtection).toBe('Disabled');
    },

    async TagResource() {
      const keyId = (await newKey()).KeyId!;
      expect(
        Object.keys(
          await c.call('TagResource', {
            KeyId: keyId,
            Tags: JSON.stringify([
              { TagKey: 'project', TagValue: kind },
              { TagKey: 'env', TagValue: 'prod' },
            ]),
          }),
        ),
      ).toEqual(['RequestId']);
      const listed = (await c.call('ListResourceTags', { KeyId: keyId })).Tags.Tag;
      expect(listed).toEqual([
        { KeyId: keyId, TagKey: 'env', TagValue: 'prod' },
        { KeyId: keyId, TagKey: 'project', TagValue: kind },
      ]);
    },

    async UntagResource() {
      const keyId = (await newKey()).KeyId!;
      await c.call('TagResource', {
        KeyId: keyId,
        Tags: JSON.stringify([
          { TagKey: 'a', TagValue: '1' },
          { TagKey: 'b', TagValue: '2' },
        ]),
      });
      await c.call('UntagResource', { KeyId: keyId, TagKeys: '["a"]' });
      expect((await c.call('ListResourceTags', { KeyId: keyId })).Tags.Tag).toEqual([{ KeyId: keyId, TagKey: 'b', TagValue: '2' }]);
    },

    async ListResourceTags() {
      const keyId = (await newKey()).KeyId!;
      expect((await c.call('ListResourceTags', { KeyId: keyId })).Tags).toEqual({ Tag: [] });
    },

    async GetRandomPassword() {
      const body = await c.call('GetRandomPassword', { PasswordLength: '50', ExcludeCharacters: '"\\\'' });
      expect(Object.keys(body).sort()).toEqual(['RandomPassword', 'RequestId']);
      expect(body.RandomPassword).toHaveLength(50);
      expect(body.RandomPassword).not.toMatch(/["'\\]/);
      await expectRefused(() => c.call('GetRandomPassword', { PasswordLength: '7' }), 'InvalidParameter');
    },

    async DescribeRegions() {
      const body = await c.call('DescribeRegions', {});
      expect(body.Regions).toEqual({ Region: [{ RegionId: REGION }] });
    },

    async DescribeService() {
      const body = await c.call('DescribeService', {});
      expect(body.ProtectionLevels).toEqual({ ProtectionLevel: [{ Type: 'SOFTWARE' }] });
      expect(body.KeySpecs.KeySpec[0]).toEqual({
        Name: 'Aliyun_AES_256',
        SupportedProtectionLevels: { SupportedProtectionLevel: ['SOFTWARE'] },
        Usages: { Usage: ['ENCRYPT/DECRYPT'] },
      });
    },

    async ListAuditEvents() {
      const described = await c.call('DescribeKey', { KeyId: KEY_ID });
      const body = await c.call('ListAuditEvents', { PageSize: 100 });
      expect(Object.keys(body).sort()).toEqual(['AuditEvents', 'PageNumber', 'PageSize', 'RequestId', 'TotalCount']);
      expect(body).toMatchObject({ PageNumber: 1, PageSize: 100 });
      const events = body.AuditEvents.AuditEvent as Array<Record<string, unknown>>;
      expect(events.find((e) => e.RequestId === described.RequestId)).toMatchObject({
        Type: 'request',
        Action: 'DescribeKey',
        AccessKeyId: ADMIN.accessKeyId,
        AccessKeyVerified: true,
        KeyArn: keyArnOf(KEY_ID),
        Result: 'OK',
        HttpStatus: 200,
      });
      // Newest first: the DescribeKey just made comes before every earlier request's.
      expect(events[0]!.RequestId).toBe(described.RequestId);
      await expectRefused(() => c.call('ListAuditEvents', { PageSize: 101 }), 'InvalidParameter');
    },

    async DescribeAccessKey() {
      const body = await c.call('DescribeAccessKey', {});
      expect(Object.keys(body).sort()).toEqual(['AccessKey', 'RequestId']);
      expect(body.AccessKey).toMatchObject({ AccessKeyId: ADMIN.accessKeyId, Status: 'Enabled', CreationDate: expect.stringMatching(ISO_SECONDS) });
      expect(JSON.parse(body.AccessKey.Policy)).toEqual({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] });
      expect(JSON.stringify(body)).not.toContain(ADMIN.accessKeySecret);
    },

    async GenerateAndExportDataKey() {
      const wrapping = { PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' };
      const body = await c.call('GenerateAndExportDataKey', { KeyId: ALIAS, ...wrapping, NumberOfBytes: '24', EncryptionContext: { kind } });
      expect(Object.keys(body).sort()).toEqual(['CiphertextBlob', 'ExportedDataKey', 'KeyId', 'KeyVersionId', 'RequestId']);
      expect(body).toMatchObject({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID });
      const exported = openExportedDataKey(body.ExportedDataKey, 'RSAES_OAEP_SHA_1');
      expect(exported).toHaveLength(24);
      expect((await c.call('Decrypt', { CiphertextBlob: body.CiphertextBlob, EncryptionContext: { kind } })).Plaintext).toBe(exported.toString('base64'));
      // A dry run fails as Alibaba documents: DryRunOperationError when it would have succeeded.
      await expectRefused(() => c.call('GenerateAndExportDataKey', { KeyId: ALIAS, ...wrapping, DryRun: 'true' }), 'DryRunOperationError');
      await expectRefused(() => c.call('GenerateAndExportDataKey', { KeyId: ALIAS, ...wrapping, WrappingAlgorithm: 'SM2PKE' }), 'InvalidParameter');
    },

    async GenerateRandom() {
      const body = await c.call('GenerateRandom', { NumberOfBytes: '48' });
      expect(Object.keys(body).sort()).toEqual(['Plaintext', 'RequestId']);
      expect(Buffer.from(body.Plaintext, 'base64')).toHaveLength(48);
      await expectRefused(() => c.call('GenerateRandom', { NumberOfBytes: '1025' }), 'InvalidParameter');
    },

    async GetParametersForImport() {
      const keyId = (await newKey({ Origin: 'EXTERNAL' })).KeyId!;
      const body = await c.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' });
      expect(Object.keys(body).sort()).toEqual(['ImportToken', 'KeyId', 'PublicKey', 'RequestId', 'TokenExpireTime']);
      expect(body.KeyId).toBe(keyId);
      expect(createPublicKey({ key: Buffer.from(body.PublicKey, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
      expectNear(body.TokenExpireTime, Date.now() + DAY_MS);
      await expectRefused(
        () => c.call('GetParametersForImport', { KeyId: KEY_ID, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
        'Unsupported.Origin',
      );
    },

    async ImportKeyMaterial() {
      const key = await newKey({ Origin: 'EXTERNAL' });
      expect(key).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', MaterialExpireTime: '' });
      const material = randomBytes(32);
      const expireUnix = Math.floor(Date.now() / 1000) + 86_400;
      for (const algorithm of ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'] as const) {
        const p = await c.call('GetParametersForImport', { KeyId: key.KeyId!, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' });
        const body = await c.call('ImportKeyMaterial', {
          KeyId: key.KeyId!,
          ImportToken: p.ImportToken,
          EncryptedKeyMaterial: wrapMaterial(p.PublicKey, algorithm, material),
          KeyMaterialExpireUnix: String(expireUnix),
        });
        expect(Object.keys(body)).toEqual(['RequestId']);
      }
      expect(await describeKey(key.KeyId!)).toMatchObject({ KeyState: 'Enabled', MaterialExpireTime: isoSeconds(expireUnix * 1000) });
      const generated = await c.call('GenerateDataKey', { KeyId: key.KeyId! });
      expect((await c.call('Decrypt', { CiphertextBlob: generated.CiphertextBlob })).Plaintext).toBe(generated.Plaintext);
      const p = await c.call('GetParametersForImport', { KeyId: key.KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
      await expectRefused(
        () =>
          c.call('ImportKeyMaterial', {
            KeyId: key.KeyId!,
            ImportToken: p.ImportToken,
            EncryptedKeyMaterial: wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32)),
          }),
        'InvalidKeyMaterial',
      );
    },

    async DeleteKeyMaterial() {
      const keyId = (await newKey({ Origin: 'EXTERNAL' })).KeyId!;
      const material = randomBytes(32);
      const importIt = async () => {
        const p = await c.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
        await c.call('ImportKeyMaterial', {
          KeyId: keyId,
          ImportToken: p.ImportToken,
          EncryptedKeyMaterial: wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', material),
        });
      };
      await importIt();
      const blob = (await c.call('Encrypt', { KeyId: keyId, Plaintext: 'byok' })).CiphertextBlob;
      expect(Object.keys(await c.call('DeleteKeyMaterial', { KeyId: keyId }))).toEqual(['RequestId']);
      expect((await describeKey(keyId)).KeyState).toBe('PendingImport');
      await expectRefused(() => c.call('Decrypt', { CiphertextBlob: blob }), 'Rejected.PendingImport');
      await importIt();
      expect((await c.call('Decrypt', { CiphertextBlob: blob })).Plaintext).toBe('byok');
      await expectRefused(() => c.call('DeleteKeyMaterial', { KeyId: KEY_ID }), 'Unsupported.Origin');
    },

    async ExportDataKey() {
      const generated = await c.call('GenerateDataKey', { KeyId: OTHER_KEY_ID, EncryptionContext: { kind } });
      const body = await c.call('ExportDataKey', {
        CiphertextBlob: generated.CiphertextBlob,
        EncryptionContext: { kind },
        PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB,
        WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
        WrappingKeySpec: 'RSA_2048',
      });
      expect(Object.keys(body).sort()).toEqual(['ExportedDataKey', 'KeyId', 'KeyVersionId', 'RequestId']);
      expect(body.KeyId).toBe(OTHER_KEY_ID);
      expect(openExportedDataKey(body.ExportedDataKey).toString('base64')).toBe(generated.Plaintext);
      await expectRefused(
        () =>
          c.call('ExportDataKey', {
            CiphertextBlob: generated.CiphertextBlob,
            PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB,
            WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
            WrappingKeySpec: 'RSA_2048',
          }),
        'InvalidCiphertext',
      );
    },
  };

  it('when the table of Actions changes, this suite has a scenario for every key-management Action', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...KEY_MANAGEMENT_ACTIONS].sort());
  });

  it.each(KEY_MANAGEMENT_ACTIONS)('Action: %s — the response has the reference shape', async (action) => {
    await SCENARIOS[action]!();
  });
});

// ---------------------------------------------------------------------------------------------

describe('official client kms20160120 1.2.0 (typed methods): every key-management Action it exposes', () => {
  let sdk: ReturnType<typeof createKmsSdkClient>;
  let n = 0;
  const aliasName = (what: string) => `alias/e2e-sdk-${what}-${++n}`;
  const newKey = async () => (await sdk.createKey(new KmsSdk.CreateKeyRequest({}))).keyMetadata;
  const describeKey = async (keyId: string) => (await sdk.describeKey(new KmsSdk.DescribeKeyRequest({ keyId }))).keyMetadata;

  beforeAll(() => {
    sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
  });

  const SCENARIOS: Record<string, () => Promise<void>> = {
    async CreateKey() {
      const r = await sdk.createKey(new KmsSdk.CreateKeyRequest({ description: 'typed', enableAutomaticRotation: true, rotationInterval: '2592000s' }));
      expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
      const m = r.keyMetadata;
      expect(m.keyId).toMatch(/^key-[a-z0-9]{24}$/);
      expect(m).toMatchObject({
        arn: keyArnOf(m.keyId),
        keyState: 'Enabled',
        keySpec: 'Aliyun_AES_256',
        keyUsage: 'ENCRYPT/DECRYPT',
        origin: 'Aliyun_KMS',
        protectionLevel: 'SOFTWARE',
        description: 'typed',
        automaticRotation: 'Enabled',
        rotationInterval: '2592000s',
        deleteDate: '',
      });
      expect(m.primaryKeyVersion).toMatch(UUID);
      expectNear(m.creationDate, Date.now());
      expect(m.nextRotationDate).toBe(isoSeconds(Date.parse(m.creationDate) + 30 * DAY_MS));
      await expectRefused(() => sdk.createKey(new KmsSdk.CreateKeyRequest({ protectionLevel: 'HSM' })), 'InvalidParameter');
    },

    async DescribeKey() {
      const m = await describeKey(ALIAS);
      expect(m).toMatchObject({ keyId: KEY_ID, arn: keyArnOf(KEY_ID), keyState: 'Enabled', primaryKeyVersion: KEY_VERSION_ID, description: 'test key' });
      await expectRefused(() => describeKey('key-doesnotexist0000000000'), 'Forbidden.KeyNotFound');
    },

    async ListKeys() {
      const r = await sdk.listKeys(new KmsSdk.ListKeysRequest({ pageNumber: 1, pageSize: 2 }));
      expect(r).toMatchObject({ pageNumber: 1, pageSize: 2 });
      expect(r.totalCount).toBeGreaterThanOrEqual(3);
      expect(r.keys.key).toHaveLength(2);
      for (const key of r.keys.key) expect(key.keyArn).toBe(keyArnOf(key.keyId));
    },

    async CreateKeyVersion() {
      const key = await newKey();
      const r = await sdk.createKeyVersion(new KmsSdk.CreateKeyVersionRequest({ keyId: key.keyId }));
      expect(r.keyVersion.keyId).toBe(key.keyId);
      expect(r.keyVersion.keyVersionId).toMatch(UUID);
      expectNear(r.keyVersion.creationDate, Date.now());
      expect((await describeKey(key.keyId)).primaryKeyVersion).toBe(r.keyVersion.keyVersionId);
    },

    async ListKeyVersions() {
      const key = await newKey();
      const second = (await sdk.createKeyVersion(new KmsSdk.CreateKeyVersionRequest({ keyId: key.keyId }))).keyVersion;
      const r = await sdk.listKeyVersions(new KmsSdk.ListKeyVersionsRequest({ keyId: key.keyId }));
      expect(r).toMatchObject({ totalCount: 2, pageNumber: 1, pageSize: 10 });
      expect(r.keyVersions.keyVersion.map((v) => v.keyVersionId)).toEqual([key.primaryKeyVersion, second.keyVersionId]);
    },

    async DescribeKeyVersion() {
      const r = await sdk.describeKeyVersion(new KmsSdk.DescribeKeyVersionRequest({ keyId: KEY_ID, keyVersionId: KEY_VERSION_ID }));
      expect(r.keyVersion).toMatchObject({ keyId: KEY_ID, keyVersionId: KEY_VERSION_ID });
      expect(r.keyVersion.creationDate).toMatch(ISO_SECONDS);
      await expectRefused(
        () => sdk.describeKeyVersion(new KmsSdk.DescribeKeyVersionRequest({ keyId: KEY_ID, keyVersionId: '00000000-0000-4000-8000-000000000000' })),
        'Forbidden.KeyVersionNotFound',
      );
    },

    async UpdateRotationPolicy() {
      const key = await newKey();
      const r = await sdk.updateRotationPolicy(
        new KmsSdk.UpdateRotationPolicyRequest({ keyId: key.keyId, enableAutomaticRotation: true, rotationInterval: '7d' }),
      );
      expect(typeof r.requestId).toBe('string');
      expect(await describeKey(key.keyId)).toMatchObject({ automaticRotation: 'Enabled', rotationInterval: '604800s' });
      await sdk.updateRotationPolicy(new KmsSdk.UpdateRotationPolicyRequest({ keyId: key.keyId, enableAutomaticRotation: false }));
      expect((await describeKey(key.keyId)).automaticRotation).toBe('Disabled');
    },

    async EnableKey() {
      const key = await newKey();
      await sdk.disableKey(new KmsSdk.DisableKeyRequest({ keyId: key.keyId }));
      const r = await sdk.enableKey(new KmsSdk.EnableKeyRequest({ keyId: key.keyId }));
      expect(typeof r.requestId).toBe('string');
      expect((await describeKey(key.keyId)).keyState).toBe('Enabled');
    },

    async DisableKey() {
      const key = await newKey();
      const blob = (await sdk.generateDataKey(new KmsSdk.GenerateDataKeyRequest({ keyId: key.keyId }))).ciphertextBlob;
      const r = await sdk.disableKey(new KmsSdk.DisableKeyRequest({ keyId: key.keyId }));
      expect(typeof r.requestId).toBe('string');
      expect((await describeKey(key.keyId)).keyState).toBe('Disabled');
      await expectRefused(() => sdk.decrypt(new KmsSdk.DecryptRequest({ ciphertextBlob: blob })), 'Rejected.Disabled');
    },

    async ScheduleKeyDeletion() {
      const key = await newKey();
      const r = await sdk.scheduleKeyDeletion(new KmsSdk.ScheduleKeyDeletionRequest({ keyId: key.keyId, pendingWindowInDays: 7 }));
      expect(typeof r.requestId).toBe('string');
      const m = await describeKey(key.keyId);
      expect(m.keyState).toBe('PendingDeletion');
      expectNear(m.deleteDate, Date.now() + 7 * DAY_MS);
      await expectRefused(
        () => sdk.scheduleKeyDeletion(new KmsSdk.ScheduleKeyDeletionRequest({ keyId: key.keyId, pendingWindowInDays: 7 })),
        'Rejected.StateModifiedFailed',
      );
    },

    async CancelKeyDeletion() {
      const key = await newKey();
      await sdk.disableKey(new KmsSdk.DisableKeyRequest({ keyId: key.keyId }));
      await sdk.scheduleKeyDeletion(new KmsSdk.ScheduleKeyDeletionRequest({ keyId: key.keyId, pendingWindowInDays: 366 }));
      const r = await sdk.cancelKeyDeletion(new KmsSdk.CancelKeyDeletionRequest({ keyId: key.keyId }));
      expect(typeof r.requestId).toBe('string');
      // Alibaba documents "the CMK returns to the Enabled state", whatever it was before.
      expect(await describeKey(key.keyId)).toMatchObject({ keyState: 'Enabled', deleteDate: '' });
    },

    async CreateAlias() {
      const key = await newKey();
      const name = aliasName('create');
      const r = await sdk.createAlias(new KmsSdk.CreateAliasRequest({ aliasName: name, keyId: key.keyId }));
      expect(typeof r.requestId).toBe('string');
      expect((await describeKey(name)).keyId).toBe(key.keyId);
      await expectRefused(() => sdk.createAlias(new KmsSdk.CreateAliasRequest({ aliasName: name, keyId: KEY_ID })), 'AliasAlreadyExists');
    },

    async UpdateAlias() {
      const a = await newKey();
      const b = await newKey();
      const name = aliasName('update');
      await sdk.createAlias(new KmsSdk.CreateAliasRequest({ aliasName: name, keyId: a.keyId }));
      const r = await sdk.updateAlias(new KmsSdk.UpdateAliasRequest({ aliasName: name, keyId: b.keyId }));
      expect(typeof r.requestId).toBe('string');
      expect((await describeKey(name)).keyId).toBe(b.keyId);
    },

    async DeleteAlias() {
      const key = await newKey();
      const name = aliasName('delete');
      await sdk.createAlias(new KmsSdk.CreateAliasRequest({ aliasName: name, keyId: key.keyId }));
      const r = await sdk.deleteAlias(new KmsSdk.DeleteAliasRequest({ aliasName: name }));
      expect(typeof r.requestId).toBe('string');
      await expectRefused(() => describeKey(name), 'Forbidden.AliasNotFound');
      expect((await describeKey(key.keyId)).keyState).toBe('Enabled');
    },

    async ListAliases() {
      const r = await sdk.listAliases(new KmsSdk.ListAliasesRequest({ pageSize: 100 }));
      expect(r.totalCount).toBe(r.aliases.alias.length);
      expect(r.aliases.alias.find((a) => a.aliasName === ALIAS)).toMatchObject({ keyId: KEY_ID, aliasArn: aliasArnOf(ALIAS) });
    },

    async UpdateKeyDescription() {
      const key = await newKey();
      await sdk.updateKeyDescription(new KmsSdk.UpdateKeyDescriptionRequest({ keyId: key.keyId, description: 'typed rename' }));
      expect((await describeKey(key.keyId)).description).toBe('typed rename');
    },

    async TagResource() {
      const key = await newKey();
      await sdk.tagResource(new KmsSdk.TagResourceRequest({ keyId: key.keyId, tags: JSON.stringify([{ TagKey: 'typed', TagValue: 'yes' }]) }));
      const r = await sdk.listResourceTags(new KmsSdk.ListResourceTagsRequest({ keyId: key.keyId }));
      expect(r.tags.tag.map((t) => ({ keyId: t.keyId, tagKey: t.tagKey, tagValue: t.tagValue }))).toEqual([
        { keyId: key.keyId, tagKey: 'typed', tagValue: 'yes' },
      ]);
    },

    async UntagResource() {
      const key = await newKey();
      await sdk.tagResource(new KmsSdk.TagResourceRequest({ keyId: key.keyId, tags: JSON.stringify([{ TagKey: 'gone', TagValue: '' }]) }));
      await sdk.untagResource(new KmsSdk.UntagResourceRequest({ keyId: key.keyId, tagKeys: '["gone"]' }));
      expect((await sdk.listResourceTags(new KmsSdk.ListResourceTagsRequest({ keyId: key.keyId }))).tags.tag).toEqual([]);
    },

    async ListResourceTags() {
      const r = await sdk.listResourceTags(new KmsSdk.ListResourceTagsRequest({ keyId: KEY_ID }));
      expect(Array.isArray(r.tags.tag)).toBe(true);
    },

    async GetRandomPassword() {
      const r = await sdk.getRandomPassword(new KmsSdk.GetRandomPasswordRequest({ passwordLength: '20', excludePunctuation: 'true' }));
      expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
      expect(r.randomPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    },

    async DescribeRegions() {
      const r = await sdk.describeRegions(new KmsSdk.DescribeRegionsRequest({}));
      expect(r.regions.region.map((region) => region.regionId)).toEqual([REGION]);
    },

    async DescribeService() {
      const r = await sdk.describeService(new KmsSdk.DescribeServiceRequest({}));
      expect(r.protectionLevels.protectionLevel.map((p) => p.type)).toEqual(['SOFTWARE']);
      expect(r.keySpecs.keySpec.map((k) => ({ name: k.name, levels: k.supportedProtectionLevels.supportedProtectionLevel, usages: k.usages.usage }))).toEqual([
        { name: 'Aliyun_AES_256', levels: ['SOFTWARE'], usages: ['ENCRYPT/DECRYPT'] },
      ]);
    },

    async GetParametersForImport() {
      const key = (await sdk.createKey(new KmsSdk.CreateKeyRequest({ origin: 'EXTERNAL' }))).keyMetadata;
      expect({ keyState: key.keyState, origin: key.origin, materialExpireTime: key.materialExpireTime }).toEqual({
        keyState: 'PendingImport',
        origin: 'EXTERNAL',
        materialExpireTime: '',
      });
      const r = await sdk.getParametersForImport(
        new KmsSdk.GetParametersForImportRequest({ keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_1', wrappingKeySpec: 'RSA_2048' }),
      );
      expect(r.keyId).toBe(key.keyId);
      expect(r.publicKey).toMatch(/^MIIBIjAN/);
      expect(r.importToken.length).toBeGreaterThan(100);
      expectNear(r.tokenExpireTime, Date.now() + DAY_MS);
    },

    async ImportKeyMaterial() {
      const key = (await sdk.createKey(new KmsSdk.CreateKeyRequest({ origin: 'EXTERNAL' }))).keyMetadata;
      const p = await sdk.getParametersForImport(
        new KmsSdk.GetParametersForImportRequest({ keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' }),
      );
      const material = randomBytes(32);
      // The typed model sends KeyMaterialExpireUnix as a number; 0 means the material never expires.
      const r = await sdk.importKeyMaterial(
        new KmsSdk.ImportKeyMaterialRequest({
          keyId: key.keyId,
          importToken: p.importToken,
          encryptedKeyMaterial: wrapMaterial(p.publicKey, 'RSAES_OAEP_SHA_256', material),
          keyMaterialExpireUnix: 0,
        }),
      );
      expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
      expect(await describeKey(key.keyId)).toMatchObject({ keyState: 'Enabled', materialExpireTime: '' });
      const blob = (await sdk.encrypt(new KmsSdk.EncryptRequest({ keyId: key.keyId, plaintext: 'typed byok' }))).ciphertextBlob;
      expect((await sdk.decrypt(new KmsSdk.DecryptRequest({ ciphertextBlob: blob }))).plaintext).toBe('typed byok');
    },

    async DeleteKeyMaterial() {
      const key = (await sdk.createKey(new KmsSdk.CreateKeyRequest({ origin: 'EXTERNAL' }))).keyMetadata;
      const p = await sdk.getParametersForImport(
        new KmsSdk.GetParametersForImportRequest({ keyId: key.keyId, wrappingAlgorithm: 'RSAES_PKCS1_V1_5', wrappingKeySpec: 'RSA_2048' }),
      );
      await sdk.importKeyMaterial(
        new KmsSdk.ImportKeyMaterialRequest({
          keyId: key.keyId,
          importToken: p.importToken,
          encryptedKeyMaterial: wrapMaterial(p.publicKey, 'RSAES_PKCS1_V1_5', randomBytes(32)),
        }),
      );
      const r = await sdk.deleteKeyMaterial(new KmsSdk.DeleteKeyMaterialRequest({ keyId: key.keyId }));
      expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
      expect((await describeKey(key.keyId)).keyState).toBe('PendingImport');
    },

    async ListAliasesByKeyId() {
      const r = await sdk.listAliasesByKeyId(new KmsSdk.ListAliasesByKeyIdRequest({ keyId: KEY_ID }));
      expect(r).toMatchObject({ totalCount: 1, pageNumber: 1, pageSize: 10 });
      expect(r.aliases.alias.map((a) => ({ aliasName: a.aliasName, keyId: a.keyId, aliasArn: a.aliasArn }))).toEqual([
        { aliasName: ALIAS, keyId: KEY_ID, aliasArn: aliasArnOf(ALIAS) },
      ]);
    },
  };

  it('when compared with the table, the client has a typed method for every key-management Action but ReEncrypt, and this suite covers each', () => {
    const methodOf = (action: string) => `${action[0]!.toLowerCase()}${action.slice(1)}`;
    const exposed = KEY_MANAGEMENT_ACTIONS.filter((action) => typeof (sdk as unknown as Record<string, unknown>)[methodOf(action)] === 'function');
    // 1.2.0 predates SetDeletionProtection (the generic clients above cover it).
    // Nor ExportDataKey and GenerateAndExportDataKey; the generic clients above cover those too.
    expect([...KEY_MANAGEMENT_ACTIONS].filter((a) => !exposed.includes(a)).sort()).toEqual(UNTYPED.slice().sort());
    expect(Object.keys(SCENARIOS).sort()).toEqual([...exposed].sort());
  });

  it.each(KEY_MANAGEMENT_ACTIONS.filter((a) => !UNTYPED.includes(a)))('Action: %s — the typed response model is filled', async (action) => {
    await SCENARIOS[action]!();
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(['openapi-v3', 'pop-core-post'] as const)('one full key lifecycle through %s', (kind) => {
  it('when a key goes CreateKey → CreateAlias → GenerateDataKey → CreateKeyVersion → Disable → Enable → Schedule → Cancel → Schedule, each step holds', async () => {
    const c = actionClient(kind);
    const key = (await c.call('CreateKey', { Description: `lifecycle ${kind}` })).KeyMetadata;
    const alias = `alias/e2e-lifecycle-${kind}`;
    await c.call('CreateAlias', { AliasName: alias, KeyId: key.KeyId });

    const context = { lifecycle: kind };
    const oldKey = await c.call('GenerateDataKey', { KeyId: alias, EncryptionContext: context });
    expect(oldKey).toMatchObject({ KeyId: key.KeyId, KeyVersionId: key.PrimaryKeyVersion });

    const version = (await c.call('CreateKeyVersion', { KeyId: alias })).KeyVersion;
    const newKey = await c.call('GenerateDataKey', { KeyId: alias, EncryptionContext: context });
    expect(newKey.KeyVersionId).toBe(version.KeyVersionId);
    expect(await c.call('Decrypt', { CiphertextBlob: oldKey.CiphertextBlob, EncryptionContext: context })).toMatchObject({
      KeyVersionId: key.PrimaryKeyVersion,
      Plaintext: oldKey.Plaintext,
    });
    expect(await c.call('Decrypt', { CiphertextBlob: newKey.CiphertextBlob, EncryptionContext: context })).toMatchObject({
      KeyVersionId: version.KeyVersionId,
      Plaintext: newKey.Plaintext,
    });

    await c.call('DisableKey', { KeyId: alias });
    await expectRefused(() => c.call('Decrypt', { CiphertextBlob: oldKey.CiphertextBlob, EncryptionContext: context }), 'Rejected.Disabled');
    await c.call('EnableKey', { KeyId: alias });
    expect((await c.call('Decrypt', { CiphertextBlob: newKey.CiphertextBlob, EncryptionContext: context })).Plaintext).toBe(newKey.Plaintext);

    await c.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 });
    await expectRefused(() => c.call('Decrypt', { CiphertextBlob: oldKey.CiphertextBlob, EncryptionContext: context }), 'Rejected.PendingDeletion');
    await c.call('CancelKeyDeletion', { KeyId: key.KeyId });
    expect((await c.call('DescribeKey', { KeyId: alias })).KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      DeleteDate: '',
      PrimaryKeyVersion: version.KeyVersionId,
    });
    expect((await c.call('Decrypt', { CiphertextBlob: oldKey.CiphertextBlob, EncryptionContext: context })).Plaintext).toBe(oldKey.Plaintext);

    await c.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 30 });
    const m = (await c.call('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
    expect(m.KeyState).toBe('PendingDeletion');
    expectNear(m.DeleteDate, Date.now() + 30 * DAY_MS);
    const versions = (await c.call('ListKeyVersions', { KeyId: key.KeyId })).KeyVersions.KeyVersion;
    expect(versions.map((v: { KeyVersionId: string }) => v.KeyVersionId)).toEqual([key.PrimaryKeyVersion, version.KeyVersionId]);
  });
});

describe('one full key lifecycle through kms20160120', () => {
  it('when a key goes CreateKey → CreateAlias → GenerateDataKey → CreateKeyVersion → Disable → Enable → Schedule → Cancel → Schedule, each step holds', async () => {
    const sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
    const key = (await sdk.createKey(new KmsSdk.CreateKeyRequest({ description: 'lifecycle sdk' }))).keyMetadata;
    const alias = 'alias/e2e-lifecycle-sdk';
    await sdk.createAlias(new KmsSdk.CreateAliasRequest({ aliasName: alias, keyId: key.keyId }));
    const context = { lifecycle: 'sdk' };
    const oldKey = await sdk.generateDataKey(new KmsSdk.GenerateDataKeyRequest({ keyId: alias, encryptionContext: context }));
    expect(oldKey.keyVersionId).toBe(key.primaryKeyVersion);
    const version = (await sdk.createKeyVersion(new KmsSdk.CreateKeyVersionRequest({ keyId: alias }))).keyVersion;
    const newKey = await sdk.generateDataKey(new KmsSdk.GenerateDataKeyRequest({ keyId: alias, encryptionContext: context }));
    expect(newKey.keyVersionId).toBe(version.keyVersionId);
    const decrypt = (blob: string) => sdk.decrypt(new KmsSdk.DecryptRequest({ ciphertextBlob: blob, encryptionContext: context }));
    expect((await decrypt(oldKey.ciphertextBlob)).plaintext).toBe(oldKey.plaintext);
    expect((await decrypt(newKey.ciphertextBlob)).plaintext).toBe(newKey.plaintext);

    await sdk.disableKey(new KmsSdk.DisableKeyRequest({ keyId: alias }));
    await expectRefused(() => decrypt(oldKey.ciphertextBlob), 'Rejected.Disabled');
    await sdk.enableKey(new KmsSdk.EnableKeyRequest({ keyId: alias }));
    expect((await decrypt(oldKey.ciphertextBlob)).plaintext).toBe(oldKey.plaintext);

    await sdk.scheduleKeyDeletion(new KmsSdk.ScheduleKeyDeletionRequest({ keyId: key.keyId, pendingWindowInDays: 7 }));
    await expectRefused(() => decrypt(newKey.ciphertextBlob), 'Rejected.PendingDeletion');
    await sdk.cancelKeyDeletion(new KmsSdk.CancelKeyDeletionRequest({ keyId: key.keyId }));
    expect((await decrypt(newKey.ciphertextBlob)).plaintext).toBe(newKey.plaintext);
    await sdk.scheduleKeyDeletion(new KmsSdk.ScheduleKeyDeletionRequest({ keyId: key.keyId, pendingWindowInDays: 7 }));
    expect((await sdk.describeKey(new KmsSdk.DescribeKeyRequest({ keyId: alias }))).keyMetadata.keyState).toBe('PendingDeletion');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the gateway’s scheduled jobs (KMS_SCHEDULE_INTERVAL_MS=200)', () => {
  const OVERDUE_KEY_ID = 'key-e2eoverdue0000000000001';
  const LATER_KEY_ID = 'key-e2eoverdue0000000000002';
  let schedDir: string;
  let dataDir: string;
  let scheduled: ReadyGateway;
  let c: ActionClient;
  let overdueFirstVersion: string;
  /** A keyring of this test process on the gateway's data directory, with a clock `ageMs` in the past. */
  /** The data directory's keyring as another process sees it: sealed once the gateway has sealed it. */
  const keyringAt = async (ageMs: number) =>
    new Keyring(existsSync(join(dataDir, 'root.key')) ? await openSealedDataDir(dataDir) : new FileKeyStore(dataDir), {
      region: REGION,
      accountId: ACCOUNT_ID,
      cacheTtlMs: 0,
      now: () => Date.now() - ageMs,
    });

  beforeAll(async () => {
    schedDir = await makeTempDir();
    dataDir = join(schedDir, 'data');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // Written into the data directory before start: a key created 40 days ago with a 7-day rotation, long overdue.
    overdueFirstVersion = (await (await keyringAt(40 * DAY_MS)).createKey({ keyId: OVERDUE_KEY_ID, description: 'overdue', rotationInterval: 7 * 86_400 }))
      .primaryKeyVersion;
    scheduled = await startGateway({ dataDir, seedFile: await writeSeedFile(schedDir, TEST_SEED), env: { KMS_SCHEDULE_INTERVAL_MS: '200' } });
    c = createActionClient('pop-core-post', { port: scheduled.port }, ADMIN);
    closers.push(() => c.close());
  });

  afterAll(async () => {
    if (scheduled) expect(await scheduled.stop('SIGTERM')).toBe(0);
    await removeDir(schedDir);
  });

  const versionCount = async (keyId: string) => (await c.call('ListKeyVersions', { KeyId: keyId })).TotalCount as number;

  it('when written before start, the key record is the file store’s JSON entry at <dataDir>/keys/<keyId>', async () => {
    const entry = JSON.parse(await readFile(join(dataDir, 'keys', OVERDUE_KEY_ID), 'utf8')) as { revision: number; writeOnce: boolean; value: string };
    expect(entry.writeOnce).toBe(false);
    // Its value as the gateway reads it (sealed under the root key once the gateway rewrote it).
    const record = JSON.parse((await (await openSealedDataDir(dataDir)).get(`keys/${OVERDUE_KEY_ID}`))!.value.toString('utf8')) as KeyRecord;
    expect(record).toMatchObject({ keyId: OVERDUE_KEY_ID, automaticRotation: 'Enabled', rotationInterval: 604_800 });
    expect(Date.parse(record.creationDate)).toBeLessThan(Date.now() - 39 * DAY_MS);
  });

  it('when a key’s rotation is overdue at start, within a few seconds ListKeyVersions shows a second version, which is primary', async () => {
    await waitFor(async () => (await versionCount(OVERDUE_KEY_ID)) >= 2, 10_000, 'the overdue key to get a second version');
    // A rotation writes the version first, then moves the primary: wait for the second step too.
    const primary = async () => (await c.call('DescribeKey', { KeyId: OVERDUE_KEY_ID })).KeyMetadata.PrimaryKeyVersion as string;
    await waitFor(async () => (await primary()) !== overdueFirstVersion, 10_000, 'the new version to become primary');
    const versions = (await c.call('ListKeyVersions', { KeyId: OVERDUE_KEY_ID })).KeyVersions.KeyVersion as Array<{
      KeyVersionId: string;
      CreationDate: string;
    }>;
    expect(versions).toHaveLength(2);
    const m = (await c.call('DescribeKey', { KeyId: OVERDUE_KEY_ID })).KeyMetadata;
    expect(m.PrimaryKeyVersion, JSON.stringify({ versions, m })).toBe(versions[1]!.KeyVersionId);
    expectNear(m.LastRotationDate, Date.now());
    expect(m.LastRotationDate).toBe(versions[1]!.CreationDate);
    expect(m.NextRotationDate).toBe(isoSeconds(Date.parse(m.LastRotationDate) + 7 * DAY_MS));
    expect((await c.call('GenerateDataKey', { KeyId: OVERDUE_KEY_ID })).KeyVersionId).toBe(m.PrimaryKeyVersion);
    // Rotated once, not on every run: the next rotation is a week away.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await versionCount(OVERDUE_KEY_ID)).toBe(2);
    // Keys without rotation are left alone.
    expect(await versionCount(KEY_ID)).toBe(1);
  });

  it('when an overdue key appears while the gateway runs, a later timer run rotates it', async () => {
    const first = (await (await keyringAt(10 * DAY_MS)).createKey({ keyId: LATER_KEY_ID, rotationInterval: 7 * 86_400 })).primaryKeyVersion;
    await waitFor(
      async () => (await c.call('DescribeKey', { KeyId: LATER_KEY_ID })).KeyMetadata.PrimaryKeyVersion !== first,
      10_000,
      'the key written at run time to be rotated',
    );
    expect(await versionCount(LATER_KEY_ID)).toBe(2);
  });

  it('when a key pending deletion passes its DeleteDate, the gateway destroys it with its aliases', async () => {
    const key = (await c.call('CreateKey')).KeyMetadata;
    await c.call('CreateAlias', { AliasName: 'alias/e2e-scheduled-doomed', KeyId: key.KeyId });
    const blob = (await c.call('GenerateDataKey', { KeyId: key.KeyId })).CiphertextBlob;
    await c.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await c.call('DescribeKey', { KeyId: key.KeyId })).KeyMetadata.KeyState).toBe('PendingDeletion');

    // Seven days pass: the delete date is moved into the past in the store, as another process would see it.
    await (await keyringAt(0)).updateKey(key.KeyId, (record) => ({ ...record, deleteDate: isoSeconds(Date.now() - 1000) }));
    await waitFor(
      async () => {
        const err = await sdkError(() => c.call('DescribeKey', { KeyId: key.KeyId })).catch(() => undefined);
        return serverCodeOf(err) === 'Forbidden.KeyNotFound';
      },
      10_000,
      'the key to be destroyed',
    );
    await expectRefused(() => c.call('DescribeKey', { KeyId: 'alias/e2e-scheduled-doomed' }), 'Forbidden.AliasNotFound');
    const err = await sdkError(() => c.call('Decrypt', { CiphertextBlob: blob }));
    expect(['Forbidden.KeyVersionNotFound', 'Forbidden.KeyNotFound']).toContain(serverCodeOf(err));
    expect((await c.call('ListKeys', { PageSize: 100 })).Keys.Key.map((k: { KeyId: string }) => k.KeyId)).not.toContain(key.KeyId);
    expect(await versionCount(KEY_ID)).toBe(1);
  });
});
