import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisionHandlers } from '../../functions/provision-partition-keys.js';
import { type Gateway, startGateway } from '../../infra/gateway/server.js';
import { provisionerFromEnvironment } from '../../lib/provisioner/from-environment.js';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { createTestService, KEY_ID, PROVIDER, type TestService } from '../helpers/service.js';
import { sqsBatch } from '../helpers/sqs.js';

/*
 * The provisioner as the AWS stack runs it: its access key is not in its environment but in the
 * stage's secret (KMS_PROVISIONER_SECRET), read at run time — created empty by the stack, written by
 * `kms access-keys create-provisioner` — against a real gateway; Secrets Manager is a mock.
 */

const SECRET = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:kms/dev/provisioner-AbCdEf';
const sm = mockClient(SecretsManagerClient);
const context = { functionName: 'provisionPartitionKeys', awsRequestId: 'req-1' } as Context;
let gateway: Gateway;
let t: TestService;
let registryDir: string;
/** What the secret holds now. */
let secretString: string;

const env = () => ({ KMS_ENDPOINT: gateway.url, KMS_PROVISIONER_SECRET: SECRET, KMS_PARTITION_REGISTRY: `file:${registryDir}`, KMS_PARTITION_KEY_ID: KEY_ID });
const reads = () => sm.commandCalls(GetSecretValueCommand).length;

/** A deployed container: its handlers, and the failures it logged. */
function container() {
  const failures: Array<{ messageId: string; code: unknown; message: string }> = [];
  const handlers = provisionHandlers({
    provisioner: () => provisionerFromEnvironment({ ...env(), AWS_REGION: 'eu-central-1' }),
    onMessageFailure: (messageId, err) => failures.push({ messageId, code: (err as { code?: unknown }).code, message: (err as Error).message }),
  });
  const provision = async (...ids: string[]) =>
    (await handlers.handler(sqsBatch(ids.map((partitionId) => JSON.stringify({ partitionId }))), context)) as SQSBatchResponse;
  return { provision, failures };
}

async function registerKey(id: string, secret: string) {
  await t.service.accessKeys.create({
    accessKeyId: id,
    accessKeySecret: secret,
    status: 'Enabled',
    policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext'], Resource: [`acs:kms:*:*:key/${KEY_ID}`] }] },
    createdAt: new Date().toISOString(),
  });
}

beforeAll(async () => {
  t = await createTestService();
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  registryDir = await mkdtemp(join(tmpdir(), 'kms-trigger-secret-'));
});

afterAll(async () => {
  sm.restore();
  await gateway.close();
  await rm(registryDir, { recursive: true, force: true });
});

beforeEach(() => {
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: SECRET }).callsFake(() => ({ ARN: SECRET, SecretString: secretString }));
});

describe('Function: provision-partition-keys, its access key from the stage secret', () => {
  it('when the secret holds no key yet (as the stack creates it), every message fails clearly and is retried; once the key is written, the next delivery succeeds', async () => {
    secretString = '{}';
    const { provision, failures } = container();
    expect(await provision('empty-1', 'empty-2')).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }] });
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ code: 'ProvisionerKeyNotRegistered' });
    expect(failures[0]!.message).toContain(`kms access-keys create-provisioner --secret ${SECRET}`);
    // The operator registers the key: the same container picks it up without a restart.
    secretString = JSON.stringify({ accessKeyId: PROVIDER.accessKeyId, accessKeySecret: PROVIDER.accessKeySecret });
    expect(await provision('empty-1')).toEqual({ batchItemFailures: [] });
    expect(await new FileRegistry(registryDir).get('empty-1')).toBeDefined();
  });

  it('when the key is there, the secret is read once per container, not per message', async () => {
    secretString = JSON.stringify({ accessKeyId: PROVIDER.accessKeyId, accessKeySecret: PROVIDER.accessKeySecret });
    const { provision } = container();
    for (const id of ['cached-1', 'cached-2', 'cached-3']) expect(await provision(id)).toEqual({ batchItemFailures: [] });
    expect(reads()).toBe(1);
  });

  it('when the key is rotated (a new one written to the secret, the old one deleted), the next message re-reads the secret once and succeeds', async () => {
    await registerKey('rotatedProvider01', 'rotated-provider-secret-0123456789');
    await registerKey('oldProvider00001', 'old-provider-secret-0123456789');
    secretString = JSON.stringify({ accessKeyId: 'oldProvider00001', accessKeySecret: 'old-provider-secret-0123456789' });
    const { provision, failures } = container();
    expect(await provision('rotated-1')).toEqual({ batchItemFailures: [] });
    secretString = JSON.stringify({ accessKeyId: 'rotatedProvider01', accessKeySecret: 'rotated-provider-secret-0123456789' });
    await t.service.accessKeys.delete('oldProvider00001');
    expect(await provision('rotated-2', 'rotated-3')).toEqual({ batchItemFailures: [] });
    expect(reads()).toBe(2);
    expect(failures).toEqual([]);
    expect(await new FileRegistry(registryDir).list()).toEqual(expect.arrayContaining(['rotated-1', 'rotated-2', 'rotated-3']));
  });

  it('when the key is refused and the secret still holds it, the message fails after one re-read (no loop) and names the refusal', async () => {
    await registerKey('disabledProvider1', 'disabled-provider-secret-0123456789');
    secretString = JSON.stringify({ accessKeyId: 'disabledProvider1', accessKeySecret: 'disabled-provider-secret-0123456789' });
    await t.service.accessKeys.setStatus('disabledProvider1', 'Disabled');
    const { provision, failures } = container();
    expect(await provision('refused-1')).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(reads()).toBe(2);
    expect(failures).toEqual([expect.objectContaining({ code: 'InvalidAccessKeyId.Inactive' })]);
  });

  it.each([
    [
      'cannot be read',
      () => sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized: secret=hunter2'), { name: 'AccessDeniedException' })),
    ],
    ['is not JSON', () => (secretString = 'hunter2')],
    ['lacks the secret half', () => (secretString = JSON.stringify({ accessKeyId: 'hunter2' }))],
    ['is a list', () => (secretString = '["hunter2"]')],
  ])('when the secret %s, every message fails as unreadable, naming the secret and never its content', async (_case, arrange) => {
    arrange();
    const { provision, failures } = container();
    expect(await provision('unreadable-1')).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(failures).toEqual([expect.objectContaining({ code: 'ProvisionerSecretUnreadable', message: expect.stringContaining(SECRET) })]);
    expect(failures[0]!.message).not.toContain('hunter2');
  });
});
