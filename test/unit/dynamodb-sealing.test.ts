import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbKeyStore } from '../../lib/keystore/dynamodb/dynamodb-store.js';
import { entryKey } from '../../lib/keystore/dynamodb/items.js';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';

/*
 * What sealing a `dynamodb` table in place needs of DynamoDbKeyStore: `reencode` — a value
 * re-encoded in place, revision and write-once flag kept, never over a value another writer
 * changed meanwhile (the whole seal over dynalite: aws-state-and-material, dynamodb-sealed-at-rest).
 */

let dynalite: Dynalite;
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(() => dynalite.stop());

async function freshStore(): Promise<{ store: DynamoDbKeyStore; tableName: string }> {
  const tableName = `kms-sealing-${++tables}`;
  await createStateTable(dynalite.client(), tableName, { timeToLive: false });
  return { store: new DynamoDbKeyStore({ client: dynalite.client(), tableName }), tableName };
}

describe('Method: DynamoDbKeyStore.reencode', () => {
  it('when a write-once value is re-encoded, the item holds the new bytes with its revision and write-once flag; the change marker stays', async () => {
    const { store } = await freshStore();
    await store.create('key-versions/k/v', Buffer.from('material'), { writeOnce: true });
    await store.create('keys/k', Buffer.from('record'), { writeOnce: false });
    await store.update('keys/k', 1, Buffer.from('record 2'));
    const marker = await store.changes.read();
    await store.reencode('key-versions/k/v', (stored) => Buffer.concat([Buffer.from('X:'), stored]));
    await store.reencode('keys/k', (stored) => Buffer.concat([Buffer.from('X:'), stored]));
    expect(await store.get('key-versions/k/v')).toEqual({ value: Buffer.from('X:material'), revision: 1, writeOnce: true });
    expect(await store.get('keys/k')).toEqual({ value: Buffer.from('X:record 2'), revision: 2, writeOnce: false });
    expect(await store.changes.read()).toBe(marker);
  });

  it('when the callback returns undefined, or the entry is absent or destroyed, nothing is written', async () => {
    const { store } = await freshStore();
    await store.create('key-versions/k/v', Buffer.from('material'), { writeOnce: true });
    let seen = 0;
    await store.reencode('key-versions/k/v', () => {
      seen++;
      return undefined;
    });
    await store.reencode('key-versions/k/none', () => {
      seen++;
      return Buffer.from('new');
    });
    expect(seen).toBe(1);
    expect((await store.get('key-versions/k/v'))?.value.toString()).toBe('material');
    await store.destroy('key-versions/k/v');
    await store.reencode('key-versions/k/v', () => Buffer.from('resurrected'));
    expect(await store.get('key-versions/k/v')).toBeUndefined();
    expect(await store.list('key-versions/')).toEqual([]);
  });

  it('when another writer changes the value between the read and the write, it is read again and the callback decides anew; the other write stays', async () => {
    const tableName = `kms-sealing-${++tables}`;
    const admin = dynalite.client();
    await createStateTable(admin, tableName, { timeToLive: false });
    const client = dynalite.client();
    let raced = false;
    // Just before the store's first re-encoding write, another instance writes the entry.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (!raced && context.commandName === 'UpdateItemCommand' && input.UpdateExpression === 'SET #value = :value') {
          raced = true;
          await admin.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: entryKey('key-versions/k/v'),
              UpdateExpression: 'SET #value = :v',
              ExpressionAttributeNames: { '#value': 'value' },
              ExpressionAttributeValues: { ':v': { B: Buffer.from('theirs') } },
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'raceReencode' },
    );
    const store = new DynamoDbKeyStore({ client, tableName });
    await store.create('key-versions/k/v', Buffer.from('plain'), { writeOnce: true });
    const seen: string[] = [];
    await store.reencode('key-versions/k/v', (stored) => {
      seen.push(stored.toString());
      return stored.toString() === 'theirs' ? undefined : Buffer.from('ours');
    });
    expect(raced).toBe(true);
    expect(seen).toEqual(['plain', 'theirs']);
    const item = await admin.send(new GetItemCommand({ TableName: tableName, Key: entryKey('key-versions/k/v'), ConsistentRead: true }));
    expect(Buffer.from(item.Item!.value!.B!).toString()).toBe('theirs');
  });
});
