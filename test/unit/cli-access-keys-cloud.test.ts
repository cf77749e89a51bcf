import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAccessKeys } from '../../infra/cli/access-keys.js';
import { AccessKeyRegistry } from '../../lib/access-keys.js';
import { SecretsManagerStore } from '../../lib/keystore/secrets-manager/secrets-manager-store.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

/*
 * `kms access-keys` over the cloud store: with KMS_KEY_STORE=secrets-manager the same commands
 * administer a deployed stage's access keys (Secrets Manager stood in for by a stateful fake).
 */

const PREFIX = 'kms/stage/';
const sm = mockClient(SecretsManagerClient);
const fake = new FakeSecretsManager().install(sm);
const saved = { ...process.env };

async function kms(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerAccessKeys(program);
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'kms', 'access-keys', ...args]);
  } finally {
    write.mockRestore();
  }
  return out;
}

beforeAll(() => {
  Object.assign(process.env, { KMS_KEY_STORE: 'secrets-manager', KMS_SECRETS_PREFIX: PREFIX, AWS_REGION: 'us-east-1' });
});

afterAll(() => {
  process.env = saved;
  sm.restore();
});

describe('Command: kms access-keys with KMS_KEY_STORE=secrets-manager', () => {
  const registry = () =>
    new AccessKeyRegistry(new SecretsManagerStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), prefix: PREFIX }), { cacheTtlMs: 0 });

  it('when the prefix holds no store (a new stage, or a mistyped prefix), every command is refused and nothing is written', async () => {
    const where =
      "no key store under the Secrets Manager prefix kms/stage/: it holds no keys, access keys or seal; point at the deployment's store with KMS_KEY_STORE and its variables";
    for (const args of [['list'], ['disable', 'cloudKey0001'], ['set-policy', 'cloudKey0001', '--admin']]) {
      await expect(kms(...args), args.join(' ')).rejects.toMatchObject({ code: 'StoreNotFound', exitCode: 3, message: where });
    }
    await expect(kms('create', '--admin')).rejects.toMatchObject({
      code: 'StoreNotFound',
      message: expect.stringMatching(/, or pass --create-store to start a new store there/),
    });
    expect(fake.names()).toEqual([]);
  });

  it('when an access key is created with --create-store, it lands in the stage secrets, and the secret is printed once', async () => {
    const out = await kms(
      'create',
      '--create-store',
      '--id',
      'cloudKey0001',
      '--policy-json',
      '{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}',
    );
    expect(fake.names()).toContain(`${PREFIX}access-keys/cloudKey0001`);
    const stored = await registry().get('cloudKey0001');
    expect(stored?.status).toBe('Enabled');
    expect(out).toContain(stored!.accessKeySecret);
    expect(await kms('list')).not.toContain(stored!.accessKeySecret);
  });

  it('when it is disabled and its policy replaced, the stage store says so', async () => {
    await kms('disable', 'cloudKey0001');
    await kms('set-policy', 'cloudKey0001', '--admin');
    const stored = await registry().get('cloudKey0001');
    expect(stored?.status).toBe('Disabled');
    expect(stored?.policy.Statement[0]).toMatchObject({ Effect: 'Allow', Action: ['kms:*'] });
  });

  it('when it is deleted, it is gone from the stage store', async () => {
    await kms('delete', 'cloudKey0001');
    expect(await registry().get('cloudKey0001')).toBeUndefined();
  });
});
