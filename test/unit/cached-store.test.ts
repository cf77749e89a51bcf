import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { InternalFailureError, ServiceUnavailableError } from '../../lib/errors.js';
import { CACHED_STORE_DEFAULTS, CachedKeyStore } from '../../lib/keystore/cached-store.js';
import { EntryExistsError, type KeyStore, RevisionConflictError, type StoredEntry } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { SecretsManagerStore } from '../../lib/keystore/secrets-manager/secrets-manager-store.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError, KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { createLogger } from '../../lib/logger.js';
import { keyStoreConformance } from '../keystore/conformance.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

/** A backend that counts calls and can be made to fail, over a memory store. */
class ControlledStore implements KeyStore {
  readonly inner = new MemoryKeyStore();
  readonly changes = undefined;
  readonly calls = { get: 0, create: 0, update: 0, delete: 0, destroy: 0, list: 0 };
  failure: (() => Error) | undefined;
  /** Resolves pending gets only when released, to make loads overlap writes. */
  gate: Promise<void> | undefined;

  #fail(method: keyof ControlledStore['calls']): void {
    this.calls[method]++;
    if (this.failure) throw this.failure();
  }
  async get(name: string): Promise<StoredEntry | undefined> {
    this.#fail('get');
    const entry = await this.inner.get(name);
    if (this.gate) await this.gate;
    return entry;
  }
  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    this.#fail('create');
    return this.inner.create(name, value, options);
  }
  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    this.#fail('update');
    return this.inner.update(name, expectedRevision, value);
  }
  async delete(name: string, expectedRevision: number): Promise<void> {
    this.#fail('delete');
    return this.inner.delete(name, expectedRevision);
  }
  async destroy(name: string): Promise<void> {
    this.#fail('destroy');
    return this.inner.destroy(name);
  }
  async list(prefix: string): Promise<string[]> {
    this.#fail('list');
    return this.inner.list(prefix);
  }
}

const outage = () =>
  new KeyStoreUnavailableError('timeout', 'get', 'x', { cause: Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }) });
const bytes = (text: string) => Buffer.from(text, 'utf8');

const TTL = 5_000;
const WRITE_ONCE_TTL = 3_600_000;
const STALE_FOR = 60_000;

