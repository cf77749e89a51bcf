import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisionHandlers } from '../../functions/provision-partition-keys.js';
import { type Gateway, startGateway } from '../../infra/gateway/server.js';
import { provisionerFromEnvironment } from '../../lib/provisioner/from-environment.js';
import { ProvisionerSecretSettingError, provisionerSecretSource } from '../../lib/provisioner/secret-source.js';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { FakeKmsSecrets } from '../helpers/fake-alibaba-kms-secrets.js';
import { createTestService, KEY_ID, PROVIDER, type TestService } from '../helpers/service.js';

/*
 * One mechanism for both clouds: KMS_PROVISIONER_SECRET names the provisioner's secret in AWS
 * Secrets Manager (`aws-secrets-manager:<id>`, or a bare name/ARN as the AWS stack sets it) or in
 * Alibaba Cloud KMS (`alibaba-kms-secret:<name>`, as the Function Compute deployment sets it), and
 * the provisioner behaves the same with each: not registered while the secret is `{}`, read once
 * per instance, read again once when the key is refused. The Function Compute handler runs here
 * against a real gateway; Alibaba KMS is a local stand-in reached by the official SDK, Secrets
 * Manager a mock.
 */

const ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:kms/dev/provisioner-AbCdEf';
const ALIBABA_SECRET = 'kms-dev-provisioner';
const sm = mockClient(SecretsManagerClient);
let awsSecretString = '{}';
let alibaba: FakeKmsSecrets;
let gateway: Gateway;
let t: TestService;
let registryDir: string;

/** A secret store as a deployment configures it: what KMS_PROVISIONER_SECRET says, how to write the secret, how often it was read. */
interface Store {
  setting: string;
  set(value: string): void;
  reads(): number;
}

const STORES: Array<[string, () => Store]> = [
  [
    'alibaba-kms-secret:<name> (Function Compute)',
    () => ({
      setting: `alibaba-kms-secret:${ALIBABA_SECRET}`,
      set: (value) => alibaba.secrets.set(ALIBABA_SECRET, value),
      reads: () => alibaba.readsOf(ALIBABA_SECRET),
    }),
  ],
  [
    'aws-secrets-manager:<arn>',
    () => ({ setting: `aws-secrets-manager:${ARN}`, set: (value) => (awsSecretString = value), reads: () => sm.commandCalls(GetSecretValueCommand).length }),
  ],
  [
    'a bare ARN (the AWS stack, as deployed)',
    () => ({ setting: ARN, set: (value) => (awsSecretString = value), reads: () => sm.commandCalls(GetSecretValueCommand).length }),
  ],
];

/** A deployed instance (the FC handler), with the environment FC gives a function with a role. */
function instance(store: Store) {
  const env = {
    KMS_ENDPOINT: gateway.url,
    KMS_PROVISIONER_SECRET: store.setting,
    KMS_PARTITION_REGISTRY: `file:${registryDir}`,
    KMS_PARTITION_KEY_ID: KEY_ID,
    AWS_REGION: 'eu-central-1',
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.role-key',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'role-secret',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'role-token',
    FC_REGION: 'cn-hangzhou',
    ALIBABA_CLOUD_KMS_ENDPOINT: alibaba.endpoint,
  };
  const { fcHandler } = provisionHandlers({ provisioner: () => provisionerFromEnvironment(env) });
  return (...ids: string[]) => fcHandler(Buffer.from(JSON.stringify(ids.map((partitionId) => ({ partitionId })))));
}

const keyJson = (key: { accessKeyId: string; accessKeySecret: string }) => JSON.stringify(key);

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
  [t, alibaba] = await Promise.all([createTestService(), new FakeKmsSecrets().start()]);
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  registryDir = await mkdtemp(join(tmpdir(), 'kms-trigger-stores-'));
});

afterAll(async () => {
  sm.restore();
  await Promise.all([gateway.close(), alibaba.stop()]);
  await rm(registryDir, { recursive: true, force: true });
});

beforeEach(() => {
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: ARN }).callsFake(() => ({ ARN, SecretString: awsSecretString }));
  alibaba.reads.length = 0;
  alibaba.refuse.clear();
});

