import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { sealEnvelope } from '../../lib/crypto/envelope.js';
import type { KeyRecord } from '../../lib/keyring/records.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { ADMIN, createTestService, type TestService } from '../helpers/service.js';
import { isoSeconds, signedRpcRequest } from '../helpers/sign.js';
import { expectError } from './support.js';

/*
 * Real parallel calls through the dispatcher, over the in-memory store and over the file store in a
 * temporary directory: concurrent writers of one key record or one alias never lose an update,
 * never corrupt a record, and never let two callers win one name. Then two service instances over
 * one directory (the gateway and another process).
 */

type CallResult = Awaited<ReturnType<TestService['call']>>;
type Params = Record<string, string>;

const DAY_MS = 86_400_000;

/** Calls as ADMIN, signed at `now`. */
function caller(t: TestService, now: () => number = Date.now) {
  const call = (action: string, params: Params = {}) => t.call(signedRpcRequest(ADMIN, action, params, { timestamp: isoSeconds(now()) }));
  const ok = async (action: string, params: Params = {}) => {
    const r = await call(action, params);
    expect(r.status, `${action} ${JSON.stringify(params)} → ${r.raw}`).toBe(200);
    return r.body;
  };
  return { call, ok };
}

/** The key record exactly as stored, with its revision (one per successful write). */
async function storedKey(store: KeyStore, keyId: string): Promise<{ record: KeyRecord; revision: number }> {
  const entry = await store.get(`keys/${keyId}`);
  expect(entry, `keys/${keyId} is stored`).toBeDefined();
  return { record: JSON.parse(entry!.value.toString('utf8')) as KeyRecord, revision: entry!.revision };
}

/** A blob sealed directly under one version's stored material (Decrypt has no way to pick a version). */
async function blobUnderVersion(t: TestService, keyVersionId: string): Promise<string> {
  const version = (await t.service.keyring.findVersion(keyVersionId))!;
  return sealEnvelope(version.material, keyVersionId, Buffer.from(`sealed under ${keyVersionId}`, 'utf8'), encodeEncryptionContext(new Map()));
}

function expectStatuses(results: CallResult[], expected: number): void {
  expect(
    results.map((r) => r.status),
    results
      .filter((r) => r.status !== expected)
      .map((r) => r.raw)
      .join('\n'),
  ).toEqual(results.map(() => expected));
}

const STORES = ['memory', 'file'] as const;

