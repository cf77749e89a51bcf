import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbNonceStore } from '../../lib/keystore/dynamodb/dynamodb-nonce-store.js';
import { JournaledNonceStore } from '../../lib/keystore/file/nonce-journal.js';
import { MemoryNonceStore } from '../../lib/keystore/nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { createPowertoolsLogger } from '../../lib/logger-powertools.js';
import { AWS_CLIENT_DEFAULTS, ENV_DEFAULTS, selectBackends, serviceFromEnvironment } from '../../lib/service-from-env.js';
import { unwatched } from '../../lib/readiness.js';
import { FakeDynamoDb } from '../helpers/dynamodb-fake.js';
import { awsErrors } from '../keystore/aws-errors.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

// Every client of these classes, wherever it is built, talks to the mocks: nothing reaches AWS.
const sm = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBClient);
afterAll(() => {
  sm.restore();
  ddb.restore();
});

const KEY_ID = '11111111-2222-4333-8444-555555555555';
const dirs: string[] = [];
let fakeSm: FakeSecretsManager;

beforeEach(() => {
  sm.reset();
  ddb.reset();
  fakeSm = new FakeSecretsManager().install(sm);
  new FakeDynamoDb({ 'kms-nonces': 'pk' }).install(ddb);
});
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-env-test-'));
  dirs.push(dir);
  return dir;
}

/** Lines written to stdout and stderr while `run` runs (the loggers write JSON lines there; Powertools warns and errors on stderr). */
async function captureStdout(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      const callback = rest[rest.length - 1];
      if (typeof callback === 'function') (callback as () => void)();
      return true;
    }) as typeof stream.write);
  }
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve)); // the batched stdout logger flushes once per turn
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
  }
  return lines;
}

