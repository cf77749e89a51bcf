import type { Environment, Variable } from '../config/variable.js';
import type { Logger } from '../logger.js';
import type { KeyStore } from './key-store.js';
import type { NonceStore } from './nonce-store.js';
import type { RootKeySource } from './root-key.js';

/**
 * One deployment's consistent state on one engine (after Vault's storage backends): the key store
 * (key metadata, the version index, aliases, access keys; key material where the backend keeps it)
 * and the replay store (used signature nonces). Every instance of a deployment opens the same
 * backend, so a change made through one is seen by all, and a nonce claimed through one is refused
 * by all.
 *
 * Backends, one folder each under lib/keystore/: `file` (one machine, one or several processes on
 * one data directory), `postgres` (self-hosted clusters, Function Compute with RDS), `dynamodb`
 * (AWS). Each passes test/keystore/conformance.ts and test/keystore/backend-conformance.ts.
 */
export interface StateBackend {
  /** Which backend this is, for logs and the readiness of a deployment. */
  readonly kind: string;
  readonly store: KeyStore;
  readonly nonces: NonceStore;
  /** Releases connections and timers; the backend is not used afterwards. */
  close(): Promise<void>;
}

/**
 * A backend as a deployment configures it (KES gives each keystore its own config block and
 * constructor): its variables, how they are read, and how the store is opened from what was read.
 * `lib/config/backends.ts` lists one per `KMS_KEY_STORE` value; the composition
 * (lib/service-from-env.ts) knows no backend by name.
 *
 * `fromEnvironment` builds nothing and loads no SDK: a backend's heavy modules (pg, the AWS SDK)
 * are imported by `open`, so a deployment loads only the backend it runs.
 */
export interface BackendWiring<C> {
  /** Its `KMS_KEY_STORE` value. */
  readonly kind: string;
  /** The variables only it reads, for the configuration table (shared ones: ./config.ts). */
  readonly variables: readonly Variable<unknown>[];
  /** Reads and checks its variables; a ConfigurationError names the first one missing or malformed. */
  fromEnvironment(env: Environment): C;
  /**
   * The replay store it keeps itself: `journal` (one directory, shared by the processes on it),
   * `shared` (one database or table, shared by every instance), or none.
   */
  readonly ownNonces: 'journal' | 'shared' | undefined;
  /** Whether its state is kept per machine (a cloud function's instances would each have their own). */
  readonly perInstance: boolean;
  /** The root key that seals it, when it is sealed (the cloud stores encrypt with their own keys). */
  rootKey(config: C): RootKeySource | undefined;
  /**
   * The key store as the service uses it (sealed, split, cached as configured), and its own
   * replay store when `nonces` asks for it and it keeps one. With `mustExist`, a store that holds
   * nothing is a NoKeyStoreError naming where it points (never a URL: it may hold a password), and
   * nothing is created. Close it to release connections.
   */
  open(config: C, options: OpenOptions): Promise<OpenedBackend>;
}

export interface OpenOptions {
  logger: Logger;
  /** Whether to open its own replay store too (the service does unless another is configured; a tool never). */
  nonces: boolean;
  mustExist: boolean;
  /**
   * An operator's request (`kms store seal`) to seal in place the values a store holds in the
   * clear (a store of an earlier release). Without it, a shared store (DynamoDB, PostgreSQL) that
   * holds such values and no proof that all are sealed is refused; the file store seals them on
   * its own (its root key lies beside it).
   */
  sealInPlace?: boolean;
}

export interface OpenedBackend {
  store: KeyStore;
  /** Its own replay store, when asked for and it keeps one. */
  nonces?: NonceStore;
  close(): Promise<void>;
}
