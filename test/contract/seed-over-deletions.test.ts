import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySeed, SeedError } from '../../lib/seed.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { createLogger } from '../../lib/logger.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { createService } from '../../lib/service.js';
import { ACCOUNT_ID, ADMIN, ALIAS, createTestService, KEY_ID, OTHER_KEY_ID, PROVIDER, REGION, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/**
 * A seed is applied at every start. What users change through the API after it — deletions and
 * alias moves included — must survive the next start with the same seed, and must not stop it.
 */
async function restartWithSeed(store: KeyStore, now: () => number = Date.now) {
  const lines: string[] = [];
  const service = createService({ store, region: REGION, accountId: ACCOUNT_ID, now, logger: createLogger({ level: 'info', write: (l) => lines.push(l) }) });
  await applySeed(TEST_SEED, service);
  return { service, lines: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const fileStore = async () => new FileKeyStore(await mkdtemp(join(tmpdir(), 'kms-seed-')));

describe('Seeding is idempotent over what the API changed', () => {
  it('when a seeded access key was deleted, a restart with the same seed starts, it stays deleted, and a line says so', async () => {
    const store = await fileStore();
    const t = await createTestService({ store });
    await t.service.accessKeys.delete(PROVIDER.accessKeyId);
    const { service, lines } = await restartWithSeed(store);
    expect(await service.accessKeys.get(PROVIDER.accessKeyId)).toBeUndefined();
    expect(await service.accessKeys.lookup(PROVIDER.accessKeyId)).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'seed: a seeded access key was deleted; it stays deleted', accessKeyId: PROVIDER.accessKeyId }),
    );
    expect(JSON.stringify(lines)).not.toContain(PROVIDER.accessKeySecret);
  });

  it('when a seeded alias was deleted, or moved to another key, a restart leaves it as the API left it', async () => {
    const store = await fileStore();
    const t = await createTestService({ store });
    expect((await t.call(signedRpcRequest(ADMIN, 'DeleteAlias', { AliasName: 'alias/disabled' }))).status).toBe(200);
    expect((await t.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: ALIAS, KeyId: OTHER_KEY_ID }))).status).toBe(200);
    const { service, lines } = await restartWithSeed(store);
    expect(await service.keyring.readAlias('alias/disabled')).toBeUndefined();
    expect((await service.keyring.readAlias(ALIAS))?.keyId).toBe(OTHER_KEY_ID);
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['seed: a seeded alias was deleted; it stays deleted', 'seed: a seeded alias was moved to another key; it stays there']),
    );
  });

  it('when a seeded key was destroyed after its deletion window, a restart does not bring it (or its material) back', async () => {
    const store = await fileStore();
    let clock = Date.now();
    const t = await createTestService({ store, now: () => clock });
    const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'gone' }))).body.CiphertextBlob as string;
    expect((await t.call(signedRpcRequest(ADMIN, 'ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' }))).status).toBe(200);
    clock += 8 * 86_400_000;
    expect(await destroyDueKeys(t.service)).toEqual([KEY_ID]);

    const { service, lines } = await restartWithSeed(store, () => clock);
    expect(await service.keyring.getKey(KEY_ID)).toBeUndefined();
    expect(await service.keyring.versionOwner(TEST_SEED.keys![0]!.versions![0]!.keyVersionId)).toBeUndefined();
    expect(await service.keyring.readAlias(ALIAS)).toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ message: 'seed: a seeded key was deleted; it stays deleted', keyId: KEY_ID }));
    const r = await t.call(
      signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob }, { timestamp: new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z') }),
    );
    expect(r.status).toBe(404);
  });

  it('when an alias the seed never created names another key, the seed is still refused (a contradiction from the start)', async () => {
    const store = await fileStore();
    const t = await createTestService({ store });
    expect((await t.call(signedRpcRequest(ADMIN, 'CreateAlias', { AliasName: 'alias/taken', KeyId: OTHER_KEY_ID }))).status).toBe(200);
    const seed = { ...TEST_SEED, keys: [{ ...TEST_SEED.keys![0]!, aliases: [ALIAS, 'alias/taken'] }] };
    await expect(applySeed(seed, t.service)).rejects.toThrow(SeedError);
  });
});

describe('A seed that clashes with itself', () => {
  it.each([
    [
      'an alias under two keys',
      {
        keys: [
          { keyId: KEY_ID, aliases: ['alias/twice'] },
          { keyId: OTHER_KEY_ID, aliases: ['alias/twice'] },
        ],
      },
      'alias "alias/twice"',
    ],
    ['a key twice', { keys: [{ keyId: KEY_ID }, { keyId: KEY_ID }] }, `key "${KEY_ID}"`],
    [
      'a version under two keys',
      {
        keys: [
          { keyId: KEY_ID, versions: [{ keyVersionId: '99999999-2222-4333-8444-555555555555' }] },
          { keyId: OTHER_KEY_ID, versions: [{ keyVersionId: '99999999-2222-4333-8444-555555555555' }] },
        ],
      },
      'key version',
    ],
    ['an access key twice', { accessKeys: [TEST_SEED.accessKeys![0]!, TEST_SEED.accessKeys![0]!] }, 'access key'],
  ])('when it names %s, it is refused before anything is written', async (_name, seed, mentions) => {
    const { seedSchema } = await import('../../lib/seed.js');
    const result = seedSchema.safeParse(seed);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toContain(mentions);
  });
});

describe('The admin bootstrap', () => {
  it('when every access key was deleted, a restart does not mint a new admin key', async () => {
    const { bootstrapAdmin } = await import('../../infra/gateway/bootstrap.js');
    const store = await fileStore();
    const dir = await mkdtemp(join(tmpdir(), 'kms-bootstrap-'));
    const service = createService({ store, region: REGION, accountId: ACCOUNT_ID, logger: createLogger({ level: 'silent' }) });
    expect(await bootstrapAdmin(dir, service.accessKeys)).toBeDefined();
    for (const id of await service.accessKeys.list()) await service.accessKeys.delete(id);
    expect(await bootstrapAdmin(dir, service.accessKeys)).toBeUndefined();
    expect(await service.accessKeys.list()).toEqual([]);
  });
});
