import type { NonceStore } from './nonce-store.js';
import type { KeyStore } from './key-store.js';

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