describe.each(STORES)('Concurrency over the %s key store', (kind) => {
  let dir: string | undefined;
  let t: TestService;
  let api: ReturnType<typeof caller>;
  /** A second service over the same store, with its own (cold) caches: what a restart would see. */
  const fresh = async () => createTestService({ store: kind === 'file' ? new FileKeyStore(dir!) : t.store });

  beforeAll(async () => {
    if (kind === 'file') dir = await mkdtemp(join(tmpdir(), 'kms-concurrency-'));
    t = await createTestService({ store: kind === 'file' ? new FileKeyStore(dir!) : new MemoryKeyStore() });
    api = caller(t);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('Action: CreateKeyVersion', () => {
    it('when 10 CreateKeyVersion calls on one key run at once, all succeed, all versions survive, the primary is one of them, and each decrypts', async () => {
      const key = (await api.ok('CreateKey')).KeyMetadata;
      const before = await storedKey(t.store, key.KeyId);
      // Data keys generated during the burst, under whichever version was primary at the time.
      const [created, generated] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => api.call('CreateKeyVersion', { KeyId: key.KeyId }))),
        Promise.all(Array.from({ length: 10 }, () => api.call('GenerateDataKey', { KeyId: key.KeyId }))),
      ]);
      expectStatuses(created, 200);
      expectStatuses(generated, 200);
      const newIds = created.map((r) => r.body.KeyVersion.KeyVersionId as string);
      expect(new Set(newIds).size).toBe(10);
      for (const r of created) expect(r.body.KeyVersion.KeyId).toBe(key.KeyId);

      const listed = await api.ok('ListKeyVersions', { KeyId: key.KeyId, PageSize: '100' });
      expect(listed.TotalCount).toBe(11);
      const listedIds = listed.KeyVersions.KeyVersion.map((v: { KeyVersionId: string }) => v.KeyVersionId);
      expect([...listedIds].sort()).toEqual([key.PrimaryKeyVersion, ...newIds].sort());
      expect(listedIds[0]).toBe(key.PrimaryKeyVersion);

      const primary = (await api.ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata.PrimaryKeyVersion;
      expect(newIds).toContain(primary);
      // Every one of the ten primary moves landed as its own revision: none was lost.
      const after = await storedKey(t.store, key.KeyId);
      expect(after.revision).toBe(before.revision + 10);
      expect(after.record.primaryKeyVersion).toBe(primary);

      // Through a service with cold caches: a blob under each version decrypts, and so does each data key.
      const other = await fresh();
      const otherApi = caller(other);
      for (const keyVersionId of [key.PrimaryKeyVersion, ...newIds]) {
        const blob = await blobUnderVersion(t, keyVersionId);
        expect(await otherApi.ok('Decrypt', { CiphertextBlob: blob })).toMatchObject({
          KeyId: key.KeyId,
          KeyVersionId: keyVersionId,
          Plaintext: `sealed under ${keyVersionId}`,
        });
      }
      for (const g of generated) {
        expect((await otherApi.ok('Decrypt', { CiphertextBlob: g.body.CiphertextBlob })).Plaintext).toBe(g.body.Plaintext);
      }
      expect((await otherApi.ok('GenerateDataKey', { KeyId: key.KeyId })).KeyVersionId).toBe(primary);
    });
  });

  describe('Action: CreateAlias', () => {
    it('when 10 CreateAlias calls for one name run at once (each for another key), exactly one answers 200 and nine 400 AliasAlreadyExists', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 10; i++) keys.push((await api.ok('CreateKey')).KeyMetadata.KeyId);
      const results = await Promise.all(keys.map((keyId) => api.call('CreateAlias', { AliasName: 'alias/race', KeyId: keyId })));
      const winners = results.flatMap((r, i) => (r.status === 200 ? [keys[i]!] : []));
      expect(winners).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200)) expectError(r, 400, 'AliasAlreadyExists');

      expect((await api.ok('DescribeKey', { KeyId: 'alias/race' })).KeyMetadata.KeyId).toBe(winners[0]);
      const aliases = (await api.ok('ListAliases', { PageSize: '100' })).Aliases.Alias as Array<{ AliasName: string; KeyId: string }>;
      expect(aliases.filter((a) => a.AliasName === 'alias/race')).toEqual([expect.objectContaining({ KeyId: winners[0] })]);
      expect((await caller(await fresh()).ok('DescribeKey', { KeyId: 'alias/race' })).KeyMetadata.KeyId).toBe(winners[0]);
    });

    it('when 10 CreateAlias calls for different names on one key run at once, all succeed', async () => {
      const keyId = (await api.ok('CreateKey')).KeyMetadata.KeyId;
      const names = Array.from({ length: 10 }, (_, i) => `alias/parallel-${i}`);
      expectStatuses(await Promise.all(names.map((name) => api.call('CreateAlias', { AliasName: name, KeyId: keyId }))), 200);
      const listed = await api.ok('ListAliasesByKeyId', { KeyId: keyId, PageSize: '100' });
      expect(listed.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual([...names].sort());
    });
  });

  describe('Actions: EnableKey, DisableKey, UpdateRotationPolicy, CreateKeyVersion interleaved', () => {
    it('when 30 Enable/Disable/UpdateRotationPolicy calls interleave, all succeed, every write lands, and the rotation setting is intact', async () => {
      const key = (await api.ok('CreateKey', { Description: 'interleaved', EnableAutomaticRotation: 'true', RotationInterval: '30d' })).KeyMetadata;
      const before = await storedKey(t.store, key.KeyId);
      const ops = Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? api.call('EnableKey', { KeyId: key.KeyId })
          : i % 3 === 1
            ? api.call('DisableKey', { KeyId: key.KeyId })
            : api.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '2592000s' }),
      );
      expectStatuses(await Promise.all(ops), 200);

      const after = await storedKey(t.store, key.KeyId);
      expect(after.revision).toBe(before.revision + 30);
      expect(['Enabled', 'Disabled']).toContain(after.record.state);
      const m = (await caller(await fresh()).ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(m).toEqual({ ...key, KeyState: after.record.state });
    });

    it('when one UpdateRotationPolicy (on, 45d) races 20 Enable/Disable calls, the new interval is kept', async () => {
      const key = (await api.ok('CreateKey')).KeyMetadata;
      const toggles = Array.from({ length: 20 }, (_, i) => api.call(i % 2 ? 'EnableKey' : 'DisableKey', { KeyId: key.KeyId }));
      const update = api.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '45d' });
      expectStatuses(await Promise.all([...toggles.slice(0, 10), update, ...toggles.slice(10)]), 200);
      const m = (await caller(await fresh()).ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(m).toMatchObject({
        AutomaticRotation: 'Enabled',
        RotationInterval: `${45 * 86_400}s`,
        NextRotationDate: isoSeconds(Date.parse(key.CreationDate) + 45 * DAY_MS),
      });
      expect(m.PrimaryKeyVersion).toBe(key.PrimaryKeyVersion);
    });

    it('when one DisableKey races 20 UpdateRotationPolicy calls, the key ends Disabled with a consistent rotation policy', async () => {
      const key = (await api.ok('CreateKey')).KeyMetadata;
      const updates = Array.from({ length: 20 }, (_, i) =>
        api.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: i % 2 ? '10d' : '20d' }),
      );
      const disable = api.call('DisableKey', { KeyId: key.KeyId });
      expectStatuses(await Promise.all([...updates.slice(0, 7), disable, ...updates.slice(7)]), 200);
      const m = (await caller(await fresh()).ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(m.KeyState).toBe('Disabled');
      expect(m.AutomaticRotation).toBe('Enabled');
      expect(['864000s', '1728000s']).toContain(m.RotationInterval);
      expect(Date.parse(m.NextRotationDate) - Date.parse(m.CreationDate)).toBe(Number.parseInt(m.RotationInterval, 10) * 1000);
    });

    it('when rotation is turned off while versions are created and the state toggles, it stays off and the dates stay consistent', async () => {
      const key = (await api.ok('CreateKey', { EnableAutomaticRotation: 'true', RotationInterval: '30d' })).KeyMetadata;
      const ops = [
        ...Array.from({ length: 5 }, () => api.call('CreateKeyVersion', { KeyId: key.KeyId })),
        ...Array.from({ length: 10 }, (_, i) => api.call(i % 2 ? 'EnableKey' : 'DisableKey', { KeyId: key.KeyId })),
      ];
      ops.splice(6, 0, api.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'false' }));
      const results = await Promise.all(ops);
      expectStatuses(results, 200);
      const m = (await caller(await fresh()).ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(m.AutomaticRotation).toBe('Disabled');
      expect(m.NextRotationDate).toBe('');
      const versions = (await api.ok('ListKeyVersions', { KeyId: key.KeyId })).KeyVersions.KeyVersion as Array<{ KeyVersionId: string; CreationDate: string }>;
      expect(versions).toHaveLength(6);
      // The primary and LastRotationDate were set by one write: they describe the same version.
      const primary = versions.find((v) => v.KeyVersionId === m.PrimaryKeyVersion);
      expect(primary).toBeDefined();
      expect(m.LastRotationDate).toBe(primary!.CreationDate);
    });

    it('when ScheduleKeyDeletion races Enable/Disable calls, it wins its place, later toggles are refused, and Cancel restores a valid state', async () => {
      const key = (await api.ok('CreateKey', { EnableAutomaticRotation: 'true', RotationInterval: '30d' })).KeyMetadata;
      const toggles = Array.from({ length: 12 }, (_, i) => api.call(i % 2 ? 'EnableKey' : 'DisableKey', { KeyId: key.KeyId }));
      const schedule = api.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
      const results = await Promise.all([...toggles.slice(0, 6), schedule, ...toggles.slice(6)]);
      expect(results[6]!.status, results[6]!.raw).toBe(200);
      for (const r of results) {
        if (r.status !== 200) expectError(r, 409, 'Rejected.StateModifiedFailed');
      }
      const pending = (await api.ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(pending.KeyState).toBe('PendingDeletion');
      expect(pending.DeleteDate).not.toBe('');
      await api.ok('CancelKeyDeletion', { KeyId: key.KeyId });
      const m = (await caller(await fresh()).ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata;
      expect(['Enabled', 'Disabled']).toContain(m.KeyState);
      expect(m).toMatchObject({ DeleteDate: '', AutomaticRotation: 'Enabled', RotationInterval: '2592000s', PrimaryKeyVersion: key.PrimaryKeyVersion });
    });
  });
});

