import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { type AliasRecord, decodeRecord, encodeRecord, entryNames } from './records.js';

/** Marks a store whose aliases have all been indexed (stores written before the index existed are backfilled once). */
const BACKFILLED = 'meta/alias-index-v1';

/**
 * The index from a key to its aliases, so that a page of one key's aliases costs one listing of
 * that key's entries and a read per alias on the page: `alias-index.<keyId>/<name after alias/>`,
 * one namespace per key, named by the alias so the listing is already in alias order.
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
  /** The marker was seen: the index is complete, and stays so (writers keep it). */
  #indexed = false;

  constructor(store: KeyStore) {
    this.#store = store;
  }

  /**
   * Records that `aliasName` may name `keyId`. Idempotent. The first write through an index whose
   * store predates it backfills the index first, so that only writers ever write it (functions
   * that only read keys may lack the permission to).
   */
  async add(keyId: string, aliasName: string): Promise<void> {
    await this.#ensureBackfilled();
    await this.#put(keyId, aliasName);
  }

  async #put(keyId: string, aliasName: string): Promise<void> {
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

  /**
   * One page of the aliases that name `keyId`, by name, and how many index entries it has: the
   * page's entries are each checked against their alias (one that moved since is left out).
   */
  async page(keyId: string, offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    if (!(await this.#isComplete())) return this.#pageFromAliases(keyId, offset, limit);
    const names = await this.#store.list(entryPrefix(keyId));
    const aliasNames = names.slice(offset, offset + limit).map((name) => `alias/${name.slice(entryPrefix(keyId).length)}`);
    // Checked at once, as ListAliases reads its page.
    const current = await Promise.all(aliasNames.map((aliasName) => this.#currentKey(aliasName)));
    const aliases: AliasRecord[] = aliasNames.filter((_, i) => current[i] === keyId).map((aliasName) => ({ aliasName, keyId }));
    return { aliases, total: names.length };
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

  /** Whether the index holds every alias (the backfill marker exists). */
  async #isComplete(): Promise<boolean> {
    if (!this.#indexed && (await this.#store.get(BACKFILLED))) this.#indexed = true;
    return this.#indexed;
  }

  /** A page as it was computed before the index (a store not backfilled yet): every alias is read. */
  async #pageFromAliases(keyId: string, offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    const mine: AliasRecord[] = [];
    for (const name of await this.#store.list('aliases/')) {
      const entry = await this.#store.get(name);
      const alias = entry && decodeRecord<AliasRecord>(entry.value);
      if (alias?.keyId === keyId) mine.push(alias);
    }
    mine.sort((a, b) => (a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0));
    return { aliases: mine.slice(offset, offset + limit), total: mine.length };
  }

  /** Once per store (and per process): index the aliases written before the index existed. */
  #ensureBackfilled(): Promise<void> {
    this.#backfilled ??= (async () => {
      if (await this.#isComplete()) return;
      for (const name of await this.#store.list('aliases/')) {
        const entry = await this.#store.get(name);
        if (entry) {
          const alias = decodeRecord<AliasRecord>(entry.value);
          await this.#put(alias.keyId, alias.aliasName);
        }
      }
      await this.#store.create(BACKFILLED, encodeRecord({ at: new Date().toISOString() }), { writeOnce: false }).catch((err: unknown) => {
        if (!(err instanceof EntryExistsError)) throw err;
      });
      this.#indexed = true;
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
  return `alias-index.${keyId}/`;
}

function entryName(keyId: string, aliasName: string): string {
  return `${entryPrefix(keyId)}${aliasName.slice('alias/'.length)}`;
}
