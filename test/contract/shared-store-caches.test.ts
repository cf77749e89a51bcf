import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/actions.js';
import { applySeed } from '../../lib/seed.js';
import type { StateBackend } from '../../lib/keystore/backend.js';
import { createStateTable, openDynamoDbBackend } from '../../lib/keystore/dynamodb/dynamodb-backend.js';
import { openFileBackend } from '../../lib/keystore/file/file-backend.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { openPostgresBackend } from '../../lib/keystore/postgres/postgres-backend.js';
import { KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { createLogger } from '../../lib/logger.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { createService, type Service } from '../../lib/service.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, OTHER_KEY_ID, PROVIDER, REGION, TEST_SEED } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';

/*
 * Two instances of the service on one store (two gateways on a data directory, two nodes on a
 * database, two Lambdas on a table), each trusting what it caches for a minute: a change
 * acknowledged through one is what the other answers on its very next request — a key's state,
 * an alias, an access key — on every backend. A change marker that cannot be read is a 503, never
 * an answer from a cache that may be stale.
 */

/** Long enough that only the change marker can explain a fresh answer. */
const CACHE_TTL_MS = 60_000;

interface Instance {
  service: Service;
  call(credentials: Credentials, action: string, params?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }>;
}

function instance(store: KeyStore): Instance {
  const service = createService({ store, region: REGION, accountId: ACCOUNT_ID, cacheTtlMs: CACHE_TTL_MS, logger: createLogger({ level: 'silent' }) });
  const dispatch = createDispatcher(service, OPERATIONS);
  return {
    service,
    async call(credentials, action, params = {}) {
      const response = await dispatch(signedRpcRequest(credentials, action, params));
      return { status: response.statusCode, body: JSON.parse(response.body.toString()) as Record<string, any> };
    },
  };
}

/** B's store, whose change marker the test can make unreadable (as an outage would). */
function withMarkerFault(inner: KeyStore): { store: KeyStore; failMarker(fail: boolean): void } {
  let failing = false;
  const store: KeyStore = {
    create: (...args) => inner.create(...args),
    get: (...args) => inner.get(...args),
    update: (...args) => inner.update(...args),
    delete: (...args) => inner.delete(...args),
    destroy: (...args) => inner.destroy(...args),
    list: (...args) => inner.list(...args),
    changes: {
      read: () => (failing ? Promise.reject(new KeyStoreUnavailableError('network', 'changes', undefined)) : inner.changes!.read()),
    },
  };
  return { store, failMarker: (fail) => (failing = fail) };
}

interface Backend {
  name: string;
  /** Two stores on one fresh, empty state, as two instances open it. */
  openPair(): Promise<{ a: KeyStore; b: KeyStore }>;
}