describe('Two service instances over one file-store directory (the gateway and another process)', () => {
  let dir: string;
  let a: TestService;
  let b: TestService;
  let clockMs = Date.now();
  const now = () => clockMs;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kms-two-instances-'));
    a = await createTestService({ store: new FileKeyStore(dir), now });
    b = await createTestService({ store: new FileKeyStore(dir), now });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when both create versions of one key at once, all 20 versions survive and each decrypts through either instance', async () => {
    const apiA = caller(a, now);
    const apiB = caller(b, now);
    const key = (await apiA.ok('CreateKey')).KeyMetadata;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? apiA : apiB).call('CreateKeyVersion', { KeyId: key.KeyId })));
    expectStatuses(results, 200);
    const newIds = results.map((r) => r.body.KeyVersion.KeyVersionId as string);
    expect(new Set(newIds).size).toBe(20);

    const c = await createTestService({ store: new FileKeyStore(dir), now });
    const apiC = caller(c, now);
    const listed = await apiC.ok('ListKeyVersions', { KeyId: key.KeyId, PageSize: '100' });
    expect(listed.TotalCount).toBe(21);
    expect(listed.KeyVersions.KeyVersion.map((v: { KeyVersionId: string }) => v.KeyVersionId).sort()).toEqual([key.PrimaryKeyVersion, ...newIds].sort());
    const { record, revision } = await storedKey(c.store, key.KeyId);
    expect(revision).toBe(21);
    expect(newIds).toContain(record.primaryKeyVersion);
    expect((await apiC.ok('DescribeKey', { KeyId: key.KeyId })).KeyMetadata.PrimaryKeyVersion).toBe(record.primaryKeyVersion);

    for (const keyVersionId of newIds) {
      const blob = await blobUnderVersion(c, keyVersionId);
      for (const api of [apiA, apiB]) expect((await api.ok('Decrypt', { CiphertextBlob: blob })).KeyVersionId).toBe(keyVersionId);
    }
  });

  it('when both create one alias at once, exactly one call wins across the two instances', async () => {
    const apiA = caller(a, now);
    const apiB = caller(b, now);
    const keyA = (await apiA.ok('CreateKey')).KeyMetadata.KeyId;
    const keyB = (await apiB.ok('CreateKey')).KeyMetadata.KeyId;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 ? apiA.call('CreateAlias', { AliasName: 'alias/shared', KeyId: keyA }) : apiB.call('CreateAlias', { AliasName: 'alias/shared', KeyId: keyB }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expectError(r, 400, 'AliasAlreadyExists');
    const winner = results.findIndex((r) => r.status === 200) % 2 ? keyA : keyB;
    for (const api of [apiA, apiB]) expect((await api.ok('DescribeKey', { KeyId: 'alias/shared' })).KeyMetadata.KeyId).toBe(winner);
  });

  it('when both change one key at once, neither loses the other’s rotation setting', async () => {
    const apiA = caller(a, now);
    const apiB = caller(b, now);
    const key = (await apiA.ok('CreateKey')).KeyMetadata;
    const ops = [
      ...Array.from({ length: 10 }, (_, i) => apiA.call(i % 2 ? 'EnableKey' : 'DisableKey', { KeyId: key.KeyId })),
      apiB.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '60d' }),
      ...Array.from({ length: 5 }, () => apiB.call('CreateKeyVersion', { KeyId: key.KeyId })),
    ];
    expectStatuses(await Promise.all(ops), 200);
    const c = await createTestService({ store: new FileKeyStore(dir), now });
    const { record, revision } = await storedKey(c.store, key.KeyId);
    expect(revision).toBe(1 + ops.length);
    expect(record).toMatchObject({ automaticRotation: 'Enabled', rotationInterval: 60 * 86_400 });
    expect(record.nextRotationDate).toBe(isoSeconds(Date.parse(record.lastRotationDate ?? record.creationDate) + 60 * DAY_MS));
    expect((await caller(c, now).ok('ListKeyVersions', { KeyId: key.KeyId })).TotalCount).toBe(6);
  });

  it('when both run the scheduled deletion at once, the due key is destroyed once and cleanly', async () => {
    const apiA = caller(a, now);
    const key = (await apiA.ok('CreateKey')).KeyMetadata;
    await apiA.ok('CreateKeyVersion', { KeyId: key.KeyId });
    await apiA.ok('CreateAlias', { AliasName: 'alias/both-destroy', KeyId: key.KeyId });
    const blob = (await apiA.ok('GenerateDataKey', { KeyId: key.KeyId })).CiphertextBlob;
    await apiA.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    clockMs += 8 * DAY_MS;
    const [fromA, fromB] = await Promise.all([destroyDueKeys(a.service), destroyDueKeys(b.service)]);
    expect([...fromA, ...fromB]).toContain(key.KeyId);

    const c = await createTestService({ store: new FileKeyStore(dir), now });
    const apiC = caller(c, now);
    expectError(await apiC.call('DescribeKey', { KeyId: key.KeyId }), 404, 'Forbidden.KeyNotFound');
    expectError(await apiC.call('DescribeKey', { KeyId: 'alias/both-destroy' }), 404, 'Forbidden.AliasNotFound');
    expect((await apiC.call('Decrypt', { CiphertextBlob: blob })).status).toBe(404);
    for (const prefix of [`keys/${key.KeyId}`, `key-versions/${key.KeyId}/`]) expect(await c.store.list(prefix)).toEqual([]);
  });
});
