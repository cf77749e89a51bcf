import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateBackend } from '../backend.js';
import { FileKeyStore, type FileKeyStoreOptions } from './file-store.js';
import { JournaledNonceStore } from './nonce-journal.js';

/** The journal of used nonces, beside the entries of the data directory. */
export const NONCE_JOURNAL_FILE = 'nonces.journal';
/** The lock (a pseudo entry name, never an entry) under which processes take turns on the journal. */
const NONCE_JOURNAL_LOCK = 'nonces/journal';

/**
 * The embedded default backend: one data directory on one machine, for one process or several
 * (gateways, the CLI, workers). Entries are files (see FileKeyStore); used nonces go to one journal
 * that every process reads and appends under the store's cross-process lock, so a request served
 * by one process is refused by the others.
 */
export async function openFileBackend(dir: string, options: FileKeyStoreOptions & { now?: () => number } = {}): Promise<StateBackend> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const store = await FileKeyStore.open(dir, options);
  const nonces = await JournaledNonceStore.open(join(dir, NONCE_JOURNAL_FILE), options.now, (work) => store.exclusive(NONCE_JOURNAL_LOCK, work));
  return { kind: 'file', store, nonces, close: async () => undefined };
}
