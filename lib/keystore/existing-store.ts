import type { KeyStore } from './key-store.js';
import { ROOT_KEY_CHECK_ENTRY } from './sealed-store.js';

/** A tool asked for a store that must exist (openKeyStoreFromEnvironment's `mustExist`), and there is none where it points. */
export class NoKeyStoreError extends Error {
  constructor(where: string, detail: string) {
    super(`no key store ${where}: ${detail}`);
    this.name = 'NoKeyStoreError';
  }
}

/**
 * Whether a store (before sealing) holds a store of this service: the seal's check entry (every
 * store opened since sealing has one), or keys or access keys (an unsealed backend, or a store
 * from before sealing). A directory of other files is not one.
 */
export async function holdsKeyStore(inner: KeyStore): Promise<boolean> {
  if ((await inner.get(ROOT_KEY_CHECK_ENTRY)) !== undefined) return true;
  return (await inner.list('access-keys/')).length > 0 || (await inner.list('keys/')).length > 0;
}

/**
 * Refuses a store (before sealing) that holds no store of this service, for a tool that must not
 * start one where it points: `inner` undefined means none of the backend's tables exist.
 */
export async function requireKeyStore(inner: KeyStore | undefined, where: string, detail = 'it holds no keys, access keys or seal'): Promise<void> {
  if (!inner || !(await holdsKeyStore(inner))) throw new NoKeyStoreError(where, detail);
}
