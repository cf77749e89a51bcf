import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAccessKeys } from '../../infra/cli/access-keys.js';
import { closeOpenedStores, openStoreForCommand } from '../../infra/cli/store-access.js';
import { AccessKeyRegistry } from '../../lib/access-keys.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { applySeed } from '../../lib/seed.js';
import { createService } from '../../lib/service.js';
import { FakeKmsSecrets } from '../helpers/fake-alibaba-kms-secrets.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * `kms access-keys create-provisioner`: registers the provisioner's access key in the store (the
 * operator's, here a file store) with the provisioner's policy, and writes it into the stage's
 * secret with PutSecretValue (Secrets Manager is a mock). The key it writes is then served.
 */

const SECRET = 'kms/dev/provisioner';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:kms/dev/provisioner-AbCdEf';
const sm = mockClient(SecretsManagerClient);
const saved = { ...process.env };
let dir: string;
const ALIBABA_SECRET = 'kms-prod-provisioner';
let alibaba: FakeKmsSecrets;

async function kms(...args: string[]): Promise<Record<string, any>> {
  const program = new Command().exitOverride();
  registerAccessKeys(program);
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'kms', 'access-keys', '--data-dir', dir, ...args]);
  } finally {
    write.mockRestore();
    await closeOpenedStores();
  }
  return JSON.parse(out) as Record<string, any>;
}

/** The last value written to the secret. */
const written = () =>
  JSON.parse(sm.commandCalls(PutSecretValueCommand).at(-1)!.args[0].input.SecretString!) as { accessKeyId: string; accessKeySecret: string };
/** The store as the command (and the gateway) open it: sealed under its root key. */
const registry = async () => new AccessKeyRegistry(await openStoreForCommand(dir), { cacheTtlMs: 0 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-cli-provisioner-'));
  alibaba = await new FakeKmsSecrets().start();
  await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
  Object.assign(process.env, { AWS_REGION: 'eu-central-1', KMS_OUTPUT: 'json' });
  delete process.env.KMS_KEY_STORE;
});

afterAll(async () => {
  process.env = saved;
  sm.restore();
  await alibaba.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  vi.unstubAllEnvs();
  alibaba.refuse.clear();
  alibaba.secrets.set(ALIBABA_SECRET, '{}');
  sm.reset();
  sm.on(PutSecretValueCommand).resolves({ ARN: SECRET_ARN, Name: SECRET, VersionId: 'v1' });
});

