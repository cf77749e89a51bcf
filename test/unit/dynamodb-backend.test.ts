import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { EntryExistsError, EntryNotFoundError, RevisionConflictError, WriteOnceViolationError } from '../../lib/keystore/key-store.js';
import {
  createStateTable,
  DynamoDbKeyStore,
  type DynamoDbKeyStoreOptions,
  openDynamoDbBackend,
  STATE_TABLE_DEFINITION,
} from '../../lib/keystore/dynamodb/dynamodb-backend.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError, KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { createLogger } from '../../lib/logger.js';
import { createService } from '../../lib/service.js';
import { stateBackendConformance } from '../keystore/backend-conformance.js';
import { keyStoreConformance } from '../keystore/conformance.js';
import { awsErrors, serviceError } from '../keystore/aws-errors.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const noSleep = async () => undefined;

let dynalite: Dynalite;
/** The client that creates tables and reads raw items. */
let admin: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
  admin = dynalite.client();
});
afterAll(() => dynalite.stop());

/** A fresh state table on dynalite (which does not implement UpdateTimeToLive). */
async function freshTable(): Promise<string> {
  const tableName = `kms-state-${++tables}`;
  await createStateTable(admin, tableName, { timeToLive: false });
  return tableName;
}

interface Sent {
  command: string;
  input: Record<string, any>;
}

/**
 * A dynalite client that records every command it sends, and lets a test act around one: `around`
 * may run code after DynamoDB answered and then throw, as when an answer is lost on the way back.
 */
