import { runKmsHere } from '../helpers/cli-in-process.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/*
 * `kms access-keys` over a PostgreSQL store (KMS_KEY_STORE=postgres) that holds nothing: a new
 * database, or a mistyped schema. Nothing is created there (no root key file, no seal, no entry)
 * unless `create --create-store`.
 */

let server: TestPostgres;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'kms-cli-pg-'));
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const kms = (schema: string, ...args: string[]) =>
  runKmsHere(['access-keys', ...args], { KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: server.url, KMS_POSTGRES_SCHEMA: schema, KMS_DATA_DIR: dir });

/** The rows of the schema's entries table (none when the table was never made). */
async function entries(schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query<{ name: string }>(`SELECT name FROM ${schema}.entries ORDER BY name`)).rows.map((r) => r.name);
  } catch {
    return [];
  } finally {
    await client.end();
  }
}

/** What a schema holds: whether it exists, its tables, and its recorded version (when it has one). */
async function schemaState(schema: string): Promise<{ exists: boolean; tables: string[]; version?: number }> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const exists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
    const tables = (
      await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
    ).rows.map((r) => r.table_name);
    if (!tables.includes('schema_version')) return { exists, tables };
    const version = (await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_version`)).rows[0]?.version;
    return { exists, tables, ...(version === undefined ? {} : { version }) };
  } finally {
    await client.end();
  }
}

/** Runs SQL as the test's superuser. */
async function sql(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('Command: kms access-keys with KMS_KEY_STORE=postgres and no store there', () => {
  it('when the database is empty, every refused command leaves it empty: no schema, no table', async () => {
    for (const args of [['list'], ['set-policy', 'LTAIsomeone0001', '--admin'], ['create', '--admin']]) {
      const result = await kms('nothing_here', ...args);
      expect(result.code, args.join(' ')).toBe(EXIT.UNAVAILABLE);
      expect(result.stderr).toMatch(/^StoreNotFound: /);
      expect(await schemaState('nothing_here')).toEqual({ exists: false, tables: [] });
    }
  });

  it('when the schema is one an older release made (version 1) and holds no store, a refused command neither migrates nor adds anything', async () => {
    await sql(
      'CREATE SCHEMA old_empty',
      'CREATE TABLE old_empty.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)',
      'INSERT INTO old_empty.schema_version VALUES (true, 1)',
      'CREATE TABLE old_empty.entries (name text COLLATE "C" PRIMARY KEY, value bytea NOT NULL, revision bigint NOT NULL, write_once boolean NOT NULL)',
      'CREATE TABLE old_empty.nonces (access_key_id text NOT NULL, nonce text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (access_key_id, nonce))',
    );
    const before = await schemaState('old_empty');
    expect(before).toEqual({ exists: true, tables: ['entries', 'nonces', 'schema_version'], version: 1 });
    for (const args of [['list'], ['set-policy', 'LTAIsomeone0001', '--admin']]) {
      const result = await kms('old_empty', ...args);
      expect(result.code, args.join(' ')).toBe(EXIT.UNAVAILABLE);
      expect(result.stderr).toMatch(
        /^StoreNotFound: no key store in the PostgreSQL database of KMS_POSTGRES_URL, schema old_empty: it holds no keys, access keys or seal/,
      );
      expect(await schemaState('old_empty')).toEqual(before);
    }
    expect(await entries('old_empty')).toEqual([]);
  });

  it('when the schema holds nothing, create, set-policy and list are refused (exit 3) and write nothing: no root key file, no seal', async () => {
    for (const args of [['create', '--admin'], ['set-policy', 'LTAIsomeone0001', '--admin'], ['list']]) {
      const result = await kms('mistyped', ...args);
      expect(result.code, args.join(' ')).toBe(EXIT.UNAVAILABLE);
      expect(result.stderr).toMatch(
        /^StoreNotFound: no key store in the PostgreSQL database of KMS_POSTGRES_URL, schema mistyped: it holds no keys, access keys or seal; point at the deployment's store with KMS_KEY_STORE and its variables/,
      );
      // The URL (it may hold a password) is never printed.
      expect(result.stderr).not.toContain(server.url);
      expect(result.stdout).toBe('');
    }
    expect(await readdir(dir)).toEqual([]);
    expect(await entries('mistyped')).toEqual([]);
  });

  it('with --create-store, the store is started (root key beside the data directory, sealed) and then serves every command', async () => {
    const created = await kms('fresh', 'create', '--create-store', '--admin', '--id', 'pgAdmin00001');
    expect(created.code, created.stderr).toBe(EXIT.OK);
    expect(JSON.parse(created.stdout)).toMatchObject({ AccessKeyId: 'pgAdmin00001', AccessKeySecret: expect.any(String) });
    expect(await readdir(dir)).toEqual(['root.key']);
    expect(await entries('fresh')).toEqual(expect.arrayContaining(['access-keys/pgAdmin00001', 'meta/root-key-check']));
    const listed = await kms('fresh', 'list');
    expect(listed.code, listed.stderr).toBe(EXIT.OK);
    expect(JSON.parse(listed.stdout).AccessKeys.map((k: { AccessKeyId: string }) => k.AccessKeyId)).toEqual(['pgAdmin00001']);
  });
});
