import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../lib/errors.js';
import type { StateBackend } from '../../lib/keystore/backend.js';
import { EntryNotFoundError, RevisionConflictError, WriteOnceViolationError } from '../../lib/keystore/key-store.js';
import { openPostgresBackend, type PostgresBackendOptions, type PostgresNonceStore, SCHEMA_VERSION } from '../../lib/keystore/postgres/postgres-backend.js';
import { KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import type { Logger } from '../../lib/logger.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { stateBackendConformance } from '../keystore/backend-conformance.js';
import { keyStoreConformance } from '../keystore/conformance.js';
import { incrementCounter } from '../keystore/counter.js';
import { freePort, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

let server: TestPostgres;
/** A pool of its own, for what the tests look at or set up behind the backend's back. */
let admin: pg.Pool;
/** Backends opened by the running test, closed after it. */
const opened: StateBackend[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 4 });
  // Its end() resolves before its connections have closed; the server's stop may then fail them.
  admin.on('error', () => undefined);
});
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.close()));
});

/** A schema name no other test uses: each store starts empty. */
const freshSchema = () => `t_${randomBytes(6).toString('hex')}`;

async function open(options: Partial<PostgresBackendOptions> = {}): Promise<StateBackend> {
  const backend = await openPostgresBackend({ connectionString: server.url, schema: freshSchema(), ...options });
  opened.push(backend);
  return backend;
}

/** A Logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), access: at('info') };
}

/** The rejection of `promise` and how long it took to come. */
async function rejectionOf(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  return { error, ms: Date.now() - started };
}

keyStoreConformance('PostgresKeyStore', async () => (await open()).store);

stateBackendConformance('postgres', async () => {
  const schema = freshSchema();
  // Two pools: two instances share nothing but the database.
  const [a, b] = await Promise.all([
    openPostgresBackend({ connectionString: server.url, schema }),
    openPostgresBackend({ connectionString: server.url, schema }),
  ]);
  return { a, b };
});

