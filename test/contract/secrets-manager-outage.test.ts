import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CachedKeyStore } from '../../lib/keystore/cached-store.js';
import { SecretsManagerStore } from '../../lib/keystore/secrets-manager/secrets-manager-store.js';
import { createLogger } from '../../lib/logger.js';
import { awsErrors } from '../keystore/aws-errors.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';
import { ADMIN, createTestService, KEY_ID, type TestService } from '../helpers/service.js';
import { isoSeconds, signedRpcRequest } from '../helpers/sign.js';
import { expectError } from './support.js';

const TTL_MS = 5_000;
const STALE_FOR_MS = 60_000;

const client = new SecretsManagerClient({ region: 'eu-west-1' });
const sm = mockClient(client);
afterAll(() => sm.restore());

/**
 * The data plane over CachedKeyStore(SecretsManagerStore) with Secrets Manager mocked (a stateful
 * fake behind aws-sdk-client-mock): it answers GenerateDataKey and Decrypt; when Secrets Manager
 * fails, it keeps answering from memory for a bounded time, then answers 503
 * ServiceUnavailableTemporary — never a 500, never a stack.
 */
describe('Key store outage: CachedKeyStore over SecretsManagerStore', () => {
  let clock: number;
  let fake: FakeSecretsManager;
  let t: TestService;
  let storeLogs: Array<Record<string, any>>;

  beforeEach(async () => {
    clock = Date.parse('2025-03-01T08:00:00Z');
    sm.reset();
    fake = new FakeSecretsManager().install(sm);
    storeLogs = [];
    const store = new CachedKeyStore(new SecretsManagerStore({ client, prefix: 'kms/e2e/', sleep: async () => undefined }), {
      ttlMs: TTL_MS,
      writeOnceTtlMs: 3_600_000,
      staleForMs: STALE_FOR_MS,
      now: () => clock,
      logger: createLogger({ level: 'debug', write: (line) => storeLogs.push(JSON.parse(line)) }),
    });
    t = await createTestService({ store, now: () => clock });
  });

  const call = (action: string, params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, action, params, { timestamp: isoSeconds(clock) }));

  /** GenerateDataKey, then Decrypt of its blob: both must work and agree. */
  async function roundTrip(): Promise<void> {
    const generated = await call('GenerateDataKey', { KeyId: KEY_ID });
    expect(generated.status).toBe(200);
    const decrypted = await call('Decrypt', { CiphertextBlob: generated.body.CiphertextBlob });
    expect(decrypted.status).toBe(200);
    expect(decrypted.body.Plaintext).toBe(generated.body.Plaintext);
  }

  it('when Secrets Manager works, GenerateDataKey and Decrypt answer, with the keys read from secrets', async () => {
    expect(fake.names()).toContain(`kms/e2e/keys/${KEY_ID}`);
    await roundTrip();
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: `kms/e2e/access-keys/${ADMIN.accessKeyId}` });
  });

  it.each([
    ['time out', awsErrors.timeout],
    ['throttle', awsErrors.throttling],
    ['fail with InternalServiceError', awsErrors.internal],
  ])(
    'when Secrets Manager starts to %s, the service keeps answering for the bounded time, then answers 503 ServiceUnavailableTemporary',
    async (_label, failure) => {
      await roundTrip();
      const blob = (await call('GenerateDataKey', { KeyId: KEY_ID })).body.CiphertextBlob as string;
      fake.failure = () => failure();

      // Past every TTL (keyring 1 s, store 5 s) but within staleFor: answered from memory.
      clock += 30_000;
      await roundTrip();
      expect((await call('Decrypt', { CiphertextBlob: blob })).status).toBe(200);
      const served = storeLogs.filter((l) => l.message === 'key store unavailable: serving a cached entry past its TTL');
      expect(served.map((l) => l.entry).sort()).toEqual([`access-keys/${ADMIN.accessKeyId}`, `keys/${KEY_ID}`]);

      // Past TTL + staleFor: 503, with the Alibaba error body and no stack.
      clock += TTL_MS + STALE_FOR_MS - 30_000;
      for (const r of [await call('GenerateDataKey', { KeyId: KEY_ID }), await call('Decrypt', { CiphertextBlob: blob })]) {
        expectError(r, 503, 'ServiceUnavailableTemporary');
        expect(r.raw).not.toMatch(/TimeoutError|Throttling|InternalServiceError|secretsmanager/);
      }

      // Secrets Manager is back: so is the service.
      fake.failure = undefined;
      await roundTrip();
    },
  );

  it('when an entry was never cached and Secrets Manager is down, the answer is 503 at once', async () => {
    fake.failure = () => awsErrors.network();
    clock += 1_000;
    expectError(await call('DescribeKey', { KeyId: 'alias/never-read' }), 503, 'ServiceUnavailableTemporary');
  });

  it('when access to Secrets Manager is denied, it is not an outage: 500 InternalFailure at once, the cause logged, nothing stale served', async () => {
    await roundTrip();
    fake.failure = () => awsErrors.accessDenied();
    clock += TTL_MS + 1_000;
    const r = await call('GenerateDataKey', { KeyId: KEY_ID });
    expectError(r, 500, 'InternalFailure');
    expect(r.raw).not.toContain('AccessDenied');
    expect(storeLogs.find((l) => l.level === 'error')).toMatchObject({
      message: expect.stringContaining('access denied'),
      error: expect.stringContaining('AccessDeniedException'),
    });
  });
});
