import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { OpenedBackend, OpenOptions, StateBackend } from '../backend.js';
import { NoKeyStoreError, requireKeyStore } from '../existing-store.js';
import type { NonceStore } from '../nonce-store.js';
import { type RootKeySource, sealWithRootKey } from '../root-key.js';
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

/** The file backend as a deployment configures it (./config.ts reads it). */
export interface FileConfig {
  dataDir: string;
  rootKey: RootKeySource;
}

/** The data directory as a NoKeyStoreError names it. */
function fileStoreLocation(dir: string): string {
  return `at ${dir}${isAbsolute(dir) ? '' : ` (${resolve(dir)})`}`;
}

/**
 * The file store as the service uses it: sealed under the root key (the key file is created with
 * the first store), with the journal of used nonces when `nonces`. With `mustExist`, nothing is
 * created: the directory must exist and hold a store.
 */
export async function openFileState(config: FileConfig, options: OpenOptions): Promise<OpenedBackend> {
  const { dataDir } = config;
  if (options.mustExist) {
    await requireDirectory(dataDir);
    // Looked at before FileKeyStore.open tidies up: a directory that is not a store is left alone.
    await requireKeyStore(new FileKeyStore(dataDir), fileStoreLocation(dataDir), 'the directory holds none');
  } else {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  }
  const backend = options.nonces ? await openFileBackend(dataDir) : undefined;
  const store = await sealWithRootKey(backend?.store ?? (await FileKeyStore.open(dataDir)), config.rootKey);
  return { store, ...(backend ? { nonces: backend.nonces } : {}), close: async () => undefined };
}

/**
 * The journal of used nonces in `dir`, beside a store kept elsewhere: it survives a restart and is
 * shared by every process on the directory, decided under the directory's lock.
 */
export async function openNonceJournal(dir: string): Promise<NonceStore> {
  return (await openFileBackend(dir)).nonces;
}

async function requireDirectory(dir: string): Promise<void> {
  const found = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!found) throw new NoKeyStoreError(fileStoreLocation(dir), 'the directory does not exist');
  if (!found.isDirectory()) throw new NoKeyStoreError(fileStoreLocation(dir), 'it is not a directory');
}