let postgres: TestPostgres;
let dynalite: Dynalite;
const toClose: StateBackend[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  [postgres, dynalite] = await Promise.all([startPostgres(), startDynalite()]);
}, 60_000);
afterAll(async () => {
  await Promise.all(toClose.splice(0).map((backend) => backend.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  await dynalite?.stop();
  await postgres?.stop();
});

const pairOf = async (open: () => Promise<StateBackend>) => {
  const [a, b] = await Promise.all([open(), open()]);
  toClose.push(a, b);
  return { a: a.store, b: b.store };
};

const BACKENDS: Backend[] = [
  {
    name: 'memory (one store, two services)',
    async openPair() {
      const store = new MemoryKeyStore();
      return { a: store, b: store };
    },
  },
  {
    name: 'file (two stores on one data directory)',
    async openPair() {
      const dir = await mkdtemp(join(tmpdir(), 'kms-shared-caches-'));
      dirs.push(dir);
      return pairOf(() => openFileBackend(dir));
    },
  },
  {
    name: 'postgres (two backends on one schema)',
    async openPair() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      return pairOf(() => openPostgresBackend({ connectionString: postgres.url, schema }));
    },
  },
  {
    name: 'dynamodb on dynalite (two backends, each with its own client, on one table)',
    async openPair() {
      const tableName = `kms-shared-${randomBytes(4).toString('hex')}`;
      await createStateTable(dynalite.client(), tableName, { timeToLive: false });
      return pairOf(() => openDynamoDbBackend({ client: dynalite.client(), tableName }));
    },
  },
];

describe.each(BACKENDS)('Contract: a change acknowledged through one instance is what the other answers next — $name', (backend) => {
  let a: Instance;
  let b: Instance;
  let failMarker: (fail: boolean) => void;
  beforeAll(async () => {
    const stores = await backend.openPair();
    const faulty = withMarkerFault(stores.b);
    failMarker = faulty.failMarker;
    a = instance(stores.a);
    b = instance(faulty.store);
    await applySeed(TEST_SEED, a.service);
  }, 60_000);

  it("DisableKey and EnableKey through A: B's next GenerateDataKey follows each, every time", async () => {
    for (let round = 0; round < 3; round++) {
      expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
      expect((await a.call(ADMIN, 'DisableKey', { KeyId: KEY_ID })).status).toBe(200);
      expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).body.Code).toBe('Rejected.Disabled');
      expect((await a.call(ADMIN, 'EnableKey', { KeyId: KEY_ID })).status).toBe(200);
    }
    expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
  });

  it("ScheduleKeyDeletion and CancelKeyDeletion through A: B's next DescribeKey shows each", async () => {
    const state = async (via: Instance) => (await via.call(ADMIN, 'DescribeKey', { KeyId: OTHER_KEY_ID })).body.KeyMetadata.KeyState as string;
    expect(await state(b)).toBe('Enabled');
    expect((await a.call(ADMIN, 'ScheduleKeyDeletion', { KeyId: OTHER_KEY_ID, PendingWindowInDays: '7' })).status).toBe(200);
    expect(await state(b)).toBe('PendingDeletion');
    expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: OTHER_KEY_ID })).body.Code).toBe('Rejected.PendingDeletion');
    expect((await a.call(ADMIN, 'CancelKeyDeletion', { KeyId: OTHER_KEY_ID })).status).toBe(200);
    const after = await state(a);
    expect(after).not.toBe('PendingDeletion');
    expect(await state(b)).toBe(after);
  });

  it('an alias moved, deleted and created again through A: B resolves it to where it points now', async () => {
    const keyOf = async (via: Instance) => {
      const answer = await via.call(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
      return answer.status === 200 ? (answer.body.KeyId as string) : (answer.body.Code as string);
    };
    expect(await keyOf(b)).toBe(KEY_ID);
    expect((await a.call(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: OTHER_KEY_ID })).status).toBe(200);
    expect(await keyOf(b)).toBe(OTHER_KEY_ID);
    expect((await a.call(ADMIN, 'DeleteAlias', { AliasName: ALIAS })).status).toBe(200);
    expect(await keyOf(b)).toBe('Forbidden.AliasNotFound');
    expect((await a.call(ADMIN, 'CreateAlias', { AliasName: ALIAS, KeyId: KEY_ID })).status).toBe(200);
    expect(await keyOf(b)).toBe(KEY_ID);
  });

  it("an access key disabled, enabled, given another policy, deleted, or created through A (as the CLI does): B's next request signed with it follows", async () => {
    const provide = async (credentials: Credentials) => {
      const answer = await b.call(credentials, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID });
      return answer.status === 200 ? 'OK' : (answer.body.Code as string);
    };
    expect(await provide(PROVIDER)).toBe('OK');
    await a.service.accessKeys.setStatus(PROVIDER.accessKeyId, 'Disabled');
    expect(await provide(PROVIDER)).toBe('InvalidAccessKeyId.Inactive');
    await a.service.accessKeys.setStatus(PROVIDER.accessKeyId, 'Enabled');
    expect(await provide(PROVIDER)).toBe('OK');
    await a.service.accessKeys.setPolicy(PROVIDER.accessKeyId, { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['*'] }] });
    expect(await provide(PROVIDER)).toBe('Forbidden.NoPermission');
    await a.service.accessKeys.delete(PROVIDER.accessKeyId);
    expect(await provide(PROVIDER)).toBe('InvalidAccessKeyId.NotFound');

    // Unknown to B (and so cached as unknown), then created through A.
    const fresh: Credentials = { accessKeyId: 'LTAIsharedcache0001', accessKeySecret: 'shared-cache-secret-0123456789' };
    expect(await provide(fresh)).toBe('InvalidAccessKeyId.NotFound');
    await a.service.accessKeys.create({
      ...fresh,
      status: 'Enabled',
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext'], Resource: ['*'] }] },
      createdAt: new Date().toISOString(),
    });
    expect(await provide(fresh)).toBe('OK');
  });

  it('when B cannot read the change marker, it answers 503 ServiceUnavailableTemporary, not what it cached; once it can, it answers from the store', async () => {
    expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
    failMarker(true);
    try {
      for (const action of ['GenerateDataKey', 'DescribeKey']) {
        const answer = await b.call(ADMIN, action, { KeyId: KEY_ID });
        expect(answer.status).toBe(503);
        expect(answer.body.Code).toBe('ServiceUnavailableTemporary');
      }
      // A change meanwhile, with the caches of B as they were.
      expect((await a.call(ADMIN, 'DisableKey', { KeyId: KEY_ID })).status).toBe(200);
    } finally {
      failMarker(false);
    }
    expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).body.Code).toBe('Rejected.Disabled');
    expect((await a.call(ADMIN, 'EnableKey', { KeyId: KEY_ID })).status).toBe(200);
    expect((await b.call(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
  });
});