describe.each(STORES)('Function: provision-partition-keys, its access key in %s', (name, makeStore) => {
  const tag = name.split(/[^a-z]/)[0];

  it('when the secret holds no key yet, the event fails as not registered, naming the command with the secret as configured; once written, the same instance succeeds', async () => {
    const store = makeStore();
    store.set('{}');
    const provision = instance(store);
    await expect(provision(`${tag}-empty`)).rejects.toMatchObject({
      code: 'ProvisionerKeyNotRegistered',
      message: expect.stringContaining(`kms access-keys create-provisioner --secret ${store.setting} `),
    });
    store.set(keyJson(PROVIDER));
    expect(await provision(`${tag}-empty`)).toEqual({ created: 1, existing: 0 });
    expect(await new FileRegistry(registryDir).get(`${tag}-empty`)).toBeDefined();
  });

  it('when the key is there, the secret is read once per instance, not per event', async () => {
    const store = makeStore();
    store.set(keyJson(PROVIDER));
    const provision = instance(store);
    for (const id of ['cached-1', 'cached-2']) expect(await provision(`${tag}-${id}`)).toEqual({ created: 1, existing: 0 });
    expect(store.reads()).toBe(1);
  });

  it('when the key is rotated (the old one deleted), the next event reads the secret again once and succeeds', async () => {
    const old = { accessKeyId: `${tag}Old0000001`, accessKeySecret: 'old-provider-secret-0123456789' };
    const rotated = { accessKeyId: `${tag}New0000001`, accessKeySecret: 'new-provider-secret-0123456789' };
    await registerKey(old.accessKeyId, old.accessKeySecret);
    await registerKey(rotated.accessKeyId, rotated.accessKeySecret);
    const store = makeStore();
    store.set(keyJson(old));
    const provision = instance(store);
    expect(await provision(`${tag}-rotated-1`)).toEqual({ created: 1, existing: 0 });
    store.set(keyJson(rotated));
    await t.service.accessKeys.delete(old.accessKeyId);
    expect(await provision(`${tag}-rotated-2`, `${tag}-rotated-3`)).toEqual({ created: 2, existing: 0 });
    expect(store.reads()).toBe(2);
  });

  it('when the key is refused and the secret still holds it, the event fails after one re-read (no loop), naming the refusal', async () => {
    const disabled = { accessKeyId: `${tag}Disabled01`, accessKeySecret: 'disabled-provider-secret-0123456789' };
    await registerKey(disabled.accessKeyId, disabled.accessKeySecret);
    await t.service.accessKeys.setStatus(disabled.accessKeyId, 'Disabled');
    const store = makeStore();
    store.set(keyJson(disabled));
    const provision = instance(store);
    await expect(provision(`${tag}-refused`)).rejects.toThrow('InvalidAccessKeyId.Inactive');
    expect(store.reads()).toBe(2);
  });

  it('when the secret is not an access key, the event fails as unreadable, naming the secret and never its content', async () => {
    const store = makeStore();
    store.set(JSON.stringify({ accessKeyId: 'hunter2' }));
    const failed = (await instance(store)(`${tag}-unreadable`).catch((err: Error) => err)) as Error & { code?: string };
    expect(failed.code).toBe('ProvisionerSecretUnreadable');
    expect(failed.message).toContain(store.setting);
    expect(failed.message).not.toContain('hunter2');
  });
});

describe('Function: provision-partition-keys, its access key in Alibaba Cloud KMS, failures of the store', () => {
  const store = () => STORES[0]![1]();

  it('when KMS refuses the read (the role may not read the secret), the event fails as unreadable with KMS’s code, and the next event reads again', async () => {
    const s = store();
    s.set(keyJson(PROVIDER));
    alibaba.refuse.set('GetSecretValue', { status: 403, code: 'Forbidden.NoPermission', message: 'This operation is forbidden by permission system.' });
    const provision = instance(s);
    await expect(provision('alibaba-forbidden')).rejects.toMatchObject({
      code: 'ProvisionerSecretUnreadable',
      message: expect.stringContaining('cannot be read (Forbidden.NoPermission'),
    });
    alibaba.refuse.clear();
    expect(await provision('alibaba-forbidden')).toEqual({ created: 1, existing: 0 });
    expect(s.reads()).toBe(1);
  });

  it('when the secret does not exist, the event fails as unreadable with Forbidden.ResourceNotFound', async () => {
    const env = { KMS_ENDPOINT: gateway.url, KMS_PROVISIONER_SECRET: 'alibaba-kms-secret:no-such-secret', KMS_PARTITION_REGISTRY: `file:${registryDir}` };
    const withRole = { ...env, ALIBABA_CLOUD_ACCESS_KEY_ID: 'k', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_KMS_ENDPOINT: alibaba.endpoint };
    await expect(provisionerFromEnvironment(withRole)).rejects.toMatchObject({
      code: 'ProvisionerSecretUnreadable',
      message: expect.stringMatching(/alibaba-kms-secret:no-such-secret cannot be read \(Forbidden\.ResourceNotFound/),
    });
  });

  it('when the function has no role (no Alibaba credentials), it fails as unreadable and says what is missing', async () => {
    const env = { KMS_ENDPOINT: gateway.url, KMS_PROVISIONER_SECRET: `alibaba-kms-secret:${ALIBABA_SECRET}`, KMS_PARTITION_REGISTRY: `file:${registryDir}` };
    await expect(provisionerFromEnvironment(env)).rejects.toMatchObject({
      code: 'ProvisionerSecretUnreadable',
      message: expect.stringContaining('KMS_PROVISIONER_SECRET=alibaba-kms-secret:… needs ALIBABA_CLOUD_ACCESS_KEY_ID'),
    });
  });
});

describe('KMS_PROVISIONER_SECRET: the forms it takes', () => {
  it.each([
    ['kms/dev/provisioner', { kind: 'aws-secrets-manager', id: 'kms/dev/provisioner' }],
    [ARN, { kind: 'aws-secrets-manager', id: ARN }],
    [`aws-secrets-manager:${ARN}`, { kind: 'aws-secrets-manager', id: ARN }],
    ['aws-secrets-manager:kms/dev/provisioner', { kind: 'aws-secrets-manager', id: 'kms/dev/provisioner' }],
    ['alibaba-kms-secret:kms-prod-provisioner', { kind: 'alibaba-kms-secret', id: 'kms-prod-provisioner' }],
  ])('when it is %s, it names %j', (value, source) => {
    expect(provisionerSecretSource(value)).toEqual(source);
  });

  it.each(['alibaba-kms:kms-prod-provisioner', 'vault:secret/kms', 'alibaba-kms-secret:', 'aws-secrets-manager:', ' '])(
    'when it is %j (an unknown store or no secret), it is refused rather than taken for a Secrets Manager name',
    (value) => {
      expect(() => provisionerSecretSource(value)).toThrow(ProvisionerSecretSettingError);
    },
  );
});
