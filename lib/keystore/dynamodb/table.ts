import { setTimeout as delay } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';

/**
 * The `dynamodb` state backend's one table, in the property names that CloudFormation's
 * `AWS::DynamoDB::Table` uses (the SDK's `CreateTable` shares them but for `SSESpecification`), so that serverless.yml, tests and
 * {@link createStateTable} can be checked against one definition:
 *
 * - key `pk` (HASH) + `sk` (RANGE), both String: entries are grouped by namespace and sorted by
 *   name, which makes `list(prefix)` one Query (item layout in ./items.ts);
 * - on-demand capacity: the load is a few key-management writes and one nonce put per request;
 * - TTL on `expiresAt` (epoch seconds): DynamoDB removes used nonces once their replay window has
 *   passed (lazily; the nonce store checks expiry itself). Entries have no `expiresAt`, so TTL
 *   never touches them;
 * - encryption at rest under a KMS key (`SSEEnabled`), as the nonce table has.
 *
 * Point-in-time recovery is left to the deployment: it keeps destroyed key material restorable
 * for its whole window.
 */
export const STATE_TABLE_DEFINITION = deepFreeze({
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  SSESpecification: { SSEEnabled: true },
} as const);

export interface CreateStateTableOptions {
  /**
   * Turn on TTL with `UpdateTimeToLive` (default true). Off for engines that do not implement it
   * (dynalite): nonces then stay until deleted, which replay protection does not depend on.
   */
  timeToLive?: boolean;
  /** How long to wait for the table to become ACTIVE (default 5 minutes). */
  timeoutMs?: number;
}

/**
 * Creates the state table ({@link STATE_TABLE_DEFINITION}), waits until it is ACTIVE, and turns on
 * TTL. For tests and manual setups; deployments create it from serverless.yml. Throws the SDK's
 * errors as they are (`ResourceInUseException` when the table exists), and an Error when the table
 * is not ACTIVE within `timeoutMs`.
 */
export async function createStateTable(client: DynamoDBClient, tableName: string, options: CreateStateTableOptions = {}): Promise<void> {
  const d = STATE_TABLE_DEFINITION;
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: d.AttributeDefinitions.map((a) => ({ ...a })),
      KeySchema: d.KeySchema.map((k) => ({ ...k })),
      BillingMode: d.BillingMode,
      // The SDK names it differently from CloudFormation (Enabled, not SSEEnabled).
      SSESpecification: { Enabled: d.SSESpecification.SSEEnabled, SSEType: 'KMS' },
    }),
  );
  // The SDK's waiter polls every 20 s at first; tables on local engines are ready in milliseconds.
  let status = created.TableDescription?.TableStatus;
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (let pause = 10; status !== 'ACTIVE'; pause = Math.min(pause * 2, 2_000)) {
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE (${status ?? 'unknown'}) after ${options.timeoutMs ?? 300_000} ms`);
    await delay(pause);
    status = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
  }
  if (options.timeToLive !== false) {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { ...d.TimeToLiveSpecification } }));
  }
}

type DeepReadonly<T> = { readonly [K in keyof T]: DeepReadonly<T[K]> };

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
