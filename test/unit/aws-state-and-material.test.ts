import { CreateSecretCommand, DeleteSecretCommand, ListSecretsCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { openKeyStoreFromEnvironment, serviceFromEnvironment } from '../../lib/service-from-env.js';
import { copyStore } from '../../lib/keystore/copy-store.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

/*
 * The AWS deployment's store as serverless.yml configures it: consistent state in one DynamoDB table
 * (dynalite, through the real SDK), key-version material in Secrets Manager (a stateful fake behind
 * aws-sdk-client-mock), one secret per version, encrypted under the stage's CMK and closed to
 * every principal but the stage's roles.
 */

const sm = mockClient(SecretsManagerClient);
let dynalite: Dynalite;
let fakeSm: FakeSecretsManager;
const TABLE = 'kms-test-state';
const ROLE_PATTERN = 'arn:aws:iam::*:role/kms-test-*';

beforeAll(async () => {
  dynalite = await startDynalite();
  await createStateTable(dynalite.client(), TABLE, { timeToLive: false });
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
  fakeSm = new FakeSecretsManager({ interleave: false }).install(sm);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  sm.restore();
  await dynalite.stop();
});

const env = {
  KMS_KEY_STORE: 'dynamodb',
  KMS_STATE_TABLE: TABLE,
  AWS_REGION: 'us-east-1',
  KMS_SECRETS_PREFIX: 'kms/test/',
  KMS_SECRETS_KMS_KEY_ID: 'alias/kms-test-secrets',
  KMS_SECRETS_ROLE_PATTERN: ROLE_PATTERN,
  KMS_LOG_LEVEL: 'silent',
};

describe('KMS_KEY_STORE=dynamodb with material in Secrets Manager', () => {
  it('when a key is created, its version material is one secret, under the CMK, with the stage-only resource policy; everything else is in the table', async () => {
    const service = await serviceFromEnvironment(env);
    const key = await service.keyring.createKey({});
    const [version] = await service.keyring.listVersions(key.keyId);
    const secretName = `kms/test/key-versions/${key.keyId}/${version!.keyVersionId}`;
    expect(fakeSm.names()).toEqual([secretName]);
    expect(fakeSm.kmsKeyOf(secretName)).toBe('alias/kms-test-secrets');
    const policy = JSON.parse(fakeSm.resourcePolicy(secretName)!);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Condition: { ArnNotLike: { 'aws:PrincipalArn': ROLE_PATTERN } } }),
    ]);
    expect(policy.Statement[0].Action).toContain('secretsmanager:GetSecretValue');
    expect(sm.commandCalls(PutResourcePolicyCommand)[0]!.args[0].input).toMatchObject({ BlockPublicPolicy: true });
  });

  it('when another instance uses the key, it finds its versions by a consistent query of the table; Secrets Manager is never listed', async () => {
    const a = await serviceFromEnvironment(env);
    const b = await serviceFromEnvironment(env);
    const key = await a.keyring.createKey({});
    const rotated = await a.keyring.createVersion(key.keyId, (r) => r);
    sm.resetHistory();
    expect((await b.keyring.listVersions(key.keyId)).map((v) => v.keyVersionId)).toContain(rotated.keyVersionId);
    expect(sm.commandCalls(ListSecretsCommand)).toHaveLength(0);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('when a key past its deletion window is destroyed, its secrets are force-deleted and its versions leave the index', async () => {
    const now = Date.now();
    const service = await serviceFromEnvironment(env);
    const key = await service.keyring.createKey({});
    await service.keyring.updateKey(key.keyId, (r) => ({
      ...r,
      state: 'PendingDeletion',
      deleteDate: new Date(now - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }));
    sm.resetHistory();
    expect(await destroyDueKeys(service)).toContain(key.keyId);
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ ForceDeleteWithoutRecovery: true })]);
    expect(fakeSm.names().filter((n) => n.includes(key.keyId))).toEqual([]);
    expect(await service.keyring.getKey(key.keyId)).toBeUndefined();
  });

  it('when a stage kept everything in Secrets Manager before, `store copy` moves its state into the table and leaves its material where it is', async () => {
    const legacyEnv = {
      KMS_KEY_STORE: 'secrets-manager',
      AWS_REGION: 'us-east-1',
      KMS_SECRETS_PREFIX: 'kms/legacy/',
      KMS_NONCE_STORE: 'memory',
      KMS_LOG_LEVEL: 'silent',
    };
    const legacy = await serviceFromEnvironment(legacyEnv);
    const key = await legacy.keyring.createKey({});
    const [version] = await legacy.keyring.listVersions(key.keyId);
    const secretsBefore = fakeSm.names().filter((n) => n.startsWith('kms/legacy/'));
    const source = await openKeyStoreFromEnvironment(legacyEnv);
    const target = await openKeyStoreFromEnvironment({ ...env, KMS_SECRETS_PREFIX: 'kms/legacy/' });
    const report = await copyStore(source.store, target.store);
    expect(report.conflicts).toEqual([]);
    // The material secret was already in place: present, not copied.
    expect(report.present).toBe(1);
    await target.close();
    const migrated = await serviceFromEnvironment({ ...env, KMS_SECRETS_PREFIX: 'kms/legacy/' });
    expect((await migrated.keyring.getKey(key.keyId))?.primaryKeyVersion).toBe(version!.keyVersionId);
    expect((await migrated.keyring.listVersions(key.keyId)).map((v) => v.keyVersionId)).toEqual([version!.keyVersionId]);
    expect(fakeSm.names().filter((n) => n.startsWith('kms/legacy/'))).toEqual(secretsBefore);
  });
});
