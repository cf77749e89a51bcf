import { describe, expect, it } from 'vitest';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { KeyStoreAccessDeniedError } from '../../lib/keystore/store-errors.js';
import { ADMIN, ALIAS, createTestService, KEY_ID, OTHER_KEY_ID } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/** A store that counts reads by namespace, so the cost of a listing is asserted, not timed. */
class CountingStore extends MemoryKeyStore {
  reads = new Map<string, number>();
  override get(name: string) {
    const ns = name.slice(0, name.indexOf('/'));
    this.reads.set(ns, (this.reads.get(ns) ?? 0) + 1);
    return super.get(name);
  }
  totalReads(): number {
    return [...this.reads.values()].reduce((a, b) => a + b, 0);
  }
}

async function serviceWithAliases(count: number, store: KeyStore = new CountingStore()) {
  const t = await createTestService({ store });
  for (let i = 0; i < count; i++) {
    await t.service.keyring.createAlias(`alias/bulk-${String(i).padStart(5, '0')}`, i % 2 === 0 ? OTHER_KEY_ID : KEY_ID);
  }
  return t;
}

describe('Listing aliases costs O(page), not O(all aliases)', () => {
  it('when there are 3,000 aliases, ListAliases reads only the page it returns, and its TotalCount counts them all', async () => {
    const store = new CountingStore();
    const t = await serviceWithAliases(3_000, store);
    store.reads.clear();
    const r = await t.call(signedRpcRequest(ADMIN, 'ListAliases', { PageNumber: '7', PageSize: '20' }));
    expect(r.status, r.raw).toBe(200);
    expect(r.body.TotalCount).toBe(3_000 + 3);
    expect(r.body.Aliases.Alias).toHaveLength(20);
    expect(store.reads.get('aliases')).toBe(20);
    // Besides the page: the caller's access key at most.
    expect(store.totalReads()).toBeLessThanOrEqual(22);
  });

  it('when one key has 400 aliases among 3,400, ListAliasesByKeyId reads only the page it returns, and counts them all', async () => {
    const store = new CountingStore();
    const t = await serviceWithAliases(3_000, store);
    const key = (await t.call(signedRpcRequest(ADMIN, 'CreateKey', {}))).body.KeyMetadata.KeyId as string;
    for (let i = 0; i < 400; i++) await t.service.keyring.createAlias(`alias/mine-${String(399 - i).padStart(3, '0')}`, key);
    // The first listing of a store indexes the aliases an older version wrote (once per store).
    expect((await t.call(signedRpcRequest(ADMIN, 'ListAliasesByKeyId', { KeyId: OTHER_KEY_ID }))).status).toBe(200);
    for (const instance of [t, await createTestService({ store })]) {
      store.reads.clear();
      const r = await instance.call(signedRpcRequest(ADMIN, 'ListAliasesByKeyId', { KeyId: key, PageNumber: '3', PageSize: '10' }));
      expect(r.status, r.raw).toBe(200);
      expect(r.body.TotalCount).toBe(400);
      expect(r.body.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual(
        Array.from({ length: 10 }, (_, i) => `alias/mine-${String(20 + i).padStart(3, '0')}`),
      );
      // The page's aliases; besides: the key, the access key, the backfill marker.
      expect(store.totalReads()).toBeLessThanOrEqual(10 + 4);
    }
  });

  it('when the store predates the index, listing by key finds every alias without writing anything; the first alias write backfills the index', async () => {
    const store = new MemoryKeyStore();
    await createTestService({ store });
    // As an older version left it: an alias entry with no index entry, and no backfill marker.
    await store.create('aliases/legacy', Buffer.from(JSON.stringify({ aliasName: 'alias/legacy', keyId: KEY_ID })), { writeOnce: false });
    const marker = await store.get('meta/alias-index-v1');
    await store.delete('meta/alias-index-v1', marker!.revision);
    const reader = await createTestService({ store: readOnly(store), seed: false });
    const listed = await reader.call(signedRpcRequest(ADMIN, 'ListAliasesByKeyId', { KeyId: KEY_ID }));
    expect(listed.status).toBe(200);
    expect(listed.body.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual(['alias/legacy', ALIAS]);
    expect(listed.body.TotalCount).toBe(2);
    expect(await store.get('meta/alias-index-v1')).toBeUndefined();
    // A writer (a newer instance) backfills before its first alias write; from then on the index serves the listing.
    const writer = await createTestService({ store, seed: false });
    expect((await writer.call(signedRpcRequest(ADMIN, 'CreateAlias', { AliasName: 'alias/new', KeyId: KEY_ID }))).status).toBe(200);
    expect(await store.get('meta/alias-index-v1')).toBeDefined();
    expect(await store.get(`alias-index.${KEY_ID}/legacy`)).toBeDefined();
    const after = await reader.call(signedRpcRequest(ADMIN, 'ListAliasesByKeyId', { KeyId: KEY_ID }));
    expect(after.body.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual(['alias/legacy', 'alias/new', ALIAS]);
  });
});

/** The store as a function with read-only permissions sees it: every write is refused. */
function readOnly(store: KeyStore): KeyStore {
  const refuse = async () => {
    throw new KeyStoreAccessDeniedError('write', undefined, new Error('AccessDeniedException'));
  };
  return { get: (n) => store.get(n), list: (p) => store.list(p), create: refuse, update: refuse, delete: refuse, destroy: refuse, changes: store.changes };
}

describe('The alias index follows every change', () => {
  const namesOf = async (t: Awaited<ReturnType<typeof createTestService>>, keyId: string) =>
    (await t.call(signedRpcRequest(ADMIN, 'ListAliasesByKeyId', { KeyId: keyId, PageSize: '100' }))).body.Aliases.Alias.map(
      (a: { AliasName: string }) => a.AliasName,
    );

  it('when aliases are created, moved, deleted and re-created, each key lists exactly the aliases that name it', async () => {
    const t = await createTestService();
    const call = (action: string, params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, action, params));
    expect((await call('CreateAlias', { AliasName: 'alias/moving', KeyId: KEY_ID })).status).toBe(200);
    expect(await namesOf(t, KEY_ID)).toEqual(['alias/moving', ALIAS]);
    expect((await call('UpdateAlias', { AliasName: 'alias/moving', KeyId: OTHER_KEY_ID })).status).toBe(200);
    expect(await namesOf(t, KEY_ID)).toEqual([ALIAS]);
    expect(await namesOf(t, OTHER_KEY_ID)).toEqual(['alias/moving', 'alias/other']);
    expect((await call('DeleteAlias', { AliasName: 'alias/moving' })).status).toBe(200);
    expect(await namesOf(t, OTHER_KEY_ID)).toEqual(['alias/other']);
    expect((await call('CreateAlias', { AliasName: 'alias/moving', KeyId: KEY_ID })).status).toBe(200);
    expect(await namesOf(t, KEY_ID)).toEqual(['alias/moving', ALIAS]);
    // A failed CreateAlias (the name is taken) leaves no trace under the other key.
    expect((await call('CreateAlias', { AliasName: 'alias/moving', KeyId: OTHER_KEY_ID })).body.Code).toBe('AliasAlreadyExists');
    expect(await namesOf(t, OTHER_KEY_ID)).toEqual(['alias/other']);
    expect(await t.store.list(`alias-index.${OTHER_KEY_ID}/`)).toEqual([`alias-index.${OTHER_KEY_ID}/other`]);
  });

  it('when the same alias is moved back and forth concurrently, the index ends listing it under the key it names', async () => {
    const t = await createTestService();
    const other = createTestService({ store: t.store });
    const u = await other;
    for (let round = 0; round < 20; round++) {
      await Promise.all([
        t.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: OTHER_KEY_ID })),
        u.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: KEY_ID })),
        t.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: KEY_ID })),
      ]);
      const owner = (await t.service.keyring.readAlias(ALIAS))!.keyId;
      expect(await namesOf(t, owner)).toContain(ALIAS);
      expect(await namesOf(t, owner === KEY_ID ? OTHER_KEY_ID : KEY_ID)).not.toContain(ALIAS);
    }
  });
});