describe('Command: kms access-keys create-provisioner', () => {
  it('when given the partition key by alias, it registers a key allowed only GenerateDataKeyWithoutPlaintext on that key, writes it into the secret, and never prints its secret', async () => {
    const out = await kms('create-provisioner', '--secret', SECRET, '--key', ALIAS);
    const policy = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext'], Resource: [`acs:kms:*:*:key/${KEY_ID}`] }] };
    expect(out).toEqual({ AccessKeyId: expect.stringMatching(/^LTAI/), Secret: SECRET_ARN, KeyId: KEY_ID, Policy: policy });
    expect(JSON.stringify(out)).not.toMatch(/accessKeySecret|AccessKeySecret/);
    expect(sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([SECRET]);
    const { accessKeyId, accessKeySecret } = written();
    expect(accessKeyId).toBe(out.AccessKeyId);
    const stored = await (await registry()).get(accessKeyId);
    expect(stored).toMatchObject({ accessKeySecret, status: 'Enabled', policy });
    expect(JSON.stringify(out)).not.toContain(accessKeySecret);
  });

  it('when the written key is used, it may generate data keys without plaintext under the partition key and nothing else', async () => {
    await kms('create-provisioner', '--secret', SECRET, '--key', KEY_ID, '--id', 'provisionerKey01');
    const key = { accessKeyId: written().accessKeyId, accessKeySecret: written().accessKeySecret };
    expect(key.accessKeyId).toBe('provisionerKey01');
    const service = createService({ store: await openStoreForCommand(dir), region: REGION, accountId: ACCOUNT_ID });
    const { createDispatcher } = await import('../../lib/middleware/dispatch.js');
    const { OPERATIONS } = await import('../../functions/actions.js');
    const dispatch = createDispatcher(service, OPERATIONS);
    const call = async (action: string, params: Record<string, string>) => {
      const response = await dispatch(signedRpcRequest(key, action, params));
      return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
    };
    expect((await call('GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS })).status).toBe(200);
    // Anything else is refused as if the key did not exist (a refused caller learns nothing of keys).
    for (const [action, keyId] of [
      ['GenerateDataKey', ALIAS],
      ['Encrypt', ALIAS],
      ['GenerateDataKeyWithoutPlaintext', 'alias/other'],
    ]) {
      const refused = await call(action!, { KeyId: keyId!, Plaintext: 'aGk=' });
      expect(refused.status, action).toBeGreaterThanOrEqual(403);
      expect(refused.body.Code, action).toMatch(/^Forbidden\./);
    }
  });

  it('when the secret cannot be written, it exits 3 naming the secret, and the access key it created is deleted again', async () => {
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized to perform secretsmanager:PutSecretValue'), { name: 'AccessDeniedException' }),
    );
    await expect(kms('create-provisioner', '--secret', SECRET, '--key', KEY_ID, '--id', 'provisionerKey02')).rejects.toMatchObject({
      exitCode: 3,
      code: 'SecretNotWritten',
      message: expect.stringContaining(`the secret ${SECRET} could not be written (AccessDeniedException`),
    });
    expect(await (await registry()).get('provisionerKey02')).toBeUndefined();
  });

  it.each([
    ['aws-secrets-manager:kms/dev/provisioner', SECRET],
    [`aws-secrets-manager:${SECRET_ARN}`, SECRET_ARN],
    [SECRET_ARN, SECRET_ARN],
  ])('when --secret is %s, it writes the key into that Secrets Manager secret (%s)', async (secret, secretId) => {
    const out = await kms('create-provisioner', '--secret', secret, '--key', KEY_ID);
    expect(sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([secretId]);
    expect(written().accessKeyId).toBe(out.AccessKeyId);
    expect(alibaba.writes).toEqual([]);
  });

  describe('with --secret alibaba-kms-secret:<name> (Function Compute)', () => {
    const withAlibabaCredentials = () => {
      vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAIoperator0001');
      vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'operator-secret');
      vi.stubEnv('ALIBABA_CLOUD_REGION', 'cn-hangzhou');
      vi.stubEnv('ALIBABA_CLOUD_KMS_ENDPOINT', alibaba.endpoint);
    };

    it('when run, it writes a new version of the Alibaba Cloud KMS secret (PutSecretValue, version id = the access key id) holding the registered key, and prints no secret', async () => {
      withAlibabaCredentials();
      const out = await kms('create-provisioner', '--secret', `alibaba-kms-secret:${ALIBABA_SECRET}`, '--key', ALIAS);
      expect(out).toMatchObject({ AccessKeyId: expect.stringMatching(/^LTAI/), Secret: `alibaba-kms-secret:${ALIBABA_SECRET}`, KeyId: KEY_ID });
      expect(alibaba.writes).toHaveLength(1);
      const write = alibaba.writes[0]!;
      expect(write).toMatchObject({ secretName: ALIBABA_SECRET, versionId: out.AccessKeyId, secretDataType: 'text' });
      const { accessKeyId, accessKeySecret } = JSON.parse(write.secretData) as { accessKeyId: string; accessKeySecret: string };
      expect(accessKeyId).toBe(out.AccessKeyId);
      expect(await (await registry()).get(accessKeyId)).toMatchObject({ accessKeySecret, status: 'Enabled' });
      expect(JSON.stringify(out)).not.toContain(accessKeySecret);
      expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
    });

    it('when run again (a rotation), the secret holds the new key', async () => {
      withAlibabaCredentials();
      await kms('create-provisioner', '--secret', `alibaba-kms-secret:${ALIBABA_SECRET}`, '--key', KEY_ID, '--id', 'rotationOld0001');
      await kms('create-provisioner', '--secret', `alibaba-kms-secret:${ALIBABA_SECRET}`, '--key', KEY_ID, '--id', 'rotationNew0001');
      expect(JSON.parse(alibaba.secrets.get(ALIBABA_SECRET)!)).toMatchObject({ accessKeyId: 'rotationNew0001' });
    });

    it('when KMS refuses the write, it exits 3 naming the secret and KMS’s code, and the access key it created is deleted again', async () => {
      withAlibabaCredentials();
      alibaba.refuse.set('PutSecretValue', { status: 403, code: 'Forbidden.NoPermission', message: 'This operation is forbidden by permission system.' });
      await expect(
        kms('create-provisioner', '--secret', `alibaba-kms-secret:${ALIBABA_SECRET}`, '--key', KEY_ID, '--id', 'alibabaRefused01'),
      ).rejects.toMatchObject({
        exitCode: 3,
        code: 'SecretNotWritten',
        message: expect.stringContaining(`the secret alibaba-kms-secret:${ALIBABA_SECRET} could not be written (Forbidden.NoPermission`),
      });
      expect(await (await registry()).get('alibabaRefused01')).toBeUndefined();
    });

    it('when the secret does not exist, it exits 3 and deletes the access key again', async () => {
      withAlibabaCredentials();
      await expect(
        kms('create-provisioner', '--secret', 'alibaba-kms-secret:no-such-secret', '--key', KEY_ID, '--id', 'alibabaMissing01'),
      ).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringContaining('Forbidden.ResourceNotFound'),
      });
      expect(await (await registry()).get('alibabaMissing01')).toBeUndefined();
    });

    it('when there are no Alibaba Cloud credentials, it exits 2 saying what is missing, and registers nothing', async () => {
      vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', '');
      await expect(
        kms('create-provisioner', '--secret', `alibaba-kms-secret:${ALIBABA_SECRET}`, '--key', KEY_ID, '--id', 'alibabaNoCreds01'),
      ).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('ALIBABA_CLOUD_ACCESS_KEY_ID') });
      expect(await (await registry()).get('alibabaNoCreds01')).toBeUndefined();
      expect(alibaba.writes.filter((w) => w.versionId === 'alibabaNoCreds01')).toEqual([]);
    });
  });

  it.each(['alibaba-kms:kms-prod-provisioner', 'alibaba-kms-secret:', 'vault:kms'])(
    'when --secret is %j (no known store, or no name), it exits 2 and registers nothing',
    async (secret) => {
      await expect(kms('create-provisioner', '--secret', secret, '--key', KEY_ID, '--id', 'badSecretForm01')).rejects.toMatchObject({ exitCode: 2 });
      expect(await (await registry()).get('badSecretForm01')).toBeUndefined();
      expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
    },
  );

  it.each([
    [['--key', 'alias/no-such'], 1, 'Forbidden.AliasNotFound'],
    [['--key', '99999999-2222-4333-8444-555555555555'], 1, 'Forbidden.KeyNotFound'],
    [['--key', KEY_ID, '--id', 'x'], 2, undefined],
    [['--key', KEY_ID, '--id', ADMIN.accessKeyId], 1, 'AccessKeyAlreadyExists'],
  ])('when given %j, it is refused (exit %i) and nothing is written to the secret', async (args, exitCode, code) => {
    await expect(kms('create-provisioner', '--secret', SECRET, ...args)).rejects.toMatchObject({ exitCode, ...(code ? { code } : {}) });
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });
});
