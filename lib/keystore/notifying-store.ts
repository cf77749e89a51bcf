import type { KeyStore, StoredEntry } from './key-store.js';

/**
 * A {@link KeyStore} decorator that reports every entry it has changed (created, updated, deleted,
 * destroyed), once the change succeeded: a gateway worker passes the names to its primary, which
 * tells the other workers to drop what they cache of them (infra/gateway/cache-relay.ts).
 */
export class NotifyingKeyStore implements KeyStore {
  constructor(
    private readonly inner: KeyStore,
    private readonly onChange: (name: string) => void,
  ) {}

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    await this.inner.create(name, value, options);
    this.onChange(name);
  }

  get(name: string): Promise<StoredEntry | undefined> {
    return this.inner.get(name);
  }

  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    const revision = await this.inner.update(name, expectedRevision, value);
    this.onChange(name);
    return revision;
  }

  async delete(name: string, expectedRevision: number): Promise<void> {
    await this.inner.delete(name, expectedRevision);
    this.onChange(name);
  }

  async destroy(name: string): Promise<void> {
    await this.inner.destroy(name);
    this.onChange(name);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}