/**
 * A's store: a write of the entry named by {@link holdAnswerOf} lands on `inner` (and moves its
 * marker), then its answer waits until the test releases it — as a DynamoDB write whose marker
 * ADD is retried, or a slow fsync, keeps it.
 */
function withLateAnswers(inner: KeyStore) {
  const held = new Map<string, { landed: () => void; answer: Promise<void> }>();
  const late =
    <A extends [string, ...unknown[]], T>(write: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      const result = await write(...args);
      const hold = held.get(args[0]);
      if (hold) {
        held.delete(args[0]);
        hold.landed();
        await hold.answer;
      }
      return result;
    };
  const store: KeyStore = {
    create: late((name, value: Uint8Array, options: { writeOnce: boolean }) => inner.create(name, value, options)),
    get: (name) => inner.get(name),
    update: late((name, revision: number, value: Uint8Array) => inner.update(name, revision, value)),
    delete: late((name, revision: number) => inner.delete(name, revision)),
    destroy: (name) => inner.destroy(name),
    list: (prefix) => inner.list(prefix),
    changes: inner.changes,
  };
  return {
    store,
    /** Holds the answer of the next write of `name`: `landed` resolves once it is in the store. */
    holdAnswerOf(name: string): { landed: Promise<void>; release(): void } {
      let landed!: () => void;
      let release!: () => void;
      const landedPromise = new Promise<void>((resolve) => (landed = resolve));
      held.set(name, { landed, answer: new Promise<void>((resolve) => (release = resolve)) });
      return { landed: landedPromise, release };
    },
  };
}

