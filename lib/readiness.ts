import { randomUUID } from 'node:crypto';
import type { NonceStore } from './keystore/nonce-store.js';
import { ServiceUnavailableError } from './errors.js';
import type { ChangeMarker, KeyStore, StoredEntry } from './keystore/key-store.js';
import { KeyStoreAccessDeniedError, KeyStoreBackendError, KeyStoreUnavailableError, type UnavailableReason } from './keystore/store-errors.js';

/** A nonce claim that succeeded this recently vouches for the replay store: the probe then writes nothing. */
export const CLAIM_VOUCHES_FOR_MS = 1_000;
/** A key-store write the store refused keeps the process unready this long, unless a later write succeeds. */
export const WRITE_FAILURE_HOLDS_FOR_MS = 5_000;
/** The access key id of the probe's own nonce claims: no access key has it (ids are alphanumeric). */
export const PROBE_ACCESS_KEY_ID = 'kms:ready-probe';
/** How long the probe's own nonce is held: it need not outlive the probe. */
const PROBE_NONCE_TTL_MS = 60_000;

/**
 * Whether the stores can serve, from what this process saw them do: every signed request first
 * claims its nonce (a durable write: the journal, the backend's table), and changes write the key
 * store. A store that answers reads but refuses writes (a full disk, a read-only database) makes
 * every request a 503, so readiness follows the writes as well as the read probe:
 *
 * - **nonce claims**: ready while the latest claim succeeded less than {@link CLAIM_VOUCHES_FOR_MS}
 *   ago; otherwise (idle, or the latest one failed) the probe claims a nonce of its own and is ready
 *   only if that succeeds — so it notices a disk that filled while idle, and a recovery while the
 *   load balancer sends nothing;
 * - **key-store writes**: not ready for {@link WRITE_FAILURE_HOLDS_FOR_MS} after a write the store
 *   refused as unavailable (or denied), unless a later one succeeded; a write that met contention
 *   (another writer's lock, throttling of a shared store) counts neither way (see {@link writeOutcome}).
 *
 * Each process keeps its own record (gateway workers too: each answers for what it saw, and its
 * probe claim goes through the primary's replay store, as its requests' do).
 */
export class Readiness {
  /** The latest claim to settle succeeded, at this time. */
  #claimOk = false;
  #claimOkAt = -Infinity;
  /** The latest write to settle failed, at this time. */
  #writeFailed = false;
  #writeFailedAt = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** `store`, with the outcome of each write recorded (a write that met contention tells nothing: see {@link writeOutcome}). */
  watchStore(store: KeyStore): KeyStore {
    return new WatchedKeyStore(store, (ok) => {
      this.#writeFailed = !ok;
      if (!ok) this.#writeFailedAt = this.now();
    });
  }

  /** `nonces`, with the outcome of each claim recorded (a replay answered is a success: the store answered). */
  watchNonces(nonces: CountingNonceStore): CountingNonceStore {
    return new WatchedNonceStore(nonces, (ok) => {
      this.#claimOk = ok;
      if (ok) this.#claimOkAt = this.now();
    });
  }

  /**
   * Resolves when the stores can serve: `read` (a read of the key store) resolves, no recent
   * key-store write failed, and the replay store takes a claim (a recent one, or `claim`'s).
   */
  async check(read: () => Promise<unknown>, nonces: NonceStore): Promise<void> {
    await read();
    const now = this.now();
    if (this.#writeFailed && now - this.#writeFailedAt < WRITE_FAILURE_HOLDS_FOR_MS) {
      throw new ServiceUnavailableError({ cause: new Error('a recent key-store write failed') });
    }
    if (this.#claimOk && now - this.#claimOkAt < CLAIM_VOUCHES_FOR_MS) return;
    await nonces.claim(PROBE_ACCESS_KEY_ID, randomUUID(), now + PROBE_NONCE_TTL_MS);
  }
}

/**
 * Unavailable reasons that say other writers were in the way, not that the store cannot take
 * writes: an entry's lock held past the wait (`busy`: file lock, PostgreSQL serialization failure
 * or lock timeout), a shared store that throttled this request (`throttled`). Another request
 * goes through; one instance marked unready for them would follow the load of the whole fleet.
 */
const CONTENTION: ReadonlySet<UnavailableReason> = new Set(['busy', 'throttled']);

/**
 * What a failed write says of the store: `failed` when it cannot take writes now (a full or
 * read-only disk, an unreachable or read-only database, denied access); nothing (undefined) when it
 * met contention; `answered` for the rest (a conflict, a missing entry: the store answered).
 * Through the ServiceUnavailableError a caching store turns its store's failures into.
 */
function writeOutcome(err: unknown): 'failed' | 'answered' | undefined {
  const failure = err instanceof ServiceUnavailableError && err.cause instanceof KeyStoreBackendError ? err.cause : err;
  if (failure instanceof KeyStoreUnavailableError) return CONTENTION.has(failure.reason) ? undefined : 'failed';
  return failure instanceof KeyStoreAccessDeniedError || failure instanceof ServiceUnavailableError ? 'failed' : 'answered';
}

/** A replay store, with the counts the gateway reports when it has them. */
type CountingNonceStore = NonceStore & { readonly size?: number; readonly bytes?: number };

/** The replay store under the watch (which the environment selected): for tools and tests that ask which it is. */
export function unwatched(nonces: NonceStore): NonceStore {
  return nonces instanceof WatchedNonceStore ? nonces.inner : nonces;
}

class WatchedNonceStore implements NonceStore {
  constructor(
    readonly inner: CountingNonceStore,
    private readonly record: (ok: boolean) => void,
  ) {}

  get size(): number | undefined {
    return this.inner.size;
  }

  get bytes(): number | undefined {
    return this.inner.bytes;
  }

  claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.inner.claim(accessKeyId, nonce, expiresAt).then(
      (fresh) => {
        this.record(true);
        return fresh;
      },
      (err: unknown) => {
        this.record(false);
        throw err;
      },
    );
  }
}

class WatchedKeyStore implements KeyStore {
  /** The inner store's: watching changes no write. */
  readonly changes: ChangeMarker | undefined;

  constructor(
    private readonly inner: KeyStore,
    private readonly record: (ok: boolean) => void,
  ) {
    this.changes = inner.changes;
  }

  #watch<T>(write: Promise<T>): Promise<T> {
    return write.then(
      (value) => {
        this.record(true);
        return value;
      },
      (err: unknown) => {
        const outcome = writeOutcome(err);
        if (outcome) this.record(outcome === 'answered');
        throw err;
      },
    );
  }

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.#watch(this.inner.create(name, value, options));
  }

  get(name: string): Promise<StoredEntry | undefined> {
    return this.inner.get(name);
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#watch(this.inner.update(name, expectedRevision, value));
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#watch(this.inner.delete(name, expectedRevision));
  }

  destroy(name: string): Promise<void> {
    return this.#watch(this.inner.destroy(name));
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}
