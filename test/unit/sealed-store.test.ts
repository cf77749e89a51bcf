import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { loadRootKey } from '../../lib/keystore/root-key.js';
import { ALL_SEALED_ENTRY, ROOT_KEY_CHECK_ENTRY, RootKeyMismatchError, SealedKeyStore, UnsealedStoreError } from '../../lib/keystore/sealed-store.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError } from '../../lib/keystore/store-errors.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { OPERATIONS } from '../../functions/actions.js';
import { ADMIN, KEY_MATERIAL } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { keyStoreConformance } from '../keystore/conformance.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-before-sealing/', import.meta.url));
const key = (fill: number) => Buffer.alloc(32, fill);

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-sealed-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

keyStoreConformance('SealedKeyStore over MemoryKeyStore', () => SealedKeyStore.open(new MemoryKeyStore(), key(1)));

describe('Class: SealedKeyStore', () => {
  it('when a value is written, the store below holds only its ciphertext, under the entry name', async () => {
    const inner = new MemoryKeyStore();
    const store = await SealedKeyStore.open(inner, key(1));
    await store.create('key-versions/k/v', Buffer.from(`{"material":"${KEY_MATERIAL}"}`), { writeOnce: true });
    const raw = (await inner.get('key-versions/k/v'))!.value;
    expect(raw.subarray(0, 4).toString()).toBe('KMSS');
    expect(raw.includes(Buffer.from(KEY_MATERIAL))).toBe(false);
    expect((await store.get('key-versions/k/v'))!.value.toString()).toContain(KEY_MATERIAL);
  });

  it('when a sealed value is moved to another entry name, it does not open there', async () => {
    const inner = new MemoryKeyStore();
    const store = await SealedKeyStore.open(inner, key(1));
    await store.create('access-keys/a', Buffer.from('secret a'), { writeOnce: false });
    await inner.create('access-keys/b', (await inner.get('access-keys/a'))!.value, { writeOnce: false });
    await expect(store.get('access-keys/b')).rejects.toThrow(/does not decrypt/);
  });

  it('when the store was sealed with another root key, opening it is refused before anything is read', async () => {
    const inner = new MemoryKeyStore();
    await SealedKeyStore.open(inner, key(1));
    await expect(SealedKeyStore.open(inner, key(2))).rejects.toBeInstanceOf(RootKeyMismatchError);
    expect(await inner.get(ROOT_KEY_CHECK_ENTRY)).toBeDefined();
    expect(await inner.list('meta/')).toEqual([ALL_SEALED_ENTRY, ROOT_KEY_CHECK_ENTRY]);
  });

  it('when instances seal a fresh store at once with one key, they agree; with two keys, one is refused', async () => {
    const inner = new MemoryKeyStore();
    await Promise.all([SealedKeyStore.open(inner, key(3)), SealedKeyStore.open(inner, key(3))]);
    const other = new MemoryKeyStore();
    const results = await Promise.allSettled([SealedKeyStore.open(other, key(4)), SealedKeyStore.open(other, key(5))]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });

  it('when a store written before sealing is opened, every value is sealed at once, write-once material included, and reads the same', async () => {
    const inner = new MemoryKeyStore();
    await inner.create('keys/old', Buffer.from('{"legacy":true}'), { writeOnce: false });
    await inner.create('key-versions/k/v', Buffer.from('{"material":"c2VjcmV0"}'), { writeOnce: true });
    const store = await SealedKeyStore.open(inner, key(1));
    for (const name of ['keys/old', 'key-versions/k/v']) expect((await inner.get(name))!.value.subarray(0, 4).toString(), name).toBe('KMSS');
    expect((await inner.get('key-versions/k/v'))!.writeOnce).toBe(true);
    expect((await store.get('keys/old'))!.value.toString()).toBe('{"legacy":true}');
    expect((await store.get('key-versions/k/v'))!.value.toString()).toBe('{"material":"c2VjcmV0"}');
    expect(await store.list('')).toEqual(['key-versions/k/v', 'keys/old']);
    // Opened again: nothing left to do, and the same values.
    const again = await SealedKeyStore.open(inner, key(1));
    expect((await again.get('keys/old'))!.value.toString()).toBe('{"legacy":true}');
  });

  it('when someone writes a value in the clear around the service (no root key), it is refused, not served', async () => {
    const inner = new MemoryKeyStore();
    const store = await SealedKeyStore.open(inner, key(1));
    await inner.create('access-keys/planted01', Buffer.from('{"accessKeyId":"planted01","accessKeySecret":"x","status":"Enabled"}'), { writeOnce: false });
    await expect(store.get('access-keys/planted01')).rejects.toBeInstanceOf(KeyStoreFailureError);
    const reopened = await SealedKeyStore.open(inner, key(1));
    await expect(reopened.get('access-keys/planted01')).rejects.toBeInstanceOf(KeyStoreFailureError);
  });

  it('when two instances seal the same old store at once, both finish and every value reads back', async () => {
    const inner = new MemoryKeyStore();
    for (let i = 0; i < 20; i++) await inner.create(`keys/k${i}`, Buffer.from(`v${i}`), { writeOnce: i % 2 === 0 });
    const [a, b] = await Promise.all([SealedKeyStore.open(inner, key(1)), SealedKeyStore.open(inner, key(1))]);
    for (let i = 0; i < 20; i++) {
      expect((await a.get(`keys/k${i}`))!.value.toString()).toBe(`v${i}`);
      expect((await b.get(`keys/k${i}`))!.value.toString()).toBe(`v${i}`);
    }
  });
});

/** A store a role may only read (a cloud function whose Action writes nothing): every write is denied. */
function readOnly(inner: KeyStore): KeyStore {
  const denied = (operation: string, name: string) => Promise.reject(new KeyStoreAccessDeniedError(operation, name));
  return {
    changes: inner.changes,
    get: (name) => inner.get(name),
    list: (prefix) => inner.list(prefix),
    create: (name) => denied('create', name),
    update: (name) => denied('update', name),
    delete: (name) => denied('delete', name),
    destroy: (name) => denied('destroy', name),
  };
}

describe('Class: SealedKeyStore, opened by a role that may only read', () => {
  it('when the store was never sealed (new, or of an earlier release), it opens and reads it as it is; a writer seals it later', async () => {
    const inner = new MemoryKeyStore();
    await inner.create('keys/k1', Buffer.from('v1'), { writeOnce: false });
    const reader = await SealedKeyStore.open(readOnly(inner), key(1));
    expect((await reader.get('keys/k1'))!.value.toString()).toBe('v1');
    expect(await inner.get(ROOT_KEY_CHECK_ENTRY)).toBeUndefined();
    await expect(reader.create('keys/k2', Buffer.from('v2'), { writeOnce: false })).rejects.toBeInstanceOf(KeyStoreAccessDeniedError);
    const writer = await SealedKeyStore.open(inner, key(1));
    await writer.create('keys/k2', Buffer.from('v2'), { writeOnce: false });
    // The reader opens what the writer sealed (same root key), and the old value now sealed too.
    expect((await reader.get('keys/k2'))!.value.toString()).toBe('v2');
    expect((await reader.get('keys/k1'))!.value.toString()).toBe('v1');
  });

  it('when a writer began sealing but did not finish, the reader opens it, reading what is not sealed yet', async () => {
    // A check entry sealed under key 1, no all-sealed marker, one value still in the clear.
    const sealedElsewhere = new MemoryKeyStore();
    await SealedKeyStore.open(sealedElsewhere, key(1));
    const half = new MemoryKeyStore();
    await half.create(ROOT_KEY_CHECK_ENTRY, (await sealedElsewhere.get(ROOT_KEY_CHECK_ENTRY))!.value, { writeOnce: true });
    await half.create('keys/plain', Buffer.from('p'), { writeOnce: false });
    const reader = await SealedKeyStore.open(readOnly(half), key(1));
    expect((await reader.get('keys/plain'))!.value.toString()).toBe('p');
    await expect(SealedKeyStore.open(readOnly(half), key(2))).rejects.toBeInstanceOf(RootKeyMismatchError);
    expect(await half.get(ALL_SEALED_ENTRY)).toBeUndefined();
  });

  it('when the store is sealed, a reader with another root key is refused as any instance is', async () => {
    const inner = new MemoryKeyStore();
    await SealedKeyStore.open(inner, key(1));
    await expect(SealedKeyStore.open(readOnly(inner), key(2))).rejects.toBeInstanceOf(RootKeyMismatchError);
    const reader = await SealedKeyStore.open(readOnly(inner), key(1));
    await inner.create('keys/planted', Buffer.from('in the clear'), { writeOnce: false });
    await expect(reader.get('keys/planted')).rejects.toBeInstanceOf(KeyStoreFailureError);
  });
});

/*
 * A shared store (DynamoDB, PostgreSQL) is opened with sealInPlace 'explicit': whoever may write
 * its table but does not hold the root key must not get a value in the clear taken in — neither
 * served nor sealed — whatever seal entries they delete, replay or forge.
 */
describe('Class: SealedKeyStore, a shared store (sealInPlace explicit)', () => {
  const explicit = { sealInPlace: 'explicit' as const };
  const planted = Buffer.from('{"accessKeySecret":"planted","policy":"admin"}');
  const sealedStore = async () => {
    const inner = new MemoryKeyStore();
    const writer = await SealedKeyStore.open(inner, key(1), undefined, explicit);
    await writer.create('access-keys/real', Buffer.from('real'), { writeOnce: false });
    return inner;
  };
  // Whoever writes the table around the service removes any item, write-once or not.
  const remove = (inner: KeyStore, name: string) => inner.destroy(name);

  it('when a new store is opened, it is sealed at once (check entry and marker), and a value planted in the clear later is refused', async () => {
    const inner = new MemoryKeyStore();
    const store = await SealedKeyStore.open(inner, key(1), undefined, explicit);
    expect(await inner.get(ROOT_KEY_CHECK_ENTRY)).toBeDefined();
    expect(await inner.get(ALL_SEALED_ENTRY)).toBeDefined();
    await inner.create('access-keys/planted', planted, { writeOnce: false });
    await expect(store.get('access-keys/planted')).rejects.toBeInstanceOf(KeyStoreFailureError);
  });

  it.each([
    ['the check entry and the marker deleted', [ROOT_KEY_CHECK_ENTRY, ALL_SEALED_ENTRY]],
    ['the marker deleted', [ALL_SEALED_ENTRY]],
    ['the check entry deleted', [ROOT_KEY_CHECK_ENTRY]],
  ])(
    'when a value is planted in the clear with %s, neither a writer nor a reader takes it in: refused, or refused on read; nothing is sealed',
    async (_what, deleted) => {
      const inner = await sealedStore();
      for (const name of deleted) await remove(inner, name);
      await inner.create('access-keys/planted', planted, { writeOnce: false });
      const opened = await Promise.allSettled([
        SealedKeyStore.open(inner, key(1), undefined, explicit),
        SealedKeyStore.open(readOnly(inner), key(1), undefined, explicit),
      ]);
      for (const result of opened) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(UnsealedStoreError);
        else await expect(result.value.get('access-keys/planted')).rejects.toBeInstanceOf(KeyStoreFailureError);
      }
      // Still in the clear: never sealed under the root key, so never served.
      expect((await inner.get('access-keys/planted'))!.value).toEqual(planted);
    },
  );

  it('when the marker is forged (in the clear, or sealed under another key) or moved from another store, it proves nothing', async () => {
    const other = new MemoryKeyStore();
    await SealedKeyStore.open(other, key(2), undefined, explicit);
    const forged = [Buffer.from('all values sealed v1'), (await other.get(ALL_SEALED_ENTRY))!.value, (await other.get(ROOT_KEY_CHECK_ENTRY))!.value];
    for (const marker of forged) {
      const inner = await sealedStore();
      await remove(inner, ALL_SEALED_ENTRY);
      await inner.create(ALL_SEALED_ENTRY, marker, { writeOnce: true });
      await inner.create('access-keys/planted', planted, { writeOnce: false });
      await expect(SealedKeyStore.open(inner, key(1), undefined, explicit)).rejects.toBeInstanceOf(UnsealedStoreError);
    }
  });

  it('when the check entry is replaced by its plaintext, the store is refused as sealed under another key', async () => {
    const inner = await sealedStore();
    await remove(inner, ROOT_KEY_CHECK_ENTRY);
    await remove(inner, ALL_SEALED_ENTRY);
    await inner.create(ROOT_KEY_CHECK_ENTRY, Buffer.from('kms root key check v1'), { writeOnce: true });
    await expect(SealedKeyStore.open(inner, key(1), undefined, explicit)).rejects.toBeInstanceOf(RootKeyMismatchError);
  });

  it('when an operator asks (sealInPlace automatic, `kms store seal`), a store of an earlier release is sealed in place and then opens explicitly', async () => {
    const inner = new MemoryKeyStore();
    await inner.create('keys/old', Buffer.from('old'), { writeOnce: false });
    await expect(SealedKeyStore.open(inner, key(1), undefined, explicit)).rejects.toBeInstanceOf(UnsealedStoreError);
    await SealedKeyStore.open(inner, key(1), undefined, { sealInPlace: 'automatic' });
    const store = await SealedKeyStore.open(readOnly(inner), key(1), undefined, explicit);
    expect((await store.get('keys/old'))!.value.toString()).toBe('old');
  });

  it('when a role that may only read opens a new, empty store, it takes it as sealed: a value planted in the clear is refused', async () => {
    const inner = new MemoryKeyStore();
    const reader = await SealedKeyStore.open(readOnly(inner), key(1), undefined, explicit);
    expect(await inner.get(ROOT_KEY_CHECK_ENTRY)).toBeUndefined();
    await inner.create('access-keys/planted', planted, { writeOnce: false });
    await expect(reader.get('access-keys/planted')).rejects.toBeInstanceOf(KeyStoreFailureError);
  });
});

