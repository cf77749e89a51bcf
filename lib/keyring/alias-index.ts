import { createHash } from 'node:crypto';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { type AliasRecord, decodeRecord, encodeRecord, entryNames } from './records.js';

/** Marks a store whose aliases have all been indexed (stores written before the index existed are backfilled once). */
const BACKFILLED = 'meta/alias-index-v1';

/**
 * The index from a key to its aliases, so that listing one key's aliases reads that key's entries
 * only, never every alias: `alias-index/<keyId>/<sha256(aliasName)>` holds the alias name.
 *
 * The alias entry is the truth; the index is a superset of it: an entry may name an alias that
 * moved or was deleted (readers check each one against the alias), but an alias always has its
 * entry. Writers keep that so:
 * - binding an alias to a key adds the entry before the binding and again after it;
 * - a stale entry is removed only when the alias no longer names the key, and the alias is read
 *   again afterwards: if a binder landed in between, the entry is put back.
 */
export class AliasIndex {
  readonly #store: KeyStore;
  #backfilled: Promise<void> | undefined;

  constructor(store: KeyStore) {
    this.#store = store;
  }

  /** Records that `aliasName` may name `keyId`. Idempotent. */
  async add(keyId: string, aliasName: string): Promise<void> {
    try {
      await this.#store.create(entryName(keyId, aliasName), Buffer.from(aliasName, 'utf8'), { writeOnce: false });
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
    }
  }

  /** Removes the entry of `aliasName` under `keyId` if the alias no longer names that key. */
  async removeIfStale(keyId: string, aliasName: string): Promise<void> {
    if ((await this.#currentKey(aliasName)) === keyId) return;
    const name = entryName(keyId, aliasName);
    const entry = await this.#store.get(name);
    if (!entry) return;
    try {
      await this.#store.delete(name, entry.revision);
    } catch (err) {
      if (!(err instanceof EntryNotFoundError || err instanceof RevisionConflictError)) throw err;
    }
    if ((await this.#currentKey(aliasName)) === keyId) await this.add(keyId, aliasName);
  }

  /** The aliases that name `keyId` now, by name (each index entry checked against its alias). */
  async aliasesOf(keyId: string): Promise<AliasRecord[]> {
    await this.#ensureBackfilled();
    const aliases: AliasRecord[] = [];
    for (const name of await this.#store.list(`${entryPrefix(keyId)}`)) {
      const entry = await this.#store.get(name);
      if (!entry) continue;
      const aliasName = entry.value.toString('utf8');
      if ((await this.#currentKey(aliasName)) === keyId) aliases.push({ aliasName, keyId });
    }
    return aliases.sort((a, b) => (a.aliasName < b.aliasName ? -1 : 1));
  }

  /** Drops every entry of a key (its aliases are gone: the key is being destroyed). */
  async dropKey(keyId: string): Promise<void> {
    for (const name of await this.#store.list(entryPrefix(keyId))) {
      const entry = await this.#store.get(name);
      if (!entry) continue;
      await this.#store.delete(name, entry.revision).catch((err: unknown) => {
        if (!(err instanceof EntryNotFoundError || err instanceof RevisionConflictError)) throw err;
      });
    }
  }

  /** Once per store (and per process): index the aliases written before the index existed. */
  #ensureBackfilled(): Promise<void> {
    this.#backfilled ??= (async () => {
      if (await this.#store.get(BACKFILLED)) return;
      for (const name of await this.#store.list('aliases/')) {
        const entry = await this.#store.get(name);
        if (entry) {
          const alias = decodeRecord<AliasRecord>(entry.value);
          await this.add(alias.keyId, alias.aliasName);
        }
      }
      await this.#store.create(BACKFILLED, encodeRecord({ at: new Date().toISOString() }), { writeOnce: false }).catch((err: unknown) => {
        if (!(err instanceof EntryExistsError)) throw err;
      });
    })();
    this.#backfilled.catch(() => (this.#backfilled = undefined));
    return this.#backfilled;
  }

  async #currentKey(aliasName: string): Promise<string | undefined> {
    const entry = await this.#store.get(entryNames.alias(aliasName));
    return entry && decodeRecord<AliasRecord>(entry.value).keyId;
  }
}

function entryPrefix(keyId: string): string {
  return `alias-index/${keyId}/`;
}

function entryName(keyId: string, aliasName: string): string {
  return `${entryPrefix(keyId)}${createHash('sha256').update(aliasName, 'utf8').digest('hex')}`;
}
