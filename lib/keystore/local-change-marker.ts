import { type ChangeMarker, EntryExistsError, EntryNotFoundError, RevisionConflictError, WriteOnceViolationError } from './key-store.js';

/**
 * A store's change marker as this process reads it, for a store whose write of an entry and move of
 * the marker are two steps (file, DynamoDB). A write can then land and fail to move the marker:
 * it is answered unavailable, not acknowledged, and other processes learn of it at the next move
 * (or their TTL); but this process's caches may hold the entry as it was. So once a mutable write
 * failed for any reason but an answer of the store (the entry exists, is missing, was changed
 * first, is write-once), every later read here returns a value no read returned before — the
 * store's value with a local suffix — and the next validation drops the caches.
 *
 * The store's own values never contain `+`, so a suffixed value never equals one of them.
 */
export class LocalChangeMarker implements ChangeMarker {
  readonly #readStored: () => Promise<string>;
  /** Mutable writes that failed here since the process started, each of which may have landed unmarked. */
  #unmarked = 0;

  constructor(readStored: () => Promise<string>) {
    this.#readStored = readStored;
  }

  async read(): Promise<string> {
    const stored = await this.#readStored();
    // Taken after the read: a failure during it makes this read differ already.
    return this.#unmarked === 0 ? stored : `${stored}+${this.#unmarked}`;
  }

  /**
   * Runs a write of a mutable entry; when it fails other than with an answer of the store, it may
   * have landed without moving the marker, and this process's view of the marker moves.
   */
  async write<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isAnswer(err)) this.#unmarked++;
      throw err;
    }
  }
}

/** A refusal that says the store did not write. */
function isAnswer(err: unknown): boolean {
  return err instanceof EntryExistsError || err instanceof EntryNotFoundError || err instanceof RevisionConflictError || err instanceof WriteOnceViolationError;
}
