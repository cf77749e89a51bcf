import { beforeEach, describe, expect, it } from 'vitest';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { DEFAULT_SECRETS_KEY_ALIAS } from '../../lib/secrets/default-key.js';
import { ACCOUNT_ID, ADMIN, createTestService, DISABLED_KEY_ID, KEY_ID, keyArnOf, REGION, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';
import { expectError, parseXml } from './support.js';

/*
 * The Alibaba secrets Actions (KMS 2016-01-20) through the real dispatcher: parameters, answers,
 * stages, deletion, errors and authorisation.
 */

let t: TestService;
// The service's clock, at a whole second near the real time (requests are signed with the real time).
let base = Math.floor(Date.now() / 1000) * 1000;
let now = base;
/** The service's time `ms` after the start of the test, as answered. */
const at = (ms = 0) => isoSeconds(base + ms);
const DAY = 86_400_000;
let logLines: string[];
beforeEach(async () => {
  base = Math.floor(Date.now() / 1000) * 1000;
  now = base;
  logLines = [];
  t = await createTestService({ recentAudit: new RecentAuditRecords(), now: () => now, logLines });
});

const call = (action: string, params: Record<string, string> = {}, credentials: Credentials = ADMIN) => t.call(signedRpcRequest(credentials, action, params));
const ok = async (action: string, params: Record<string, string> = {}, credentials: Credentials = ADMIN) => {
  const result = await call(action, params, credentials);
  expect(result.status, result.raw).toBe(200);
  return result.body;
};
const secretArn = (name: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:secret/${name}`;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function accessKey(
  accessKeyId: string,
  Statement: Array<{ Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: string | string[] }>,
): Promise<Credentials> {
  const credentials = { accessKeyId, accessKeySecret: `${accessKeyId}-secret-0123456789` };
  await t.service.accessKeys.create({ ...credentials, status: 'Enabled', createdAt: new Date().toISOString(), policy: { Version: '1', Statement } });
  return credentials;
}

describe('CreateSecret and GetSecretValue', () => {
  it('creates a Generic secret whose first version is ACSCurrent, and reads it back (text)', async () => {
    const created = await ok('CreateSecret', { SecretName: 'db/password', VersionId: 'v1', SecretData: 'hunter2', Description: 'the db' });
    expect(created).toEqual({
      RequestId: expect.any(String),
      Arn: secretArn('db/password'),
      VersionId: 'v1',
      SecretName: 'db/password',
      SecretType: 'Generic',
    });
    const value = await ok('GetSecretValue', { SecretName: 'db/password' });
    expect(value).toEqual({
      RequestId: expect.any(String),
      SecretName: 'db/password',
      SecretType: 'Generic',
      VersionId: 'v1',
      CreateTime: at(),
      SecretData: 'hunter2',
      SecretDataType: 'text',
      VersionStages: { VersionStage: ['ACSCurrent'] },
    });
    // By its acs ARN too.
    expect((await ok('GetSecretValue', { SecretName: secretArn('db/password'), VersionId: 'v1' })).SecretData).toBe('hunter2');
  });

  it('binary values: canonical Base64 in, the same Base64 out; anything else is 400 InvalidParameter', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253]).toString('base64');
    await ok('CreateSecret', { SecretName: 'bin', VersionId: 'v1', SecretData: bytes, SecretDataType: 'binary' });
    expect(await ok('GetSecretValue', { SecretName: 'bin' })).toMatchObject({ SecretData: bytes, SecretDataType: 'binary' });
    expectError(
      await call('CreateSecret', { SecretName: 'bin2', VersionId: 'v1', SecretData: 'not base64!', SecretDataType: 'binary' }),
      400,
      'InvalidParameter',
      'SecretData',
    );
    expectError(
      await call('CreateSecret', { SecretName: 'bin2', VersionId: 'v1', SecretData: 'AQ', SecretDataType: 'binary' }),
      400,
      'InvalidParameter',
      'SecretData',
    );
    expectError(
      await call('CreateSecret', { SecretName: 'bin2', VersionId: 'v1', SecretData: 'x', SecretDataType: 'hex' }),
      400,
      'InvalidParameter',
      'SecretDataType',
    );
    // A put may change the type.
    await ok('PutSecretValue', { SecretName: 'bin', VersionId: 'v2', SecretData: 'now text' });
    expect(await ok('GetSecretValue', { SecretName: 'bin' })).toMatchObject({ SecretData: 'now text', SecretDataType: 'text' });
  });

  it('refuses bad and missing parameters, and managed-secret parameters', async () => {
    expectError(await call('CreateSecret', { VersionId: 'v1', SecretData: 'x' }), 400, 'MissingParameter', 'SecretName');
    expectError(await call('CreateSecret', { SecretName: 'a', SecretData: 'x' }), 400, 'MissingParameter', 'VersionId');
    expectError(await call('CreateSecret', { SecretName: 'a', VersionId: 'v1' }), 400, 'MissingParameter', 'SecretData');
    expectError(await call('CreateSecret', { SecretName: 'bad name!', VersionId: 'v1', SecretData: 'x' }), 400, 'InvalidParameter', 'SecretName');
    expectError(await call('CreateSecret', { SecretName: 'acs/x', VersionId: 'v1', SecretData: 'x' }), 400, 'InvalidParameter', 'SecretName');
    expectError(await call('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x'.repeat(30_721) }), 400, 'InvalidParameter', 'SecretData');
    expectError(await call('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x', SecretType: 'Rds' }), 400, 'InvalidParameter', 'SecretType');
    expectError(
      await call('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x', EnableAutomaticRotation: 'true' }),
      400,
      'InvalidParameter',
      'EnableAutomaticRotation',
    );
    expectError(await call('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x', Tags: 'nope' }), 400, 'InvalidParameter', 'Tags');
    await ok('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x', SecretType: 'Generic', EnableAutomaticRotation: 'false' });
  });

  it('a name in use is 409 Rejected.ResourceExist, an exact repeat succeeds', async () => {
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' });
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' });
    expectError(await call('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'two' }), 409, 'Rejected.ResourceExist');
    expectError(await call('CreateSecret', { SecretName: 's', VersionId: 'v2', SecretData: 'one' }), 409, 'Rejected.ResourceExist');
  });

  it('a secret, version or stage that is not there is 404 Forbidden.ResourceNotFound', async () => {
    expectError(await call('GetSecretValue', { SecretName: 'nobody' }), 404, 'Forbidden.ResourceNotFound');
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' });
    expectError(await call('GetSecretValue', { SecretName: 's', VersionId: 'v9' }), 404, 'Forbidden.ResourceNotFound');
    expectError(await call('GetSecretValue', { SecretName: 's', VersionStage: 'ACSPrevious' }), 404, 'Forbidden.ResourceNotFound');
    expectError(await call('DescribeSecret', { SecretName: 'nobody' }), 404, 'Forbidden.ResourceNotFound');
  });

  it('without EncryptionKeyId, the default secrets key (alias/kms/secrets) is made once and used', async () => {
    await ok('CreateSecret', { SecretName: 'a', VersionId: 'v1', SecretData: 'x' });
    await ok('CreateSecret', { SecretName: 'b', VersionId: 'v1', SecretData: 'y' });
    const alias = await t.service.keyring.readAlias(DEFAULT_SECRETS_KEY_ALIAS);
    expect(alias).toBeDefined();
    expect((await ok('DescribeSecret', { SecretName: 'a' })).EncryptionKeyId).toBe(alias!.keyId);
    expect((await ok('DescribeSecret', { SecretName: 'b' })).EncryptionKeyId).toBe(alias!.keyId);
    // Describing names the key the value is sealed under: no key is made by a describe (a fresh
    // service on the same store, whose default key is not yet known, with the alias gone).
    await ok('DeleteAlias', { AliasName: DEFAULT_SECRETS_KEY_ALIAS });
    const keys = (await t.service.keyring.listKeyIds()).length;
    const fresh = await createTestService({ store: t.store, seed: false, now: () => now });
    const described = await fresh.call(signedRpcRequest(ADMIN, 'DescribeSecret', { SecretName: 'a' }));
    expect(described.status, described.raw).toBe(200);
    expect(described.body.EncryptionKeyId).toBe(alias!.keyId);
    expect((await t.service.keyring.listKeyIds()).length).toBe(keys);
  });

  it('two services on one store making the default key at once end with one usable key; the loser is due for deletion, and the deletion job destroys it', async () => {
    const other = await createTestService({ store: t.store, seed: false });
    const before = new Set(await t.service.keyring.listKeyIds());
    const [a, b] = await Promise.all([t.service.secrets.defaultKeyId(), other.service.secrets.defaultKeyId()]);
    expect(a).toBe(b);
    const made = (await t.service.keyring.listKeyIds()).filter((id) => !before.has(id));
    expect(made).toContain(a);
    for (const id of made.filter((id) => id !== a)) expect((await t.service.keyring.getKey(id))?.state).toBe('PendingDeletion');
    now = base + 60_000;
    await destroyDueKeys(t.service);
    expect((await t.service.keyring.listKeyIds()).filter((id) => !before.has(id))).toEqual([a]);
  });

  it('with EncryptionKeyId (id or alias): sealed under that key; a Disabled key refuses creates, and disabling it makes reads fail with a 409', async () => {
    await ok('CreateSecret', { SecretName: 'k', VersionId: 'v1', SecretData: 'x', EncryptionKeyId: 'alias/test' });
    expect((await ok('DescribeSecret', { SecretName: 'k' })).EncryptionKeyId).toBe(KEY_ID);
    expectError(await call('CreateSecret', { SecretName: 'd', VersionId: 'v1', SecretData: 'x', EncryptionKeyId: DISABLED_KEY_ID }), 409, 'Rejected.Disabled');
    await ok('DisableKey', { KeyId: KEY_ID });
    expectError(await call('GetSecretValue', { SecretName: 'k' }), 409, 'Rejected.Disabled');
    expectError(await call('PutSecretValue', { SecretName: 'k', VersionId: 'v2', SecretData: 'y' }), 409, 'Rejected.Disabled');
    await ok('EnableKey', { KeyId: KEY_ID });
    expect((await ok('GetSecretValue', { SecretName: 'k' })).SecretData).toBe('x');
  });
});

describe('PutSecretValue, stages and versions', () => {
  beforeEach(async () => {
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' });
  });

  it('a put without stages becomes ACSCurrent and the former current ACSPrevious; repeats are idempotent, other data 409', async () => {
    expect(await ok('PutSecretValue', { SecretName: 's', VersionId: 'v2', SecretData: 'two' })).toEqual({
      RequestId: expect.any(String),
      SecretName: 's',
      VersionId: 'v2',
      VersionStages: { VersionStage: ['ACSCurrent'] },
    });
    expect(await ok('GetSecretValue', { SecretName: 's', VersionStage: 'ACSPrevious' })).toMatchObject({ VersionId: 'v1', SecretData: 'one' });
    await ok('PutSecretValue', { SecretName: 's', VersionId: 'v2', SecretData: 'two' });
    expectError(await call('PutSecretValue', { SecretName: 's', VersionId: 'v2', SecretData: 'other' }), 409, 'Rejected.ResourceExist');
    expect((await ok('GetSecretValue', { SecretName: 's' })).SecretData).toBe('two');
  });

  it('VersionStages in both forms; a staged (ACSPending) version promoted with UpdateSecretVersionStage', async () => {
    const put = await ok('PutSecretValue', { SecretName: 's', VersionId: 'v2', SecretData: 'two', VersionStages: '["ACSPending"]' });
    expect(put.VersionStages).toEqual({ VersionStage: ['ACSPending'] });
    await ok('PutSecretValue', { SecretName: 's', VersionId: 'v3', SecretData: 'three', VersionStages: '{"VersionStage":["custom"]}' });
    expect((await ok('GetSecretValue', { SecretName: 's' })).VersionId).toBe('v1');
    expect((await ok('GetSecretValue', { SecretName: 's', VersionStage: 'ACSPending' })).SecretData).toBe('two');
    expect((await ok('GetSecretValue', { SecretName: 's', VersionStage: 'custom' })).SecretData).toBe('three');
    expectError(
      await call('PutSecretValue', { SecretName: 's', VersionId: 'v4', SecretData: 'x', VersionStages: '[1]' }),
      400,
      'InvalidParameter',
      'VersionStages',
    );
    expectError(
      await call('PutSecretValue', { SecretName: 's', VersionId: 'v4', SecretData: 'x', VersionStages: '{"Stage":["a"]}' }),
      400,
      'InvalidParameter',
      'VersionStages',
    );

    await ok('UpdateSecretVersionStage', { SecretName: 's', VersionStage: 'ACSCurrent', RemoveFromVersion: 'v1', MoveToVersion: 'v2' });
    expect(await ok('GetSecretValue', { SecretName: 's' })).toMatchObject({ VersionId: 'v2', SecretData: 'two' });
    expect((await ok('GetSecretValue', { SecretName: 's', VersionStage: 'ACSPrevious' })).VersionId).toBe('v1');
    // A custom stage removed; ACSCurrent may only move.
    expect(await ok('UpdateSecretVersionStage', { SecretName: 's', VersionStage: 'custom', RemoveFromVersion: 'v3' })).toEqual({
      RequestId: expect.any(String),
      SecretName: 's',
    });
    expectError(await call('UpdateSecretVersionStage', { SecretName: 's', VersionStage: 'ACSCurrent', RemoveFromVersion: 'v2' }), 400, 'InvalidParameter');
    expectError(await call('UpdateSecretVersionStage', { SecretName: 's', VersionStage: 'x' }), 400, 'MissingParameter');
    expectError(await call('UpdateSecretVersionStage', { SecretName: 's', VersionStage: 'x', MoveToVersion: 'v9' }), 404, 'Forbidden.ResourceNotFound');

    // v3 lost its only stage: deprecated, hidden.
    const listed = await ok('ListSecretVersionIds', { SecretName: 's' });
    expect(listed).toMatchObject({ SecretName: 's', PageNumber: 1, PageSize: 20, TotalCount: 2 });
    expect(listed.VersionIds.VersionId.map((v: any) => [v.VersionId, [...v.VersionStages.VersionStage].sort()])).toEqual([
      ['v1', ['ACSPrevious']],
      ['v2', ['ACSCurrent', 'ACSPending']],
    ]);
  });

  it('ListSecretVersionIds hides deprecated versions unless IncludeDeprecated, and pages (default 20)', async () => {
    for (let i = 2; i <= 4; i++) await ok('PutSecretValue', { SecretName: 's', VersionId: `v${i}`, SecretData: `d${i}` });
    const live = await ok('ListSecretVersionIds', { SecretName: 's' });
    expect(live.VersionIds.VersionId.map((v: any) => v.VersionId)).toEqual(['v3', 'v4']);
    expect(live.VersionIds.VersionId[0]).toEqual({
      VersionId: 'v3',
      CreateTime: expect.stringMatching(TIME),
      VersionStages: { VersionStage: ['ACSPrevious'] },
    });
    const all = await ok('ListSecretVersionIds', { SecretName: 's', IncludeDeprecated: 'true' });
    expect(all.VersionIds.VersionId.map((v: any) => v.VersionId)).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(all.VersionIds.VersionId[0].VersionStages).toEqual({ VersionStage: [] });
    const paged = await ok('ListSecretVersionIds', { SecretName: 's', IncludeDeprecated: 'true', PageSize: '3', PageNumber: '2' });
    expect(paged).toMatchObject({ PageNumber: 2, PageSize: 3, TotalCount: 4 });
    expect(paged.VersionIds.VersionId.map((v: any) => v.VersionId)).toEqual(['v4']);
  });
});

describe('DescribeSecret, UpdateSecret, ListSecrets', () => {
  it('describes (FetchTags), updates the description, lists with paging, filters and tags', async () => {
    await ok('CreateSecret', { SecretName: 'app/a', VersionId: 'v1', SecretData: 'x', Description: 'first', Tags: '[{"TagKey":"team","TagValue":"blue"}]' });
    now += 1000;
    await ok('CreateSecret', { SecretName: 'app/b', VersionId: 'v1', SecretData: 'y' });
    await ok('CreateSecret', { SecretName: 'other', VersionId: 'v1', SecretData: 'z' });
    const described = await ok('DescribeSecret', { SecretName: 'app/a', FetchTags: 'true' });
    expect(described).toMatchObject({
      Arn: secretArn('app/a'),
      SecretName: 'app/a',
      SecretType: 'Generic',
      Description: 'first',
      CreateTime: at(),
      UpdateTime: at(),
      Tags: { Tag: [{ TagKey: 'team', TagValue: 'blue' }] },
    });
    expect(described.PlannedDeleteTime).toBeUndefined();
    expect((await ok('DescribeSecret', { SecretName: 'app/b' })).Tags).toBeUndefined();
    expect((await ok('DescribeSecret', { SecretName: 'app/b', FetchTags: 'true' })).Tags).toEqual({ Tag: [] });

    now += 1000;
    expect(await ok('UpdateSecret', { SecretName: 'app/a', Description: 'second' })).toEqual({ RequestId: expect.any(String), SecretName: 'app/a' });
    expect(await ok('DescribeSecret', { SecretName: 'app/a' })).toMatchObject({ Description: 'second', UpdateTime: at(2000) });

    const all = await ok('ListSecrets');
    expect(all).toMatchObject({ PageNumber: 1, PageSize: 10, TotalCount: 3 });
    expect(all.SecretList.Secret.map((s: any) => s.SecretName)).toEqual(['app/a', 'app/b', 'other']);
    expect(all.SecretList.Secret[0]).toEqual({
      SecretName: 'app/a',
      SecretType: 'Generic',
      CreateTime: expect.stringMatching(TIME),
      UpdateTime: expect.stringMatching(TIME),
    });
    const page2 = await ok('ListSecrets', { PageSize: '2', PageNumber: '2', FetchTags: 'true' });
    expect(page2.SecretList.Secret).toEqual([expect.objectContaining({ SecretName: 'other', Tags: { Tag: [] } })]);
    const filtered = await ok('ListSecrets', { Filters: '[{"Key":"SecretName","Values":["app/"]},{"Key":"TagKey","Values":["team"]}]' });
    expect(filtered.SecretList.Secret.map((s: any) => s.SecretName)).toEqual(['app/a']);
    expectError(await call('ListSecrets', { Filters: '[{"Key":"Creator","Values":["x"]}]' }), 400, 'InvalidParameter', 'Filters');
    expect((await ok('ListSecrets', { PageNumber: '9' })).SecretList.Secret).toEqual([]);
  });

  it('answers parse as XML (Format=XML), arrays included', async () => {
    await ok('CreateSecret', { SecretName: 'x', VersionId: 'v1', SecretData: 'x' });
    const get = await call('GetSecretValue', { SecretName: 'x', Format: 'XML' });
    expect(get.status, get.raw).toBe(200);
    const parsed = parseXml(get.raw);
    expect(JSON.stringify(parsed)).toContain('ACSCurrent');
    const list = await call('ListSecrets', { Format: 'XML' });
    expect(list.status, list.raw).toBe(200);
    expect(JSON.stringify(parseXml(list.raw))).toContain('"x"');
  });
});

describe('DeleteSecret and RestoreSecret', () => {
  beforeEach(async () => {
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' });
  });

  it('a window (default 30 days): reads refused 409 Rejected.ResourceInDeleteWindow, described and listed with PlannedDeleteTime, restorable', async () => {
    expect(await ok('DeleteSecret', { SecretName: 's' })).toEqual({ RequestId: expect.any(String), SecretName: 's', PlannedDeleteTime: at(30 * DAY) });
    expectError(await call('GetSecretValue', { SecretName: 's' }), 409, 'Rejected.ResourceInDeleteWindow');
    expectError(await call('PutSecretValue', { SecretName: 's', VersionId: 'v2', SecretData: 'x' }), 409, 'Rejected.ResourceInDeleteWindow');
    expectError(await call('UpdateSecret', { SecretName: 's', Description: 'x' }), 409, 'Rejected.ResourceInDeleteWindow');
    expectError(await call('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'one' }), 409, 'Rejected.ResourceInDeleteWindow');
    expectError(await call('DeleteSecret', { SecretName: 's' }), 409, 'Rejected.ResourceInDeleteWindow');
    expect((await ok('DescribeSecret', { SecretName: 's' })).PlannedDeleteTime).toBe(at(30 * DAY));
    expect((await ok('ListSecrets')).SecretList.Secret[0].PlannedDeleteTime).toBe(at(30 * DAY));
    expect((await ok('ListSecretVersionIds', { SecretName: 's' })).TotalCount).toBe(1);
    expect(await ok('RestoreSecret', { SecretName: 's' })).toEqual({ RequestId: expect.any(String), SecretName: 's' });
    expect((await ok('GetSecretValue', { SecretName: 's' })).SecretData).toBe('one');
    expectError(await call('RestoreSecret', { SecretName: 's' }), 409, 'Rejected.ResourceInUse');
  });

  it('RecoveryWindowInDays 7–30; not with ForceDeleteWithoutRecovery', async () => {
    expectError(await call('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '6' }), 400, 'InvalidParameter', 'RecoveryWindowInDays');
    expectError(await call('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '31' }), 400, 'InvalidParameter', 'RecoveryWindowInDays');
    expectError(await call('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '7', ForceDeleteWithoutRecovery: 'true' }), 400, 'InvalidParameter');
    expect((await ok('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '7' })).PlannedDeleteTime).toBe(at(7 * DAY));
  });

  it('forced: gone at once, not restorable, the name free again', async () => {
    await ok('DeleteSecret', { SecretName: 's', ForceDeleteWithoutRecovery: 'true' });
    expectError(await call('DescribeSecret', { SecretName: 's' }), 404, 'Forbidden.ResourceNotFound');
    expectError(await call('RestoreSecret', { SecretName: 's' }), 404, 'Forbidden.ResourceNotFound');
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'again' });
    expect((await ok('GetSecretValue', { SecretName: 's' })).SecretData).toBe('again');
  });

  it('the scheduled deletion job destroys a secret once its window has passed', async () => {
    await ok('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '7' });
    now = base + 6 * DAY;
    expect(await t.service.secrets.destroyExpired()).toEqual([]);
    now = base + 8 * DAY;
    expect(await t.service.secrets.destroyExpired()).toEqual(['s']);
    now = base;
    expectError(await call('DescribeSecret', { SecretName: 's' }), 404, 'Forbidden.ResourceNotFound');
  });

  it('the hourly deletion job (destroyDueKeys, the gateway timer and the deleteExpiredKeys function) destroys due secrets, one audit line each, and leaves the rest', async () => {
    await ok('CreateSecret', { SecretName: 'kept', VersionId: 'v1', SecretData: 'k' });
    await ok('DeleteSecret', { SecretName: 's', RecoveryWindowInDays: '7' });
    await ok('DeleteSecret', { SecretName: 'kept', RecoveryWindowInDays: '30' });
    now = base + 8 * DAY;
    expect(await destroyDueKeys(t.service)).toEqual([]);
    now = base;
    expectError(await call('DescribeSecret', { SecretName: 's' }), 404, 'Forbidden.ResourceNotFound');
    expect((await ok('DescribeSecret', { SecretName: 'kept' })).PlannedDeleteTime).toBe(at(30 * DAY));
    const jobs = (await ok('ListAuditEvents')).AuditEvents.AuditEvent.filter((e: any) => e.Type === 'job');
    expect(jobs).toEqual([expect.objectContaining({ Action: 'DestroySecret', KeyArn: secretArn('s'), Result: 'OK' })]);
    expect(await t.service.secrets.list()).toEqual([expect.objectContaining({ name: 'kept' })]);
  });
});

describe('tags on secrets (TagResource, UntagResource, ListResourceTags with SecretName)', () => {
  it('tags, lists and untags a secret; authorised as the tag Action on the secret ARN, before revealing whether it exists', async () => {
    await ok('CreateSecret', { SecretName: 's', VersionId: 'v1', SecretData: 'x', Tags: '[{"TagKey":"env","TagValue":"prod"}]' });
    expect(await ok('TagResource', { SecretName: 's', Tags: '[{"TagKey":"team","TagValue":"blue"},{"TagKey":"env","TagValue":"dev"}]' })).toEqual({
      RequestId: expect.any(String),
    });
    expect((await ok('ListResourceTags', { SecretName: 's' })).Tags).toEqual({
      Tag: [
        { TagKey: 'env', TagValue: 'dev' },
        { TagKey: 'team', TagValue: 'blue' },
      ],
    });
    await ok('UntagResource', { SecretName: secretArn('s'), TagKeys: '["env","missing"]' });
    expect((await ok('DescribeSecret', { SecretName: 's', FetchTags: 'true' })).Tags).toEqual({ Tag: [{ TagKey: 'team', TagValue: 'blue' }] });
    expectError(await call('TagResource', { SecretName: 's', Tags: 'nope' }), 400, 'InvalidParameter', 'Tags');
    expectError(await call('TagResource', { SecretName: 'nobody', Tags: '[{"TagKey":"a","TagValue":"b"}]' }), 404, 'Forbidden.ResourceNotFound');
    expectError(await call('ListResourceTags', { KeyId: KEY_ID, SecretName: 's' }), 400, 'InvalidParameter', 'SecretName');

    const other = await accessKey('testSecretsTags', [{ Effect: 'Allow', Action: 'kms:*', Resource: secretArn('theirs') }]);
    for (const [action, extra] of [
      ['TagResource', { Tags: '[{"TagKey":"a","TagValue":"b"}]' }],
      ['UntagResource', { TagKeys: '["team"]' }],
      ['ListResourceTags', {}],
    ] as const) {
      const existing = await call(action, { SecretName: 's', ...extra }, other);
      const missing = await call(action, { SecretName: 'nobody', ...extra }, other);
      expectError(existing, 403, 'Forbidden.NoPermission', secretArn('s'));
      expectError(missing, 403, 'Forbidden.NoPermission', secretArn('nobody'));
    }
    // Pending deletion: tags are listed, not changed.
    await ok('DeleteSecret', { SecretName: 's' });
    expect((await ok('ListResourceTags', { SecretName: 's' })).Tags.Tag).toHaveLength(1);
    expectError(await call('TagResource', { SecretName: 's', Tags: '[{"TagKey":"a","TagValue":"b"}]' }), 409, 'Rejected.ResourceInDeleteWindow');
  });
});

describe('authorisation', () => {
  it('a denied caller gets 403 Forbidden.NoPermission whether or not the secret exists, naming the secret ARN', async () => {
    await ok('CreateSecret', { SecretName: 'mine', VersionId: 'v1', SecretData: 'x' });
    const other = await accessKey('testSecretsOther', [{ Effect: 'Allow', Action: 'kms:*', Resource: secretArn('theirs') }]);
    for (const action of ['GetSecretValue', 'DescribeSecret', 'ListSecretVersionIds', 'UpdateSecret', 'DeleteSecret', 'RestoreSecret']) {
      const existing = await call(action, { SecretName: 'mine' }, other);
      const missing = await call(action, { SecretName: 'nobody' }, other);
      expectError(existing, 403, 'Forbidden.NoPermission', `kms:${action}`);
      expectError(missing, 403, 'Forbidden.NoPermission', `kms:${action}`);
      expect(missing.body.Message.replace('nobody', 'X')).toBe(existing.body.Message.replace('mine', 'X'));
    }
    expectError(await call('PutSecretValue', { SecretName: 'mine', VersionId: 'v2', SecretData: 'y' }, other), 403, 'Forbidden.NoPermission');
    expectError(
      await call('CreateSecret', { SecretName: 'notallowed', VersionId: 'v1', SecretData: 'y' }, other),
      403,
      'Forbidden.NoPermission',
      secretArn('notallowed'),
    );
    // Allowed on its own name: creates it, and sees 404 for its name when absent.
    expectError(await call('DescribeSecret', { SecretName: 'theirs' }, other), 404, 'Forbidden.ResourceNotFound');
    await ok('CreateSecret', { SecretName: 'theirs', VersionId: 'v1', SecretData: 'y' }, other);
  });

  it('ListSecrets lists only what the caller may kms:DescribeSecret', async () => {
    for (const name of ['a', 'b', 'c']) await ok('CreateSecret', { SecretName: name, VersionId: 'v1', SecretData: name });
    const some = await accessKey('testSecretsList', [
      { Effect: 'Allow', Action: 'kms:ListSecrets', Resource: '*' },
      { Effect: 'Allow', Action: 'kms:DescribeSecret', Resource: [secretArn('a'), secretArn('c')] },
    ]);
    const listed = await ok('ListSecrets', {}, some);
    expect(listed.SecretList.Secret.map((s: any) => s.SecretName)).toEqual(['a', 'c']);
    expect(listed.TotalCount).toBe(2);
    const none = await accessKey('testSecretsNone', [{ Effect: 'Allow', Action: 'kms:DescribeSecret', Resource: '*' }]);
    expectError(await call('ListSecrets', {}, none), 403, 'Forbidden.NoPermission', 'kms:ListSecrets');
  });

  it('with a user key: kms:GenerateDataKey on it to create and put, kms:Decrypt to read', async () => {
    const writer = await accessKey('testSecretsWriter', [
      { Effect: 'Allow', Action: ['kms:CreateSecret', 'kms:PutSecretValue', 'kms:GetSecretValue'], Resource: secretArn('*') },
    ]);
    expectError(
      await call('CreateSecret', { SecretName: 'k', VersionId: 'v1', SecretData: 'x', EncryptionKeyId: KEY_ID }, writer),
      403,
      'Forbidden.NoPermission',
      'kms:GenerateDataKey',
    );
    // With the default key, no kms:* grant on a key is needed.
    await ok('CreateSecret', { SecretName: 'd', VersionId: 'v1', SecretData: 'x' }, writer);
    await ok('PutSecretValue', { SecretName: 'd', VersionId: 'v2', SecretData: 'y' }, writer);
    expect((await ok('GetSecretValue', { SecretName: 'd' }, writer)).SecretData).toBe('y');

    const keyed = await accessKey('testSecretsKeyed', [
      { Effect: 'Allow', Action: ['kms:CreateSecret', 'kms:PutSecretValue', 'kms:GetSecretValue'], Resource: secretArn('*') },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArnOf(KEY_ID) },
    ]);
    await ok('CreateSecret', { SecretName: 'k', VersionId: 'v1', SecretData: 'x', EncryptionKeyId: KEY_ID }, keyed);
    await ok('PutSecretValue', { SecretName: 'k', VersionId: 'v2', SecretData: 'y' }, keyed);
    expectError(await call('GetSecretValue', { SecretName: 'k' }, keyed), 403, 'Forbidden.NoPermission', 'kms:Decrypt');
    expectError(
      await call('PutSecretValue', { SecretName: 'k', VersionId: 'v3', SecretData: 'z' }, writer),
      403,
      'Forbidden.NoPermission',
      'kms:GenerateDataKey',
    );
  });
});

describe('audit and logs', () => {
  it('audit records name the secret by its ARN; no value reaches an audit record or a log line', async () => {
    const VALUE = 'recognisable-secret-value-7f3a';
    await ok('CreateSecret', { SecretName: 'audited', VersionId: 'v1', SecretData: VALUE });
    await ok('PutSecretValue', { SecretName: 'audited', VersionId: 'v2', SecretData: `${VALUE}-2` });
    await ok('GetSecretValue', { SecretName: 'audited' });
    await call('PutSecretValue', { SecretName: 'audited', VersionId: 'v2', SecretData: `${VALUE}-other` });
    await call('CreateSecret', { SecretName: 'bad name', VersionId: 'v1', SecretData: VALUE });
    const events = (await ok('ListAuditEvents')).AuditEvents.AuditEvent as Array<Record<string, unknown>>;
    const secretEvents = events.filter((e) => String(e.Action).includes('Secret') && e.Result !== 'InvalidParameter');
    expect(secretEvents.map((e) => e.Action).sort()).toEqual(['CreateSecret', 'GetSecretValue', 'PutSecretValue', 'PutSecretValue']);
    for (const e of secretEvents) expect(e.KeyArn).toBe(secretArn('audited'));
    expect(secretEvents.filter((e) => e.Result === 'OK').map((e) => e.KeyVersionId)).toEqual(['v2', 'v2', 'v1']);
    expect(JSON.stringify(events)).not.toContain(VALUE);
    expect(logLines.join('\n')).not.toContain(VALUE);
  });
});
