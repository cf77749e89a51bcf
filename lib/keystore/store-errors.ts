/**
 * Failures of a remote key-store backend, in the store's own terms (no SDK types): the cache above
 * the store ({@link ./cached-store.ts}) decides from the class alone whether a failure is an outage
 * (serve what is cached, else 503) or a fault (500, logged). The original error is kept as `cause`;
 * messages name entries and AWS error codes, never values.
 */
export abstract class KeyStoreBackendError extends Error {
  constructor(
    message: string,
    /** The store operation (`get`, `create`, `list`, …). */
    readonly operation: string,
    /** The entry it was about, when there is one. */
    readonly entry: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Why a backend is considered unavailable: each is expected to pass on its own. `io`: the local
 * disk refused (full, read-only, permissions, I/O error, out of descriptors); `busy`: another
 * writer held the entry's lock for longer than a request may wait.
 */
export type UnavailableReason = 'throttled' | 'timeout' | 'network' | 'server' | 'pending-deletion' | 'unknown-outcome' | 'io' | 'busy';

/**
 * The backend could not be reached or did not answer in time (network, timeout, 5xx, throttling
 * after the store's own retries), or a write's outcome is unknown. Transient: an outage.
 */
export class KeyStoreUnavailableError extends KeyStoreBackendError {
  constructor(
    readonly reason: UnavailableReason,
    operation: string,
    entry: string | undefined,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      `key store unavailable (${reason}) during ${operation}${entry ? ` of "${entry}"` : ''}${options?.detail ? `: ${options.detail}` : ''}`,
      operation,
      entry,
      options,
    );
  }
}

/**
 * The backend refused us: missing permission, bad or expired credentials, or the encryption key
 * protecting the store's data cannot be used. A configuration fault, not an outage: retrying or
 * serving stale data does not fix it.
 */
export class KeyStoreAccessDeniedError extends KeyStoreBackendError {
  constructor(operation: string, entry: string | undefined, options?: { cause?: unknown; detail?: string }) {
    super(
      `key store access denied during ${operation}${entry ? ` of "${entry}"` : ''}${options?.detail ? `: ${options.detail}` : ''}`,
      operation,
      entry,
      options,
    );
  }
}

/** Any other backend failure: an invalid request, a quota, an entry that does not decode. */
export class KeyStoreFailureError extends KeyStoreBackendError {
  constructor(operation: string, entry: string | undefined, detail: string, options?: { cause?: unknown }) {
    super(`key store failure during ${operation}${entry ? ` of "${entry}"` : ''}: ${detail}`, operation, entry, options);
  }
}
