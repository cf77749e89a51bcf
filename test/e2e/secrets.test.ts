import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_CLIENT_KINDS, createActionClient, createKmsSdkClient, KmsSdk, sdkError, serverCodeOf } from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';

/*
 * The Alibaba secrets Actions through the official clients against the real gateway process: the
 * typed methods of @alicloud/kms20160120 1.2.0 (which cast VersionStages, SecretList, VersionIds
 * and Tags to arrays: they must be arrays), and the generic calls of pop-core and openapi-client.
 */

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const secretArn = (name: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:secret/${name}`;

let dir: string;
let gateway: ReadyGateway;

beforeAll(async () => {
  dir = await makeTempDir();
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
});

afterAll(async () => {
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  await removeDir(dir);
});

async function expectRefused(call: () => Promise<unknown>, code: string): Promise<void> {
  const err = await sdkError(call);
  expect(serverCodeOf(err), JSON.stringify(err.data ?? err.message)).toBe(code);
}

describe('official client kms20160120 1.2.0 (typed methods): the secrets Actions', () => {
  it('create, get, put, move a stage, update, describe, list, list versions, delete, restore, force delete', async () => {
    const sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
    const created = await sdk.createSecret(
      new KmsSdk.CreateSecretRequest({
        secretName: 'typed/db',
        versionId: 'v1',
        secretData: 'pässwörd 🔑',
        description: 'typed',
        tags: '[{"TagKey":"env","TagValue":"prod"}]',
      }),
    );
    expect(created).toMatchObject({ arn: secretArn('typed/db'), versionId: 'v1', secretName: 'typed/db' });
    expect(created.requestId).toMatch(/^[0-9A-F-]{36}$/);

    const got = await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'typed/db' }));
    expect(got).toMatchObject({ secretName: 'typed/db', versionId: 'v1', secretData: 'pässwörd 🔑', secretDataType: 'text' });
    expect(got.versionStages.versionStage).toEqual(['ACSCurrent']);
    expect(got.createTime).toMatch(ISO_SECONDS);

    const binary = Buffer.from([1, 2, 3, 255]).toString('base64');
    const put = await sdk.putSecretValue(
      new KmsSdk.PutSecretValueRequest({
        secretName: 'typed/db',
        versionId: 'v2',
        secretData: binary,
        secretDataType: 'binary',
        versionStages: '["ACSPending"]',
      }),
    );
    expect(put).toMatchObject({ secretName: 'typed/db', versionId: 'v2' });
    expect(put.versionStages.versionStage).toEqual(['ACSPending']);
    const pending = await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'typed/db', versionStage: 'ACSPending' }));
    expect(pending).toMatchObject({ secretData: binary, secretDataType: 'binary', versionId: 'v2' });

    await sdk.updateSecretVersionStage(
      new KmsSdk.UpdateSecretVersionStageRequest({ secretName: 'typed/db', versionStage: 'ACSCurrent', removeFromVersion: 'v1', moveToVersion: 'v2' }),
    );
    expect((await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'typed/db' }))).versionId).toBe('v2');

    expect((await sdk.updateSecret(new KmsSdk.UpdateSecretRequest({ secretName: 'typed/db', description: 'updated' }))).secretName).toBe('typed/db');
    const described = await sdk.describeSecret(new KmsSdk.DescribeSecretRequest({ secretName: 'typed/db', fetchTags: 'true' }));
    expect(described).toMatchObject({ arn: secretArn('typed/db'), secretName: 'typed/db', description: 'updated' });
    expect(described.tags.tag).toEqual([expect.objectContaining({ tagKey: 'env', tagValue: 'prod' })]);
    expect(described.createTime).toMatch(ISO_SECONDS);

    const listed = await sdk.listSecrets(new KmsSdk.ListSecretsRequest({ fetchTags: 'true', pageSize: 100 }));
    expect(listed.secretList.secret.map((s) => s.secretName)).toContain('typed/db');
    expect(listed.totalCount).toBeGreaterThanOrEqual(1);

    const versions = await sdk.listSecretVersionIds(new KmsSdk.ListSecretVersionIdsRequest({ secretName: 'typed/db' }));
    expect(versions.pageSize).toBe(20);
    expect(versions.versionIds.versionId.map((v) => [v.versionId, [...v.versionStages.versionStage].sort()])).toEqual([
      ['v1', ['ACSPrevious']],
      ['v2', ['ACSCurrent', 'ACSPending']],
    ]);

    const deleted = await sdk.deleteSecret(new KmsSdk.DeleteSecretRequest({ secretName: 'typed/db', recoveryWindowInDays: '7' }));
    expect(deleted.plannedDeleteTime).toMatch(ISO_SECONDS);
    await expectRefused(() => sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'typed/db' })), 'Rejected.ResourceInDeleteWindow');
    await sdk.restoreSecret(new KmsSdk.RestoreSecretRequest({ secretName: 'typed/db' }));
    expect((await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'typed/db' }))).secretData).toBe(binary);
    await expectRefused(() => sdk.restoreSecret(new KmsSdk.RestoreSecretRequest({ secretName: 'typed/db' })), 'Rejected.ResourceInUse');

    await sdk.deleteSecret(new KmsSdk.DeleteSecretRequest({ secretName: 'typed/db', forceDeleteWithoutRecovery: 'true' }));
    await expectRefused(() => sdk.describeSecret(new KmsSdk.DescribeSecretRequest({ secretName: 'typed/db' })), 'Forbidden.ResourceNotFound');
  });

  it('with a user key (EncryptionKeyId), and its errors: a name in use, a version id reused with other data', async () => {
    const sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
    await sdk.createSecret(new KmsSdk.CreateSecretRequest({ secretName: 'typed/keyed', versionId: 'v1', secretData: 'x', encryptionKeyId: ALIAS }));
    expect((await sdk.describeSecret(new KmsSdk.DescribeSecretRequest({ secretName: 'typed/keyed' }))).encryptionKeyId).toBe(KEY_ID);
    await expectRefused(
      () => sdk.createSecret(new KmsSdk.CreateSecretRequest({ secretName: 'typed/keyed', versionId: 'v1', secretData: 'other' })),
      'Rejected.ResourceExist',
    );
    await sdk.putSecretValue(new KmsSdk.PutSecretValueRequest({ secretName: 'typed/keyed', versionId: 'v2', secretData: 'y' }));
    await sdk.putSecretValue(new KmsSdk.PutSecretValueRequest({ secretName: 'typed/keyed', versionId: 'v2', secretData: 'y' }));
    await expectRefused(
      () => sdk.putSecretValue(new KmsSdk.PutSecretValueRequest({ secretName: 'typed/keyed', versionId: 'v2', secretData: 'z' })),
      'Rejected.ResourceExist',
    );
  });
});

describe.each(ACTION_CLIENT_KINDS)('official client %s (generic call): the secrets Actions', (kind) => {
  it('create, get, put, list, describe, delete', async () => {
    const c = createActionClient(kind, { port: gateway.port }, ADMIN);
    const name = `generic/${kind}`;
    const value = "héllo wörld — 日本語 🔑 !'()*~+/= a&b=c%20?#[] end";
    expect(await c.call('CreateSecret', { SecretName: name, VersionId: 'v1', SecretData: value })).toMatchObject({ SecretName: name, VersionId: 'v1' });
    expect(await c.call('GetSecretValue', { SecretName: name })).toMatchObject({ SecretData: value, VersionStages: { VersionStage: ['ACSCurrent'] } });
    await c.call('PutSecretValue', { SecretName: name, VersionId: 'v2', SecretData: `${value}2`, VersionStages: '{"VersionStage":["ACSCurrent"]}' });
    expect(await c.call('GetSecretValue', { SecretName: name, VersionStage: 'ACSPrevious' })).toMatchObject({ SecretData: value, VersionId: 'v1' });
    const listed = await c.call('ListSecrets', { Filters: JSON.stringify([{ Key: 'SecretName', Values: [name] }]) });
    expect(listed.SecretList.Secret.map((s: { SecretName: string }) => s.SecretName)).toEqual([name]);
    expect((await c.call('DescribeSecret', { SecretName: name })).Arn).toBe(secretArn(name));
    await c.call('DeleteSecret', { SecretName: name, ForceDeleteWithoutRecovery: 'true' });
    await expectRefused(() => c.call('GetSecretValue', { SecretName: name }), 'Forbidden.ResourceNotFound');
    c.close?.();
  });
});
