import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { action as createAlias } from '../../functions/create-alias.js';
import { action as decrypt } from '../../functions/decrypt.js';
import { action as generateDataKey } from '../../functions/generate-data-key.js';
import { openDynamoDbBackend } from '../../lib/keystore/dynamodb/dynamodb-backend.js';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { sealWithRootKey } from '../../lib/keystore/root-key.js';
import { createLogger } from '../../lib/logger.js';
import { buildRpcHandler } from '../../lib/middleware/stack.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { createService, DEFAULTS, type Service } from '../../lib/service.js';
import { applySeed } from '../../lib/seed.js';
import { STORE_CALLS } from '../bench/support/cost-model.js';
import { CallRounds } from '../helpers/call-rounds.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

/*
 * What a fresh instance on the AWS backend waits for, counted as rounds of network calls (calls
 * started together count once: see CallRounds), against dynalite through the real SDK, with the
 * root key in Secrets Manager (a fake behind aws-sdk-client-mock: it cannot run here). A change
 * that makes a cold start wait for one more round trip fails here.
 *
 * A cold GenerateDataKey by alias:
 *   open    1. the root-key secret ‖ the seal's check entry ‖ the all-sealed entry
 *   request 1. the change marker ‖ the access key (not cached yet)
 *           2. the nonce claim ‖ the alias (the claim runs beside an Action that changes nothing)
 *           3. the key record
 *           4. the primary version's material (by the key's own entry name: no index read)
 */

const TABLE = 'kms-cold-start';
const ROOT_KEY_SECRET = 'kms/test/root-key';
const sm = mockClient(SecretsManagerClient);
let dynalite: Dynalite;
const opened: Array<() => Promise<void>> = [];

const silent = createLogger({ level: 'silent' });
/** The stage's environment, on a table of its own (seeded through the same composition). */
const ENV_TABLE = 'kms-cold-start-env';
const env = {
  KMS_KEY_STORE: 'dynamodb',
  KMS_STATE_TABLE: ENV_TABLE,
  KMS_ROOT_KEY_SOURCE: `aws-secrets-manager:${ROOT_KEY_SECRET}`,
  AWS_REGION: 'us-east-1',
  KMS_LOG_LEVEL: 'silent',
  KMS_REGION: REGION,
  KMS_ACCOUNT_ID: ACCOUNT_ID,
};

/** A fresh instance as the AWS stage composes it: the table's store sealed under the root key from Secrets Manager. */
async function openInstance(now?: () => number): Promise<Service> {
  const backend = await openDynamoDbBackend({ tableName: TABLE, region: 'us-east-1' });
  opened.push(() => backend.close());
  const store = await sealWithRootKey(backend.store, { kind: 'aws-secrets-manager', secretId: ROOT_KEY_SECRET });
  return createService({ store, nonces: backend.nonces, region: REGION, accountId: ACCOUNT_ID, logger: silent, ...(now ? { now } : {}) });
}

const dataKeyByAlias = (options: { nonce?: string; alias?: string } = {}) =>
  signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: options.alias ?? ALIAS }, options.nonce ? { nonce: options.nonce } : {});

beforeAll(async () => {
  dynalite = await startDynalite();
  await createStateTable(dynalite.client(), TABLE, { timeToLive: false });
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
  const secrets = new FakeSecretsManager({ interleave: false }).install(sm);
  secrets.createSecret({ Name: ROOT_KEY_SECRET, SecretString: Buffer.alloc(32, 9).toString('base64') });
  await applySeed(TEST_SEED, await openInstance());
  await createStateTable(dynalite.client(), ENV_TABLE, { timeToLive: false });
  await applySeed(TEST_SEED, await serviceFromEnvironment(env));
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const close of opened.splice(0)) await close();
  vi.unstubAllEnvs();
  sm.restore();
  await dynalite.stop();
});

function recorder(): CallRounds {
  return new CallRounds().record(DynamoDBClient, 'DynamoDB').record(SecretsManagerClient, 'SecretsManager');
}

