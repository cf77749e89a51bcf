import { describe, expect, it } from 'vitest';
import { EntryExistsError, type KeyStore, type StoredEntry } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { SplitKeyStore } from '../../lib/keystore/split-store.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** A secret store that records calls, can hide entries for a few reads (eventual consistency), and never lists. */
class SecretStoreDouble implements KeyStore {
  readonly inner = new MemoryKeyStore();
  /** None, as Secrets Manager keeps none. */
  readonly changes = undefined;
  readonly calls: string[] = [];
  hiddenReads = new Map<string, number>();

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }) {
    this.calls.push(`create ${name}`);
    return this.inner.create(name, value, options);
  }
  async get(name: string): Promise<StoredEntry | undefined> {
    this.calls.push(`get ${name}`);
    const hidden = this.hiddenReads.get(name) ?? 0;
    if (hidden > 0) {
      this.hiddenReads.set(name, hidden - 1);
      return undefined;
    }
    return this.inner.get(name);
  }
  update(name: string, rev: number, value: Uint8Array) {
    return this.inner.update(name, rev, value);
  }
  delete(name: string, rev: number) {
    return this.inner.delete(name, rev);
  }
  destroy(name: string) {
    this.calls.push(`destroy ${name}`);
    return this.inner.destroy(name);
  }
  async list(prefix: string): Promise<string[]> {
    throw new Error(`the secret store must never be listed (asked for ${prefix})`);
  }
}

function split() {
  const material = new SecretStoreDouble();
  const state = new MemoryKeyStore();
  const store = new SplitKeyStore({ material, state, catchUpAttempts: 4, catchUpDelayMs: 1 });
  return { material, state, store };
}

describe('SplitKeyStore: material in the secret store, everything else in the state backend', () => {
  it('routes key-version material to the secret store and indexes it in the state backend first', async () => {
    const { material, state, store } = split();
    await store.create('keys/k1', bytes('meta'), { writeOnce: false });
    await store.create('key-versions/k1/v1', bytes('material'), { writeOnce: true });
    expect(await material.inner.get('keys/k1')).toBeUndefined();
    expect(await state.get('keys/k1')).toBeDefined();
    expect(await state.get('key-versions/k1/v1')).toBeUndefined();
    expect(Buffer.from((await material.inner.get('key-versions/k1/v1'))!.value).toString()).toBe('material');
    expect(await state.get('material-index/k1/v1')).toBeDefined();
  });

  it('lists versions from the state backend only, never the secret store, and hides the index itself', async () => {
    const { store } = split();
    await store.create('keys/k1', bytes('m'), { writeOnce: false });
    await store.create('key-versions/k1/v2', bytes('b'), { writeOnce: true });
    await store.create('key-versions/k1/v1', bytes('a'), { writeOnce: true });
    await store.create('key-versions/k2/v1', bytes('c'), { writeOnce: true });
    await store.create('aliases/x', bytes('k1'), { writeOnce: false });
    expect(await store.list('key-versions/k1/')).toEqual(['key-versions/k1/v1', 'key-versions/k1/v2']);
    expect(await store.list('key-versions/')).toHaveLength(3);
    expect(await store.list('')).toEqual(['aliases/x', 'key-versions/k1/v1', 'key-versions/k1/v2', 'key-versions/k2/v1', 'keys/k1']);
    expect(await store.list('keys/')).toEqual(['keys/k1']);
    expect(await store.list('material-index/')).toEqual([]);
  });

  it('reads again while the secret store catches up with a version the index names', async () => {
    const { material, store } = split();
    await store.create('key-versions/k1/v1', bytes('late'), { writeOnce: true });
    material.hiddenReads.set('key-versions/k1/v1', 2);
    const entry = await store.get('key-versions/k1/v1');
    expect(Buffer.from(entry!.value).toString()).toBe('late');
    expect(material.calls.filter((c) => c === 'get key-versions/k1/v1')).toHaveLength(3);
  });

  it('gives up after the configured attempts, and does not wait for versions that were never written', async () => {
    const { material, store } = split();
    await store.create('key-versions/k1/v1', bytes('x'), { writeOnce: true });
    material.hiddenReads.set('key-versions/k1/v1', 100);
    expect(await store.get('key-versions/k1/v1')).toBeUndefined();
    expect(material.calls.filter((c) => c === 'get key-versions/k1/v1')).toHaveLength(4);
    expect(await store.get('key-versions/k9/v9')).toBeUndefined();
    expect(material.calls.filter((c) => c === 'get key-versions/k9/v9')).toHaveLength(1);
  });

  it('does not wait for an index entry older than the catch-up window (a write that failed long ago)', async () => {
    const clock = { now: 1_000_000 };
    const material = new SecretStoreDouble();
    const state = new MemoryKeyStore();
    const store = new SplitKeyStore({ material, state, catchUpAttempts: 4, catchUpDelayMs: 1, catchUpWindowMs: 60_000, now: () => clock.now });
    await state.create('material-index/k1/v1', Buffer.from(String(clock.now)), { writeOnce: false });
    clock.now += 61_000;
    expect(await store.get('key-versions/k1/v1')).toBeUndefined();
    expect(material.calls.filter((c) => c === 'get key-versions/k1/v1')).toHaveLength(1);
  });

  it('takes back its index entry when the material cannot be written', async () => {
    const { material, state, store } = split();
    const create = material.create.bind(material);
    material.create = async () => {
      throw new Error('ThrottlingException');
    };
    await expect(store.create('key-versions/k1/v1', bytes('x'), { writeOnce: true })).rejects.toThrow('Throttling');
    expect(await state.get('material-index/k1/v1')).toBeUndefined();
    expect(await store.list('key-versions/')).toEqual([]);
    material.create = create;
    await store.create('key-versions/k1/v1', bytes('x'), { writeOnce: true });
    expect(await store.list('key-versions/')).toEqual(['key-versions/k1/v1']);
  });

  it('completes a create that failed after indexing, and refuses a second write of the same version', async () => {
    const { material, state, store } = split();
    await state.create('material-index/k1/v1', new Uint8Array(0), { writeOnce: false });
    await store.create('key-versions/k1/v1', bytes('retry'), { writeOnce: true });
    expect(Buffer.from((await material.inner.get('key-versions/k1/v1'))!.value).toString()).toBe('retry');
    await expect(store.create('key-versions/k1/v1', bytes('other'), { writeOnce: true })).rejects.toBeInstanceOf(EntryExistsError);
    expect(Buffer.from((await store.get('key-versions/k1/v1'))!.value).toString()).toBe('retry');
  });

  it('destroy removes both the material and its index entry', async () => {
    const { material, state, store } = split();
    await store.create('key-versions/k1/v1', bytes('x'), { writeOnce: true });
    await store.destroy('key-versions/k1/v1');
    expect(await material.inner.get('key-versions/k1/v1')).toBeUndefined();
    expect(await state.get('material-index/k1/v1')).toBeUndefined();
    expect(await store.list('key-versions/')).toEqual([]);
    await store.destroy('key-versions/k1/v1');
  });
});