describe('Contract: a write whose answer comes late never puts its value back over a later one (memory store, two services)', () => {
  const KEY_A = '33333333-2222-4333-8444-555555555555';
  const KEY_B = '44444444-2222-4333-8444-555555555555';
  const KEY_C = '55555555-2222-4333-8444-555555555555';
  const KEY_NEW = '66666666-2222-4333-8444-555555555555';
  const LATE_ALIAS = 'alias/late';
  const ACCESS_KEY = 'LTAIlateanswer0001';

  interface Case {
    name: string;
    /** The entry whose write through A answers late. */
    entry: string;
    setup?(a: Service): Promise<void>;
    /** Through A: lands, then answers late. */
    writeA(a: Service): Promise<unknown>;
    /** Through B, after A's write landed and before it answered. */
    writeB(b: Service): Promise<unknown>;
    /** What A reads through its cache, and what it must be: B's. */
    read(a: Service): Promise<unknown>;
    expected: unknown;
  }

  const description = async (a: Service) => (await a.keyring.getKey(KEY_A))?.description;
  const aliasTarget = async (a: Service) => (await a.keyring.getAlias(LATE_ALIAS))?.keyId ?? 'none';
  const createKeys = async (a: Service) => {
    for (const keyId of [KEY_A, KEY_B, KEY_C]) await a.keyring.createKey({ keyId });
  };
  const CASES: Case[] = [
    {
      name: 'a key record updated (updateKey)',
      entry: `keys/${KEY_A}`,
      setup: createKeys,
      writeA: (a) => a.keyring.updateKey(KEY_A, (key) => ({ ...key, description: 'A' })),
      writeB: (b) => b.keyring.updateKey(KEY_A, (key) => ({ ...key, description: 'B' })),
      read: description,
      expected: 'B',
    },
    {
      name: 'a key record created (createKey), then changed through B',
      entry: `keys/${KEY_NEW}`,
      writeA: (a) => a.keyring.createKey({ keyId: KEY_NEW, description: 'A' }),
      writeB: (b) => b.keyring.updateKey(KEY_NEW, (key) => ({ ...key, description: 'B' })),
      read: async (a) => (await a.keyring.getKey(KEY_NEW))?.description,
      expected: 'B',
    },
    {
      name: 'an alias moved (updateAlias)',
      entry: `aliases/late`,
      setup: async (a) => {
        await createKeys(a);
        await a.keyring.createAlias(LATE_ALIAS, KEY_A);
      },
      writeA: (a) => a.keyring.updateAlias(LATE_ALIAS, KEY_B, KEY_A),
      writeB: (b) => b.keyring.updateAlias(LATE_ALIAS, KEY_C, KEY_B),
      read: aliasTarget,
      expected: KEY_C,
    },
    {
      name: 'an alias created (createAlias), then moved through B',
      entry: `aliases/late`,
      setup: createKeys,
      writeA: (a) => a.keyring.createAlias(LATE_ALIAS, KEY_A),
      writeB: (b) => b.keyring.updateAlias(LATE_ALIAS, KEY_B, KEY_A),
      read: aliasTarget,
      expected: KEY_B,
    },
    {
      name: 'an alias deleted (deleteAlias), then created again through B',
      entry: `aliases/late`,
      setup: async (a) => {
        await createKeys(a);
        await a.keyring.createAlias(LATE_ALIAS, KEY_A);
      },
      writeA: (a) => a.keyring.deleteAlias(LATE_ALIAS, KEY_A),
      writeB: (b) => b.keyring.createAlias(LATE_ALIAS, KEY_B),
      read: aliasTarget,
      expected: KEY_B,
    },
    {
      name: 'an access key disabled (setStatus), then enabled through B',
      entry: `access-keys/${ACCESS_KEY}`,
      setup: (a) =>
        a.accessKeys.create({
          accessKeyId: ACCESS_KEY,
          accessKeySecret: 'late-answer-secret-0123456789',
          status: 'Enabled',
          policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['*'] }] },
          createdAt: new Date().toISOString(),
        }),
      writeA: (a) => a.accessKeys.setStatus(ACCESS_KEY, 'Disabled'),
      writeB: (b) => b.accessKeys.setStatus(ACCESS_KEY, 'Enabled'),
      read: async (a) => (await a.accessKeys.lookup(ACCESS_KEY))?.enabled,
      expected: true,
    },
  ];

  it.each(CASES)("$name: once A validated after B's write, A reads B's value, before and after its own write answers", async (c) => {
    const shared = new MemoryKeyStore();
    const late = withLateAnswers(shared);
    const options = { region: REGION, accountId: ACCOUNT_ID, cacheTtlMs: CACHE_TTL_MS, logger: createLogger({ level: 'silent' }) };
    const a = createService({ ...options, store: late.store });
    const b = createService({ ...options, store: shared });
    await c.setup?.(a);
    await a.validateCaches();
    await c.read(a);

    const held = late.holdAnswerOf(c.entry);
    const writeA = c.writeA(a);
    await held.landed;
    await c.writeB(b);
    await a.validateCaches();
    expect(await c.read(a)).toEqual(c.expected);

    held.release();
    await writeA;
    await a.validateCaches();
    expect(await c.read(a)).toEqual(c.expected);
    // And it stays so: nothing moves the marker any more.
    await a.validateCaches();
    expect(await c.read(a)).toEqual(c.expected);
  });
});
