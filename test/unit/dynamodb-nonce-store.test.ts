import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbNonceStore, partitionKey } from '../../lib/keystore/dynamodb/dynamodb-nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import { FakeDynamoDb, evaluate } from '../helpers/dynamodb-fake.js';
import { awsErrors } from '../keystore/aws-errors.js';

const TABLE = 'kms-nonces-test';
const client = new DynamoDBClient({ region: 'us-east-1' });
const ddb = mockClient(client);
afterAll(() => ddb.restore());

describe('Module: dynamodb-nonce-store', () => {
  let clock: number;
  let fake: FakeDynamoDb;
  let logs: Array<Record<string, any>>;
  const makeStore = () =>
    new DynamoDbNonceStore({
      client,
      tableName: TABLE,
      now: () => clock,
      sleep: async () => undefined,
      logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
    });

  beforeEach(() => {
    clock = Date.parse('2025-01-01T00:00:00.250Z');
    ddb.reset();
    fake = new FakeDynamoDb({ [TABLE]: 'pk' }).install(ddb);
    logs = [];
  });

  describe('class DynamoDbNonceStore', () => {
    it('when a nonce is claimed, it is one conditional PutItem of {pk, expiresAt in epoch seconds}', async () => {
      const store = makeStore();
      expect(await store.claim('AK1', 'nonce-1', clock + 900_000)).toBe(true);
      expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutItemCommand, {
        TableName: TABLE,
        Item: { pk: { S: 'AK1#nonce-1' }, expiresAt: { N: String(Math.ceil((clock + 900_000) / 1000)) }, claim: { S: expect.any(String) } },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': { N: String(Math.floor(clock / 1000)) } },
      });
    });

    it('when the same nonce comes again for the same access key, it is refused; for another key it is fine', async () => {
      const store = makeStore();
      expect(await store.claim('AK1', 'n', clock + 60_000)).toBe(true);
      expect(await store.claim('AK1', 'n', clock + 60_000)).toBe(false);
      expect(await store.claim('AK2', 'n', clock + 60_000)).toBe(true);
    });

    it('when two instances share the table, a nonce claimed by one is refused by the other', async () => {
      const a = makeStore();
      const b = makeStore();
      expect(await a.claim('AK1', 'shared', clock + 60_000)).toBe(true);
      expect(await b.claim('AK1', 'shared', clock + 60_000)).toBe(false);
      expect(await b.claim('AK1', 'other', clock + 60_000)).toBe(true);
      expect(await a.claim('AK1', 'other', clock + 60_000)).toBe(false);
    });

    it('when 20 instances race to claim one nonce, exactly one wins', async () => {
      const stores = Array.from({ length: 20 }, makeStore);
      const results = await Promise.all(stores.map((s) => s.claim('AK1', 'race', clock + 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("when an item has expired but DynamoDB's TTL has not deleted it yet, the nonce may be used again", async () => {
      const store = makeStore();
      expect(await store.claim('AK1', 'n', clock + 1_000)).toBe(true);
      clock += 1_000; // not yet past the (rounded-up) expiry second
      expect(await store.claim('AK1', 'n', clock + 1_000)).toBe(false);
      clock += 2_000;
      expect(fake.items(TABLE)).toHaveLength(1); // still there: TTL deletion is lazy
      expect(await store.claim('AK1', 'n', clock + 1_000)).toBe(true);
      expect(Number(fake.items(TABLE)[0]!.expiresAt!.N)).toBe(Math.ceil((clock + 1_000) / 1000));
      fake.sweep(TABLE, 'expiresAt', Math.floor((clock + 5_000) / 1000));
      expect(fake.items(TABLE)).toHaveLength(0);
    });

    it('when a claim landed but its answer was lost, the retry recognizes its own claim and accepts', async () => {
      const store = makeStore();
      let lost = false;
      // The fake answers the retry with ConditionalCheckFailed carrying the old item: ours.
      ddb.on(PutItemCommand).callsFake((input) => {
        if (!lost) {
          lost = true;
          fake.putItem(input);
          throw awsErrors.network();
        }
        return fake.putItem(input);
      });
      expect(await store.claim('AK1', 'n', clock + 60_000)).toBe(true);
      expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 2);
      expect(await store.claim('AK1', 'n', clock + 60_000)).toBe(false);
    });

    it.each([
      ['ThrottlingException (after retries)', awsErrors.throttling, 3],
      ['InternalServerError (after retries)', awsErrors.internal, 3],
      ['a timeout (after retries)', awsErrors.timeout, 3],
      ['AccessDeniedException', awsErrors.accessDenied, 1],
      ['ResourceNotFoundException (no such table)', undefined, 1],
    ] as const)('when DynamoDB fails with %s, the claim fails closed with ServiceUnavailableError, logged', async (_label, make, calls) => {
      const store = make
        ? makeStore()
        : new DynamoDbNonceStore({
            client,
            tableName: 'no-such-table',
            now: () => clock,
            logger: createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l)) }),
          });
      if (make) fake.failure = () => make();
      const error = await store.claim('AK1', 'n', clock + 60_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ statusCode: 503, code: 'ServiceUnavailableTemporary' });
      expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, calls);
      expect(logs.find((l) => l.level === 'error')).toMatchObject({ message: expect.stringContaining('fail closed'), table: expect.any(String) });
    });

    it('when a nonce is too long for a partition key, it is hashed and still single-use', async () => {
      const store = makeStore();
      const long = 'x'.repeat(5_000);
      expect(await store.claim('AK1', long, clock + 60_000)).toBe(true);
      expect(await store.claim('AK1', long, clock + 60_000)).toBe(false);
      expect(await store.claim('AK1', `${long}y`, clock + 60_000)).toBe(true);
      expect(partitionKey('AK1', long)).toMatch(/^AK1##sha256:[0-9a-f]{64}$/);
      expect(partitionKey('AK1', 'short')).toBe('AK1#short');
    });

    it('when the table name is not a DynamoDB table name, the constructor refuses it', () => {
      expect(() => new DynamoDbNonceStore({ client, tableName: 'no spaces allowed' })).toThrow(/table name/);
    });
  });

  describe("the fake's condition evaluator", () => {
    const item = { pk: { S: 'a' }, expiresAt: { N: '100' } };
    it.each([
      ['attribute_not_exists(pk) OR expiresAt < :now', {}, { ':now': { N: '50' } }, true],
      ['attribute_not_exists(pk) OR expiresAt < :now', item, { ':now': { N: '50' } }, false],
      ['attribute_not_exists(pk) OR expiresAt < :now', item, { ':now': { N: '101' } }, true],
      ['attribute_not_exists(pk) OR expiresAt < :now', item, { ':now': { N: '100' } }, false],
      ['attribute_exists(#k) AND NOT (expiresAt >= :now)', item, { ':now': { N: '101' } }, true],
    ] as const)('%s on %j with %j is %s', (expression, on, values, expected) => {
      expect(evaluate(expression, on, { '#k': 'pk' }, values)).toBe(expected);
    });
  });
});
