import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Logger } from '../../logger.js';
import {
  assertEntryName,
  type ChangeMarker,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from '../key-store.js';
import { KeyStoreAccessDeniedError, KeyStoreUnavailableError } from '../store-errors.js';
import type { PostgresDatabase } from './database.js';
import { describePgError, isAccessDenied, unavailableReason } from './errors.js';
import { schemaVersion } from './schema.js';

/**
 * A {@link KeyStore} on one PostgreSQL table, `<schema>.entries(name, value, revision, write_once)`
 * (see ./schema.ts). Every method is one statement, or one transaction, on the primary, so every
 * instance reads every acknowledged write at once; PostgreSQL makes each write atomic and durable
 * (with the server's `synchronous_commit` on, its default) before it is acknowledged. Values go as
 * parameters, never into SQL text.
 *
 * Compare-and-swap is the `WHERE revision = $expected` of one `UPDATE`/`DELETE`: under READ
 * COMMITTED a writer that waited for another's row lock re-checks the condition on the row as the
 * other left it, so of racing writers with one expected revision exactly one succeeds.
 *
 * The change marker ({@link ChangeMarker}) is the one row of `<schema>.changes`: the statement
 * that creates, updates or deletes a mutable entry adds one to its generation and gives it a new
 * random token when it changed a row, so the change and the marker commit together or not at
 * all. Mutable writes take that row's lock in turn (a few key-management writes; write-once
 * entries and reads never touch it).
 *
 * **Failures** (classified in ./errors.ts): an outage (connection refused, reset or timed out,
 * server shut down, starting, out of resources or read-only, our statement timeout) is a
 * {@link KeyStoreUnavailableError} (`network`, `server`, `timeout`); serialization failures and
 * deadlocks are retried, then `busy`; a write whose connection failed after it was sent is
 * `unknown-outcome` (it may have committed). Bad credentials or a missing privilege are a
 * {@link KeyStoreAccessDeniedError}. Anything else passes through as it is.
 */
export class PostgresKeyStore implements KeyStore {
  readonly #db: PostgresDatabase;
  readonly #logger: Logger | undefined;
  /**
   * One `SELECT` of one row: its generation and token, so that it never reads as a value read
   * before (see ./schema.ts, version 3). A row removed by hand reads as a value of its own each
   * time until the next mutable write puts it back: nothing read meanwhile can be trusted later.
   */
  readonly changes: ChangeMarker = {
    read: async () => {
      const result = await this.#run('changes', undefined, false, (client) =>
        client.query<{ generation: string; token: string | null }>(`SELECT generation, token FROM ${this.#db.tables.changes}`),
      );
      const row = result.rows[0];
      return row ? `${row.generation}:${row.token ?? ''}` : `none:${randomUUID()}`;
    },
  };

  constructor(db: PostgresDatabase, logger?: Logger) {
    this.#db = db;
    this.#logger = logger;
  }

  /**
   * A statement's `WITH` item that adds one to the change marker and gives it the new token in
   * parameter `token` (`$n`) when `source` (an earlier item) returned a row: an upsert, so a marker
   * row removed by hand comes back rather than silently staying still.
   */
  #bump(source: string, token: string): string {
    return `bumped AS (
                INSERT INTO ${this.#db.tables.changes} AS c (singleton, generation, token) SELECT true, 1, ${token}::text FROM ${source}
                ON CONFLICT (singleton) DO UPDATE SET generation = c.generation + 1, token = EXCLUDED.token
              )`;
  }

  /**
   * `INSERT … ON CONFLICT DO NOTHING`: no row inserted means the name is taken
   * ({@link EntryExistsError}); a mutable entry inserted moves the change marker in the same statement.
   */
  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    assertEntryName(name);
    // A copy: the caller may reuse its buffer before the query is written to the socket.
    const copy = Buffer.from(value);
    const result = await this.#run('create', name, true, (client) =>
      client.query<{ created: boolean }>(
        `WITH inserted AS (
                INSERT INTO ${this.#db.tables.entries} (name, value, revision, write_once) VALUES ($1, $2, 1, $3)
                ON CONFLICT (name) DO NOTHING
                RETURNING write_once
              ),
              mutable AS (SELECT 1 FROM inserted WHERE NOT write_once),
              ${this.#bump('mutable', '$4')}
         SELECT EXISTS (SELECT 1 FROM inserted) AS created`,
        [name, copy, options.writeOnce, randomUUID()],
      ),
    );
    if (!result.rows[0]?.created) throw new EntryExistsError(name);
  }

  /** The schema's version as it is (0: none of its tables yet; see ./schema.ts). Reads only. */
  schemaVersion(): Promise<number> {
    return this.#run('schemaVersion', undefined, false, (client) => schemaVersion(client, this.#db.schema));
  }

  /** One `SELECT`; the value is a new Buffer each time. */
  async get(name: string): Promise<StoredEntry | undefined> {
    assertEntryName(name);
    const result = await this.#run('get', name, false, (client) =>
      client.query<{ value: Buffer; revision: string; write_once: boolean }>(
        `SELECT value, revision, write_once FROM ${this.#db.tables.entries} WHERE name = $1`,
        [name],
      ),
    );
    const row = result.rows[0];
    return row && { value: row.value, revision: toRevision(row.revision), writeOnce: row.write_once };
  }

  /**
   * One statement: the conditional `UPDATE … WHERE revision = $2 AND NOT write_once`, and beside it
   * the row as the statement found it, which tells why nothing was updated: no row
   * ({@link EntryNotFoundError}), a write-once row ({@link WriteOnceViolationError}), else another
   * writer came first ({@link RevisionConflictError}; also when it deleted the entry meanwhile).
   */
  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    assertEntryName(name);
    const copy = Buffer.from(value);
    const result = await this.#run('update', name, true, (client) =>
      client.query<{ revision: string | null; write_once: boolean | null }>(
        `WITH found AS (SELECT write_once FROM ${this.#db.tables.entries} WHERE name = $1),
              changed AS (
                UPDATE ${this.#db.tables.entries} SET value = $3, revision = revision + 1
                WHERE name = $1 AND revision = $2 AND NOT write_once
                RETURNING revision
              ),
              ${this.#bump('changed', '$4')}
         SELECT (SELECT revision FROM changed) AS revision, (SELECT write_once FROM found) AS write_once`,
        [name, comparableRevision(expectedRevision), copy, randomUUID()],
      ),
    );
    const row = result.rows[0];
    if (row?.revision != null) return toRevision(row.revision);
    throw whyUnchanged(name, row?.write_once ?? null);
  }

  /** Like {@link update}: one conditional `DELETE`, and the row as found to tell why nothing went. */
  async delete(name: string, expectedRevision: number): Promise<void> {
    assertEntryName(name);
    const result = await this.#run('delete', name, true, (client) =>
      client.query<{ deleted: boolean; write_once: boolean | null }>(
        `WITH found AS (SELECT write_once FROM ${this.#db.tables.entries} WHERE name = $1),
              gone AS (
                DELETE FROM ${this.#db.tables.entries}
                WHERE name = $1 AND revision = $2 AND NOT write_once
                RETURNING 1
              ),
              ${this.#bump('gone', '$3')}
         SELECT EXISTS (SELECT 1 FROM gone) AS deleted, (SELECT write_once FROM found) AS write_once`,
        [name, comparableRevision(expectedRevision), randomUUID()],
      ),
    );
    const row = result.rows[0];
    if (row?.deleted) return;
    throw whyUnchanged(name, row?.write_once ?? null);
  }

  /**
   * In one transaction: lock the row, overwrite its value with as many zero bytes, delete it.
   * Idempotent: an absent entry is not an error. {@link WriteOnceViolationError} for a mutable one.
   *
   * The overwrite is what a database allows, not a scrub: PostgreSQL writes new row versions
   * (MVCC), so the old one stays in the table's pages until VACUUM reuses them, and in the WAL and
   * any backup taken meanwhile. Material that must not outlive its deletion needs encryption at
   * rest with keys of its own (the sealed store) — this only keeps the live row from carrying it.
   */
  async destroy(name: string): Promise<void> {
    assertEntryName(name);
    const outcome = await this.#run('destroy', name, true, async (client) => {
      await client.query('BEGIN');
      const found = await client.query<{ write_once: boolean }>(`SELECT write_once FROM ${this.#db.tables.entries} WHERE name = $1 FOR UPDATE`, [name]);
      const row = found.rows[0];
      if (!row?.write_once) {
        await client.query('ROLLBACK');
        return row ? 'mutable' : 'absent';
      }
      await client.query(`UPDATE ${this.#db.tables.entries} SET value = decode(repeat('00', length(value)), 'hex') WHERE name = $1`, [name]);
      await client.query(`DELETE FROM ${this.#db.tables.entries} WHERE name = $1`, [name]);
      await client.query('COMMIT');
      return 'destroyed';
    });
    if (outcome === 'mutable') throw new WriteOnceViolationError(name);
  }

  /**
   * One `SELECT … WHERE name LIKE $1 ORDER BY name COLLATE "C"`: byte order whatever the
   * database's collation. `%`, `_` and `\` in the prefix are escaped, so they match only themselves
   * (the escape character is written `E'\\'`: one backslash whatever `standard_conforming_strings` is).
   */
  async list(prefix: string): Promise<string[]> {
    const result = await this.#run('list', undefined, false, (client) =>
      client.query<{ name: string }>(`SELECT name FROM ${this.#db.tables.entries} WHERE name LIKE $1 ESCAPE E'\\\\' ORDER BY name COLLATE "C"`, [
        `${escapeLike(prefix)}%`,
      ]),
    );
    return result.rows.map((row) => row.name);
  }

  #run<T>(operation: string, entry: string | undefined, write: boolean, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#db.run(work, (err, uncertain) => this.#translate(err, operation, entry, write && uncertain));
  }

  #translate(err: unknown, operation: string, entry: string | undefined, uncertain: boolean): unknown {
    const reason = unavailableReason(err);
    if (reason) {
      if (uncertain) {
        this.#logger?.warn('key store write outcome unknown: the connection failed after the write was sent', {
          operation,
          entry,
          error: describePgError(err),
        });
        return new KeyStoreUnavailableError('unknown-outcome', operation, entry, { cause: err, detail: describePgError(err) });
      }
      return new KeyStoreUnavailableError(reason, operation, entry, { cause: err, detail: describePgError(err) });
    }
    if (isAccessDenied(err)) return new KeyStoreAccessDeniedError(operation, entry, { cause: err, detail: describePgError(err) });
    return err;
  }
}

/** Why a conditional write changed nothing, from the row as the statement found it (`null`: none). */
function whyUnchanged(name: string, writeOnce: boolean | null): Error {
  if (writeOnce === null) return new EntryNotFoundError(name);
  if (writeOnce) return new WriteOnceViolationError(name);
  return new RevisionConflictError(name);
}

/**
 * The expected revision as a bigint parameter. Revisions are integers from 1, so anything else
 * (a fraction, NaN, beyond 2^53) can match no row: sent as 0, it gets the same answer a stale
 * revision would, instead of a type error from the server.
 */
function comparableRevision(expected: number): string {
  return Number.isSafeInteger(expected) ? String(expected) : '0';
}

/** node-postgres returns bigint as a decimal string (it may exceed 2^53; a revision never will). */
function toRevision(value: string): number {
  const revision = Number(value);
  if (!Number.isSafeInteger(revision)) throw new Error(`stored revision ${value} is not a safe integer`);
  return revision;
}

/** The prefix as a LIKE pattern that matches only itself (with `\` as the escape character). */
export function escapeLike(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
}
