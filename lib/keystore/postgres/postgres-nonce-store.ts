import { createHash } from 'node:crypto';
import type { NonceStore } from '../nonce-store.js';
import { ServiceUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { PostgresDatabase } from './database.js';
import { describePgError, unavailableReason } from './errors.js';

/** Key columns up to this many UTF-8 bytes hold the string as it is; longer ones (or any with NUL) a hash. */
const MAX_PLAIN_KEY_BYTES = 512;
/** Expired claims are removed this long after their expiry: a margin for clocks of instances that lag. */
const CLEANUP_GRACE_MS = 60_000;
/** Rows per cleanup statement, and statements per cleanup run: keeps each statement short. */
const CLEANUP_BATCH = 10_000;
const CLEANUP_MAX_BATCHES = 100;

export interface PostgresNonceStoreOptions {
  /** The clock of expiries (default Date.now): the one `expiresAt` is computed with. */
  now?: () => number;
  logger?: Logger;
}

/**
 * Replay protection shared by every instance: one row per claimed nonce in
 * `<schema>.nonces(access_key_id, nonce, expires_at)`, primary key (access_key_id, nonce).
 *
 * A claim is one statement: `INSERT … ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at
 * = EXCLUDED.expires_at WHERE nonces.expires_at <= $now RETURNING 1`. A row comes back when the
 * nonce was free (never claimed, or its claim expired): fresh. None comes back when a live claim
 * holds it: a replay. Of concurrent claims of one nonce, PostgreSQL's speculative insertion lets
 * exactly one insert; the others wait for it and then find the live row.
 *
 * `$now` is this instance's clock, the clock `expiresAt` comes from, as the DynamoDB nonce store
 * does; not the server's `now()`, which would mix two clocks in one comparison.
 *
 * Key columns hold the strings as given when short; a string over {@link MAX_PLAIN_KEY_BYTES}
 * bytes, or with a NUL (which `text` cannot hold), is stored as `sha256:<hex>` of its UTF-8, so no
 * length or character makes a claim fail (the caller bounds sizes). A plain nonce that happens to
 * spell another's hash can only be refused as a replay, never let through.
 *
 * Expired rows are removed by {@link removeExpired}, which the backend runs periodically.
 *
 * Failures: when the database cannot answer (see ./errors.ts), `claim` fails closed with
 * {@link ServiceUnavailableError} (503): a request is never let through unchecked. Serialization
 * failures and deadlocks are retried first. Any other error passes through.
 */
export class PostgresNonceStore implements NonceStore {
  readonly #db: PostgresDatabase;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;

  constructor(db: PostgresDatabase, options: PostgresNonceStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
  }

  /**
   * True when the nonce was free and is now claimed until `expiresAt` (epoch ms); false when a
   * claim that has not expired holds it (a replay). Throws {@link ServiceUnavailableError} when
   * the database cannot answer, RangeError for an expiry that is not a finite number.
   */
  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    if (!Number.isFinite(expiresAt)) throw new RangeError('expiresAt must be a finite number of epoch milliseconds');
    const now = this.#now();
    const t = this.#db.tables;
    const result = await this.#db.run(
      (client) =>
        client.query(
          `INSERT INTO ${t.nonces} AS n (access_key_id, nonce, expires_at) VALUES ($1, $2, to_timestamp($3::float8 / 1000))
           ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE n.expires_at <= to_timestamp($4::float8 / 1000)
           RETURNING 1`,
          [keyColumn(accessKeyId), keyColumn(nonce), String(expiresAt), String(now)],
        ),
      (err) => {
        const reason = unavailableReason(err);
        if (!reason) return err;
        this.#logger?.error('nonce store unavailable: refusing the request (fail closed)', { backend: 'postgres', reason, error: describePgError(err) });
        return new ServiceUnavailableError({ cause: err });
      },
    );
    return result.rowCount === 1;
  }

  /**
   * Removes claims that expired more than a minute ago (by this instance's clock), in batches that
   * skip rows other sessions hold locked. Returns how many went. Housekeeping: rejects with the raw
   * database error, which the periodic caller logs and forgets.
   */
  async removeExpired(): Promise<number> {
    const before = String(this.#now() - CLEANUP_GRACE_MS);
    const t = this.#db.tables;
    let removed = 0;
    for (let batch = 0; batch < CLEANUP_MAX_BATCHES; batch++) {
      const result = await this.#db.run(
        (client) =>
          client.query(
            `DELETE FROM ${t.nonces} WHERE ctid IN (
               SELECT ctid FROM ${t.nonces} WHERE expires_at < to_timestamp($1::float8 / 1000)
               LIMIT ${CLEANUP_BATCH} FOR UPDATE SKIP LOCKED
             )`,
            [before],
          ),
        (err) => err,
      );
      removed += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < CLEANUP_BATCH) break;
    }
    return removed;
  }

  /**
   * Starts removing expired claims every `intervalMs` (best effort: a failure is logged and the next
   * run tries again; runs never overlap). The timer is unref'd: it never keeps the process alive.
   * Returns the function that stops it, which resolves once a run under way has finished (so that
   * the pool can then be ended under none).
   */
  startCleanup(intervalMs: number): () => Promise<void> {
    let running: Promise<void> | undefined;
    const timer = setInterval(() => {
      running ??= this.removeExpired()
        .then((removed) => {
          if (removed > 0) this.#logger?.debug('expired nonces removed', { backend: 'postgres', removed });
        })
        .catch((err: unknown) => {
          this.#logger?.warn('removing expired nonces failed; the next run tries again', { backend: 'postgres', error: describePgError(err) });
        })
        .finally(() => {
          running = undefined;
        });
    }, intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }
}

/** A key column's value: the string as it is when short and storable, else `sha256:<hex>` of its UTF-8. */
export function keyColumn(value: string): string {
  if (!value.includes('\0') && Buffer.byteLength(value, 'utf8') <= MAX_PLAIN_KEY_BYTES) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}
