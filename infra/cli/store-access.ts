import { openKeyStoreFromEnvironment } from '../../lib/service-from-env.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';

const opened: Array<() => Promise<void>> = [];

/** Whether the environment names a store other than the local file store (postgres, dynamodb, secrets-manager). */
export function sharedStoreSelected(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KMS_KEY_STORE) && env.KMS_KEY_STORE !== 'file';
}

/**
 * The key store a CLI command administers: the one the environment selects (KMS_KEY_STORE and its
 * variables), or the file store at `dataDir`. Sealed stores are opened under their root key, as
 * the gateway opens them. What it holds open (a database pool) is closed when the command ends.
 */
export async function openStoreForCommand(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<KeyStore> {
  // A shared store's root key file (postgres) defaults to the one beside the data directory.
  const selected = sharedStoreSelected(env) ? { KMS_DATA_DIR: dataDir, ...env } : { ...env, KMS_KEY_STORE: 'file', KMS_DATA_DIR: dataDir };
  const { store, close } = await openKeyStoreFromEnvironment(selected);
  opened.push(close);
  return store;
}

/** Closes every store the command opened (main.ts calls it when a command ends, however it ends). */
export async function closeOpenedStores(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((close) => close()));
}
