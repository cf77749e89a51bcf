import { setTimeout as delay } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import { isRetryable, sqlState } from './errors.js';
import { migrate, type Tables, tablesOf } from './schema.js';

/** Runs of a unit of work after a serialization failure or deadlock, the first included. */
const ATTEMPTS = 4;
/** Full jitter: attempt n waits random(0, BASE_DELAY_MS·2ⁿ). */
const BASE_DELAY_MS = 10;

/**
 * Turns a failure into what the caller throws. `uncertain`: the work had been sent to the server
 * when the connection failed without an answer, so a write in it may or may not have committed.
 */
export type Translate = (err: unknown, uncertain: boolean) => unknown;

/**
 * The backend's one schema on one pool, shared by its key store and its nonce store: runs units
 * of work on pooled connections, after making sure (once) that the schema is migrated.
 */
export class PostgresDatabase {
  readonly tables: Tables;
  /** The schema's name, unquoted. */
  readonly schema: string;
  readonly #pool: Pool;
  #migration: Promise<void> | undefined;
  #migrated: boolean;

  /**
   * `migrate: false`: the schema is used as it is, never created or migrated (to look at what a
   * database holds before deciding to make it a store: reads of `entries` work from version 1).
   */
  constructor(pool: Pool, schema: string, options: { migrate?: boolean } = {}) {
    this.tables = tablesOf(schema);
    this.#pool = pool;
    this.schema = schema;
    this.#migrated = options.migrate === false;
  }

  /**
   * Resolves once the schema is at the current version (see {@link migrate}); concurrent callers
   * share one attempt. A failed attempt is forgotten, so that after an outage the next unit of
   * work tries again. Rejects with the raw database error.
   */
  ready(): Promise<void> {
    if (this.#migrated) return Promise.resolve();
    this.#migration ??= this.#withClient((client) => migrate(client, this.schema)).then(
      () => {
        this.#migrated = true;
      },
      (err: unknown) => {
        this.#migration = undefined;
        throw err;
      },
    );
    return this.#migration;
  }

  /**
   * Runs `work` on one pooled connection, after {@link ready}. `work` must leave the connection out
   * of any transaction when it returns (it may throw mid-transaction: a connection that failed is
   * closed, not returned to the pool). A serialization failure or deadlock, after which the server
   * has rolled everything back, runs `work` again (up to {@link ATTEMPTS} runs in all); any other
   * failure, or the last of those, goes through `translate`.
   */
  async run<T>(work: (client: PoolClient) => Promise<T>, translate: Translate): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let dispatched = false;
      try {
        await this.ready();
        return await this.#withClient((client) => {
          dispatched = true;
          return work(client);
        });
      } catch (err) {
        if (isRetryable(err) && attempt < ATTEMPTS) {
          await delay(Math.floor(Math.random() * BASE_DELAY_MS * 2 ** attempt));
          continue;
        }
        // A server-sent error (it has a SQLSTATE) is an answer: the statement, or the transaction
        // it was part of, did not commit. Without one, the connection failed under the work.
        throw translate(err, dispatched && sqlState(err) === undefined);
      }
    }
  }

  /**
   * Checks out a connection for `work` and returns it to the pool, or closes it when anything
   * failed (it may be broken, mid-transaction, or still busy with a query that timed out here).
   * While checked out, the pool listens for none of its errors: an error event with no listener
   * would end the process, so one is attached for that time.
   */
  async #withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: unknown;
    const onError = (err: unknown) => {
      broken ??= err;
    };
    client.on('error', onError);
    let failure: unknown;
    try {
      return await work(client);
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      client.removeListener('error', onError);
      const reason = broken ?? failure;
      client.release(reason === undefined ? undefined : reason instanceof Error ? reason : new Error(String(reason)));
    }
  }
}
