import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, ADMIN, createTestService, type TestService } from '../helpers/service.js';
import { AWS_REGION, inProcessSecretsManagerClient } from '../helpers/aws.js';
import { signedRpcRequest } from '../helpers/sign.js';

let t: TestService;
let sm: SecretsManagerClient;
beforeEach(async () => {
  t = await createTestService();
  sm = inProcessSecretsManagerClient(t, ADMIN);
});

describe('smoke', () => {
  it('reads a secret made through Alibaba', async () => {
    const r = await t.call(signedRpcRequest(ADMIN, 'CreateSecret', { SecretName: 'db/password', VersionId: 'v1', SecretData: 'hunter2' }));
    expect(r.status, r.raw).toBe(200);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'db/password' }));
    expect(got.SecretString).toBe('hunter2');
    expect(got.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:${AWS_REGION}:${ACCOUNT_ID}:secret:db/password-[A-Za-z0-9]{6}$`));
    expect(got.VersionStages).toEqual(['AWSCURRENT']);
  });

  it('every operation', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'app/key', SecretString: 's1', Description: 'd', Tags: [{ Key: 'team', Value: 'a' }] }));
    expect(created.ARN).toMatch(/secret:app\/key-[A-Za-z0-9]{6}$/);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN!, SecretBinary: Buffer.from([1, 2, 3]) }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    expect(Buffer.from(got.SecretBinary!)).toEqual(Buffer.from([1, 2, 3]));
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'app/key', VersionStage: 'AWSPREVIOUS' }));
    expect(prev.SecretString).toBe('s1');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'app/key' }));
    expect(described.Tags).toEqual([{ Key: 'team', Value: 'a' }]);
    expect(Object.keys(described.VersionIdsToStages!)).toHaveLength(2);
    const listed = await sm.send(new ListSecretsCommand({}));
    expect(listed.SecretList!.map((s) => s.Name)).toEqual(['app/key']);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'app/key' }));
    expect(versions.Versions).toHaveLength(2);
    await sm.send(new TagResourceCommand({ SecretId: 'app/key', Tags: [{ Key: 'x', Value: 'y' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: 'app/key', TagKeys: ['team'] }));
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'app/key', SecretString: 's3', Description: 'd2' }));
    expect(updated.VersionId).toBeDefined();
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'app/key',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.VersionId!,
        RemoveFromVersionId: updated.VersionId!,
      }),
    );
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }))).VersionId).toBe(put.VersionId);
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/key', 'nope'] }));
    expect(batch.SecretValues).toHaveLength(1);
    expect(batch.Errors).toEqual([expect.objectContaining({ SecretId: 'nope', ErrorCode: 'ResourceNotFoundException' })]);
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'app/key', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await sm.send(new RestoreSecretCommand({ SecretId: 'app/key' }));
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