describe('Module: postgres backend', () => {
  describe('schema', () => {
    it('when 5 instances open one new schema at once, all open, the tables are created once, and they share the data', async () => {
      const schema = freshSchema();
      const backends = await Promise.all(Array.from({ length: 5 }, () => open({ schema })));
      const versions = await admin.query(`SELECT version FROM "${schema}".schema_version`);
      expect(versions.rows).toEqual([{ version: SCHEMA_VERSION }]);
      const tables = await admin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [
        schema,
      ]);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['changes', 'entries', 'nonces', 'schema_version']);
      await backends[0]!.store.create('keys/shared', bytes('v'), { writeOnce: false });
      for (const backend of backends) expect((await backend.store.get('keys/shared'))!.value.toString()).toBe('v');
    });

    it('when an instance opens a schema that is already there, nothing changes and the data stays', async () => {
      const schema = freshSchema();
      const first = await openPostgresBackend({ connectionString: server.url, schema });
      await first.store.create('keys/kept', bytes('kept'), { writeOnce: true });
      await first.nonces.claim('AK', 'n', Date.now() + 60_000);
      await first.close();
      await first.close();
      const again = await open({ schema });
      expect(await again.store.get('keys/kept')).toEqual({ value: bytes('kept'), revision: 1, writeOnce: true });
      expect(await again.nonces.claim('AK', 'n', Date.now() + 60_000)).toBe(false);
      expect((await admin.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: SCHEMA_VERSION }]);
    });

    it('when a schema of version 1 (before the change marker) is opened, it is migrated: its data stays, the marker starts at 0 with no token, and writes move it', async () => {
      const schema = freshSchema();
      // What version 1 created, by hand.
      for (const statement of [
        `CREATE SCHEMA "${schema}"`,
        `CREATE TABLE "${schema}".schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`,
        `INSERT INTO "${schema}".schema_version VALUES (true, 1)`,
        `CREATE TABLE "${schema}".entries (name text COLLATE "C" PRIMARY KEY, value bytea NOT NULL, revision bigint NOT NULL CHECK (revision >= 1), write_once boolean NOT NULL)`,
        `CREATE TABLE "${schema}".nonces (access_key_id text NOT NULL, nonce text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (access_key_id, nonce))`,
        `INSERT INTO "${schema}".entries VALUES ('keys/old', 'v1', 1, false)`,
      ]) {
        await admin.query(statement);
      }
      const backend = await open({ schema });
      expect((await admin.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: SCHEMA_VERSION }]);
      expect(SCHEMA_VERSION).toBe(3);
      expect(await backend.store.changes!.read()).toBe('0:');
      expect(await backend.store.update('keys/old', 1, bytes('v2'))).toBe(2);
      expect(await backend.store.changes!.read()).toMatch(/^1:[0-9a-f-]{36}$/);
    });

    it('when a schema of version 2 (a marker without token) is opened, it is migrated: the marker keeps its generation, and the next write gives it a token', async () => {
      const schema = freshSchema();
      const first = await open({ schema });
      await first.store.create('keys/k', bytes('v1'), { writeOnce: false });
      // Back to what version 2 had.
      await admin.query(`ALTER TABLE "${schema}".changes DROP COLUMN token`);
      await admin.query(`UPDATE "${schema}".schema_version SET version = 2`);
      const backend = await open({ schema });
      expect((await admin.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: SCHEMA_VERSION }]);
      expect(await backend.store.changes!.read()).toBe('1:');
      expect(await backend.store.get('keys/k')).toMatchObject({ value: bytes('v1'), revision: 1 });
      await backend.store.update('keys/k', 1, bytes('v2'));
      expect(await backend.store.changes!.read()).toMatch(/^2:[0-9a-f-]{36}$/);
    });

    it('when the marker row is removed and made again, or rolled back by a restore, it never reads as a value read before, though its generation counts up again', async () => {
      const schema = freshSchema();
      const backend = await open({ schema });
      const seen = new Set<string>();
      const read = async () => {
        const value = await backend.store.changes!.read();
        expect(seen.has(value), `${value} was read before`).toBe(false);
        seen.add(value);
        return value;
      };
      const generation = async () => (await admin.query<{ generation: string }>(`SELECT generation FROM "${schema}".changes`)).rows[0]?.generation;
      await backend.store.create('keys/k', bytes('0'), { writeOnce: false });
      for (let i = 1; i <= 2; i++) await backend.store.update('keys/k', i, bytes(String(i)));
      await read();
      const saved = (await admin.query<{ generation: string; token: string }>(`SELECT generation, token FROM "${schema}".changes`)).rows[0]!;
      expect(saved.generation).toBe('3');

      // Removed by hand: a value of its own each time, until the next mutable write puts it back.
      await admin.query(`DELETE FROM "${schema}".changes`);
      await read();
      await read();
      for (let i = 3; i <= 5; i++) await backend.store.update('keys/k', i, bytes(String(i)));
      expect(await generation()).toBe('3');
      await read();

      // Rolled back to what a backup held, then written up to the same generation again.
      await admin.query(`UPDATE "${schema}".changes SET generation = 2, token = $1`, [saved.token]);
      await read();
      await backend.store.update('keys/k', 6, bytes('6'));
      expect(await generation()).toBe('3');
      await read();
    });

    it('when the schema is at a newer version than this release knows, opening refuses to use it', async () => {
      const schema = freshSchema();
      await (await open({ schema })).close();
      await admin.query(`UPDATE "${schema}".schema_version SET version = $1`, [SCHEMA_VERSION + 1]);
      await expect(openPostgresBackend({ connectionString: server.url, schema })).rejects.toThrow(/newer than this release knows/);
    });

    it.each(['Kms', 'pg_kms', 'kms; DROP TABLE x', '1kms', '', 'k'.repeat(64)])(
      'when the schema name is "%s", opening refuses it before connecting',
      async (schema) => {
        await expect(openPostgresBackend({ connectionString: 'postgres://nobody@127.0.0.1:1/none', schema })).rejects.toThrow(/schema name/);
      },
    );

    it('when neither or both of connectionString and pool are given, opening refuses', async () => {
      await expect(openPostgresBackend({})).rejects.toThrow(/connectionString or a pool/);
      await expect(openPostgresBackend({ connectionString: server.url, pool: admin })).rejects.toThrow(/connectionString or a pool/);
    });

    it('when a pool is given, the backend uses it and leaves it open on close', async () => {
      const backend = await openPostgresBackend({ pool: admin, schema: freshSchema() });
      await backend.store.create('keys/k', bytes('v'), { writeOnce: false });
      await backend.close();
      expect((await admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it("when the role does not exist, opening rejects with the server's error (a fault, not an outage)", async () => {
      const url = server.url.replace('kms@', 'nobody@');
      await expect(openPostgresBackend({ connectionString: url, schema: freshSchema() })).rejects.toMatchObject({ code: '28000' });
    });
  });

  describe('class PostgresKeyStore', () => {
    it('when a prefix holds "_", "%" or "\\", list matches them literally, not as LIKE wildcards', async () => {
      const { store } = await open();
      for (const name of ['keys/a_1', 'keys/ab1', 'keys/a.1', 'keys/a-_', 'other/x']) await store.create(name, bytes(name), { writeOnce: false });
      expect(await store.list('keys/a_')).toEqual(['keys/a_1']);
      expect(await store.list('keys/a')).toEqual(['keys/a-_', 'keys/a.1', 'keys/a_1', 'keys/ab1']);
      expect(await store.list('keys/%')).toEqual([]);
      expect(await store.list('%')).toEqual([]);
      expect(await store.list('_')).toEqual([]);
      expect(await store.list('keys\\')).toEqual([]);
      expect(await store.list('keys/a-\\_')).toEqual([]);
    });

    it("when the database's own collation is not byte order (ICU en-US), list is still in byte order", async ({ skip }) => {
      const version = await admin.query<{ server_version_num: string }>('SHOW server_version_num');
      if (Number(version.rows[0]!.server_version_num) < 150_000) skip('a database with an ICU default collation needs PostgreSQL 15 or later');
      const database = `icu_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${database} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`);
      const icu = new pg.Pool({ connectionString: server.url.replace(/\/postgres$/, `/${database}`), max: 1 });
      try {
        const names = ['keys/b', 'keys/a', 'keys/A', 'keys/_x', 'keys/Z', 'keys/a/v2', 'keys/a-1'];
        const byBytes = [...names].sort();
        // The premise: this database alone would order them otherwise.
        const collated = await icu.query<{ names: string[] }>('SELECT array_agg(n ORDER BY n) AS names FROM unnest($1::text[]) AS n', [names]);
        expect(collated.rows[0]!.names).not.toEqual(byBytes);
        const backend = await openPostgresBackend({ pool: icu, schema: 'kms' });
        try {
          for (const name of names) await backend.store.create(name, bytes(name), { writeOnce: false });
          expect(await backend.store.list('keys/')).toEqual(byBytes);
          expect(await backend.store.list('keys/a')).toEqual(['keys/a', 'keys/a-1', 'keys/a/v2']);
        } finally {
          await backend.close();
        }
      } finally {
        await icu.end();
        await admin.query(`DROP DATABASE ${database}`);
      }
    });

    it('when values hold every byte value (create and update), or are large, the column holds exactly those bytes', async () => {
      const schema = freshSchema();
      const { store } = await open({ schema });
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const reversed = Buffer.from(all).reverse();
      const large = randomBytes(1024 * 1024);
      await store.create('keys/all', all, { writeOnce: false });
      await store.create('versions/large', large, { writeOnce: true });
      expect((await store.get('keys/all'))!.value.equals(all)).toBe(true);
      expect((await store.get('versions/large'))!.value.equals(large)).toBe(true);
      await store.update('keys/all', 1, reversed);
      expect((await store.get('keys/all'))!.value.equals(reversed)).toBe(true);
      // Stored as given: bytea holding the bytes, not an encoding of them.
      const raw = await admin.query<{ value: Buffer; length: number }>(`SELECT value, octet_length(value) AS length FROM "${schema}".entries WHERE name = $1`, [
        'keys/all',
      ]);
      expect(raw.rows[0]!.length).toBe(256);
      expect(raw.rows[0]!.value.equals(reversed)).toBe(true);
    });

    it('when a write-once entry is destroyed, its row is overwritten with as many zero bytes before it is deleted', async () => {
      const schema = freshSchema();
      const { store } = await open({ schema });
      // What the row held at the moment of its deletion.
      await admin.query(`CREATE TABLE "${schema}".deleted (name text, value bytea)`);
      await admin.query(`CREATE FUNCTION "${schema}".record_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO "${schema}".deleted VALUES (OLD.name, OLD.value); RETURN OLD; END $$`);
      await admin.query(`CREATE TRIGGER record_deleted BEFORE DELETE ON "${schema}".entries FOR EACH ROW EXECUTE FUNCTION "${schema}".record_deleted()`);
      const material = randomBytes(48);
      await store.create('key-versions/k/v1', material, { writeOnce: true });
      await store.destroy('key-versions/k/v1');
      expect(await store.get('key-versions/k/v1')).toBeUndefined();
      const deleted = await admin.query<{ name: string; value: Buffer }>(`SELECT name, value FROM "${schema}".deleted`);
      expect(deleted.rows).toEqual([{ name: 'key-versions/k/v1', value: Buffer.alloc(48) }]);
      await store.destroy('key-versions/k/v1');
      await store.destroy('key-versions/never');

      await store.create('keys/mutable', bytes('metadata'), { writeOnce: false });
      await expect(store.destroy('keys/mutable')).rejects.toBeInstanceOf(WriteOnceViolationError);
      expect((await store.get('keys/mutable'))!.value.toString()).toBe('metadata');
      expect((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".deleted`)).rows).toEqual([{ n: 1 }]);
    });

    it('when the expected revision is not a positive integer, update and delete report a conflict, not a type error', async () => {
      const { store } = await open();
      await store.create('keys/m', bytes('v1'), { writeOnce: false });
      for (const revision of [1.5, Number.NaN, 2 ** 60, -1]) {
        await expect(store.update('keys/m', revision, bytes('x'))).rejects.toBeInstanceOf(RevisionConflictError);
        await expect(store.delete('keys/m', revision)).rejects.toBeInstanceOf(RevisionConflictError);
      }
      await expect(store.update('keys/none', 1.5, bytes('x'))).rejects.toBeInstanceOf(EntryNotFoundError);
      expect(await store.get('keys/m')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
    });

    it('when the server runs every transaction SERIALIZABLE, serialization failures are retried: racing writers still get exactly one winner and conflicts, and no increment is lost', async () => {
      const serializable = `${server.url}?options=${encodeURIComponent('-c default_transaction_isolation=serializable')}`;
      const schema = freshSchema();
      const [a, b] = await Promise.all([open({ schema, connectionString: serializable }), open({ schema, connectionString: serializable })]);
      const probe = new pg.Client(serializable);
      await probe.connect();
      try {
        expect((await probe.query('SHOW default_transaction_isolation')).rows).toEqual([{ default_transaction_isolation: 'serializable' }]);
      } finally {
        await probe.end();
      }
      await a.store.create('keys/cas', bytes('0'), { writeOnce: false });
      // Another transaction changes the row (not its revision) while 20 writers wait for it: when it
      // commits, every one of them fails to serialize (40001), and must be run again to learn
      // that exactly one of them wins.
      const holder = await admin.connect();
      let racing: Promise<PromiseSettledResult<number>[]> | undefined;
      try {
        await holder.query('BEGIN');
        await holder.query(`UPDATE "${schema}".entries SET revision = revision WHERE name = 'keys/cas'`);
        racing = Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).store.update('keys/cas', 1, bytes(`w${i}`))));
        await waitFor(async () => {
          const waiting = await admin.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'alibaba-kms-compatible' AND wait_event_type = 'Lock'`,
          );
          return waiting.rows[0]!.n >= 20;
        });
      } finally {
        await holder.query('COMMIT');
        holder.release();
      }
      const results = await racing;
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RevisionConflictError);
      await a.store.create('keys/counter', bytes('0'), { writeOnce: false });
      await Promise.all(Array.from({ length: 20 }, (_, i) => incrementCounter((i % 2 ? a : b).store, 'keys/counter')));
      expect((await b.store.get('keys/counter'))!.value.toString()).toBe('20');
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).nonces.claim('AK', 'race', Date.now() + 60_000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('when another session holds the row locked past the statement timeout, update fails as unavailable (timeout) instead of hanging', async () => {
      const schema = freshSchema();
      const { store } = await open({ schema, statementTimeoutMs: 300 });
      await store.create('keys/locked', bytes('v1'), { writeOnce: false });
      const holder = await admin.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM "${schema}".entries WHERE name = 'keys/locked' FOR UPDATE`);
        const { error, ms } = await rejectionOf(store.update('keys/locked', 1, bytes('v2')));
        expect(error).toBeInstanceOf(KeyStoreUnavailableError);
        expect(error).toMatchObject({ reason: 'timeout', operation: 'update', entry: 'keys/locked' });
        expect(ms).toBeLessThan(3_000);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      expect(await store.update('keys/locked', 1, bytes('v2'))).toBe(2);
    });

    it('when the connection breaks while a write is in flight, the write fails as unknown-outcome (and may in fact land)', async () => {
      const schema = freshSchema();
      const proxy = await startProxy(server.port);
      try {
        const { store } = await open({ schema, connectionString: `postgres://kms@127.0.0.1:${proxy.port}/postgres` });
        await store.create('keys/k', bytes('v1'), { writeOnce: false });
        const holder = await admin.connect();
        let outcome: Promise<{ error: unknown; ms: number }> | undefined;
        try {
          await holder.query('BEGIN');
          await holder.query(`SELECT 1 FROM "${schema}".entries WHERE name = 'keys/k' FOR UPDATE`);
          outcome = rejectionOf(store.update('keys/k', 1, bytes('v2')));
          // The update has reached the server: it waits for the row lock.
          await waitFor(async () => {
            const waiting = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'alibaba-kms-compatible' AND wait_event_type = 'Lock'`);
            return (waiting.rowCount ?? 0) > 0;
          });
          proxy.cut();
          const { error } = await outcome;
          expect(error).toBeInstanceOf(KeyStoreUnavailableError);
          expect(error).toMatchObject({ reason: 'unknown-outcome', operation: 'update' });
        } finally {
          await holder.query('ROLLBACK');
          holder.release();
          await outcome;
        }
        // The server never learned that its client had gone: the update committed once the lock was free.
        await waitFor(async () => (await admin.query(`SELECT revision FROM "${schema}".entries WHERE name = 'keys/k'`)).rows[0]?.revision === '2');
      } finally {
        await proxy.close();
      }
    });
  });

  describe('class PostgresNonceStore', () => {
    it('when nonces or access key ids are long, hold NUL, quotes or non-ASCII, each is its own nonce', async () => {
      const backend = await open();
      const expiresAt = Date.now() + 60_000;
      const long = 'n'.repeat(10_000);
      const odd = [long, `${long.slice(1)}m`, '\0', '\0\0', 'a\0b', "it's", '"', '\\', 'ü', '😀', `${'x'.repeat(511)}é`, 'sha256:0'];
      for (const nonce of odd) expect([nonce.slice(0, 20), await backend.nonces.claim('AK', nonce, expiresAt)]).toEqual([nonce.slice(0, 20), true]);
      for (const nonce of odd) expect(await backend.nonces.claim('AK', nonce, expiresAt)).toBe(false);
      const longKey = 'K'.repeat(5_000);
      expect(await backend.nonces.claim(longKey, long, expiresAt)).toBe(true);
      expect(await backend.nonces.claim(longKey, long, expiresAt)).toBe(false);
      expect(await backend.nonces.claim(`${longKey}L`, long, expiresAt)).toBe(true);
    });

    it("when a claim reaches its expiry (by the instance's clock), the nonce is free again, not a moment before", async () => {
      let now = 1_700_000_000_000;
      const backend = await open({ now: () => now });
      expect(await backend.nonces.claim('AK', 'n', now + 1_000)).toBe(true);
      now += 999;
      expect(await backend.nonces.claim('AK', 'n', now + 1_000)).toBe(false);
      now += 1;
      expect(await backend.nonces.claim('AK', 'n', now + 1_000)).toBe(true);
      expect(await backend.nonces.claim('AK', 'n', now + 1_000)).toBe(false);
    });

    it('when claims expired more than a minute ago, cleanup removes them and keeps the rest', async () => {
      let now = 1_700_000_000_000;
      const schema = freshSchema();
      const backend = await open({ schema, now: () => now });
      await backend.nonces.claim('AK', 'old', now - 61_000);
      await backend.nonces.claim('AK', 'recent', now - 30_000);
      await backend.nonces.claim('AK', 'live', now + 60_000);
      expect(await (backend.nonces as PostgresNonceStore).removeExpired()).toBe(1);
      const left = await admin.query<{ nonce: string }>(`SELECT nonce FROM "${schema}".nonces ORDER BY nonce`);
      expect(left.rows.map((r) => r.nonce)).toEqual(['live', 'recent']);
      now += 10 * 60_000;
      expect(await (backend.nonces as PostgresNonceStore).removeExpired()).toBe(2);
    });

    it('when the cleanup interval passes, expired claims are removed in the background', async () => {
      const schema = freshSchema();
      const backend = await open({ schema, nonceCleanupIntervalMs: 50 });
      await backend.nonces.claim('AK', 'old', Date.now() - 120_000);
      await backend.nonces.claim('AK', 'live', Date.now() + 60_000);
      await waitFor(async () => (await admin.query(`SELECT nonce FROM "${schema}".nonces`)).rows.length === 1);
      expect((await admin.query(`SELECT nonce FROM "${schema}".nonces`)).rows).toEqual([{ nonce: 'live' }]);
    });
  });

  describe('outages', () => {
    it('when the service cannot be built over the database (another root key), the build fails and leaves no connection open, however often it is retried', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kms-pg-leak-'));
      try {
        const env = {
          KMS_KEY_STORE: 'postgres',
          KMS_POSTGRES_URL: server.url,
          KMS_POSTGRES_SCHEMA: 'leak_check',
          KMS_LOG_LEVEL: 'silent',
          KMS_AUDIT_LOG: 'none',
        };
        // Sealed first under one root key (its pool stays open: counted before and after alike).
        await serviceFromEnvironment({ ...env, KMS_ROOT_KEY_FILE: join(dir, 'first.key') });
        await writeFile(join(dir, 'other.key'), randomBytes(32).toString('base64'));
        const connections = async () => {
          const client = new pg.Client({ connectionString: server.url });
          await client.connect();
          try {
            const { rows } = await client.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            );
            return Number(rows[0]!.n);
          } finally {
            await client.end();
          }
        };
        const before = await connections();
        for (let i = 0; i < 5; i++)
          await expect(serviceFromEnvironment({ ...env, KMS_ROOT_KEY_FILE: join(dir, 'other.key') })).rejects.toThrow(/root key does not match/);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await connections()).toBeLessThanOrEqual(before);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('when nothing listens on the port, the backend opens anyway (with a warning); store calls fail as unavailable and nonce claims with 503, fast', async () => {
      const logger = recordingLogger();
      const port = await freePort();
      const started = Date.now();
      const backend = await open({ connectionString: `postgres://kms@127.0.0.1:${port}/postgres`, logger });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/unreachable at start/) }));
      for (const [operation, call] of [
        ['get', () => backend.store.get('keys/k')],
        ['create', () => backend.store.create('keys/k', bytes('v'), { writeOnce: false })],
        ['update', () => backend.store.update('keys/k', 1, bytes('v'))],
        ['delete', () => backend.store.delete('keys/k', 1)],
        ['destroy', () => backend.store.destroy('keys/k')],
        ['list', () => backend.store.list('keys/')],
        ['changes', () => backend.store.changes!.read()],
      ] as const) {
        const { error, ms } = await rejectionOf(call());
        expect(error).toBeInstanceOf(KeyStoreUnavailableError);
        expect(error).toMatchObject({ reason: 'network', operation });
        expect(ms).toBeLessThan(5_000);
      }
      const { error, ms } = await rejectionOf(backend.nonces.claim('AK', 'n', Date.now() + 60_000));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(ms).toBeLessThan(5_000);
      expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/fail closed/) }));
    });

    it('when the server accepts connections but never answers, calls fail as unavailable (timeout) after the connection timeout', async () => {
      const silent = await startSilentServer();
      try {
        const started = Date.now();
        const backend = await open({ connectionString: `postgres://kms@127.0.0.1:${silent.port}/postgres`, connectionTimeoutMs: 500 });
        expect(Date.now() - started).toBeLessThan(3_000);
        const { error, ms } = await rejectionOf(backend.store.get('keys/k'));
        expect(error).toMatchObject({ reason: 'timeout' });
        expect(error).toBeInstanceOf(KeyStoreUnavailableError);
        expect(ms).toBeLessThan(3_000);
        const claim = await rejectionOf(backend.nonces.claim('AK', 'n', Date.now() + 60_000));
        expect(claim.error).toBeInstanceOf(ServiceUnavailableError);
        expect(claim.ms).toBeLessThan(3_000);
      } finally {
        await silent.close();
      }
    });

    it('when the server goes away under an open backend, calls fail as unavailable at once; when it is back, the same backend serves the same data', {
      timeout: 60_000,
    }, async () => {
      const second = await startPostgres();
      try {
        const logger = recordingLogger();
        const backend = await open({ connectionString: second.url, logger });
        await backend.store.create('keys/k', bytes('v1'), { writeOnce: false });
        expect(await backend.nonces.claim('AK', 'n', Date.now() + 60_000)).toBe(true);

        await second.stopServer();
        for (const call of [() => backend.store.get('keys/k'), () => backend.store.update('keys/k', 1, bytes('v2')), () => backend.store.list('')]) {
          const { error, ms } = await rejectionOf(call());
          expect(error).toBeInstanceOf(KeyStoreUnavailableError);
          expect((error as KeyStoreUnavailableError).reason).toMatch(/^(network|server)$/);
          expect(ms).toBeLessThan(5_000);
        }
        const { error, ms } = await rejectionOf(backend.nonces.claim('AK', 'n2', Date.now() + 60_000));
        expect(error).toBeInstanceOf(ServiceUnavailableError);
        expect(ms).toBeLessThan(5_000);

        await second.startServer();
        expect(await backend.store.get('keys/k')).toEqual({ value: bytes('v1'), revision: 1, writeOnce: false });
        expect(await backend.store.update('keys/k', 1, bytes('v2'))).toBe(2);
        expect(await backend.nonces.claim('AK', 'n', Date.now() + 60_000)).toBe(false);
        expect(await backend.nonces.claim('AK', 'n2', Date.now() + 60_000)).toBe(true);
      } finally {
        await Promise.all(opened.splice(0).map((b) => b.close()));
        await second.stop();
      }
    });
  });
});

/** Polls `check` until it is true (every 20 ms, up to 10 s). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as { port: number }).port;
}

/** A TCP proxy to `target` whose connections can all be cut at once (a network failure). */
async function startProxy(target: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listen(server);
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    cut,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts TCP connections and never says a word (a hung database, a black hole). */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
