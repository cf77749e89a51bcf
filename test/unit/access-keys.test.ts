import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AccessKeyRecord, AccessKeyRegistry } from '../../lib/access-keys.js';
import { AccessKeyNotFoundError } from '../../lib/errors.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { EntryExistsError, RevisionConflictError } from '../../lib/keystore/key-store.js';
import { ADMIN_POLICY, type PolicyDocument } from '../../lib/policy/policy.js';

const policyOn = (resource: string): PolicyDocument => ({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: resource }] });

const record = (accessKeyId: string, policy: PolicyDocument = ADMIN_POLICY): AccessKeyRecord => ({
  accessKeyId,
  accessKeySecret: 'secret-0123456789',
  status: 'Enabled',
  policy,
  createdAt: '2026-01-01T00:00:00.000Z',
});

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('AccessKeyRegistry: update, setPolicy, setStatus, delete', () => {
  it('its own writes are visible at once through lookup, whatever the cache TTL', async () => {
    const registry = new AccessKeyRegistry(new MemoryKeyStore(), { cacheTtlMs: 3_600_000 });
    await registry.create(record('cacheKey0001'));
    expect((await registry.lookup('cacheKey0001'))?.enabled).toBe(true);
    await registry.setStatus('cacheKey0001', 'Disabled');
    expect((await registry.lookup('cacheKey0001'))?.enabled).toBe(false);
    await registry.setPolicy('cacheKey0001', policyOn('acs:kms:*:*:key/a'));
    const principal = await registry.lookup('cacheKey0001');
    expect(principal?.policy.isAllowed('kms:Decrypt', 'acs:kms:*:*:key/a')).toBe(true);
    expect(principal?.policy.isAllowed('kms:Encrypt', 'acs:kms:*:*:key/a')).toBe(false);
    await registry.delete('cacheKey0001');
    expect(await registry.lookup('cacheKey0001')).toBeUndefined();
    expect(await registry.list()).toEqual([]);
  });

  it('an unknown id is AccessKeyNotFound for every write', async () => {
    const registry = new AccessKeyRegistry(new MemoryKeyStore(), { cacheTtlMs: 0 });
    await expect(registry.setStatus('missingKey01', 'Disabled')).rejects.toBeInstanceOf(AccessKeyNotFoundError);
    await expect(registry.setPolicy('missingKey01', ADMIN_POLICY)).rejects.toBeInstanceOf(AccessKeyNotFoundError);
    await expect(registry.delete('missingKey01')).rejects.toBeInstanceOf(AccessKeyNotFoundError);
    await expect(registry.delete('bad id!')).rejects.toBeInstanceOf(AccessKeyNotFoundError);
  });

  it('refuses an invalid policy, and a change of id or secret', async () => {
    const registry = new AccessKeyRegistry(new MemoryKeyStore(), { cacheTtlMs: 0 });
    await registry.create(record('strictKey001'));
    await expect(registry.setPolicy('strictKey001', { Version: '1', Statement: [] } as unknown as PolicyDocument)).rejects.toThrow();
    await expect(registry.update('strictKey001', (r) => ({ ...r, accessKeySecret: 'other' }))).rejects.toThrow(/id or secret/);
    expect((await registry.get('strictKey001'))?.policy).toEqual(ADMIN_POLICY);
  });

  it('concurrent writers through separate registries on one file store lose no update (compare-and-swap with retry)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-ak-'));
    dirs.push(dir);
    // Each registry has its own FileKeyStore instance: only the lock file and the revision check serialise them.
    const registries = Array.from({ length: 4 }, () => new AccessKeyRegistry(new FileKeyStore(dir), { cacheTtlMs: 0 }));
    await registries[0]!.create(record('casKey000002', { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'start' }] }));
    // Each update appends a resource: a lost update would drop one.
    const appended: string[] = [];
    await Promise.all(
      registries.flatMap((registry, w) =>
        Array.from({ length: 5 }, (_, i) => {
          const resource = `w${w}-${i}`;
          appended.push(resource);
          return registry.update('casKey000002', (r) => {
            const statement = r.policy.Statement[0]!;
            const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
            return { ...r, policy: { Version: '1', Statement: [{ ...statement, Resource: [...resources, resource] }] } };
          });
        }),
      ),
    );
    const final = await registries[1]!.get('casKey000002');
    const resources = final!.policy.Statement[0]!.Resource as string[];
    expect([...resources].sort()).toEqual(['start', ...appended].sort());
    expect((await new FileKeyStore(dir).get('access-keys/casKey000002'))!.revision).toBe(1 + appended.length);
  });
});

describe('AccessKeyRegistry: ids are never reused', () => {
  const policy = { Version: '1' as const, Statement: [{ Effect: 'Allow' as const, Action: 'kms:*', Resource: '*' }] };
  const record = (secret: string) => ({
    accessKeyId: 'reusedKey001',
    accessKeySecret: secret,
    status: 'Enabled' as const,
    policy,
    createdAt: new Date().toISOString(),
  });

  it('when a deleted key id is created again, the store refuses it, and the old secret can never come back', async () => {
    const store = new MemoryKeyStore();
    const registry = new AccessKeyRegistry(store, { cacheTtlMs: 0 });
    await registry.create(record('OLD-secret-0123456789'));
    // A writer reads the key, then an admin deletes it (and would re-create the id) before it writes.
    const stale = await store.get('access-keys/reusedKey001');
    await registry.delete('reusedKey001');
    await expect(registry.create(record('NEW-secret-0123456789'))).rejects.toBeInstanceOf(EntryExistsError);
    await expect(store.update('access-keys/reusedKey001', stale!.revision, stale!.value)).rejects.toBeInstanceOf(RevisionConflictError);
    expect(await registry.get('reusedKey001')).toBeUndefined();
    expect(await registry.lookup('reusedKey001')).toBeUndefined();
    expect(await registry.list()).toEqual([]);
    expect((await store.get('access-keys/reusedKey001'))!.value.toString()).not.toContain('OLD-secret');
  });
});
