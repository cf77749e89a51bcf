import type { ChangeMarker } from './key-store.js';

/**
 * Keeps a process's caches of mutable store entries (key records, aliases, access keys) from
 * answering with a value that a change acknowledged anywhere on the store has replaced: through
 * another worker, another gateway on the data directory, another node on the database, another
 * Lambda on the table.
 *
 * A request awaits {@link ChangeWatch.validate} before it reads a cache. That resolves after a read
 * of the store's change marker that started after the call; when the marker moved since the read
 * before, the caches were dropped first. Every change moves the marker before it is acknowledged
 * (see {@link ChangeMarker}), so a request that comes after the acknowledgement of a change reads
 * the change, whichever process made it.
 *
 * Calls share reads: one read starts at the end of the event-loop turn in which the first call
 * came, for every call made until it starts; while it runs, calls wait for the next, which starts
 * once it has ended (at most one read in flight per process, and at most one per turn). When the
 * marker cannot be read the caches are dropped and the callers get the error
 * (KeyStoreUnavailableError, a 503): never an answer from a cache that may be stale.
 */
export class ChangeWatch {
  readonly #marker: ChangeMarker;
  readonly #dropCaches: () => void;
  /** The marker the caches were last validated against; undefined before the first read and after a failed one. */
  #seen: string | undefined;
  /** The check that has not started reading yet: every call until then shares it. */
  #next: Promise<void> | undefined;
  /** The check scheduled last, until it has ended: the next one waits for it. Never rejects. */
  #last: Promise<void> | undefined;

  constructor(marker: ChangeMarker, dropCaches: () => void) {
    this.#marker = marker;
    this.#dropCaches = dropCaches;
  }

  /**
   * Resolves once the caches hold nothing that a change acknowledged before this call replaced;
   * rejects with the marker's read error (the caches are empty then).
   */
  validate(): Promise<void> {
    this.#next ??= this.#schedule();
    return this.#next;
  }

  #schedule(): Promise<void> {
    const previous = this.#last;
    const check = (async () => {
      if (previous) await previous;
      // The end of this turn: the calls of the turn (a batch of requests) share the read.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // Started from here: a call made from now on needs the next check.
      this.#next = undefined;
      let marker: string;
      try {
        marker = await this.#marker.read();
      } catch (err) {
        this.#seen = undefined;
        this.#dropCaches();
        throw err;
      }
      if (marker !== this.#seen) {
        this.#dropCaches();
        this.#seen = marker;
      }
    })();
    const ended = check.then(
      () => undefined,
      () => undefined,
    );
    this.#last = ended;
    void ended.then(() => {
      if (this.#last === ended) this.#last = undefined;
    });
    return check;
  }
}
