import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../logger.js';
import {
  assertEntryName,
  type ChangeMarker,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  type ReencodableStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from '../key-store.js';
import { classifyAwsError, describeAwsError, isAwsError, isTransientAwsError, translateAwsError } from '../aws-errors.js';
import { LocalChangeMarker } from '../local-change-marker.js';
import { KeyStoreUnavailableError } from '../store-errors.js';
import {
  CHANGE_MARKER_KEY,
  decodeEntry,
  ENTRY_KIND,
  entryKey,
  entryPartition,
  type EntryItem,
  type Item,
  NAMESPACE_KIND,
  NAMESPACE_SK_PREFIX,
  namespaceMarkerKey,
  namespaceOf,
  NAMESPACES_PK,
} from './items.js';

export interface DynamoDbKeyStoreOptions {
  /** Build it with the SDK's own retries off (`maxAttempts: 1`): this store retries, and counts attempts. */
  client: DynamoDBClient;
  /** A table with the key schema of `STATE_TABLE_DEFINITION` (./table.ts): `pk` + `sk`, both String. */
  tableName: string;
  /** Warnings: writes whose outcome could not be learned. */
  logger?: Logger;
  /** Attempts per DynamoDB call on throttling, 5xx, timeouts and network errors, the first included (default 3). */
  attempts?: number;
  /** Full-jitter exponential backoff: attempt n waits random(0, min(maxDelayMs, baseDelayMs·2ⁿ)) (defaults 50 / 1000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: the pause between retries, and the randomness of its length. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Items per Query page (`Limit`; default none: DynamoDB's 1 MB pages). For tests of pagination. */
  pageSize?: number;
}

/** What the retry loop learned about a call: attempts made, and whether one may have landed unseen. */
interface CallState {
  attempts: number;
  /** Attempts allowed, the first included (default: the store's `attempts`). */
  limit?: number;
  /** A write attempt failed in a way that leaves its outcome unknown (timeout, network, 5xx). */
  uncertain: boolean;
  /** The failure that made it uncertain, for the unknown-outcome error. */
  cause?: unknown;
}

/** Attempts to move the change marker beyond a call's usual ones: the write it marks has landed. */
const MARKER_MOVE_EXTRA_ATTEMPTS = 2;

/** The expression attribute names every expression of this store uses (`value` is a reserved word). */
const NAMES = { '#value': 'value', '#revision': 'revision', '#writeOnce': 'writeOnce', '#writer': 'writer', '#destroyed': 'destroyed' } as const;

/**
 * A {@link KeyStore} over one DynamoDB table (the `dynamodb` state backend's, which also holds the
 * used nonces; item layout in ./items.ts, table in ./table.ts). Every read is strongly consistent
 * (`ConsistentRead: true`), so every instance reads every acknowledged write at once; every write
 * is a single-item conditional write, atomic and durable when DynamoDB acknowledges it.
 *
 * - **create**: `PutItem` with `attribute_not_exists(pk)` (or over a half-destroyed item): of
 *   racing creators exactly one wins; the others get {@link EntryExistsError}.
 * - **get**: `GetItem` with `ConsistentRead`.
 * - **update**: `UpdateItem` conditioned on `revision = :expected AND writeOnce = false`: the
 *   compare-and-swap. On `ConditionalCheckFailedException` the item as it was
 *   (`ReturnValuesOnConditionCheckFailure: ALL_OLD`, or a consistent read on engines that do not
 *   return it) tells absent, write-once and stale apart.
 * - **delete**: `DeleteItem` with the same condition.
 * - **destroy**: (write-once only) `UpdateItem` zeroing the value and marking the item destroyed,
 *   then `DeleteItem` of the marked item. DynamoDB has no secure erase (backups, point-in-time
 *   recovery and streams keep earlier images for their retention), but the item's last state holds
 *   no material, and a destroy interrupted between the two steps leaves an item every reader
 *   treats as absent, which the next destroy (or a create of the name) finishes.
 * - **list**: `Query` of the prefix's namespace with `begins_with(sk, :prefix)`, consistent and
 *   paginated; a prefix without `/` goes through the namespace registry (see ./items.ts).
 * - **the change marker** ({@link ChangeMarker}): once a create of a mutable entry, an update or a
 *   delete has landed, `UpdateItem` `ADD generation 1` and a new random `token` on the marker's
 *   item, before the write returns (not in one transaction with it: a transaction costs twice the
 *   capacity, and dynalite, which the tests run on, has none); read by a consistent `GetItem`. A
 *   write whose marker could not be moved is reported unavailable, though it landed; this
 *   process's view of the marker moves then (see LocalChangeMarker), so its own caches do not
 *   keep the entry as it was.
 *
 * **Lost answers.** Each write carries a random `writer` id: if a retry meets a condition failure
 * and the item bears our id, the earlier attempt landed and only its answer was lost, so the write
 * succeeded. Throttled attempts are known not to have landed. When the outcome cannot be learned
 * (an unseen attempt may have landed, and the item shows neither that nor a clear conflict) the
 * store throws {@link KeyStoreUnavailableError} `unknown-outcome`, never a false success or a false
 * conflict — with one deliberate exception: a `delete` retried after an unseen attempt that finds
 * the entry gone reports success. The only other writer that could have removed it is a delete
 * at the same revision, whose outcome is the same.
 *
 * **Failures**: throttling, 5xx, timeouts and network errors are retried (bounded, full jitter)
 * and then thrown as {@link KeyStoreUnavailableError} (reason from `classifyAwsError`); denied
 * access as `KeyStoreAccessDeniedError`; anything else (no such table, validation) as
 * `KeyStoreFailureError` — the same translation as the Secrets Manager store (../aws-errors.ts).
 * Construct the client with `maxAttempts: 1` so attempts do not multiply, and so that a lost
 * answer is never hidden inside the SDK's own retries (a `delete` could then report
 * {@link EntryNotFoundError} for its own success).
 */
export class DynamoDbKeyStore implements KeyStore, ReencodableStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #logger: Logger | undefined;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #pageSize: number | undefined;
  /** Namespaces this instance has recorded in the registry (markers are never removed, so this never goes stale). */
  readonly #registered = new Map<string, Promise<void>>();

  constructor(options: DynamoDbKeyStoreOptions) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) throw new Error(`"${options.tableName}" is not a DynamoDB table name`);
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#logger = options.logger;
    this.#attempts = options.attempts ?? 3;
    if (!(this.#attempts >= 1)) throw new Error('attempts must be at least 1');
    this.#baseDelayMs = options.baseDelayMs ?? 50;
    this.#maxDelayMs = options.maxDelayMs ?? 1000;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
    this.#random = options.random ?? Math.random;
    if (options.pageSize !== undefined && !(Number.isInteger(options.pageSize) && options.pageSize >= 1))
      throw new Error('pageSize must be a positive integer');
    this.#pageSize = options.pageSize;
  }

  /**
   * A consistent `GetItem` of the marker's item (absent: no mutable write yet). A mutable write that
   * failed here moves this process's view of it (see LocalChangeMarker).
   */
  readonly #marker = new LocalChangeMarker(async () => {
    let out: GetItemCommandOutput;
    try {
      out = await this.#call({ attempts: 0, uncertain: false }, () =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#tableName,
            Key: CHANGE_MARKER_KEY,
            ConsistentRead: true,
            ProjectionExpression: '#generation, #token',
            ExpressionAttributeNames: { '#generation': 'generation', '#token': 'token' },
          }),
        ),
      );
    } catch (err) {
      throw translateAwsError(err, 'changes', undefined);
    }
    return markerValue(out.Item?.generation?.N, out.Item?.token?.S);
  });
  readonly changes: ChangeMarker = this.#marker;

  get tableName(): string {
    return this.#tableName;
  }

  /**
   * Creates an entry. Throws {@link EntryExistsError} when the name is taken (whatever its kind),
   * an Error for an invalid name, and the store's backend errors (see the class).
   */
  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    if (options.writeOnce) return this.#createEntry(name, value, options);
    await this.#marker.write(async () => {
      await this.#createEntry(name, value, options);
      await this.#moveChangeMarker('create', name);
    });
  }

  async #createEntry(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    assertEntryName(name);
    const writer = randomUUID();
    const state: CallState = { attempts: 0, uncertain: false };
    try {
      // First the namespace, so that every entry a list may have to find is reachable from the registry.
      await this.#register(namespaceOf(name));
      await this.#call(state, () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#tableName,
            Item: {
              ...entryKey(name),
              kind: { S: ENTRY_KIND },
              value: { B: Buffer.from(value) },
              revision: { N: '1' },
              writeOnce: { BOOL: options.writeOnce },
              writer: { S: writer },
            },
            // A destroyed item is absent for readers; a create may take its place.
            ConditionExpression: 'attribute_not_exists(pk) OR #destroyed = :true',
            ExpressionAttributeNames: { '#destroyed': NAMES['#destroyed'] },
            ExpressionAttributeValues: { ':true': { BOOL: true } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw translateAwsError(err, 'create', name);
      const current = await this.#itemAfterConditionFailure(err, name, 'create');
      // Our own earlier attempt landed and only its answer was lost.
      if (current?.writer === writer) return;
      throw new EntryExistsError(name);
    }
  }

  /** The entry, or undefined when there is none. Throws the store's backend errors (see the class). */
  async get(name: string): Promise<StoredEntry | undefined> {
    assertEntryName(name);
    const current = await this.#read(name, 'get');
    if (!current || current.destroyed) return undefined;
    return { value: current.value, revision: current.revision, writeOnce: current.writeOnce };
  }

  /**
   * Replaces a mutable entry at `expectedRevision` and returns the next revision. Throws
   * {@link EntryNotFoundError}, {@link RevisionConflictError}, {@link WriteOnceViolationError},
   * `KeyStoreUnavailableError` `unknown-outcome` when a lost attempt may or may not have landed,
   * and the store's backend errors (see the class).
   */
  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#marker.write(async () => {
      const revision = await this.#updateEntry(name, expectedRevision, value);
      await this.#moveChangeMarker('update', name);
      return revision;
    });
  }

  async #updateEntry(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    assertEntryName(name);
    const writer = randomUUID();
    const next = expectedRevision + 1;
    const state: CallState = { attempts: 0, uncertain: false };
    try {
      await this.#call(state, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: entryKey(name),
            UpdateExpression: 'SET #value = :value, #revision = :next, #writer = :writer',
            // An absent item has no revision, so the condition also keeps UpdateItem from creating one.
            ConditionExpression: '#revision = :expected AND #writeOnce = :false',
            ExpressionAttributeNames: {
              '#value': NAMES['#value'],
              '#revision': NAMES['#revision'],
              '#writer': NAMES['#writer'],
              '#writeOnce': NAMES['#writeOnce'],
            },
            ExpressionAttributeValues: {
              ':value': { B: Buffer.from(value) },
              ':next': { N: String(next) },
              ':writer': { S: writer },
              ':expected': { N: String(expectedRevision) },
              ':false': { BOOL: false },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return next;
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw translateAwsError(err, 'update', name);
      const current = await this.#itemAfterConditionFailure(err, name, 'update');
      if (current && !current.destroyed) {
        if (current.writer === writer) return next;
        if (current.writeOnce) throw new WriteOnceViolationError(name);
        // Another writer holds the revision we meant to write (or an older one): ours never landed.
        if (!state.uncertain || current.revision <= next) throw new RevisionConflictError(name);
      } else if (!state.uncertain) {
        throw new EntryNotFoundError(name);
      }
      throw this.#unknownOutcome('update', name, state);
    }
  }

  /**
   * Removes a mutable entry at `expectedRevision`. Throws {@link EntryNotFoundError},
   * {@link RevisionConflictError}, {@link WriteOnceViolationError}, `KeyStoreUnavailableError`
   * `unknown-outcome`, and the store's backend errors (see the class).
   */
  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#marker.write(async () => {
      await this.#deleteEntry(name, expectedRevision);
      await this.#moveChangeMarker('delete', name);
    });
  }

  async #deleteEntry(name: string, expectedRevision: number): Promise<void> {
    assertEntryName(name);
    const state: CallState = { attempts: 0, uncertain: false };
    try {
      await this.#call(state, () =>
        this.#client.send(
          new DeleteItemCommand({
            TableName: this.#tableName,
            Key: entryKey(name),
            ConditionExpression: '#revision = :expected AND #writeOnce = :false',
            ExpressionAttributeNames: { '#revision': NAMES['#revision'], '#writeOnce': NAMES['#writeOnce'] },
            ExpressionAttributeValues: { ':expected': { N: String(expectedRevision) }, ':false': { BOOL: false } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw translateAwsError(err, 'delete', name);
      const current = await this.#itemAfterConditionFailure(err, name, 'delete');
      if (!current || current.destroyed) {
        // Gone after an attempt that may have landed: ours, or a racing delete of the same revision.
        if (state.uncertain) return;
        throw new EntryNotFoundError(name);
      }
      if (current.writeOnce) throw new WriteOnceViolationError(name);
      if (!state.uncertain) throw new RevisionConflictError(name);
      // Either another writer updated it first, or ours landed and the name was created again since.
      throw this.#unknownOutcome('delete', name, state);
    }
  }

  /**
   * Destroys a write-once entry: zeroes and marks it, then removes it. Idempotent (an absent entry
   * is not an error); throws {@link WriteOnceViolationError} for a mutable entry, and the store's
   * backend errors (see the class). An interrupted destroy is finished by calling it again.
   */
  async destroy(name: string): Promise<void> {
    assertEntryName(name);
    const current = await this.#read(name, 'destroy');
    if (!current) return;
    if (!current.writeOnce) throw new WriteOnceViolationError(name);
    try {
      if (!current.destroyed) {
        try {
          await this.#call({ attempts: 0, uncertain: false }, () =>
            this.#client.send(
              new UpdateItemCommand({
                TableName: this.#tableName,
                Key: entryKey(name),
                UpdateExpression: 'SET #value = :zeros, #destroyed = :true',
                ConditionExpression: '#writeOnce = :true',
                ExpressionAttributeNames: { '#value': NAMES['#value'], '#destroyed': NAMES['#destroyed'], '#writeOnce': NAMES['#writeOnce'] },
                ExpressionAttributeValues: { ':zeros': { B: Buffer.alloc(current.value.length) }, ':true': { BOOL: true } },
              }),
            ),
          );
        } catch (err) {
          if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
          // Gone since we read it (another destroy finished first), or the name was created again
          // as a mutable entry: that one is not ours to remove, and a fresh call would refuse it.
          const after = await this.#read(name, 'destroy');
          if (!after || after.destroyed) return;
          throw new WriteOnceViolationError(name);
        }
      }
      try {
        await this.#call({ attempts: 0, uncertain: false }, () =>
          this.#client.send(
            new DeleteItemCommand({
              TableName: this.#tableName,
              Key: entryKey(name),
              // Only the zeroed incarnation: never an entry created under the name since.
              ConditionExpression: '#destroyed = :true',
              ExpressionAttributeNames: { '#destroyed': NAMES['#destroyed'] },
              ExpressionAttributeValues: { ':true': { BOOL: true } },
            }),
          ),
        );
      } catch (err) {
        // Already removed (by a racing destroy, or our own attempt whose answer was lost), or replaced.
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
      }
    } catch (err) {
      // Our own errors (WriteOnceViolationError, KeyStore*Error) pass through unchanged.
      throw translateAwsError(err, 'destroy', name);
    }
  }

  /**
   * Re-encodes an entry's value in place (see ReencodableStore: sealing a table written before
   * sealing existed), keeping its revision and write-once flag. `UpdateItem` conditioned on the
   * value and revision read, so a racing writer (another instance sealing the same entry, or an
   * update) is never overwritten: the entry is read again and `reencode` decides anew. The change
   * marker stays: what the value means is unchanged. An absent or destroyed entry is left alone.
   */
  async reencode(name: string, reencode: (stored: Buffer) => Buffer | undefined): Promise<void> {
    assertEntryName(name);
    for (;;) {
      const current = await this.#read(name, 'reencode');
      if (!current || current.destroyed) return;
      const old = current.value;
      const value = reencode(Buffer.from(old));
      if (value === undefined) {
        old.fill(0);
        return;
      }
      try {
        await this.#call({ attempts: 0, uncertain: false }, () =>
          this.#client.send(
            new UpdateItemCommand({
              TableName: this.#tableName,
              Key: entryKey(name),
              UpdateExpression: 'SET #value = :value',
              ConditionExpression: '#revision = :revision AND #value = :old AND attribute_not_exists(#destroyed)',
              ExpressionAttributeNames: { '#value': NAMES['#value'], '#revision': NAMES['#revision'], '#destroyed': NAMES['#destroyed'] },
              ExpressionAttributeValues: { ':value': { B: value }, ':revision': { N: String(current.revision) }, ':old': { B: old } },
            }),
          ),
        );
        return;
      } catch (err) {
        // Changed since it was read (or our own attempt landed unseen): look again.
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw translateAwsError(err, 'reencode', name);
      } finally {
        value.fill(0);
        old.fill(0);
      }
    }
  }

  /**
   * Every entry name that starts with `prefix`, in byte order (a prefix no entry name could start
   * with gives an empty list). Throws the store's backend errors (see the class).
   */
  async list(prefix: string): Promise<string[]> {
    // No entry name holds other characters, or is longer.
    if (!/^[A-Za-z0-9_\-./]*$/.test(prefix) || prefix.length > 1024) return [];
    try {
      const namespaces = prefix.includes('/') ? [namespaceOf(prefix)] : await this.#namespacesStartingWith(prefix);
      const names: string[] = [];
      for (const namespace of namespaces) {
        // Within a namespace every name starts with it: the sort-key condition is needed only for a longer prefix.
        const condition = prefix.length > namespace.length ? prefix : undefined;
        for (const item of await this.#query(entryPartition(namespace), condition, '#sk, #destroyed', { '#sk': 'sk', '#destroyed': NAMES['#destroyed'] })) {
          const sk = item.sk?.S;
          if (sk !== undefined && item.destroyed?.BOOL !== true) names.push(sk);
        }
      }
      // One Query returns its namespace in byte order already; several must be merged.
      return namespaces.length > 1 ? names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : names;
    } catch (err) {
      throw translateAwsError(err, 'list', undefined);
    }
  }

  /** Every namespace in the registry that starts with `prefix`. */
  async #namespacesStartingWith(prefix: string): Promise<string[]> {
    const items = await this.#query(NAMESPACES_PK, `${NAMESPACE_SK_PREFIX}${prefix}`, '#sk', { '#sk': 'sk' });
    return items.flatMap((item) => (item.sk?.S?.startsWith(NAMESPACE_SK_PREFIX) ? [item.sk.S.slice(NAMESPACE_SK_PREFIX.length)] : []));
  }

  /** Records a namespace in the registry, once per instance (concurrent creates share one put). */
  async #register(namespace: string): Promise<void> {
    let pending = this.#registered.get(namespace);
    if (!pending) {
      pending = this.#call({ attempts: 0, uncertain: false }, () =>
        this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: { ...namespaceMarkerKey(namespace), kind: { S: NAMESPACE_KIND } } })),
      ).then(() => undefined);
      this.#registered.set(namespace, pending);
      // A failed put is tried again by the next create.
      pending.catch(() => this.#registered.delete(namespace));
    }
    await pending;
  }

  /** Every item of a partition (whose `sk` begins with `skPrefix`, when given), page by page, consistently. */
  async #query(pk: string, skPrefix: string | undefined, projection: string, names: Record<string, string>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const exclusiveStartKey = startKey;
      const page = await this.#call({ attempts: 0, uncertain: false }, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#tableName,
            KeyConditionExpression: skPrefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...names },
            ExpressionAttributeValues: { ':pk': { S: pk }, ...(skPrefix === undefined ? {} : { ':prefix': { S: skPrefix } }) },
            ProjectionExpression: projection,
            ConsistentRead: true,
            ...(this.#pageSize ? { Limit: this.#pageSize } : {}),
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Adds one to the change marker's generation (`ADD`: the item is made by the first) and gives it
   * a new random token (see {@link markerValue}), after a mutable write landed and before it
   * returns. Retried as every call, with {@link MARKER_MOVE_EXTRA_ATTEMPTS} more (the entry has
   * landed: giving up costs more than waiting); an `ADD` applied twice by a retry still moves it.
   * When it cannot be moved the write is reported unavailable although it landed: it must not be
   * acknowledged while other instances may not see it.
   */
  async #moveChangeMarker(operation: string, name: string): Promise<void> {
    const token = randomUUID();
    try {
      await this.#call({ attempts: 0, uncertain: false, limit: this.#attempts + MARKER_MOVE_EXTRA_ATTEMPTS }, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: CHANGE_MARKER_KEY,
            UpdateExpression: 'ADD #generation :one SET #token = :token',
            ExpressionAttributeNames: { '#generation': 'generation', '#token': 'token' },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':token': { S: token } },
          }),
        ),
      );
    } catch (err) {
      const translated = translateAwsError(err, operation, name);
      if (!(translated instanceof KeyStoreUnavailableError)) throw translated;
      this.#logger?.warn('key store: a write landed but the change marker could not be moved', {
        table: this.#tableName,
        operation,
        entry: name,
        error: describeAwsError(err),
      });
      throw new KeyStoreUnavailableError(translated.reason, operation, name, {
        cause: err,
        detail: 'the write landed, but the change marker could not be moved',
      });
    }
  }

  /** The entry's item as it is now (destroyed ones included), or undefined. Translates failures. */
  async #read(name: string, operation: string): Promise<EntryItem | undefined> {
    let out: GetItemCommandOutput;
    try {
      out = await this.#call({ attempts: 0, uncertain: false }, () =>
        this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: entryKey(name), ConsistentRead: true })),
      );
    } catch (err) {
      throw translateAwsError(err, operation, name);
    }
    return out.Item ? decodeEntry(out.Item, operation, name) : undefined;
  }

  /**
   * The item that failed a write's condition: the one DynamoDB returned with the failure
   * (`ALL_OLD`), or, when none came back (the item was absent, or the engine does not implement
   * `ReturnValuesOnConditionCheckFailure`), a consistent read of it now.
   */
  async #itemAfterConditionFailure(err: unknown, name: string, operation: string): Promise<EntryItem | undefined> {
    const item = (err as { Item?: Item }).Item;
    if (item) return decodeEntry(item, operation, name);
    return this.#read(name, operation);
  }

  #unknownOutcome(operation: string, name: string, state: CallState): KeyStoreUnavailableError {
    this.#logger?.warn('key store: the outcome of a write could not be learned', {
      table: this.#tableName,
      operation,
      entry: name,
      error: describeAwsError(state.cause),
    });
    return new KeyStoreUnavailableError('unknown-outcome', operation, name, { cause: state.cause, detail: 'an attempt may have landed unseen' });
  }

  /**
   * One DynamoDB call with bounded retries on throttling, 5xx, timeouts and network errors (full
   * jitter). Notes in `state` whether a failed attempt may have been applied: throttled requests
   * are refused before anything is written; the others leave the outcome unknown. Throws the last
   * error as it is; the public methods translate it.
   */
  async #call<T>(state: CallState, send: () => Promise<T>): Promise<T> {
    for (;;) {
      state.attempts++;
      try {
        return await send();
      } catch (err) {
        if (!isTransientAwsError(err)) throw err;
        const kind = classifyAwsError(err);
        if (kind.kind === 'unavailable' && kind.reason !== 'throttled') {
          state.uncertain = true;
          state.cause = err;
        }
        if (state.attempts >= (state.limit ?? this.#attempts)) throw err;
        const cap = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** state.attempts);
        await this.#sleep(Math.floor(this.#random() * cap));
      }
    }
  }
}

/**
 * The marker as read: generation and token, so that it never reads as a value read before even
 * when its item was removed and made again, or rolled back by a restore (a generation alone would
 * count up through the values it had). An absent item (no mutable write yet, or removed) reads as
 * a value of its own each time: nothing read while it is absent can be trusted later.
 */
function markerValue(generation: string | undefined, token: string | undefined): string {
  if (generation === undefined) return `none:${randomUUID()}`;
  return `${generation}:${token ?? ''}`;
}
