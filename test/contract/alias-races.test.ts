import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { ADMIN, ALIAS, createTestService, KEY_ID, OTHER_KEY_ID, SCOPED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * Alias changes are authorised on the key the alias names when the change happens, not on what a
 * cache remembered: two service instances over one store (two gateways, two Lambda instances).
 */

describe('Alias changes racing other writers', () => {
  it('when another instance moved the alias to a key the caller may not touch, DeleteAlias through a stale instance is refused', async () => {
    const store = new MemoryKeyStore();
    const a = await createTestService({ store });
    const b = await createTestService({ store });
    // SCOPED may act on KEY_ID only; instance A caches alias/test → KEY_ID.
    expect((await a.call(signedRpcRequest(SCOPED, 'DescribeKey', { KeyId: ALIAS }))).status).toBe(200);
    expect((await b.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: OTHER_KEY_ID }))).status).toBe(200);

    const del = await a.call(signedRpcRequest(SCOPED, 'DeleteAlias', { AliasName: ALIAS }));
    // Refused as an alias the caller may not use: the same answer as a missing one.
    expect(del.status).toBe(404);
    expect(del.body.Code).toBe('Forbidden.AliasNotFound');
    const upd = await a.call(signedRpcRequest(SCOPED, 'UpdateAlias', { AliasName: ALIAS, KeyId: KEY_ID }));
    expect(upd.status).toBe(404);
    expect((await b.service.keyring.readAlias(ALIAS))?.keyId).toBe(OTHER_KEY_ID);
  });

  it('when an alias was moved off a key pending deletion, destroying that key leaves the alias on its new key', async () => {
    let clock = Date.now();
    const t = await createTestService({ now: () => clock });
    expect((await t.call(signedRpcRequest(ADMIN, 'ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' }))).status).toBe(200);
    expect((await t.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: OTHER_KEY_ID }))).status).toBe(200);
    clock += 8 * 86_400_000;
    expect(await destroyDueKeys(t.service)).toEqual([KEY_ID]);
    expect((await t.service.keyring.readAlias(ALIAS))?.keyId).toBe(OTHER_KEY_ID);
  });

  it('when the alias changes between authorisation and the write, the write is refused with 409 and changes nothing', async () => {
    const t = await createTestService();
    await expect(t.service.keyring.deleteAlias(ALIAS, OTHER_KEY_ID)).rejects.toMatchObject({ statusCode: 409, code: 'Rejected.ConcurrentModification' });
    await expect(t.service.keyring.updateAlias(ALIAS, OTHER_KEY_ID, OTHER_KEY_ID)).rejects.toMatchObject({ statusCode: 409 });
    expect((await t.service.keyring.readAlias(ALIAS))?.keyId).toBe(KEY_ID);
  });
});
