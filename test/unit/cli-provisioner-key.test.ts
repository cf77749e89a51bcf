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
  await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
  Object.assign(process.env, { AWS_REGION: 'eu-central-1', KMS_OUTPUT: 'json' });
  delete process.env.KMS_KEY_STORE;
});

afterAll(async () => {
  process.env = saved;
  sm.restore();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
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
    [['--key', 'alias/no-such'], 1, 'Forbidden.AliasNotFound'],
    [['--key', '99999999-2222-4333-8444-555555555555'], 1, 'Forbidden.KeyNotFound'],
    [['--key', KEY_ID, '--id', 'x'], 2, undefined],
    [['--key', KEY_ID, '--id', ADMIN.accessKeyId], 1, 'AccessKeyAlreadyExists'],
  ])('when given %j, it is refused (exit %i) and nothing is written to the secret', async (args, exitCode, code) => {
    await expect(kms('create-provisioner', '--secret', SECRET, ...args)).rejects.toMatchObject({ exitCode, ...(code ? { code } : {}) });
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });
});
