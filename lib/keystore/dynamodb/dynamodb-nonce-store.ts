import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ServiceUnavailableError } from '../../errors.js';
import { classifyAwsError, describeAwsError, isAwsError, isTransientAwsError } from '../aws-errors.js';
import type { Logger } from '../../logger.js';
import type { NonceStore } from '../nonce-store.js';

/** Partition keys up to this many bytes are kept as they are; longer nonces are hashed. */
const MAX_PLAIN_KEY_BYTES = 1024;

export interface DynamoDbNonceStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => number;
  logger?: Logger;
  /** Attempts per claim on throttling, 5xx, timeouts and network errors (default 3), full jitter from `baseDelayMs` (default 25). */
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The primary key of a nonce's item (default `{ pk: <accessKeyId>#<nonce> }`, see
   * {@link partitionKey}). A table shared with other items (the `dynamodb` state backend, whose key
   * is `pk` + `sk`) places nonces under a prefix of its own. The key must include `pk`: the
   * condition tests `attribute_not_exists(pk)`.
   */
  itemKey?: (accessKeyId: string, nonce: string) => Record<string, AttributeValue>;
}

/**
 * Replay protection shared by every instance (Lambda containers): one DynamoDB item per used
 * nonce, written by a conditional `PutItem`.
 *
 * Table: partition key `pk` (String) = `<accessKeyId>#<nonce>` (nonces whose key would exceed 1 KiB
 * are hashed: `<accessKeyId>##sha256:<hex>`), attribute `expiresAt` (Number, epoch seconds) as the
 * table's TTL attribute, and `claim` (a random id per claim). The `itemKey` option places the
 * items elsewhere, e.g. in the `dynamodb` state backend's table (lib/keystore/dynamodb/).
 *
 * The condition is `attribute_not_exists(pk) OR expiresAt < :now`: DynamoDB deletes expired items
 * lazily (typically within days), so an item past its expiry may still be there and must not
 * count as a replay. Expiry is rounded up to the second and `:now` down, so a nonce is never
 * accepted again before its window ends.
 *
 * `ConditionalCheckFailedException` means a replay (false) — unless the item holds our own claim
 * id, which happens when an earlier attempt of this claim landed and only its answer was lost
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD` shows the item). Any other failure fails closed
 * with {@link ServiceUnavailableError} (503): a request is never let through unchecked.
 */
export class DynamoDbNonceStore implements NonceStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #itemKey: (accessKeyId: string, nonce: string) => Record<string, AttributeValue>;

  constructor(options: DynamoDbNonceStoreOptions) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) throw new Error(`"${options.tableName}" is not a DynamoDB table name`);
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#attempts = options.attempts ?? 3;
    this.#baseDelayMs = options.baseDelayMs ?? 25;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
    this.#itemKey = options.itemKey ?? ((accessKeyId, nonce) => ({ pk: { S: partitionKey(accessKeyId, nonce) } }));
  }

  get tableName(): string {
    return this.#tableName;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const claimId = randomUUID();
    const command = new PutItemCommand({
      TableName: this.#tableName,
      Item: {
        ...this.#itemKey(accessKeyId, nonce),
        expiresAt: { N: String(Math.ceil(expiresAt / 1000)) },
        claim: { S: claimId },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
      ExpressionAttributeValues: { ':now': { N: String(Math.floor(this.#now() / 1000)) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client.send(command);
        return true;
      } catch (err) {
        if (isAwsError(err, 'ConditionalCheckFailedException')) {
          const item = (err as { Item?: Record<string, { S?: string }> }).Item;
          return item?.claim?.S === claimId;
        }
        if (attempt < this.#attempts && isTransientAwsError(err)) {
          await this.#sleep(Math.floor(Math.random() * Math.min(1000, this.#baseDelayMs * 2 ** attempt)));
          continue;
        }
        const kind = classifyAwsError(err);
        this.#logger?.error('nonce store unavailable: refusing the request (fail closed)', {
          table: this.#tableName,
          kind: kind.kind,
          ...(kind.kind === 'unavailable' ? { reason: kind.reason } : {}),
          error: describeAwsError(err),
        });
        throw new ServiceUnavailableError({ cause: err });
      }
    }
  }
}

/** `<accessKeyId>#<nonce>`, or a hash of the nonce when that would be too long for a partition key. */
export function partitionKey(accessKeyId: string, nonce: string): string {
  const plain = `${accessKeyId}#${nonce}`;
  if (Buffer.byteLength(plain) <= MAX_PLAIN_KEY_BYTES) return plain;
  return `${accessKeyId}##sha256:${createHash('sha256').update(nonce, 'utf8').digest('hex')}`;
}
