import { NoKeyStoreError, openKeyStoreFromEnvironment } from '../../lib/service-from-env.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { CliError, EXIT } from './exit-codes.js';

const opened: Array<() => Promise<void>> = [];

/** Whether the environment names a store other than the local file store (postgres, dynamodb, secrets-manager). */
export function sharedStoreSelected(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KMS_KEY_STORE) && env.KMS_KEY_STORE !== 'file';
}

/**
 * Whether a command may start a new store where there is none: `never` (every command that reads
 * or changes what is there), `flag` (`access-keys create`, which starts one with --create-store), or
 * `always` (`store copy`'s target, which a copy is meant to fill).
 */
export type StoreCreation = 'never' | { flag: boolean } | 'always';

/**
 * The key store a CLI command administers: the one the environment selects (KMS_KEY_STORE and its
 * variables), or the file store at `dataDir`. Sealed stores are opened under their root key, as
 * the gateway opens them. What it holds open (a database pool) is closed when the command ends.
 *
 * Where there is no store, nothing is created (no directory, no root key) unless `creation` allows
 * it: a command run in the wrong directory would otherwise start a store of its own, with a new
 * root key, whose access keys the running gateway does not know. Then it is a {@link CliError}
 * `StoreNotFound` (exit 3) that says where it looked and how to point at the right store.
 */
export async function openStoreForCommand(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  creation: StoreCreation = 'never',
  options: { sealInPlace?: boolean } = {},
): Promise<KeyStore> {
  // A shared store's root key file (postgres) defaults to the one beside the data directory.
  const selected = sharedStoreSelected(env) ? { KMS_DATA_DIR: dataDir, ...env } : { ...env, KMS_KEY_STORE: 'file', KMS_DATA_DIR: dataDir };
  const mayCreate = creation === 'always' || (typeof creation === 'object' && creation.flag);
  try {
    const { store, close } = await openKeyStoreFromEnvironment(selected, undefined, { mustExist: !mayCreate, ...options });
    opened.push(close);
    return store;
  } catch (err) {
    if (!(err instanceof NoKeyStoreError)) throw err;
    const where = sharedStoreSelected(env)
      ? "point at the deployment's store with KMS_KEY_STORE and its variables"
      : "point at the gateway's data directory with --data-dir DIR or KMS_DATA_DIR";
    const start = creation === 'never' ? '' : ', or pass --create-store to start a new store there (with a new root key: a running gateway will not know it)';
    throw new CliError(EXIT.UNAVAILABLE, `${err.message}; ${where}${start}`, 'StoreNotFound');
  }
}

/** Closes every store the command opened (program.ts calls it when a command ends, however it ends). */
export async function closeOpenedStores(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((close) => close()));
}
