import type { KeyStore, StoredEntry } from '../../lib/keystore/key-store.js';

/**
 * A key store that records the entry names it is asked to read (`get`, and `list` prefixes),
 * around another. What a request reads is what its timing can depend on: a test that a denied
 * request reads nothing proves, deterministically, that it cannot tell an existing resource from a
 * missing one by time either.
 */
export class ReadRecordingStore implements KeyStore {
  readonly reads: string[] = [];
  /** The inner store's: reading the marker is no read of an entry. */
  readonly changes: KeyStore['changes'];
  constructor(readonly inner: KeyStore) {
    this.changes = inner.changes;
  }

  get(name: string): Promise<StoredEntry | undefined> {
    this.reads.push(name);
    return this.inner.get(name);
  }
  list(prefix: string): Promise<string[]> {
    this.reads.push(`${prefix}*`);
    return this.inner.list(prefix);
  }
  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.inner.create(name, value, options);
  }
  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.inner.update(name, expectedRevision, value);
  }
  delete(name: string, expectedRevision: number): Promise<void> {
    return this.inner.delete(name, expectedRevision);
  }
  destroy(name: string): Promise<void> {
    return this.inner.destroy(name);
  }
}
