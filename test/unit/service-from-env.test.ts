import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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
import { KEY_STORE } from '../../lib/config/backends.js';
import { LOG_LEVEL, readServiceConfig, readStateConfig } from '../../lib/config/service.js';
import { ConfigurationError, defaultOf, type Variable } from '../../lib/config/variable.js';
import { AWS_CLIENT_DEFAULTS, DATA_DIR } from '../../lib/keystore/config.js';
import { SECRETS_PREFIX, STORE_CACHE_TTL_MS, STORE_STALE_FOR_MS } from '../../lib/keystore/secrets-manager/config.js';
import { NONCE_JOURNAL_FILE, serviceFromEnvironment } from '../../lib/service-from-env.js';
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
    expect(
      Object.fromEntries(
        [DATA_DIR, LOG_LEVEL, KEY_STORE, SECRETS_PREFIX, STORE_CACHE_TTL_MS, STORE_STALE_FOR_MS].map((v: Variable<unknown>) => [v.name, defaultOf(v)]),
      ),
    ).toEqual({
      KMS_DATA_DIR: './.kms-data',
      KMS_LOG_LEVEL: 'info',
      KMS_KEY_STORE: 'file',
      KMS_SECRETS_PREFIX: 'kms/',
      KMS_STORE_CACHE_TTL_MS: 5_000,
      KMS_STORE_STALE_FOR_MS: 300_000,
    });
    expect(AWS_CLIENT_DEFAULTS).toEqual({ maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 });
  });

  describe('function readServiceConfig', () => {
    it('when nothing is set, it is the file store in ./.kms-data with the journal and the stdout logger', () => {
      expect(readServiceConfig({})).toEqual({
        state: {
          keyStore: 'file',
          backend: { dataDir: './.kms-data', rootKey: { kind: 'file', path: '.kms-data/root.key' } },
          nonces: { kind: 'journal', dataDir: './.kms-data' },
        },
        logging: { logger: 'stdout', level: 'info', serviceName: 'kms' },
        region: 'cn-hangzhou',
        accountId: '1234567890123456',
        cacheTtlMs: 1000,
        rateLimits: {},
      });
    });

    it('when an empty value is given, it counts as unset', () => {
      expect(readServiceConfig({ KMS_DATA_DIR: '', KMS_LOG_LEVEL: '', KMS_KEY_STORE: '', KMS_CACHE_TTL_MS: '', KMS_RATE_LIMITS: '' })).toEqual(
        readServiceConfig({}),
      );
    });

    it.each([
      [{ KMS_ROOT_KEY_FILE: '/etc/kms/root.key' }, { kind: 'file', path: '/etc/kms/root.key' }],
      [{ KMS_DATA_DIR: '/var/lib/kms' }, { kind: 'file', path: '/var/lib/kms/root.key' }],
      [{ KMS_ROOT_KEY_SOURCE: 'aws-secrets-manager:kms/prod/root' }, { kind: 'aws-secrets-manager', secretId: 'kms/prod/root' }],
      [{ KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms-root' }, { kind: 'alibaba-kms-secret', secretName: 'kms-root' }],
      [
        { KMS_ROOT_KEY_SOURCE: 'file:/etc/kms/other.key', KMS_ROOT_KEY_FILE: '/etc/kms/root.key' },
        { kind: 'file', path: '/etc/kms/other.key' },
      ],
    ])('when the root key source is set (%j), the file store is sealed with it', (env, rootKey) => {
      expect(readStateConfig(env)).toMatchObject({ keyStore: 'file', backend: { rootKey } });
    });

    it.each(['vault:x', 'aws-secrets-manager:', 'nothing'])('when KMS_ROOT_KEY_SOURCE is %j, it is refused with a message naming the forms', (source) => {
      expect(() => readStateConfig({ KMS_ROOT_KEY_SOURCE: source })).toThrow(
        /KMS_ROOT_KEY_SOURCE must be aws-secrets-manager:<secret-id>, alibaba-kms-secret:<secret-name> or file:<path>/,
      );
    });

    it('when KMS_KEY_STORE=secrets-manager, it takes AWS_REGION, the default prefix and the cache defaults', () => {
      expect(readStateConfig({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'eu-central-1', KMS_NONCE_STORE: 'memory' })).toEqual({
        keyStore: 'secrets-manager',
        backend: { prefix: 'kms/', region: 'eu-central-1', cacheTtlMs: 5_000, writeOnceTtlMs: 3_600_000, staleForMs: 300_000 },
        nonces: { kind: 'memory' },
      });
      expect(readStateConfig({ KMS_KEY_STORE: 'secrets-manager', AWS_DEFAULT_REGION: 'eu-west-1', KMS_NONCE_STORE: 'memory' }).backend).toMatchObject({
        region: 'eu-west-1',
      });
    });

    it('when every variable is set, each is used', () => {
      expect(
        readServiceConfig({
          KMS_KEY_STORE: 'secrets-manager',
          AWS_REGION: 'ap-southeast-1',
          KMS_SECRETS_PREFIX: 'kms/prod/',
          KMS_SECRETS_KMS_KEY_ID: 'alias/kms-prod-state',
          KMS_SECRETS_ROLE_PATTERN: 'arn:aws:iam::*:role/kms-prod-*',
          KMS_STORE_CACHE_TTL_MS: '10000',
          KMS_STORE_STALE_FOR_MS: '120000',
          KMS_NONCE_TABLE: 'kms-nonces',
          KMS_LOG_LEVEL: 'warn',
          KMS_CACHE_TTL_MS: '250',
          KMS_REGION: 'cn-shanghai',
          KMS_ACCOUNT_ID: '5555',
          KMS_AWS_REGIONS: 'eu-west-1, us-west-2,',
          KMS_RATE_LIMITS: '{"default": {"crypto": 100}}',
          KMS_AUDIT_LOG: 'none',
          AWS_LAMBDA_FUNCTION_NAME: 'kms-prod-decrypt',
          POWERTOOLS_SERVICE_NAME: 'kms-prod',
        }),
      ).toEqual({
        state: {
          keyStore: 'secrets-manager',
          backend: {
            prefix: 'kms/prod/',
            region: 'ap-southeast-1',
            cacheTtlMs: 10_000,
            writeOnceTtlMs: 3_600_000,
            staleForMs: 120_000,
            kmsKeyId: 'alias/kms-prod-state',
            rolePattern: 'arn:aws:iam::*:role/kms-prod-*',
          },
          nonces: { kind: 'dynamodb', table: 'kms-nonces', region: 'ap-southeast-1' },
        },
        logging: { logger: 'powertools', level: 'warn', serviceName: 'kms-prod' },
        region: 'cn-shanghai',
        accountId: '5555',
        awsRegions: ['eu-west-1', 'us-west-2'],
        cacheTtlMs: 250,
        rateLimits: { default: { crypto: 100 } },
        auditLog: 'none',
      });
    });

    it('when KMS_NONCE_STORE is given, it wins over KMS_NONCE_TABLE (serverless offline: journal beside a file store)', () => {
      expect(
        readStateConfig({ KMS_KEY_STORE: 'file', KMS_DATA_DIR: '/tmp/kms-data', KMS_NONCE_STORE: 'journal', KMS_NONCE_TABLE: 'kms-dev-nonces' }),
      ).toMatchObject({
        keyStore: 'file',
        backend: { dataDir: '/tmp/kms-data' },
        nonces: { kind: 'journal', dataDir: '/tmp/kms-data' },
      });
      expect(readStateConfig({ KMS_NONCE_TABLE: 'kms-dev-nonces' })).toMatchObject({ keyStore: 'file', nonces: { kind: 'dynamodb', table: 'kms-dev-nonces' } });
      expect(readStateConfig({ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'journal', KMS_DATA_DIR: '/tmp/n' }).nonces).toEqual(
        { kind: 'journal', dataDir: '/tmp/n' },
      );
      expect(readStateConfig({ KMS_NONCE_STORE: 'memory', KMS_NONCE_TABLE: 't' }).nonces).toEqual({ kind: 'memory' });
    });

    it('when KMS_KEY_STORE=postgres, it takes KMS_POSTGRES_URL (and a schema), seals with the root key, and uses the database for nonces', () => {
      expect(
        readStateConfig({
          KMS_KEY_STORE: 'postgres',
          KMS_POSTGRES_URL: 'postgres://kms@db/kms',
          KMS_POSTGRES_SCHEMA: 'kms_prod',
          KMS_ROOT_KEY_FILE: '/etc/kms/root.key',
        }),
      ).toEqual({
        keyStore: 'postgres',
        backend: { url: 'postgres://kms@db/kms', schema: 'kms_prod', rootKey: { kind: 'file', path: '/etc/kms/root.key' } },
        nonces: { kind: 'backend' },
      });
    });

    it('when KMS_KEY_STORE=dynamodb, it takes KMS_STATE_TABLE, AWS_REGION and the root key; KMS_SECRETS_PREFIX only names where earlier material is read', () => {
      expect(
        readStateConfig({
          KMS_KEY_STORE: 'dynamodb',
          KMS_STATE_TABLE: 'kms-prod-state',
          AWS_REGION: 'eu-central-1',
          KMS_ROOT_KEY_SOURCE: 'aws-secrets-manager:kms/prod/root-key',
        }),
      ).toEqual({
        keyStore: 'dynamodb',
        backend: { table: 'kms-prod-state', region: 'eu-central-1', rootKey: { kind: 'aws-secrets-manager', secretId: 'kms/prod/root-key' } },
        nonces: { kind: 'backend' },
      });
      // Off a cloud function the root key file is the default, as for postgres.
      expect(readStateConfig({ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', AWS_REGION: 'eu-central-1', KMS_DATA_DIR: '/var/kms' }).backend).toEqual({
        table: 't',
        region: 'eu-central-1',
        rootKey: { kind: 'file', path: '/var/kms/root.key' },
      });
      expect(
        readStateConfig({ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', AWS_REGION: 'eu-central-1', KMS_SECRETS_PREFIX: 'kms/prod/' }).backend,
      ).toMatchObject({
        legacyMaterial: { prefix: 'kms/prod/', region: 'eu-central-1' },
      });
    });

    it.each([
      [{ KMS_NONCE_STORE: 'redis' }, /KMS_NONCE_STORE must be dynamodb, journal, backend or memory, not "redis"/],
      [{ KMS_NONCE_STORE: 'dynamodb' }, /needs KMS_NONCE_TABLE/],
      [{ KMS_NONCE_STORE: 'backend' }, /KMS_NONCE_STORE=backend needs KMS_KEY_STORE=postgres or dynamodb/],
      [{ KMS_KEY_STORE: 's3' }, /KMS_KEY_STORE must be file, postgres, dynamodb or secrets-manager, not "s3"/],
      [{ KMS_KEY_STORE: 'postgres' }, /needs KMS_POSTGRES_URL/],
      [{ KMS_KEY_STORE: 'dynamodb', AWS_REGION: 'us-east-1' }, /needs KMS_STATE_TABLE/],
      [{ KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't' }, /KMS_KEY_STORE=dynamodb needs AWS_REGION/],
      [{ KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1' }, /needs a shared replay store/],
      [{ KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_TABLE: 't' }, /KMS_KEY_STORE=secrets-manager needs AWS_REGION/],
      [
        { KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 't', KMS_STORE_CACHE_TTL_MS: '5s' },
        /KMS_STORE_CACHE_TTL_MS must be a whole number/,
      ],
      [
        { KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 't', KMS_STORE_STALE_FOR_MS: '-1' },
        /KMS_STORE_STALE_FOR_MS must be a whole number/,
      ],
      [
        { KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', AWS_REGION: 'us-east-1', KMS_SECRETS_PREFIX: 'kms/', KMS_STORE_CACHE_TTL_MS: '1e3' },
        /KMS_STORE_CACHE_TTL_MS must be a whole number/,
      ],
      [{ KMS_LOG_LEVEL: 'loud' }, /KMS_LOG_LEVEL must be debug, info, warn, error or silent, not "loud"/],
      [{ KMS_CACHE_TTL_MS: '0x10' }, /KMS_CACHE_TTL_MS must be a whole number of milliseconds/],
      [{ KMS_RATE_LIMITS: '{"default": {"crypto": 0}}' }, /^KMS_RATE_LIMITS at default.crypto/],
      [{ KMS_RATE_LIMITS: 'crypto=5' }, /^KMS_RATE_LIMITS must be JSON/],
      [{ KMS_SINGLE_INSTANCE: 'yes' }, /KMS_SINGLE_INSTANCE must be true or false, not "yes"/],
      [{ AWS_LAMBDA_FUNCTION_NAME: 'f', KMS_SINGLE_INSTANCE: 'true', KMS_ACCESS_LOG: '/var/log/kms/access.log' }, /KMS_ACCESS_LOG=<file> is for the gateway/],
    ])('when the environment is %j, it is refused with a ConfigurationError naming the variable', (env, message) => {
      expect(() => readServiceConfig(env)).toThrow(message);
      expect(() => readServiceConfig(env)).toThrow(ConfigurationError);
    });

    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'kms-prod-decrypt', AWS_REGION: 'eu-central-1' };
    const fc = { FC_FUNCTION_NAME: 'decrypt' };
    it.each([
      [{ ...fc }, /KMS_KEY_STORE=file on Function Compute .*replays.*postgres/],
      [{ ...fc, KMS_KEY_STORE: 'file', KMS_DATA_DIR: '/mnt/kms' }, /KMS_KEY_STORE=file on Function Compute/],
      [
        { ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms' },
        /root key file on Function Compute is per instance .*: set KMS_ROOT_KEY_SOURCE=alibaba-kms-secret/,
      ],
      [
        { ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms', KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:root', KMS_NONCE_STORE: 'journal' },
        /KMS_NONCE_STORE=journal on Function Compute is per instance/,
      ],
      [{ ...lambda }, /KMS_KEY_STORE=file on AWS Lambda .*use KMS_KEY_STORE=postgres or dynamodb/],
      [{ ...lambda, KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_STORE: 'memory' }, /KMS_NONCE_STORE=memory on AWS Lambda is per instance/],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't', KMS_NONCE_STORE: 'memory' }, /KMS_NONCE_STORE=memory on AWS Lambda/],
      [
        { ...lambda, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms', KMS_ROOT_KEY_FILE: '/tmp/root.key' },
        /root key file on AWS Lambda is per instance .*: set KMS_ROOT_KEY_SOURCE=aws-secrets-manager/,
      ],
      // The table is sealed under the root key: one made per instance would lock the others out.
      [
        { ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state' },
        /root key file on AWS Lambda is per instance \(each instance would make its own, and KMS_KEY_STORE=dynamodb would be sealed under one the others do not have\): set KMS_ROOT_KEY_SOURCE=aws-secrets-manager:<secret-id>/,
      ],
      [
        { ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', KMS_SECRETS_PREFIX: 'kms/prod/' },
        /root key file on AWS Lambda is per instance/,
      ],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', KMS_ROOT_KEY_FILE: '/opt/root.key' }, /root key file on AWS Lambda/],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', KMS_ROOT_KEY_SOURCE: 'file:/tmp/root.key' }, /root key file on AWS Lambda/],
      [{ ...fc, AWS_REGION: 'cn-hangzhou', KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 't' }, /root key file on Function Compute is per instance/],
    ])('on a cloud function, state kept per instance is refused (replays would pass): %j', (env, message) => {
      expect(() => readStateConfig(env)).toThrow(message);
    });

    it.each([
      [{ ...fc, KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: 'postgres://db/kms', KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms/root' }, 'postgres'],
      [{ ...lambda, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: 'kms-prod-state', KMS_ROOT_KEY_SOURCE: 'aws-secrets-manager:kms/prod/root-key' }, 'dynamodb'],
      [
        {
          ...lambda,
          KMS_KEY_STORE: 'dynamodb',
          KMS_STATE_TABLE: 'kms-prod-state',
          KMS_ROOT_KEY_SOURCE: 'aws-secrets-manager:kms/prod/root-key',
          KMS_SECRETS_PREFIX: 'kms/prod/',
        },
        'dynamodb',
      ],
      [{ ...lambda, KMS_KEY_STORE: 'secrets-manager', KMS_NONCE_TABLE: 'kms-prod-nonces' }, 'secrets-manager'],
      [{ ...lambda, KMS_DATA_DIR: '/tmp/kms', IS_OFFLINE: 'true' }, 'file'],
      [{ ...fc, KMS_SINGLE_INSTANCE: 'true' }, 'file'],
    ])('on a cloud function, shared state (or a declared single instance) is accepted: %j', (env, keyStore) => {
      expect(readStateConfig(env).keyStore).toBe(keyStore);
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
      const service = await serviceFromEnvironment({
        KMS_DATA_DIR: await tempDir(),
        KMS_NONCE_STORE: 'journal',
        KMS_NONCE_TABLE: 'kms-nonces',
        KMS_LOG_LEVEL: 'silent',
      });
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
      const service = await serviceFromEnvironment({
        KMS_KEY_STORE: 'secrets-manager',
        AWS_REGION: 'us-east-1',
        KMS_NONCE_STORE: 'memory',
        KMS_CACHE_TTL_MS: '0',
        KMS_LOG_LEVEL: 'silent',
      });
      await service.keyring.createKey({ keyId: KEY_ID });
      fakeSm.failure = () => awsErrors.throttling();
      vi.setSystemTime(Date.now() + 5_000 + 300_000 - 1);
      expect((await service.keyring.getKey(KEY_ID))?.keyId).toBe(KEY_ID);
      vi.setSystemTime(Date.now() + 1);
      await expect(service.keyring.getKey(KEY_ID)).rejects.toBeInstanceOf(ServiceUnavailableError);
    });

    it('when KMS_NONCE_TABLE is set, nonces are claimed in that DynamoDB table, with either key store', async () => {
      const withSecrets = await serviceFromEnvironment({
        KMS_KEY_STORE: 'secrets-manager',
        AWS_REGION: 'us-east-1',
        KMS_NONCE_TABLE: 'kms-nonces',
        KMS_LOG_LEVEL: 'silent',
      });
      expect(unwatched(withSecrets.nonces)).toBeInstanceOf(DynamoDbNonceStore);
      expect(await withSecrets.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(true);
      expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'kms-nonces', Item: expect.objectContaining({ pk: { S: 'AK1#n1' } }) });
      const client = ddb.commandCalls(PutItemCommand)[0]!.thisValue as DynamoDBClient;
      expect(await client.config.region()).toBe('us-east-1');

      const withFiles = await serviceFromEnvironment({
        KMS_DATA_DIR: await tempDir(),
        KMS_NONCE_TABLE: 'kms-nonces',
        AWS_REGION: 'us-east-1',
        KMS_LOG_LEVEL: 'silent',
      });
      expect(unwatched(withFiles.nonces)).toBeInstanceOf(DynamoDbNonceStore);
      // Shared: the second service sees the first one's nonce.
      expect(await withFiles.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(false);
    });

    it('when KMS_NONCE_STORE=journal beside Secrets Manager, nonces are journaled in KMS_DATA_DIR, shared by every process on it', async () => {
      const dir = await tempDir();
      const env = { KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'journal', KMS_DATA_DIR: dir, KMS_LOG_LEVEL: 'silent' };
      const [a, b] = [await serviceFromEnvironment(env), await serviceFromEnvironment(env)];
      expect(unwatched(a.nonces)).toBeInstanceOf(JournaledNonceStore);
      expect(await a.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(true);
      expect(await b.nonces.claim('AK1', 'n1', Date.now() + 60_000)).toBe(false);
      expect(await readdir(dir)).toContain(NONCE_JOURNAL_FILE);
      await a.keyring.createKey({ keyId: KEY_ID });
      expect(fakeSm.names()).toContain(`kms/keys/${KEY_ID}`);
    });

    it("when a replay store of the process is passed (a gateway worker's), it replaces the journal or memory, never a shared one", async () => {
      const local = new MemoryNonceStore();
      const withFiles = await serviceFromEnvironment({ KMS_DATA_DIR: await tempDir(), KMS_LOG_LEVEL: 'silent' }, { localNonces: local });
      expect(unwatched(withFiles.nonces)).toBe(local);
      const inMemory = await serviceFromEnvironment(
        { KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_STORE: 'memory', KMS_LOG_LEVEL: 'silent' },
        { localNonces: local },
      );
      expect(unwatched(inMemory.nonces)).toBe(local);
      const shared = await serviceFromEnvironment(
        { KMS_KEY_STORE: 'secrets-manager', AWS_REGION: 'us-east-1', KMS_NONCE_TABLE: 'kms-nonces', KMS_LOG_LEVEL: 'silent' },
        { localNonces: local },
      );
      expect(unwatched(shared.nonces)).toBeInstanceOf(DynamoDbNonceStore);
    });

    it("when the journal's directory cannot be made (a file is in its place), the start fails", async () => {
      const blocked = join(await tempDir(), 'data');
      await writeFile(blocked, 'not a directory');
      await expect(
        serviceFromEnvironment({
          KMS_KEY_STORE: 'secrets-manager',
          AWS_REGION: 'us-east-1',
          KMS_NONCE_STORE: 'journal',
          KMS_DATA_DIR: blocked,
          KMS_LOG_LEVEL: 'silent',
        }),
      ).rejects.toMatchObject({ code: 'EEXIST' });
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
        const service = await serviceFromEnvironment({
          KMS_KEY_STORE: 'secrets-manager',
          AWS_REGION: 'us-east-1',
          KMS_NONCE_STORE: 'memory',
          KMS_SINGLE_INSTANCE: 'true',
          AWS_LAMBDA_FUNCTION_NAME: 'kms-decrypt',
          POWERTOOLS_SERVICE_NAME: 'kms-test',
        });
        expect(service.logger).toHaveProperty('powertools');
        service.logger.info('request', { requestId: 'req-1', action: 'Decrypt', status: 200 });
        service.logger.debug('not at info');
      });
      const records = lines.map((l) => JSON.parse(l));
      expect(records).toContainEqual(
        expect.objectContaining({
          level: 'INFO',
          message: 'request',
          service: 'kms-test',
          requestId: 'req-1',
          action: 'Decrypt',
          status: 200,
          timestamp: expect.any(String),
        }),
      );
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