describe('Module: cached-store', () => {
  let clock: number;
  let backend: ControlledStore;
  let store: CachedKeyStore;
  let logs: Array<Record<string, any>>;
  beforeEach(() => {
    clock = Date.parse('2025-01-01T00:00:00Z');
    backend = new ControlledStore();
    logs = [];
    store = new CachedKeyStore(backend, {
      ttlMs: TTL,
      writeOnceTtlMs: WRITE_ONCE_TTL,
      staleForMs: STALE_FOR,
      now: () => clock,
      logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
    });
  });

  describe('class CachedKeyStore: freshness', () => {
    it('when an entry is read again within its TTL, it comes from the cache without calling the backend', async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      expect(await store.get('keys/k')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
      clock += TTL - 1;
      expect(await store.get('keys/k')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
      expect(backend.calls.get).toBe(1);
    });

    it("when the TTL has passed, the entry is read again and another writer's change is seen", async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.get('keys/k');
      await backend.inner.update('keys/k', 1, bytes('v2')); // another instance
      clock += TTL;
      expect(await store.get('keys/k')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
      expect(backend.calls.get).toBe(2);
    });

    it('when an entry is write-once, it is trusted for the much longer write-once TTL', async () => {
      await backend.inner.create('key-versions/k/v', bytes('material'), { writeOnce: true });
      await store.get('key-versions/k/v');
      clock += WRITE_ONCE_TTL - 1;
      await store.get('key-versions/k/v');
      expect(backend.calls.get).toBe(1);
      clock += 1;
      await store.get('key-versions/k/v');
      expect(backend.calls.get).toBe(2);
    });

    it('when an entry is absent, absence is not cached', async () => {
      expect(await store.get('keys/none')).toBeUndefined();
      await backend.inner.create('keys/none', bytes('now here'), { writeOnce: false });
      expect((await store.get('keys/none'))!.value.toString()).toBe('now here');
    });

    it('when many gets of one name miss at once, the backend is read once', async () => {
      await backend.inner.create('keys/k', bytes('v'), { writeOnce: false });
      const results = await Promise.all(Array.from({ length: 10 }, () => store.get('keys/k')));
      expect(results.every((r) => r!.value.toString() === 'v')).toBe(true);
      expect(backend.calls.get).toBe(1);
    });

    it('when a caller zeroes the buffer it got, the cached value does not change', async () => {
      await backend.inner.create('keys/k', bytes('value'), { writeOnce: false });
      (await store.get('keys/k'))!.value.fill(0);
      expect((await store.get('keys/k'))!.value.toString()).toBe('value');
    });

    it('when more than maxEntries are cached, the least recently used leaves first', async () => {
      const small = new CachedKeyStore(backend, { ttlMs: TTL, writeOnceTtlMs: TTL, staleForMs: 0, maxEntries: 2, now: () => clock });
      for (const n of ['keys/a', 'keys/b', 'keys/c']) await backend.inner.create(n, bytes(n), { writeOnce: false });
      await small.get('keys/a');
      await small.get('keys/b');
      await small.get('keys/a'); // a is now the most recent
      await small.get('keys/c'); // evicts b
      backend.calls.get = 0;
      await small.get('keys/a');
      await small.get('keys/c');
      expect(backend.calls.get).toBe(0);
      await small.get('keys/b');
      expect(backend.calls.get).toBe(1);
    });
  });

  describe('class CachedKeyStore: writes', () => {
    it('when it writes, the new value is cached and a read after it costs no backend call', async () => {
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      expect(await store.update('keys/k', 1, bytes('v2'))).toBe(2);
      expect(await store.get('keys/k')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
      expect(backend.calls.get).toBe(0);
      await store.delete('keys/k', 2);
      expect(await store.get('keys/k')).toBeUndefined();
    });

    it('when an update loses its compare-and-swap, the error passes through and the stale entry is dropped', async () => {
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      await backend.inner.update('keys/k', 1, bytes('other')); // another instance
      await expect(store.update('keys/k', 1, bytes('mine'))).rejects.toBeInstanceOf(RevisionConflictError);
      expect((await store.get('keys/k'))!.value.toString()).toBe('other');
      await expect(store.create('keys/k', bytes('x'), { writeOnce: true })).rejects.toBeInstanceOf(EntryExistsError);
    });

    it('when a write-once entry is destroyed, it is gone from the cache too', async () => {
      await store.create('key-versions/k/v', bytes('m'), { writeOnce: true });
      await store.destroy('key-versions/k/v');
      expect(await store.get('key-versions/k/v')).toBeUndefined();
    });

    it("when a read overlaps a write, the read's older result does not replace the written value", async () => {
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      clock += TTL; // expired: the next get loads
      let release!: () => void;
      backend.gate = new Promise<void>((resolve) => (release = resolve));
      const read = store.get('keys/k'); // reads v1, held at the gate
      await new Promise((resolve) => setImmediate(resolve));
      await store.update('keys/k', 1, bytes('v2'));
      release();
      backend.gate = undefined;
      expect((await read)!.value.toString()).toBe('v1');
      expect(await store.get('keys/k')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
    });

    it('when the backend is unavailable, a write answers ServiceUnavailableError and the cached entry stays for stale reads', async () => {
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      backend.failure = outage;
      await expect(store.update('keys/k', 1, bytes('v2'))).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(store.list('keys/')).rejects.toBeInstanceOf(ServiceUnavailableError);
      clock += TTL + 1;
      expect((await store.get('keys/k'))!.value.toString()).toBe('v1');
    });

    it("when a write's outcome is unknown, the cached entry is dropped", async () => {
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      backend.failure = () => new KeyStoreUnavailableError('unknown-outcome', 'update', 'keys/k');
      await expect(store.update('keys/k', 1, bytes('v2'))).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(store.get('keys/k')).rejects.toBeInstanceOf(ServiceUnavailableError);
    });
  });

  describe('class CachedKeyStore: outages', () => {
    it('when the backend is down within staleFor past the TTL, the cached entry is served and a warning logged once per entry', async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.get('keys/k');
      backend.failure = outage;
      clock += TTL + STALE_FOR - 1;
      expect(await store.get('keys/k')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
      expect(await store.get('keys/k')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
      const warnings = logs.filter((l) => l.message.startsWith('key store unavailable: serving'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 'warn', entry: 'keys/k', reason: 'timeout' });
      expect(JSON.stringify(logs)).not.toContain(bytes('v1').toString('base64'));
      expect(backend.calls.get).toBe(3); // each stale serve tried the backend first
    });

    it('when the outage lasts past staleFor, get throws ServiceUnavailableError (503 ServiceUnavailableTemporary) with the store error as cause', async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.get('keys/k');
      backend.failure = outage;
      clock += TTL + STALE_FOR;
      const error = await store.get('keys/k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ statusCode: 503, code: 'ServiceUnavailableTemporary' });
      expect((error as Error).cause).toBeInstanceOf(KeyStoreUnavailableError);
    });

    it('when an entry was never read and the backend is down, get throws ServiceUnavailableError', async () => {
      backend.failure = outage;
      await expect(store.get('keys/unknown')).rejects.toBeInstanceOf(ServiceUnavailableError);
    });

    it('when the backend recovers, entries are fresh again and the next outage warns again', async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.get('keys/k');
      backend.failure = outage;
      clock += TTL;
      await store.get('keys/k');
      backend.failure = undefined;
      await backend.inner.update('keys/k', 1, bytes('v2'));
      expect((await store.get('keys/k'))!.value.toString()).toBe('v2');
      backend.failure = outage;
      clock += TTL;
      expect((await store.get('keys/k'))!.value.toString()).toBe('v2');
      expect(logs.filter((l) => l.message.startsWith('key store unavailable: serving'))).toHaveLength(2);
    });

    it('when access is denied, it is not an outage: nothing stale is served, InternalFailureError is thrown and the cause logged', async () => {
      await backend.inner.create('keys/k', bytes('v1'), { writeOnce: false });
      await store.get('keys/k');
      backend.failure = () => new KeyStoreAccessDeniedError('get', 'keys/k', { detail: 'AccessDeniedException: not authorized' });
      clock += TTL;
      const error = await store.get('keys/k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalFailureError);
      expect((error as Error).cause).toBeInstanceOf(KeyStoreAccessDeniedError);
      expect(logs.find((l) => l.level === 'error')).toMatchObject({
        message: expect.stringContaining('access denied'),
        entry: 'keys/k',
        error: expect.stringContaining('AccessDeniedException'),
      });
    });

    it('when the backend fails otherwise (a corrupt entry), it is InternalFailureError, logged', async () => {
      backend.failure = () => new KeyStoreFailureError('get', 'keys/k', 'the secret is not a key-store document');
      await expect(store.get('keys/k')).rejects.toBeInstanceOf(InternalFailureError);
      expect(logs.some((l) => l.level === 'error' && l.message === 'key store failure')).toBe(true);
    });

    it('when the error is a plain bug, it passes through untouched', async () => {
      const bug = new TypeError('boom');
      backend.failure = () => bug;
      await expect(store.get('keys/k')).rejects.toBe(bug);
    });
  });

  it('declares its defaults once', () => {
    expect(CACHED_STORE_DEFAULTS).toEqual({ ttlMs: 5_000, writeOnceTtlMs: 3_600_000, staleForMs: 300_000, maxEntries: 10_000 });
  });
});

keyStoreConformance('CachedKeyStore over MemoryKeyStore', async () => new CachedKeyStore(new MemoryKeyStore(), { ...CACHED_STORE_DEFAULTS }));

const smClient = new SecretsManagerClient({ region: 'us-east-1' });
const sm = mockClient(smClient);
afterAll(() => sm.restore());
keyStoreConformance('CachedKeyStore over SecretsManagerStore (fake)', async () => {
  sm.reset();
  new FakeSecretsManager().install(sm);
  return new CachedKeyStore(new SecretsManagerStore({ client: smClient, prefix: 'kms/cached/', sleep: async () => undefined }), { ...CACHED_STORE_DEFAULTS });
});