describe('Function: loadRootKey', () => {
  it('when the file does not exist on a store never sealed, it is created (0600, Base64 of 32 bytes); on a sealed one it is refused', async () => {
    const dir = await tempDir();
    const path = join(dir, 'root.key');
    const created = await loadRootKey({ kind: 'file', path }, { mayCreate: true });
    expect(created).toHaveLength(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64')).toEqual(created);
    expect(await loadRootKey({ kind: 'file', path }, { mayCreate: false })).toEqual(created);
    await expect(loadRootKey({ kind: 'file', path: join(dir, 'missing.key') }, { mayCreate: false })).rejects.toThrow(
      /does not exist, but the store is sealed/,
    );
  });

  it('when several instances create it at once, they all get the same key, never a half-written file, and nothing is left beside it', async () => {
    // Many rounds: an instance reading the file while another writes it is a matter of timing.
    for (let round = 0; round < 25; round++) {
      const dir = await tempDir();
      const path = join(dir, 'root.key');
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadRootKey({ kind: 'file', path }, { mayCreate: true })));
      for (const k of keys) expect(k).toEqual(keys[0]);
      expect(await readdir(dir)).toEqual(['root.key']);
    }
  });

  it.each(['short', '', `${'A'.repeat(43)}`, Buffer.alloc(40, 1).toString('base64')])('when a root key file holds %j, it is refused', async (text) => {
    const path = join(await tempDir(), 'root.key');
    await writeFile(path, text);
    await expect(loadRootKey({ kind: 'file', path }, { mayCreate: true })).rejects.toThrow(/is malformed .*Base64 of 32 bytes/);
  });

  it('when the source is AWS Secrets Manager, the secret text or binary is the key', async () => {
    const text = key(7).toString('base64');
    expect(await loadRootKey({ kind: 'aws-secrets-manager', secretId: 's' }, { mayCreate: false, clients: { awsSecret: async () => text } })).toEqual(key(7));
    expect(await loadRootKey({ kind: 'aws-secrets-manager', secretId: 's' }, { mayCreate: false, clients: { awsSecret: async () => key(8) } })).toEqual(key(8));
  });

  it('when the source is an Alibaba Cloud KMS secret, GetSecretValue is called through the official SDK and its SecretData is the key', async () => {
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          RequestId: 'r',
          SecretName: 'kms-root',
          SecretData: key(9).toString('base64'),
          SecretDataType: 'text',
          VersionId: 'v1',
          CreateTime: '',
          VersionStages: { VersionStage: ['ACSCurrent'] },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const env = {
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAItest000000',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-0000000000',
        ALIBABA_CLOUD_KMS_ENDPOINT: `127.0.0.1:${port}`,
      };
      expect(await loadRootKey({ kind: 'alibaba-kms-secret', secretName: 'kms-root' }, { mayCreate: false, env })).toEqual(key(9));
      expect(seen.join()).toMatch(/Action=GetSecretValue/);
      expect(seen.join()).toMatch(/SecretName=kms-root/);
      // The same code bundled as a Function Compute zip is (CommonJS, the SDK inlined): it works there too.
      const bundle = await build({
        entryPoints: [fileURLToPath(new URL('../../lib/keystore/root-key.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        write: false,
        logLevel: 'silent',
      });
      const file = join(await tempDir(), 'root-key.cjs');
      await writeFile(file, bundle.outputFiles[0]!.contents);
      const bundled = createRequire(file)(file) as typeof import('../../lib/keystore/root-key.js');
      expect(await bundled.loadRootKey({ kind: 'alibaba-kms-secret', secretName: 'kms-root' }, { mayCreate: false, env })).toEqual(key(9));
    } finally {
      server.close();
    }
  });
});

describe('Upgrade: a data directory written before sealing', () => {
  it('when the service opens it, every old blob still decrypts, a root key is created, and new writes are sealed', async () => {
    const dataDir = join(await tempDir(), 'data');
    await cp(join(FIXTURE, 'data'), dataDir, { recursive: true });
    const { blobs } = JSON.parse(await readFile(join(FIXTURE, 'blobs.json'), 'utf8')) as {
      blobs: Array<{ context: string | null; ciphertextBlob: string; plaintext: string }>;
    };
    const service = await serviceFromEnvironment({ KMS_DATA_DIR: dataDir, KMS_LOG_LEVEL: 'silent' });
    const dispatch = createDispatcher(service, OPERATIONS);
    for (const blob of blobs) {
      const r = await dispatch(
        signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob.ciphertextBlob, ...(blob.context ? { EncryptionContext: blob.context } : {}) }),
      );
      expect(r.statusCode, r.body).toBe(200);
      expect(JSON.parse(r.body).Plaintext).toBe(blob.plaintext);
    }
    expect((await stat(join(dataDir, 'root.key'))).mode & 0o777).toBe(0o600);
    const created = await dispatch(signedRpcRequest(ADMIN, 'CreateKey', {}));
    const keyId = JSON.parse(created.body).KeyMetadata.KeyId as string;
    const raw = (await new FileKeyStore(dataDir).get(`keys/${keyId}`))!.value;
    expect(raw.subarray(0, 4).toString()).toBe('KMSS');
    // Every value already there, write-once key material included, was sealed when the store was opened.
    const files = new FileKeyStore(dataDir);
    const names = await files.list('');
    expect(names.some((n) => n.startsWith('key-versions/'))).toBe(true);
    for (const name of names) expect((await files.get(name))!.value.subarray(0, 4).toString(), name).toBe('KMSS');
    const leftovers = (await readdir(dataDir, { recursive: true })).filter((f) => String(f).includes('.tmp-'));
    expect(leftovers).toEqual([]);
    // No file holds the old material in the clear any more.
    const before = new FileKeyStore(join(FIXTURE, 'data'));
    const secrets = [];
    for (const name of await before.list('key-versions/'))
      secrets.push((JSON.parse((await before.get(name))!.value.toString()) as { material: string }).material);
    expect(secrets.length).toBeGreaterThan(0);
    for (const file of await readdir(dataDir, { recursive: true })) {
      const content = await readFile(join(dataDir, String(file))).catch(() => undefined);
      if (!content) continue;
      for (const secret of secrets) {
        expect(content.includes(secret), String(file)).toBe(false);
        expect(content.includes(Buffer.from(secret, 'base64')), String(file)).toBe(false);
      }
    }
  });
});