describe('a cold instance on the dynamodb backend', () => {
  it('opens its sealed store in one round: the root-key secret and both seal entries at once', async () => {
    const calls = recorder();
    await openInstance();
    expect(calls.rounds()).toEqual([['DynamoDB.GetItem', 'DynamoDB.GetItem', 'SecretsManager.GetSecretValue']]);
  });

  it('serves its first GenerateDataKey by alias in 4 rounds of 6 calls; the next requests in 2', async () => {
    const service = await openInstance();
    const handle = buildRpcHandler(generateDataKey, service);
    const calls = recorder();
    expect((await handle(dataKeyByAlias())).statusCode).toBe(200);
    expect(calls.rounds()).toEqual([
      ['DynamoDB.GetItem', 'DynamoDB.GetItem'],
      ['DynamoDB.PutItem', 'DynamoDB.GetItem'],
      ['DynamoDB.GetItem'],
      ['DynamoDB.GetItem'],
    ]);
    // The access key read beside the first marker read is used by its own request only (ChangeWatch
    // drops what was read before the marker was first known): the second request reads it again.
    calls.reset();
    expect((await handle(dataKeyByAlias())).statusCode).toBe(200);
    expect(calls.rounds()).toEqual([['DynamoDB.GetItem', 'DynamoDB.GetItem'], ['DynamoDB.PutItem']]);
    // Warm: the change marker, then the nonce claim (see docs/deploy-aws.md, Cost).
    calls.reset();
    expect((await handle(dataKeyByAlias())).statusCode).toBe(200);
    expect(calls.rounds()).toEqual([['DynamoDB.GetItem'], ['DynamoDB.PutItem']]);
  });

  it('serves its first Decrypt in 3 rounds: the version index, then its material beside the key record', async () => {
    const blob = await (async () => {
      const warm = buildRpcHandler(generateDataKey, await openInstance());
      return JSON.parse((await warm(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }))).body).CiphertextBlob as string;
    })();
    const handle = buildRpcHandler(decrypt, await openInstance());
    const calls = recorder();
    const response = await handle(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob }));
    expect(response.statusCode).toBe(200);
    expect(calls.rounds()).toEqual([
      ['DynamoDB.GetItem', 'DynamoDB.GetItem'],
      ['DynamoDB.PutItem', 'DynamoDB.GetItem'],
      ['DynamoDB.GetItem', 'DynamoDB.GetItem'],
    ]);
  });

  it('as the environment composes it (serviceFromEnvironment), at most one round to open and the same 4 rounds for the first request', async () => {
    const calls = recorder();
    const service = await serviceFromEnvironment(env);
    expect(calls.rounds().length).toBeLessThanOrEqual(1);
    const handle = buildRpcHandler(generateDataKey, service);
    calls.reset();
    expect((await handle(dataKeyByAlias())).statusCode).toBe(200);
    expect(calls.rounds().length).toBe(4);
  });
});

describe('the DynamoDB calls a request makes once its caches have expired, as the cost model counts them', () => {
  it.each(Object.keys(STORE_CALLS) as Array<keyof typeof STORE_CALLS>)('%s', async (kind) => {
    let offset = 0;
    const service = await openInstance(() => Date.now() + offset);
    const handlers = { generateDataKey: buildRpcHandler(generateDataKey, service), decrypt: buildRpcHandler(decrypt, service) };
    const created = await handlers.generateDataKey(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }));
    const blob = JSON.parse(created.body).CiphertextBlob as string;
    const request = {
      'GenerateDataKey by alias': () => handlers.generateDataKey(dataKeyByAlias()),
      Decrypt: () => handlers.decrypt(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob })),
      'other reads by key id': () => handlers.generateDataKey(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })),
    }[kind];
    expect((await request()).statusCode).toBe(200);
    offset += 2 * DEFAULTS.cacheTtlMs;
    const calls = recorder();
    expect((await request()).statusCode).toBe(200);
    const count = (command: string) => calls.calls.filter((c) => c.command === command).length;
    expect({ reads: count('GetItem'), writes: count('PutItem'), calls: calls.calls.length }).toEqual({
      ...STORE_CALLS[kind],
      calls: STORE_CALLS[kind].reads + STORE_CALLS[kind].writes,
    });
  });
});

describe('what runs beside the nonce claim never outruns it', () => {
  it('a replayed GenerateDataKey answers SignatureNonceUsed, whether its alias exists or not', async () => {
    const handle = buildRpcHandler(generateDataKey, await openInstance());
    expect((await handle(dataKeyByAlias({ nonce: 'replayed-nonce-1' }))).statusCode).toBe(200);
    for (const alias of [ALIAS, 'alias/missing']) {
      const replay = await handle(dataKeyByAlias({ nonce: 'replayed-nonce-1', alias }));
      expect(JSON.parse(replay.body).Code).toBe('SignatureNonceUsed');
    }
  });

  it('a missing alias answers AliasNotFound once the claim succeeded, on a cold instance as on a warm one', async () => {
    const handle = buildRpcHandler(generateDataKey, await openInstance());
    for (let i = 0; i < 2; i++) {
      const response = await handle(dataKeyByAlias({ alias: 'alias/missing' }));
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body).Code).toBe('Forbidden.AliasNotFound');
    }
  });

  it('an Action that changes state claims its nonce before it reads or writes anything else', async () => {
    const handle = buildRpcHandler(createAlias, await openInstance());
    const calls = recorder();
    const request = signedRpcRequest(ADMIN, 'CreateAlias', { AliasName: 'alias/cold-start-new', KeyId: KEY_ID }, { nonce: 'create-alias-nonce' });
    expect((await handle(request)).statusCode).toBe(200);
    const [first, second, ...rest] = calls.rounds();
    expect(first).toEqual(['DynamoDB.GetItem', 'DynamoDB.GetItem']);
    expect(second).toEqual(['DynamoDB.PutItem']);
    expect(rest.length).toBeGreaterThan(0);
    // Replayed: refused, and nothing written after the claim.
    calls.reset();
    const replay = await handle(
      signedRpcRequest(ADMIN, 'CreateAlias', { AliasName: 'alias/cold-start-other', KeyId: KEY_ID }, { nonce: 'create-alias-nonce' }),
    );
    expect(JSON.parse(replay.body).Code).toBe('SignatureNonceUsed');
    expect(calls.calls.map((c) => c.command)).not.toContain('UpdateItem');
    expect(calls.calls.filter((c) => c.command === 'PutItem')).toHaveLength(1);
  });
});
