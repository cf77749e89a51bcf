import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { partitionKey } from './dynamodb-nonce-store.js';
import { KeyStoreFailureError } from '../store-errors.js';

/**
 * How the `dynamodb` state backend lays its items out in its one table (key `pk` + `sk`, both
 * String; see ./table.ts):
 *
 * | item               | pk                                   | sk                | other attributes                                       |
 * |--------------------|--------------------------------------|-------------------|--------------------------------------------------------|
 * | key-store entry    | `entry#<namespace>`                  | `<entry name>`    | `value` B, `revision` N, `writeOnce` BOOL, `kind` S = `entry`, `writer` S, (`destroyed` BOOL) |
 * | namespace marker   | `namespaces`                         | `ns#<namespace>`  | `kind` S = `namespace`                                 |
 * | used nonce         | `nonce#<accessKeyId>#<nonce or hash>` | `nonce`           | `expiresAt` N (the table's TTL attribute), `claim` S   |
 * | change marker      | `changes`                            | `changes`         | `generation` N, `token` S                              |
 *
 * The **namespace** of an entry is its name up to the first `/` (all of it when there is none):
 * `keys`, `key-versions`, `aliases`, `access-keys`, …. One partition per namespace keeps the
 * entries every `list` of the keyring asks for (`keys/`, `aliases/`, `key-versions/<id>/`, all
 * holding a `/`) in one item collection, sorted by `sk` in UTF-8 byte order, so such a `list` is
 * one `Query` with `begins_with(sk, :prefix)`.
 *
 * `sk` is the **whole** name rather than the part after the namespace: a key attribute may not be
 * empty (the entry `keys` has nothing after its namespace), `begins_with` then takes the caller's
 * prefix unchanged, and a name is read back from `sk` alone.
 *
 * A prefix without `/` (`ke`, or `` for everything) may span namespaces, and DynamoDB cannot query
 * across partitions without a Scan of the whole table, nonces included. So `create` first records
 * each namespace it writes into under the `namespaces` partition (an idempotent put, once per
 * namespace per store instance), and such a `list` queries that registry, then each namespace.
 * Markers are never removed: a namespace whose entries are all gone costs one empty Query.
 *
 * The **change marker** (see ChangeMarker in ../key-store.ts) is one item whose `generation` every
 * write of a mutable entry adds one to, and whose `token` it replaces with a random one, before it
 * returns; instances read it consistently to know whether what they cache may have changed.
 *
 * `writer` is a random id per write, so that a write whose answer was lost (and which a retry
 * then finds already done) is recognized as our own rather than as a conflict. `destroyed` marks a
 * write-once entry whose material was zeroed by `destroy` and whose removal may not have finished:
 * it is absent for every reader.
 */
export type Item = Record<string, AttributeValue>;

export const ENTRY_KIND = 'entry';
export const NAMESPACE_KIND = 'namespace';
/** The partition of the namespace registry. */
export const NAMESPACES_PK = 'namespaces';
export const NAMESPACE_SK_PREFIX = 'ns#';
const ENTRY_PK_PREFIX = 'entry#';
const NONCE_PK_PREFIX = 'nonce#';
export const NONCE_SK = 'nonce';

/** The namespace of an entry name (or of a prefix that holds a `/`): the text before the first `/`. */
export function namespaceOf(name: string): string {
  const slash = name.indexOf('/');
  return slash === -1 ? name : name.slice(0, slash);
}

/** The `pk` of a namespace's entries. */
export function entryPartition(namespace: string): string {
  return `${ENTRY_PK_PREFIX}${namespace}`;
}

/** The primary key of an entry's item. */
export function entryKey(name: string): Item {
  return { pk: { S: entryPartition(namespaceOf(name)) }, sk: { S: name } };
}

/** The primary key of the change marker's item. */
export const CHANGE_MARKER_KEY: Item = { pk: { S: 'changes' }, sk: { S: 'changes' } };

/** The primary key of a namespace's marker. */
export function namespaceMarkerKey(namespace: string): Item {
  return { pk: { S: NAMESPACES_PK }, sk: { S: `${NAMESPACE_SK_PREFIX}${namespace}` } };
}

/**
 * The primary key of a used nonce's item, for {@link DynamoDbNonceStore}'s `itemKey` option: under
 * its own `nonce#` prefix, so no nonce can collide with an entry or a marker, and each nonce in a
 * partition of its own (claims are spread over the table, and TTL removes them one by one).
 */
export function nonceKey(accessKeyId: string, nonce: string): Item {
  return { pk: { S: `${NONCE_PK_PREFIX}${partitionKey(accessKeyId, nonce)}` }, sk: { S: NONCE_SK } };
}

/** An entry item, decoded. */
export interface EntryItem {
  value: Buffer;
  revision: number;
  writeOnce: boolean;
  /** The id of the write that produced this state (absent on items written by other tools). */
  writer: string | undefined;
  /** Zeroed by `destroy`, not yet removed: absent for readers. */
  destroyed: boolean;
}

/** Decodes an entry item; anything else is a {@link KeyStoreFailureError} (naming no value). */
export function decodeEntry(item: Item, operation: string, name: string): EntryItem {
  const value = item.value?.B;
  const revision = Number(item.revision?.N);
  const writeOnce = item.writeOnce?.BOOL;
  if (item.kind?.S !== ENTRY_KIND || !(value instanceof Uint8Array) || !Number.isSafeInteger(revision) || revision < 1 || typeof writeOnce !== 'boolean') {
    throw new KeyStoreFailureError(operation, name, 'the item is not a key-store entry');
  }
  return {
    // A copy: the caller may keep or change it without touching anything of ours.
    value: Buffer.from(value),
    revision,
    writeOnce,
    writer: item.writer?.S,
    destroyed: item.destroyed?.BOOL === true,
  };
}
