import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';

/** The version of the schema this release writes and reads. */
export const SCHEMA_VERSION = 3;

/** The default schema (PostgreSQL namespace) of the backend's tables. */
export const DEFAULT_SCHEMA = 'kms';

/**
 * Schema names this backend accepts: a plain lower-case identifier, so it can be written into SQL
 * as a quoted identifier without any escaping (values always go as parameters; a schema name cannot
 * be a parameter). `pg_` is reserved by PostgreSQL.
 */
export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema) || schema.startsWith('pg_')) {
    throw new Error(`"${schema}" is not a usable schema name: lower-case letters, digits and "_", at most 63, not starting with a digit or "pg_"`);
  }
}

/** The tables of a schema, as quoted, schema-qualified identifiers for SQL text. */
export interface Tables {
  schema: string;
  entries: string;
  nonces: string;
  changes: string;
  schemaVersion: string;
}

export function tablesOf(schema: string): Tables {
  assertSchemaName(schema);
  const q = `"${schema}"`;
  return { schema: q, entries: `${q}.entries`, nonces: `${q}.nonces`, changes: `${q}.changes`, schemaVersion: `${q}.schema_version` };
}

/**
 * The steps from each version to the next: `MIGRATIONS[n]` takes a schema from version n to n + 1
 * (version 0: nothing there yet). Each step is idempotent (`IF NOT EXISTS`) so that a schema its
 * tables were created in by hand, or a step that ran but whose version row was not written, is
 * taken as it is.
 *
 * Version 1:
 * - `entries`: one row per key-store entry. `name` compares and sorts by bytes (`COLLATE "C"`),
 *   whatever the database's collation: that is the order `list` promises, and it lets a
 *   `LIKE 'prefix%'` use the primary-key index.
 * - `nonces`: one row per claimed nonce; the index on `expires_at` serves the periodic cleanup.
 * - `schema_version`: a single row.
 *
 * Version 2:
 * - `changes`: a single row, the store's change marker (see ChangeMarker in ../key-store.ts): a
 *   generation every write of a mutable entry adds one to, in the write's own statement.
 *
 * Version 3:
 * - `changes.token`: a random value that each of those writes replaces, so that the marker never
 *   reads as a value read before, even once its row was removed and made again or rolled back by a
 *   restore (the generation alone would count up through the values it had).
 */
const MIGRATIONS: ReadonlyArray<(t: Tables) => string[]> = [
  (t) => [
    `CREATE TABLE IF NOT EXISTS ${t.entries} (
       name text COLLATE "C" PRIMARY KEY,
       value bytea NOT NULL,
       revision bigint NOT NULL CHECK (revision >= 1),
       write_once boolean NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS ${t.nonces} (
       access_key_id text NOT NULL,
       nonce text NOT NULL,
       expires_at timestamptz NOT NULL,
       PRIMARY KEY (access_key_id, nonce)
     )`,
    `CREATE INDEX IF NOT EXISTS nonces_expires_at ON ${t.nonces} (expires_at)`,
  ],
  (t) => [
    `CREATE TABLE IF NOT EXISTS ${t.changes} (
       singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
       generation bigint NOT NULL
     )`,
    `INSERT INTO ${t.changes} (singleton, generation) VALUES (true, 0) ON CONFLICT (singleton) DO NOTHING`,
  ],
  (t) => [`ALTER TABLE ${t.changes} ADD COLUMN IF NOT EXISTS token text`],
];

/**
 * Creates the schema and its tables, or brings them to {@link SCHEMA_VERSION}. Safe when several
 * instances start at once: everything runs in one transaction under an advisory lock of the
 * schema's own (`pg_advisory_xact_lock`), so one instance migrates while the others wait and then
 * find the work done (`CREATE … IF NOT EXISTS` alone is not safe under concurrency: two sessions
 * can both find a name free and one then fails on the catalog's unique index). A schema already at
 * the current version costs the lock and one read, and needs no privilege beyond reading it.
 *
 * Throws when the schema is at a newer version than this release knows (an older release must not
 * write to a layout it does not understand), and passes through every database error.
 */
export async function migrate(client: ClientBase, schema: string): Promise<void> {
  const tables = tablesOf(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(schema)]);
    const found = await schemaVersion(client, schema);
    if (found > SCHEMA_VERSION) {
      throw new Error(`the schema "${schema}" is at version ${found}, newer than this release knows (${SCHEMA_VERSION}): upgrade this instance`);
    }
    if (found < SCHEMA_VERSION) {
      // Checked first, rather than CREATE SCHEMA IF NOT EXISTS alone: that needs the CREATE
      // privilege on the database even when the schema exists (one made by a DBA, say).
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${tables.schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${tables.schemaVersion} (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        version integer NOT NULL
      )`);
      for (let version = found; version < SCHEMA_VERSION; version++) {
        for (const statement of MIGRATIONS[version]!(tables)) await client.query(statement);
      }
      await client.query(
        `INSERT INTO ${tables.schemaVersion} (singleton, version) VALUES (true, $1)
         ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version`,
        [SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    // A failed ROLLBACK means the connection is gone, and the transaction with it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The schema's version: 0 when there is no schema_version table (nothing created yet). Reads only. */
export async function schemaVersion(client: ClientBase, schema: string): Promise<number> {
  const tables = tablesOf(schema);
  const table = await client.query<{ present: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = 'schema_version'
     ) AS present`,
    [schema],
  );
  if (!table.rows[0]?.present) return 0;
  const row = await client.query<{ version: number }>(`SELECT version FROM ${tables.schemaVersion}`);
  return row.rows[0]?.version ?? 0;
}

/**
 * The advisory lock that serialises migrations of one schema: 64 bits of a SHA-256 of the schema
 * name, as a signed bigint in decimal. Computed here rather than by `hashtext()` (internal, and not
 * promised to stay the same across PostgreSQL releases, which a mixed-version fleet could hit).
 */
export function advisoryLockKey(schema: string): string {
  return createHash('sha256').update(`alibaba-kms-compatible schema ${schema}`).digest().readBigInt64BE(0).toString();
}