function recordingClient(around?: (sent: Sent, call: () => Promise<unknown>) => Promise<unknown>): { client: DynamoDBClient; sent: Sent[] } {
  const client = dynalite.client();
  const sent: Sent[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const record = { command: context.commandName as string, input: args.input as Record<string, any> };
      sent.push(record);
      if (!around) return next(args);
      return (await around(record, () => next(args))) as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return { client, sent };
}

keyStoreConformance('DynamoDbKeyStore on dynalite', async () => new DynamoDbKeyStore({ client: admin, tableName: await freshTable() }));

stateBackendConformance('dynamodb on dynalite', async () => {
  const tableName = await freshTable();
  // Two clients: two instances share nothing but the table.
  const a = await openDynamoDbBackend({ client: dynalite.client(), tableName });
  const b = await openDynamoDbBackend({ client: dynalite.client(), tableName });
  return { a, b };
});

describe('Module: dynamodb-backend', () => {
  describe('the table and its items (on dynalite)', () => {
    it('when the table is created, it has key pk (HASH) + sk (RANGE), both String, and on-demand billing', async () => {
      const tableName = await freshTable();
      const { Table } = await admin.send(new DescribeTableCommand({ TableName: tableName }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.AttributeDefinitions).toEqual(expect.arrayContaining(STATE_TABLE_DEFINITION.AttributeDefinitions.map((a) => ({ ...a }))));
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(STATE_TABLE_DEFINITION.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
      expect(Object.isFrozen(STATE_TABLE_DEFINITION.KeySchema[0])).toBe(true);
    });

    it('when an entry is created, it is one item under entry#<namespace> / <name>, after its namespace is registered once', async () => {
      const tableName = await freshTable();
      const { client, sent } = recordingClient();
      const store = new DynamoDbKeyStore({ client, tableName });
      await store.create('keys/k1', bytes('metadata'), { writeOnce: false });
      await store.create('keys/k2', bytes('metadata'), { writeOnce: true });
      const { Item } = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'entry#keys' }, sk: { S: 'keys/k1' } }, ConsistentRead: true }),
      );
      expect(Item).toEqual({
        pk: { S: 'entry#keys' },
        sk: { S: 'keys/k1' },
        kind: { S: 'entry' },
        value: { B: new Uint8Array(bytes('metadata')) },
        revision: { N: '1' },
        writeOnce: { BOOL: false },
        writer: { S: expect.any(String) },
      });
      const marker = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'namespaces' }, sk: { S: 'ns#keys' } }, ConsistentRead: true }),
      );
      expect(marker.Item).toEqual({ pk: { S: 'namespaces' }, sk: { S: 'ns#keys' }, kind: { S: 'namespace' } });
      // One marker put for the namespace, then one conditional put per entry; the mutable one moves the change marker.
      expect(sent.map((s) => s.command)).toEqual(['PutItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'PutItemCommand']);
      expect(sent[1]!.input).toMatchObject({
        ConditionExpression: 'attribute_not_exists(pk) OR #destroyed = :true',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      expect(sent[2]!.input).toMatchObject({
        Key: { pk: { S: 'changes' }, sk: { S: 'changes' } },
        UpdateExpression: 'ADD #generation :one SET #token = :token',
      });
    });

    it('when mutable entries are created, updated and deleted, the change marker is one item changes / changes whose generation counts them and whose token each replaces; read consistently', async () => {
      const tableName = await freshTable();
      const { client, sent } = recordingClient();
      const store = new DynamoDbKeyStore({ client, tableName });
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.update('keys/k', 1, bytes('v2'));
      await store.create('key-versions/k/v', bytes('m'), { writeOnce: true });
      await store.destroy('key-versions/k/v');
      await store.delete('keys/k', 2);
      await store.update('keys/k', 2, bytes('v3')).catch(() => undefined);
      const { Item } = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'changes' }, sk: { S: 'changes' } }, ConsistentRead: true }),
      );
      expect(Item).toEqual({ pk: { S: 'changes' }, sk: { S: 'changes' }, generation: { N: '3' }, token: { S: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      expect(await store.changes.read()).toBe(`3:${Item!.token!.S}`);
      const reads = sent.filter((s) => s.command === 'GetItemCommand' && s.input.Key.pk.S === 'changes');
      expect(reads).toHaveLength(1);
      for (const read of reads) expect(read.input).toMatchObject({ ConsistentRead: true });
      // The marker is no entry: no listing shows it.
      expect(await store.list('')).toEqual([]);
    });

    it('when the change marker cannot be moved after a write landed, the write is reported unavailable (not acknowledged), and the next write moves it', async () => {
      const tableName = await freshTable();
      let failMarker = true;
      const { client } = recordingClient(async (record, call) => {
        if (failMarker && record.command === 'UpdateItemCommand' && record.input.Key.pk.S === 'changes') throw awsErrors.throttling();
        return call();
      });
      const logger = {
        lines: [] as string[],
        debug() {},
        info() {},
        warn(message: string) {
          this.lines.push(message);
        },
        error() {},
        access() {},
      };
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep, logger });
      const other = new DynamoDbKeyStore({ client: admin, tableName });
      await other.create('keys/first', bytes('v'), { writeOnce: false });
      const before = await store.changes.read();
      const error = await store.create('aliases/a', bytes('k'), { writeOnce: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect(error).toMatchObject({ reason: 'throttled', operation: 'create', entry: 'aliases/a' });
      expect((error as Error).message).toMatch(/the write landed, but the change marker could not be moved/);
      expect(logger.lines).toEqual(['key store: a write landed but the change marker could not be moved']);
      expect(await store.get('aliases/a')).toEqual({ value: bytes('k'), revision: 1, writeOnce: false });
      // Not moved in the table (another instance reads it as it was), but this instance reads one
      // it never read before, and the same one until the next change: its own caches are dropped once.
      expect(await other.changes.read()).toBe(before);
      const after = await store.changes.read();
      expect(after).not.toBe(before);
      expect(await store.changes.read()).toBe(after);
      failMarker = false;
      await store.update('aliases/a', 1, bytes('k2'));
      expect(await other.changes.read()).not.toBe(before);
      expect(await store.changes.read()).not.toBe(after);
    });

    it('when the change marker cannot be moved, the move is tried twice more than another call (the entry landed); a move that fails only at first succeeds', async () => {
      const tableName = await freshTable();
      let failures = Number.POSITIVE_INFINITY;
      const { client, sent } = recordingClient(async (record, call) => {
        if (record.command === 'UpdateItemCommand' && record.input.Key.pk.S === 'changes' && failures-- > 0) throw awsErrors.throttling();
        return call();
      });
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep, attempts: 3 });
      const moves = () => sent.filter((s) => s.command === 'UpdateItemCommand' && s.input.Key.pk.S === 'changes').length;
      await expect(store.create('aliases/a', bytes('k'), { writeOnce: false })).rejects.toMatchObject({ reason: 'throttled' });
      expect(moves()).toBe(5);
      const marker = async () =>
        (await admin.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'changes' }, sk: { S: 'changes' } }, ConsistentRead: true }))).Item;
      expect(await marker()).toBeUndefined();
      failures = 4;
      expect(await store.update('aliases/a', 1, bytes('k2'))).toBe(2);
      expect(moves()).toBe(10);
      expect((await marker())?.generation).toEqual({ N: '1' });
    });

    it('when a write is refused with an answer (conflict, exists, missing, write-once), the marker as read here stays', async () => {
      const tableName = await freshTable();
      const store = new DynamoDbKeyStore({ client: admin, tableName });
      await store.create('keys/m', bytes('old'), { writeOnce: false });
      await store.create('versions/v', bytes('material'), { writeOnce: true });
      const before = await store.changes.read();
      await expect(store.update('keys/m', 7, bytes('x'))).rejects.toBeInstanceOf(RevisionConflictError);
      await expect(store.create('keys/m', bytes('x'), { writeOnce: false })).rejects.toBeInstanceOf(EntryExistsError);
      await expect(store.delete('keys/missing', 1)).rejects.toBeInstanceOf(EntryNotFoundError);
      await expect(store.update('versions/v', 1, bytes('x'))).rejects.toBeInstanceOf(WriteOnceViolationError);
      expect(await store.changes.read()).toBe(before);
    });

    it('when the service changed a key that way (503), its own next request reads the key as stored, not as it had cached it', async () => {
      const tableName = await freshTable();
      let failMarker = false;
      const { client } = recordingClient(async (record, call) => {
        if (failMarker && record.command === 'UpdateItemCommand' && record.input.Key.pk.S === 'changes') throw awsErrors.network();
        return call();
      });
      const service = createService({
        store: new DynamoDbKeyStore({ client, tableName, sleep: noSleep }),
        cacheTtlMs: 60_000,
        logger: createLogger({ level: 'silent' }),
      });
      const { keyId } = await service.keyring.createKey({ description: 'before' });
      await service.validateCaches();
      expect((await service.keyring.getKey(keyId))?.description).toBe('before');
      failMarker = true;
      await expect(service.keyring.updateKey(keyId, (key) => ({ ...key, description: 'landed' }))).rejects.toBeInstanceOf(KeyStoreUnavailableError);
      failMarker = false;
      await service.validateCaches();
      expect((await service.keyring.getKey(keyId))?.description).toBe('landed');
    });

    it('when the marker item is removed and made again, or rolled back by a restore, it never reads as a value read before, though its generation counts up again', async () => {
      const tableName = await freshTable();
      const store = new DynamoDbKeyStore({ client: admin, tableName });
      const markerItem = async () =>
        (await admin.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'changes' }, sk: { S: 'changes' } }, ConsistentRead: true }))).Item!;
      const seen = new Set<string>();
      const read = async () => {
        const value = await store.changes.read();
        expect(seen.has(value), `${value} was read before`).toBe(false);
        seen.add(value);
        return value;
      };
      // Absent (no mutable write yet): a value of its own each time.
      await read();
      await read();
      await store.create('keys/k', bytes('0'), { writeOnce: false });
      for (let i = 1; i <= 2; i++) await store.update('keys/k', i, bytes(String(i)));
      await read();
      const saved = await markerItem();
      expect(saved.generation).toEqual({ N: '3' });

      // Removed by hand: absent again, then made again by the next writes, up to the same generation.
      await admin.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'changes' }, sk: { S: 'changes' } } }));
      await read();
      await read();
      for (let i = 3; i <= 5; i++) await store.update('keys/k', i, bytes(String(i)));
      expect((await markerItem()).generation).toEqual({ N: '3' });
      await read();

      // Rolled back to what a backup held, then written up to the same generation again.
      await admin.send(new PutItemCommand({ TableName: tableName, Item: { ...saved, generation: { N: '2' } } }));
      await read();
      await store.update('keys/k', 6, bytes('6'));
      expect((await markerItem()).generation).toEqual({ N: '3' });
      await read();
    });

    it('when the marker item was written by a release before its token, it reads with an empty token until the next move', async () => {
      const tableName = await freshTable();
      const store = new DynamoDbKeyStore({ client: admin, tableName });
      await admin.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'changes' }, sk: { S: 'changes' }, generation: { N: '7' } } }));
      expect(await store.changes.read()).toBe('7:');
      expect(await store.changes.read()).toBe('7:');
      await store.create('keys/k', bytes('v'), { writeOnce: false });
      expect(await store.changes.read()).toMatch(/^8:[0-9a-f-]{36}$/);
    });

    it('when the change marker cannot be read, reading it rejects as KeyStoreUnavailableError (a cache must not be trusted)', async () => {
      const tableName = await freshTable();
      const { client } = recordingClient(async (record, call) => {
        if (record.command === 'GetItemCommand' && record.input.Key.pk.S === 'changes') throw awsErrors.network();
        return call();
      });
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep });
      await expect(store.changes.read()).rejects.toMatchObject({ name: 'KeyStoreUnavailableError', reason: 'network', operation: 'changes' });
    });

    it('when a nonce is claimed through the backend, it is an item nonce#<accessKeyId>#<nonce> / nonce with expiresAt in epoch seconds', async () => {
      const tableName = await freshTable();
      const backend = await openDynamoDbBackend({ client: admin, tableName });
      const expiresAt = Date.now() + 60_000;
      expect(await backend.nonces.claim('AK1', 'n-1', expiresAt)).toBe(true);
      const { Item } = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'nonce#AK1#n-1' }, sk: { S: 'nonce' } }, ConsistentRead: true }),
      );
      expect(Item).toMatchObject({ expiresAt: { N: String(Math.ceil(expiresAt / 1000)) }, claim: { S: expect.any(String) } });
      // Nonces are not entries: no list sees them.
      expect(await backend.store.list('')).toEqual([]);
      await backend.close();
    });

    it('when get and list read, they are consistent reads, and list pages through a namespace in byte order (pageSize 2)', async () => {
      const tableName = await freshTable();
      const { client, sent } = recordingClient();
      const store = new DynamoDbKeyStore({ client, tableName, pageSize: 2 });
      const names = ['keys/e', 'keys/B', 'keys/a', 'keys/a/1', 'keys/c', 'keys-other/x', 'keys'];
      for (const name of names) await store.create(name, bytes(name), { writeOnce: false });
      sent.length = 0;

      expect(await store.list('keys/')).toEqual(['keys/B', 'keys/a', 'keys/a/1', 'keys/c', 'keys/e']);
      const queries = sent.filter((s) => s.command === 'QueryCommand');
      expect(queries.length).toBeGreaterThanOrEqual(3);
      for (const q of queries) {
        expect(q.input).toMatchObject({ ConsistentRead: true, Limit: 2, ExpressionAttributeValues: { ':pk': { S: 'entry#keys' }, ':prefix': { S: 'keys/' } } });
      }
      expect(queries[0]!.input.ExclusiveStartKey).toBeUndefined();
      expect(queries[1]!.input.ExclusiveStartKey).toBeDefined();

      // A prefix without '/' spans namespaces: through the registry, then each namespace, merged.
      expect(await store.list('keys')).toEqual(['keys', 'keys-other/x', 'keys/B', 'keys/a', 'keys/a/1', 'keys/c', 'keys/e']);
      expect(await store.list('')).toEqual([...names].sort());
      expect(await store.list('k')).toEqual([...names].sort());
      expect(await store.list('keys-')).toEqual(['keys-other/x']);
      expect(await store.list('x')).toEqual([]);

      sent.length = 0;
      await store.get('keys/a');
      expect(sent).toEqual([{ command: 'GetItemCommand', input: expect.objectContaining({ ConsistentRead: true }) }]);
      expect(sent.filter((s) => s.command === 'QueryCommand')).toEqual([]);
    });

    it('when a destroy stops after zeroing the material, the entry reads as absent; destroying again, or creating the name, finishes it', async () => {
      const tableName = await freshTable();
      let refuseDelete = true;
      const { client } = recordingClient(async (sent, call) => {
        if (sent.command === 'DeleteItemCommand' && refuseDelete) throw awsErrors.accessDenied();
        return call();
      });
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep });
      await store.create('key-versions/k/v1', bytes('material'), { writeOnce: true });
      await store.create('key-versions/k/v2', bytes('material'), { writeOnce: true });
      await expect(store.destroy('key-versions/k/v1')).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);
      await expect(store.destroy('key-versions/k/v2')).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);

      const raw = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'entry#key-versions' }, sk: { S: 'key-versions/k/v1' } }, ConsistentRead: true }),
      );
      expect(raw.Item).toMatchObject({ value: { B: new Uint8Array(8) }, destroyed: { BOOL: true }, writeOnce: { BOOL: true } });
      expect(await store.get('key-versions/k/v1')).toBeUndefined();
      expect(await store.list('key-versions/')).toEqual([]);
      await expect(store.update('key-versions/k/v1', 1, bytes('x'))).rejects.toBeInstanceOf(EntryNotFoundError);

      refuseDelete = false;
      await expect(store.delete('key-versions/k/v1', 1)).rejects.toBeInstanceOf(EntryNotFoundError);
      await store.destroy('key-versions/k/v1');
      const after = await admin.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'entry#key-versions' }, sk: { S: 'key-versions/k/v1' } }, ConsistentRead: true }),
      );
      expect(after.Item).toBeUndefined();
      await store.create('key-versions/k/v2', bytes('again'), { writeOnce: true });
      expect(await store.get('key-versions/k/v2')).toEqual({ value: bytes('again'), revision: 1, writeOnce: true });
    });
  });

  describe('lost answers (on dynalite)', () => {
    /** A store whose first command matching `lose` lands in DynamoDB but whose answer is lost (a network error). */
    async function losingFirst(lose: (sent: Sent) => boolean, beforeLoss?: () => Promise<void>) {
      const tableName = await freshTable();
      let lost = false;
      const { client, sent } = recordingClient(async (record, call) => {
        const result = await call();
        if (lose(record) && !lost) {
          lost = true;
          await beforeLoss?.();
          throw awsErrors.network();
        }
        return result;
      });
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep });
      const other = new DynamoDbKeyStore({ client: admin, tableName });
      // Another instance, on its own client: its writes are never lost.
      return { store, other, sent };
    }

    it('when a create landed but its answer was lost, the retry recognizes its own write and succeeds', async () => {
      // The entry's put (the conditional one), not the namespace marker's.
      const { store, sent } = await losingFirst((s) => s.command === 'PutItemCommand' && s.input.ConditionExpression !== undefined);
      await store.create('keys/k', bytes('v'), { writeOnce: false });
      expect(await store.get('keys/k')).toEqual({ value: bytes('v'), revision: 1, writeOnce: false });
      expect(sent.filter((s) => s.command === 'PutItemCommand' && s.input.ConditionExpression !== undefined)).toHaveLength(2);
      await expect(store.create('keys/k', bytes('v'), { writeOnce: false })).rejects.toBeInstanceOf(EntryExistsError);
    });

    it('when an update landed but its answer was lost, the retry recognizes its own write and returns the new revision', async () => {
      const { store, other } = await losingFirst((s) => s.command === 'UpdateItemCommand');
      await other.create('keys/k', bytes('v1'), { writeOnce: false });
      expect(await store.update('keys/k', 1, bytes('v2'))).toBe(2);
      expect(await store.get('keys/k')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
    });

    it('when an update landed unseen and another writer updated on top of it, the outcome is unknown: unavailable, not a conflict', async () => {
      let other!: DynamoDbKeyStore;
      const setup = await losingFirst(
        (s) => s.command === 'UpdateItemCommand',
        async () => {
          await other.update('keys/k', 2, bytes('theirs'));
        },
      );
      other = setup.other;
      await other.create('keys/k', bytes('v1'), { writeOnce: false });
      const error = await setup.store.update('keys/k', 1, bytes('ours')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect(error).toMatchObject({ reason: 'unknown-outcome', operation: 'update', entry: 'keys/k' });
    });

    it('when an update failed unseen and another writer took the revision, it is a conflict', async () => {
      const tableName = await freshTable();
      const other = new DynamoDbKeyStore({ client: admin, tableName });
      await other.create('keys/k', bytes('v1'), { writeOnce: false });
      let failed = false;
      const { client } = recordingClient(async (record, call) => {
        if (record.command === 'UpdateItemCommand' && !failed) {
          failed = true;
          await other.update('keys/k', 1, bytes('theirs'));
          throw awsErrors.timeout();
        }
        return call();
      });
      const store = new DynamoDbKeyStore({ client, tableName, sleep: noSleep });
      await expect(store.update('keys/k', 1, bytes('ours'))).rejects.toBeInstanceOf(RevisionConflictError);
      expect((await store.get('keys/k'))!.value.toString()).toBe('theirs');
    });

    it('when a delete landed but its answer was lost, the retry finds the entry gone and succeeds', async () => {
      const { store, other } = await losingFirst((s) => s.command === 'DeleteItemCommand');
      await other.create('aliases/a', bytes('k'), { writeOnce: false });
      await store.delete('aliases/a', 1);
      expect(await store.get('aliases/a')).toBeUndefined();
    });
  });

  describe('failures (aws-sdk-client-mock)', () => {
    const mocked = new DynamoDBClient({ region: 'us-east-1' });
    const ddb = mockClient(mocked);
    afterAll(() => ddb.restore());
    beforeEach(() => ddb.reset());

    const entryItem = {
      pk: { S: 'entry#keys' },
      sk: { S: 'keys/a' },
      kind: { S: 'entry' },
      value: { B: bytes('v') },
      revision: { N: '1' },
      writeOnce: { BOOL: false },
    };
    let pauses: number[];
    const makeStore = (options: Partial<DynamoDbKeyStoreOptions> = {}) => {
      pauses = [];
      return new DynamoDbKeyStore({ client: mocked, tableName: 'kms-state', sleep: async (ms) => void pauses.push(ms), ...options });
    };

    it('when DynamoDB throttles once and then answers, the read is retried after a jittered pause and succeeds', async () => {
      ddb.on(GetItemCommand).rejectsOnce(awsErrors.throttling()).resolves({ Item: entryItem });
      const store = makeStore({ random: () => 0.5 });
      expect(await store.get('keys/a')).toEqual({ value: bytes('v'), revision: 1, writeOnce: false });
      expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 2);
      expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
        TableName: 'kms-state',
        Key: { pk: { S: 'entry#keys' }, sk: { S: 'keys/a' } },
        ConsistentRead: true,
      });
      expect(pauses).toEqual([50]); // random 0.5 × min(1000, 50·2¹)
    });

    it('when DynamoDB throttles a create once, the put is retried and the create succeeds', async () => {
      ddb.on(PutItemCommand).rejectsOnce(awsErrors.throttling()).resolves({});
      await makeStore().create('keys/a', bytes('v'), { writeOnce: false });
      // The namespace marker's put (throttled, then retried), then the entry's.
      expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 3);
    });

    it.each([
      ['get', (s: DynamoDbKeyStore) => s.get('keys/a'), GetItemCommand],
      ['create', (s: DynamoDbKeyStore) => s.create('keys/a', bytes('v'), { writeOnce: false }), PutItemCommand],
      ['update', (s: DynamoDbKeyStore) => s.update('keys/a', 1, bytes('v')), UpdateItemCommand],
      ['delete', (s: DynamoDbKeyStore) => s.delete('keys/a', 1), DeleteItemCommand],
      ['list', (s: DynamoDbKeyStore) => s.list('keys/'), QueryCommand],
    ] as const)('when DynamoDB keeps throttling %s, it fails after 3 attempts with KeyStoreUnavailableError (throttled)', async (operation, run, command) => {
      ddb.onAnyCommand().rejects(awsErrors.throttling());
      const error = await run(makeStore()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect(error).toMatchObject({ reason: 'throttled', operation });
      expect(ddb).toHaveReceivedCommandTimes(command as typeof GetItemCommand, 3);
      expect(pauses).toHaveLength(2);
    });

    it.each([
      ['a timeout', awsErrors.timeout, 'timeout'],
      ['a reset connection', awsErrors.network, 'network'],
      ['an internal server error', awsErrors.internal, 'server'],
    ] as const)('when every attempt of a read ends in %s, it is KeyStoreUnavailableError with that reason', async (_label, make, reason) => {
      ddb.on(GetItemCommand).rejects(make());
      await expect(makeStore().get('keys/a')).rejects.toMatchObject({ name: 'KeyStoreUnavailableError', reason });
      expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 3);
    });

    it('when DynamoDB denies access, it fails at once with KeyStoreAccessDeniedError', async () => {
      ddb.onAnyCommand().rejects(awsErrors.accessDenied());
      const store = makeStore();
      await expect(store.get('keys/a')).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);
      await expect(store.create('keys/a', bytes('v'), { writeOnce: true })).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);
      await expect(store.list('')).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);
      expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 1);
      expect(pauses).toEqual([]);
    });

    it('when the table does not exist, or an item is not an entry, it is KeyStoreFailureError', async () => {
      ddb.on(GetItemCommand).rejects(serviceError('ResourceNotFoundException', 'Requested resource not found'));
      await expect(makeStore().get('keys/a')).rejects.toBeInstanceOf(KeyStoreFailureError);
      ddb.reset();
      ddb.on(GetItemCommand).resolves({ Item: { ...entryItem, revision: { N: 'x' } } });
      const error = await makeStore()
        .get('keys/a')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreFailureError);
      expect(String(error)).not.toContain('v');
    });

    it('when a conditional write fails, the item DynamoDB returns with the failure (ALL_OLD) tells the cases apart without another read', async () => {
      const failure = (Item?: Record<string, any>) =>
        new ConditionalCheckFailedException({ $metadata: {}, message: 'The conditional request failed', ...(Item ? { Item } : {}) });
      const store = makeStore();
      ddb.on(UpdateItemCommand).rejects(failure({ ...entryItem, writeOnce: { BOOL: true } }));
      await expect(store.update('keys/a', 1, bytes('x'))).rejects.toBeInstanceOf(WriteOnceViolationError);
      ddb.on(UpdateItemCommand).rejects(failure({ ...entryItem, revision: { N: '4' } }));
      await expect(store.update('keys/a', 1, bytes('x'))).rejects.toBeInstanceOf(RevisionConflictError);
      // The namespace marker's put is unconditional; the entry's is refused.
      ddb.on(PutItemCommand).callsFake((input: { ConditionExpression?: string }) => {
        if (input.ConditionExpression) throw failure(entryItem);
        return {};
      });
      await expect(store.create('keys/a', bytes('x'), { writeOnce: false })).rejects.toBeInstanceOf(EntryExistsError);
      expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 0);
      expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
        ConditionExpression: '#revision = :expected AND #writeOnce = :false',
        ExpressionAttributeValues: expect.objectContaining({ ':expected': { N: '1' }, ':next': { N: '2' }, ':false': { BOOL: false } }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    });

    it('when a nonce claim cannot reach DynamoDB, the backend fails closed with ServiceUnavailableError', async () => {
      ddb.on(PutItemCommand).rejects(awsErrors.network());
      const backend = await openDynamoDbBackend({ client: mocked, tableName: 'kms-state' });
      const error = await backend.nonces.claim('AK1', 'n-1', Date.now() + 60_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
        TableName: 'kms-state',
        Item: expect.objectContaining({ pk: { S: 'nonce#AK1#n-1' }, sk: { S: 'nonce' } }),
      });
      await backend.close();
    });

    it('when createStateTable runs against DynamoDB, it creates the table, waits for ACTIVE, and turns TTL on for expiresAt', async () => {
      ddb.on(CreateTableCommand).resolves({ TableDescription: { TableStatus: 'CREATING' } });
      ddb
        .on(DescribeTableCommand)
        .resolvesOnce({ Table: { TableStatus: 'CREATING' } })
        .resolves({ Table: { TableStatus: 'ACTIVE' } });
      ddb.on(UpdateTimeToLiveCommand).resolves({});
      await createStateTable(mocked, 'kms-state');
      expect(ddb).toHaveReceivedCommandWith(CreateTableCommand, {
        TableName: 'kms-state',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      });
      expect(ddb).toHaveReceivedCommandTimes(DescribeTableCommand, 2);
      expect(ddb).toHaveReceivedCommandWith(UpdateTimeToLiveCommand, {
        TableName: 'kms-state',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });
  });

  describe('function openDynamoDbBackend', () => {
    afterEach(() => vi.restoreAllMocks());

    it('when no client is given, it builds one and destroys it on close; a given client is left open', async () => {
      const destroy = vi.spyOn(DynamoDBClient.prototype, 'destroy');
      const built = await openDynamoDbBackend({ region: 'eu-west-1', tableName: 'kms-state' });
      expect(built.kind).toBe('dynamodb');
      await built.close();
      await built.close();
      expect(destroy).toHaveBeenCalledTimes(1);
      const given = await openDynamoDbBackend({ client: admin, tableName: 'kms-state' });
      await given.close();
      expect(destroy).toHaveBeenCalledTimes(1);
    });

    it('when the table name is not a DynamoDB table name, it refuses it', async () => {
      await expect(openDynamoDbBackend({ client: admin, tableName: 'no spaces' })).rejects.toThrow(/table name/);
    });
  });
});