describe('Module: service-from-env', () => {
  it('declares the defaults of its variables once', () => {
    expect(ENV_DEFAULTS).toEqual({
      KMS_DATA_DIR: './.kms-data',
      KMS_LOG_LEVEL: 'info',
      KMS_KEY_STORE: 'file',
      KMS_SECRETS_PREFIX: 'kms/',
      KMS_STORE_CACHE_TTL_MS: 5_000,
      KMS_STORE_STALE_FOR_MS: 300_000,
    });
    expect(AWS_CLIENT_DEFAULTS).toEqual({ maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 });
  });

  describe('function selectBackends', () => {
    it('when nothing is set, it is the file store in ./.kms-data with the journal and the stdout logger', () => {
      expect(selectBackends({})).toEqual({
        keyStore: 'file',
        dataDir: './.kms-data',
        rootKey: { kind: 'file', path: '.kms-data/root.key' },
        nonceStore: 'journal',
        logger: 'stdout',
        logLevel: 'info',
        cacheTtlMs: 1000,
      });
    });

    it.each([
      [{ KMS_ROOT_KEY_FILE: '/etc/kms/root.key' }, { kind: 'file', path: '/etc/kms/root.key' }],
      [{ KMS_ROOT_KEY_SOURCE: 'aws-secrets-manager:kms/prod/root' }, { kind: 'aws-secrets-manager', secretId: 'kms/prod/root' }],
      [{ KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms-root' }, { kind: 'alibaba-kms-secret', secretName: 'kms-root' }],
    ])('when the root key source is set (%j), the file store is sealed with it', (env, rootKey) => {
      expect(selectBackends(env).rootKey).toEqual(rootKey);
    });

    it.each(['vault:x', 'aws-secrets-manager:', 'nothing'])('when KMS_ROOT_KEY_SOURCE is %j, it is refused with a message naming the forms', (source) => {
      expect(() => selectBackends({ KMS_ROOT_KEY_SOURCE: source })).toThrow(/KMS_ROOT_KEY_SOURCE must be/);
    });

    it('when KMS_KEY_STORE=secrets-manager, it takes AWS_REGION, the default prefix and the cache defaults', () => {
      expect(selectBackends({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'eu-central-1', KMS_NONCE_STORE: 'memory' })).toEqual({
        keyStore: 'secrets-manager',
        secrets: { prefix: 'kms/', region: 'eu-central-1', cacheTtlMs: 5_000, writeOnceTtlMs: 3_600_000, staleForMs: 300_000 },
        nonceStore: 'memory',
        logger: 'stdout',
        logLevel: 'info',
        cacheTtlMs: 1000,
      });
    });

    it('when every variable is set, each is used', () => {
      expect(
        selectBackends({
          KMS_KEY_STORE: 'secrets-manager',
          AWS_REGION: 'ap-southeast-1',
          KMS_SECRETS_PREFIX: 'kms/prod/',
          KMS_STORE_CACHE_TTL_MS: '10000',
          KMS_STORE_STALE_FOR_MS: '120000',
          KMS_NONCE_TABLE: 'kms-nonces',
          KMS_LOG_LEVEL: 'warn',
          KMS_CACHE_TTL_MS: '250',
          AWS_LAMBDA_FUNCTION_NAME: 'kms-prod-decrypt',
        }),
      ).toEqual({
        keyStore: 'secrets-manager',
        secrets: { prefix: 'kms/prod/', region: 'ap-southeast-1', cacheTtlMs: 10_000, writeOnceTtlMs: 3_600_000, staleForMs: 120_000 },
        nonceStore: 'dynamodb',
        nonceTable: 'kms-nonces',
        logger: 'powertools',
        logLevel: 'warn',
        cacheTtlMs: 250,
      });
    });

    it('when KMS_NONCE_STORE is given, it wins over KMS_NONCE_TABLE (serverless offline: journal beside a file store)', () => {
      expect(selectBackends({ KMS_KEY_STORE: 'file', KMS_DATA_DIR: '/tmp/kms-data', KMS_NONCE_STORE: 'journal', KMS_NONCE_TABLE: 'kms-dev-nonces' })).toMatchObject({
        keyStore: 'file',
        dataDir: '/tmp/kms-data',
        nonceStore: 'journal',
      });
      expect(selectBackends({ KMS_NONCE_TABLE: 'kms-dev-nonces' })).toMatchObject({ keyStore: 'file', nonceStore: 'dynamodb', nonceTable: 'kms-dev-nonces' });
      expect(selectBackends({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'journal', KMS_DATA_DIR: '/tmp/n' })).toMatchObject({
        nonceStore: 'journal',
        dataDir: '/tmp/n',
      });
      expect(selectBackends({ KMS_NONCE_STORE: 'memory', KMS_NONCE_TABLE: 't' })).not.toHaveProperty('nonceTable');
    });

    it('when KMS_KEY_STORE=postgres, it takes KMS_POSTGRES_URL (and a schema), seals with the root key, and uses the database for nonces', () => {
      expect(selectBackends({ KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://kms@db/kms', KMS_POSTGRES_SCHEMA: 'kms_prod', KMS_ROOT_KEY_FILE: '/etc/kms/root.key' })).toEqual({
        keyStore: 'postgres',
        postgres: { url: 'postgres://kms@db/kms', schema: 'kms_prod' },
        rootKey: { kind: 'file', path: '/etc/kms/root.key' },
        nonceStore: 'backend',
        logger: 'stdout',
        logLevel: 'info',
        cacheTtlMs: 1000,
      });
    });

    it('when KMS_KEY_STORE=dynamodb, it takes KMS_STATE_TABLE and AWS_REGION, key material in Secrets Manager when a prefix is set', () => {
      expect(selectBackends({ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', AWS_REGION: 'eu-central-1' })).toMatchObject({
        keyStore: 'dynamodb',
        dynamodb: { table: 'kms-prod-state', region: 'eu-central-1' },
        nonceStore: 'backend',
      });
      expect(selectBackends({ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', AWS_REGION: 'eu-central-1' })).not.toHaveProperty('secrets');
      expect(selectBackends({ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', AWS_REGION: 'eu-central-1', KMS_SECRETS_PREFIX: 'kms/prod/' }).secrets).toMatchObject({ prefix: 'kms/prod/' });
    });

    it.each([
      [{ KMS_NONCE_STORE: 'redis' }, /KMS_NONCE_STORE must be dynamodb, journal, backend or memory/],
      [{ KMS_NONCE_STORE: 'dynamodb' }, /needs KMS_NONCE_TABLE/],
      [{ KMS_NONCE_STORE: 'backend' }, /needs KMS_KEY_STORE=postgres or dynamodb/],
      [{ KMS_KEY_STORE: 's3' }, /KMS_KEY_STORE must be file, postgres, dynamodb or secrets-manager/],
      [{ KMS_KEY_STORE: 'postgres' }, /needs KMS_POSTGRES_URL/],
      [{ KMS_KEY_STORE: 'dynamodb', AWS_REGION: 'us-east-1' }, /needs KMS_STATE_TABLE/],
      [{ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't' }, /needs AWS_REGION/],
      [{ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1' }, /needs a shared replay store/],
      [{ KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_TABLE: 't' }, /needs AWS_REGION/],
      [{ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 't', KMS_STORE_CACHE_TTL_MS: '5s' }, /KMS_STORE_CACHE_TTL_MS must be a whole number/],
      [{ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 't', KMS_STORE_STALE_FOR_MS: '-1' }, /KMS_STORE_STALE_FOR_MS must be a whole number/],
      [{ KMS_LOG_LEVEL: 'loud' }, /KMS_LOG_LEVEL/],
    ])('when the environment is %j, it is refused', (env, message) => {
      expect(() => selectBackends(env)).toThrow(message);
    });

    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'kms-prod-decrypt', AWS_REGION: 'eu-central-1' };
    const fc = { FC_FUNCTION_NAME: 'decrypt' };
    it.each([
      [{ ...fc }, /KMS_KEY_STORE=file on Function Compute .*replays.*postgres/],
      [{ ...fc, KMS_KEY_STORE: 'file', KMS_DATA_DIR: '/mnt/kms' }, /KMS_KEY_STORE=file on Function Compute/],
      [{ ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms' }, /root key file on Function Compute is per instance: set KMS_ROOT_KEY_SOURCE=alibaba-kms-secret/],
      [{ ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms', KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:root', KMS_NONCE_STORE: 'journal' }, /KMS_NONCE_STORE=journal on Function Compute is per instance/],
      [{ ...lambda }, /KMS_KEY_STORE=file on AWS Lambda/],
      [{ ...lambda, KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_STORE: 'memory' }, /KMS_NONCE_STORE=memory on AWS Lambda is per instance/],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', KMS_NONCE_STORE: 'memory' }, /KMS_NONCE_STORE=memory on AWS Lambda/],
    ])('on a cloud function, state kept per instance is refused (replays would pass): %j', (env, message) => {
      expect(() => selectBackends(env)).toThrow(message);
    });

    it.each([
      [{ ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms', KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms/root' }, 'postgres'],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', KMS_SECRETS_PREFIX: 'kms/prod/' }, 'dynamodb'],
      [{ ...lambda, KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_TABLE: 'kms-prod-nonces' }, 'secrets-manager'],
      [{ ...lambda, KMS_DATA_DIR: '/tmp/kms', IS_OFFLINE: 'true' }, 'file'],
      [{ ...fc, KMS_SINGLE_INSTANCE: 'true' }, 'file'],
    ])('on a cloud function, shared state (or a declared single instance) is accepted: %j', (env, keyStore) => {
      expect(selectBackends(env).keyStore).toBe(keyStore);
    });
  });

  describe('function serviceFromEnvironment', () => {
    it('when KMS_KEY_STORE is not set, keys are files in KMS_DATA_DIR, nonces are journaled there, and AWS is never called', async () => {
      const dir = await tempDir();
      const service = await serviceFromEnvironment({ KMS_DATA_DIR: dir, KMS_LOG_LEVEL: 'silent' });
      expect(unwatched(service.nonces)).toBeInstanceOf(JournaledNonceStore);
      await service.keyring.createKey({ keyId: KEY_ID });
      expect(await readdir(dir)).toEqual(expect.arrayContaining(['keys', 'key-versions']));
      expect(sm).not.toHaveReceivedAnyCommand();
      expect(ddb).not.toHaveReceivedAnyCommand();
    });

    it('when KMS_NONCE_STORE=journal, the journal is used even though KMS_NONCE_TABLE is set, and DynamoDB is never called', async () => {
      const service = await serviceFromEnvironment({ KMS_DATA_DIR: await tempDir(), KMS_NONCE_STORE: 'journal', KMS_NONCE_TABLE: 'kms-nonces', KMS_LOG_LEVEL: 'silent' });
      expect(unwatched(service.nonces)).toBeInstanceOf(JournaledNonceStore);
      expect(await service.nonces.claim('AK1', 'n', Date.now() + 60_000)).toBe(true);
      expect(ddb).not.toHaveReceivedAnyCommand();
    });

    it('when KMS_KEY_STORE=secrets-manager, entries are secrets under the prefix, in AWS_REGION, read through the cache', async () => {
      const service = await serviceFromEnvironment({
        KMS_KEY_STORE: 'secrets-manager',
        AWS_REGION: 'eu-west-3',
        KMS_SECRETS_PREFIX: 'kms/dev/',
        KMS_NONCE_STORE: 'memory',
        KMS_CACHE_TTL_MS: '0', // the keyring's own cache off: every read reaches the store cache
        KMS_LOG_LEVEL: 'silent',
      });
      await service.keyring.createKey({ keyId: KEY_ID });
      expect(fakeSm.names()).toContain(`kms/dev/keys/${KEY_ID}`);
      sm.resetHistory();
      await service.keyring.getKey(KEY_ID);
      await service.keyring.getKey(KEY_ID);
      // The write cached the entry: within KMS_STORE_CACHE_TTL_MS, no read reaches Secrets Manager.
      expect(sm).not.toHaveReceivedCommand(GetSecretValueCommand);
      expect(await service.keyring.getKey('22222222-2222-4333-8444-555555555555')).toBeUndefined();
      expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'kms/dev/keys/22222222-2222-4333-8444-555555555555' });
      const client = sm.commandCalls(GetSecretValueCommand)[0]!.thisValue as SecretsManagerClient;
      expect(await client.config.region()).toBe('eu-west-3');
      expect(client.config.maxAttempts).toBeDefined();
      expect(await (client.config.maxAttempts as () => Promise<number>)()).toBe(1);
      expect(unwatched(service.nonces)).toBeInstanceOf(MemoryNonceStore);
    });

    it('when KMS_KEY_STORE=secrets-manager with the default cache, an outage is served from memory for TTL + 300 s, then 503', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.parse('2025-06-01T00:00:00Z'));
      const service = await serviceFromEnvironment({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'memory', KMS_CACHE_TTL_MS: '0', KMS_LOG_LEVEL: 'silent' });
      await service.keyring.createKey({ keyId: KEY_ID });
      fakeSm.failure = () => awsErrors.throttling();
      vi.setSystemTime(Date.now() + 5_000 + 300_000 - 1);
      expect((await service.keyring.getKey(KEY_ID))?.keyId).toBe(KEY_ID);
      vi.setSystemTime(Date.now() + 1);
      await expect(service.keyring.getKey(KEY_ID)).rejects.toBeInstanceOf(ServiceUnavailableError);
    });

    it('when KMS_NONCE_TABLE is set, nonces are claimed in that DynamoDB table, with either key store', async () => {
      const withSecrets = await serviceFromEnvironment({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 'kms-nonces', KMS_LOG_LEVEL: 'silent' });
      expect(unwatched(withSecrets.nonces)).toBeInstanceOf(DynamoDbNonceStore);
      expect(await withSecrets.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(true);
      expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'kms-nonces', Item: expect.objectContaining({ pk: { S: 'AK1#n1' } }) });
      const client = ddb.commandCalls(PutItemCommand)[0]!.thisValue as DynamoDBClient;
      expect(await client.config.region()).toBe('us-east-1');

      const withFiles = await serviceFromEnvironment({ KMS_DATA_DIR: await tempDir(), KMS_NONCE_TABLE: 'kms-nonces', AWS_REGION: 'us-east-1', KMS_LOG_LEVEL: 'silent' });
      expect(unwatched(withFiles.nonces)).toBeInstanceOf(DynamoDbNonceStore);
      // Shared: the second service sees the first one's nonce.
      expect(await withFiles.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(false);
    });

    it('when KMS_NONCE_TABLE is not set with Secrets Manager, it refuses to serve (replays would pass between instances); asked for memory, it warns', async () => {
      await expect(serviceFromEnvironment({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1' })).rejects.toThrow(/needs a shared replay store/);
      const lines = await captureStdout(async () => {
        const service = await serviceFromEnvironment({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'memory' });
        expect(unwatched(service.nonces)).toBeInstanceOf(MemoryNonceStore);
      });
      expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('per instance only') }));
    });

    it('when running in Lambda (AWS_LAMBDA_FUNCTION_NAME), it logs through Powertools: structured JSON with service and level', async () => {
      const lines = await captureStdout(async () => {
        const service = await serviceFromEnvironment({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'memory', KMS_SINGLE_INSTANCE: 'true', AWS_LAMBDA_FUNCTION_NAME: 'kms-decrypt', POWERTOOLS_SERVICE_NAME: 'kms-test' });
        expect(service.logger).toHaveProperty('powertools');
        service.logger.info('request', { requestId: 'req-1', action: 'Decrypt', status: 200 });
        service.logger.debug('not at info');
      });
      const records = lines.map((l) => JSON.parse(l));
      expect(records).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'request', service: 'kms-test', requestId: 'req-1', action: 'Decrypt', status: 200, timestamp: expect.any(String) }));
      expect(records).toContainEqual(expect.objectContaining({ level: 'WARN', message: expect.stringContaining('KMS_NONCE_TABLE') }));
      expect(records.some((r) => r.message === 'not at info')).toBe(false);
    });
  });
});

describe('Module: logger-powertools', () => {
  it('when the level is debug, debug lines are written; silent writes nothing', async () => {
    const lines = await captureStdout(async () => {
      createPowertoolsLogger({ level: 'debug', serviceName: 'svc' }).debug('hello', { n: 1 });
      createPowertoolsLogger({ level: 'silent', serviceName: 'svc' }).error('never');
    });
    const records = lines.map((l) => JSON.parse(l));
    expect(records).toEqual([expect.objectContaining({ level: 'DEBUG', message: 'hello', n: 1, service: 'svc' })]);
  });
});
