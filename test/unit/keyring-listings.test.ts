import { describe, expect, it } from 'vitest';
import { Keyring } from '../../lib/keyring/keyring.js';
import { CachedKeyStore } from '../../lib/keystore/cached-store.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { createService } from '../../lib/service.js';

/**
 * Listings of keys and aliases (ListKeys, ListAliases) are cached like key records: for the TTL,
 * dropped when this process changes what they list and when the store's change marker moves, so
 * a key or alias made anywhere is listed by the next request that validated the caches.
 */
const scope = { region: 'cn-hangzhou', accountId: '1234' };

/** The store, counting its listings and reads by prefix; `gate`, when set, holds the next listing until released. */
function counted(inner: KeyStore) {
  const counts = { lists: new Map<string, number>(), gets: new Map<string, number>() };
  let gate: Promise<void> | undefined;
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'list') {
        return async (prefix: string) => {
          counts.lists.set(prefix, (counts.lists.get(prefix) ?? 0) + 1);
          const listed = await target.list(prefix);
          if (gate) await gate;
          return listed;
        };
      }
      if (property === 'get') {
        return (name: string) => {
          const prefix = name.slice(0, name.indexOf('/') + 1);
          counts.gets.set(prefix, (counts.gets.get(prefix) ?? 0) + 1);
          return target.get(name);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store,
    lists: (prefix: string) => counts.lists.get(prefix) ?? 0,
    gets: (prefix: string) => counts.gets.get(prefix) ?? 0,
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('Class: Keyring, listings', () => {
  it('when keys are listed again within the TTL, the store is listed once; a key this keyring makes is listed at once', async () => {
    const c = counted(new MemoryKeyStore());
    const keyring = new Keyring(c.store, { ...scope, cacheTtlMs: 60_000, cacheListings: true });
    const first = await keyring.createKey({});
    expect(await keyring.listKeyIds()).toEqual([first.keyId]);
    expect(await keyring.listKeyIds()).toEqual([first.keyId]);
    expect(c.lists('keys/')).toBe(1);

    const second = await keyring.createKey({});
    expect(await keyring.listKeyIds()).toEqual([first.keyId, second.keyId].sort());
    expect(c.lists('keys/')).toBe(2);
  });

  it('when the TTL has passed, or listings are not cached (a store without a change marker), the store is listed again', async () => {
    let now = 1_000_000;
    const timed = counted(new MemoryKeyStore());
    const keyring = new Keyring(timed.store, { ...scope, cacheTtlMs: 1_000, cacheListings: true, now: () => now });
    await keyring.listKeyIds();
    now += 1_001;
    await keyring.listKeyIds();
    expect(timed.lists('keys/')).toBe(2);

    const uncached = counted(new MemoryKeyStore());
    const plain = new Keyring(uncached.store, { ...scope, cacheTtlMs: 60_000 });
    await plain.listKeyIds();
    await plain.aliasPage(0, 10);
    await plain.listKeyIds();
    await plain.aliasPage(0, 10);
    expect(uncached.lists('keys/')).toBe(2);
    expect(uncached.lists('aliases/')).toBe(2);
  });

  it('when a listing was under way as this keyring made a key, what it read is not kept: the next listing has the key', async () => {
    const c = counted(new MemoryKeyStore());
    const keyring = new Keyring(c.store, { ...scope, cacheTtlMs: 60_000, cacheListings: true });
    const release = c.hold();
    const early = keyring.listKeyIds();
    await new Promise((resolve) => setImmediate(resolve));
    const made = await keyring.createKey({});
    release();
    expect(await early).toEqual([]);
    expect(await keyring.listKeyIds()).toEqual([made.keyId]);
  });

  it('when aliases are paged again within the TTL, neither the listing nor the page’s aliases are read again; an alias bound or removed here is seen at once', async () => {
    const c = counted(new MemoryKeyStore());
    const keyring = new Keyring(c.store, { ...scope, cacheTtlMs: 60_000, cacheListings: true });
    const key = await keyring.createKey({});
    for (const name of ['alias/a', 'alias/b', 'alias/c']) await keyring.createAlias(name, key.keyId);
    const page = async () => (await keyring.aliasPage(0, 10)).aliases.map((a) => a.aliasName);
    expect(await page()).toEqual(['alias/a', 'alias/b', 'alias/c']);
    const [lists, gets] = [c.lists('aliases/'), c.gets('aliases/')];
    expect(await page()).toEqual(['alias/a', 'alias/b', 'alias/c']);
    expect([c.lists('aliases/'), c.gets('aliases/')]).toEqual([lists, gets]);

    await keyring.createAlias('alias/d', key.keyId);
    expect(await page()).toEqual(['alias/a', 'alias/b', 'alias/c', 'alias/d']);
    await keyring.deleteAlias('alias/a', key.keyId);
    expect(await page()).toEqual(['alias/b', 'alias/c', 'alias/d']);
    expect((await keyring.aliasPage(0, 10)).total).toBe(3);
  });
});

describe('Module: service, listings across instances', () => {
  it('when another instance on the store makes a key or binds an alias anew, the next request that validated the caches lists it', async () => {
    const store = new MemoryKeyStore();
    const here = createService({ store, cacheTtlMs: 60_000 });
    const there = createService({ store, cacheTtlMs: 60_000 });
    const key = await here.keyring.createKey({});
    await here.keyring.createAlias('alias/moving', key.keyId);
    await here.validateCaches();
    expect(await here.keyring.listKeyIds()).toEqual([key.keyId]);
    expect((await here.keyring.aliasPage(0, 10)).aliases).toEqual([{ aliasName: 'alias/moving', keyId: key.keyId }]);

    const other = await there.keyring.createKey({});
    await there.keyring.updateAlias('alias/moving', other.keyId, key.keyId);
    await there.keyring.createAlias('alias/new', other.keyId);

    await here.validateCaches();
    expect(await here.keyring.listKeyIds()).toEqual([key.keyId, other.keyId].sort());
    expect((await here.keyring.aliasPage(0, 10)).aliases).toEqual([
      { aliasName: 'alias/moving', keyId: other.keyId },
      { aliasName: 'alias/new', keyId: other.keyId },
    ]);
  });
});

describe('Module: service, where listings are not cached (no change marker, or KMS_CACHE_TTL_MS=0)', () => {
  /** Two instances on one store without a change marker, as on Secrets Manager: each has its own CachedKeyStore. */
  const withoutMarker = (now: () => number) => {
    const shared = new MemoryKeyStore();
    const instance = () =>
      createService({ store: new CachedKeyStore(shared, { ttlMs: 5_000, writeOnceTtlMs: 3_600_000, staleForMs: 300_000, now }), cacheTtlMs: 1_000, now });
    return [instance(), instance()] as const;
  };
  const withTtlZero = (now: () => number) => {
    const shared = new MemoryKeyStore();
    return [createService({ store: shared, cacheTtlMs: 0, now }), createService({ store: shared, cacheTtlMs: 0, now })] as const;
  };

  it('when another instance made a key and an alias, and this one looked the alias up before it existed or its wall clock stepped back, both are listed', async () => {
    for (const pair of [withoutMarker, withTtlZero]) {
      let now = 1_800_000_000_000;
      const [here, there] = pair(() => now);
      await here.validateCaches();
      expect(await here.keyring.listKeyIds()).toEqual([]);
      expect((await here.keyring.aliasPage(0, 10)).total).toBe(0);
      // A client tried the alias before it existed: the alias cache keeps its absence.
      expect(await here.keyring.getAlias('alias/x')).toBeUndefined();

      const key = await there.keyring.createKey({});
      await there.keyring.createAlias('alias/x', key.keyId);
      now -= 60_000;
      await here.validateCaches();
      expect(await here.keyring.listKeyIds()).toEqual([key.keyId]);
      expect(await here.keyring.aliasPage(0, 10)).toEqual({ aliases: [{ aliasName: 'alias/x', keyId: key.keyId }], total: 1 });
    }
  });
});
