import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessKeyRegistry } from '../../lib/access-keys.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { ADMIN_CREDENTIALS_FILE, adminCredentialsFileBeside, bootstrapAdmin } from '../../infra/gateway/bootstrap.js';

// The temporary file's name comes from randomBytes: fixed in one test to meet a name already taken.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes) };
});

/*
 * The admin credentials of a new store: written under a temporary name of their own, then linked
 * to their final name. Two gateways on one data directory (two containers, both pid 1) never write
 * into, replace or remove each other's file.
 */

let dir: string;
afterEach(async () => {
  vi.mocked(randomBytes).mockRestore();
  await rm(dir, { recursive: true, force: true });
});

const newRegistry = () => new AccessKeyRegistry(new MemoryKeyStore(), { cacheTtlMs: 0 });

describe('bootstrapAdmin', () => {
  it('a temporary file that exists under the name it draws (another writer’s) is neither truncated nor removed: it fails, and creates no key', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kms-bootstrap-'));
    (vi.mocked(randomBytes) as unknown as { mockImplementation(f: (size: number) => Buffer): void }).mockImplementation((size) => Buffer.alloc(size, 0xab));
    const taken = join(dir, `.tmp-${'ab'.repeat(8)}`);
    const theirs = '{"accessKeyId":"LTAIanotherwriter","accessKeySecret":"another-writer-secret"}\n';
    await writeFile(taken, theirs, { mode: 0o600 });
    const registry = newRegistry();

    await expect(bootstrapAdmin(dir, registry)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(taken, 'utf8')).toBe(theirs);
    expect(await readdir(dir)).toEqual([`.tmp-${'ab'.repeat(8)}`]);
    expect(await registry.anyEverCreated()).toBe(false);
  });

  it('two stores bootstrapped at once into one data directory: each key’s credentials are in a file of their own (0600), intact; no temporary file is left', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kms-bootstrap-'));
    for (let round = 0; round < 5; round++) {
      await rm(dir, { recursive: true, force: true });
      dir = await mkdtemp(join(tmpdir(), 'kms-bootstrap-'));
      const registries = [newRegistry(), newRegistry()];
      const created = await Promise.all(registries.map((registry) => bootstrapAdmin(dir, registry)));
      const keys = await Promise.all(registries.map((registry) => registry.list()));
      const files = await Promise.all(
        created.map(async (admin) => JSON.parse(await readFile(admin!.path, 'utf8')) as { accessKeyId: string; accessKeySecret: string }),
      );
      for (const [i, registry] of registries.entries()) {
        expect(keys[i]).toEqual([files[i]!.accessKeyId]);
        expect((await registry.get(files[i]!.accessKeyId))?.accessKeySecret).toBe(files[i]!.accessKeySecret);
        expect((await stat(created[i]!.path)).mode & 0o777).toBe(0o600);
      }
      expect(files[0]!.accessKeyId).not.toBe(files[1]!.accessKeyId);
      const besideName = created.map((admin) => admin!.path).find((path) => !path.endsWith(ADMIN_CREDENTIALS_FILE))!;
      expect((await readdir(dir)).sort()).toEqual([ADMIN_CREDENTIALS_FILE, besideName.slice(dir.length + 1)].sort());
      expect(besideName).toBe(join(dir, adminCredentialsFileBeside(files.find((f) => besideName.includes(f.accessKeyId))!.accessKeyId)));
    }
  });
});
