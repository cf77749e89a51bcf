import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../lib/config/variable.js';
import type { OpenedBackend } from '../../lib/keystore/backend.js';
import { postgresBackend } from '../../lib/keystore/postgres/config.js';
import { PostgresUrlSecretError, postgresUrlFromSecret } from '../../lib/keystore/postgres/url-secret.js';
import { createLogger } from '../../lib/logger.js';
import { FakeKmsSecrets } from '../helpers/fake-alibaba-kms-secrets.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let database: TestPostgres;
let kms: FakeKmsSecrets;
const opened: OpenedBackend[] = [];
const logger = createLogger({ level: 'silent' });
const ROOT_KEY = 'kms-test-root-key';

beforeAll(async () => {
  [database, kms] = await Promise.all([startPostgres(), new FakeKmsSecrets().start()]);
  kms.secrets.set(ROOT_KEY, randomBytes(32).toString('base64'));
});
afterAll(async () => {
  await kms?.stop();
  await database?.stop();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(opened.splice(0).map((backend) => backend.close()));
});

/** The function's environment as Function Compute gives it: the role's credentials, the region, no URL. */
function functionEnvironment(urlSecret: string) {
  const credentials = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.test-role-id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-role-secret',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'test-token',
    FC_REGION: 'cn-hangzhou',
    ALIBABA_CLOUD_KMS_ENDPOINT: kms.endpoint,
  };
  // The secrets are read with the process's credentials, as the root key is.
  for (const [name, value] of Object.entries(credentials)) vi.stubEnv(name, value);
  return {
    ...credentials,
    KMS_KEY_STORE: 'postgres',
    KMS_POSTGRES_URL_SOURCE: `alibaba-kms-secret:${urlSecret}`,
    KMS_ROOT_KEY_SOURCE: `alibaba-kms-secret:${ROOT_KEY}`,
  };
}

async function open(env: Record<string, string>): Promise<OpenedBackend> {
  const backend = await postgresBackend.open(postgresBackend.fromEnvironment(env), { logger, nonces: true, mustExist: false });
  opened.push(backend);
  return backend;
}

describe('Configuration: the PostgreSQL URL from an Alibaba Cloud KMS secret (KMS_POSTGRES_URL_SOURCE)', () => {
  it('when the secret holds the URL, the store opens on that database, the secret is read once per instance, and the environment holds no password', async () => {
    kms.secrets.set('db-url-ok', database.url.replace('postgres://kms@', 'postgres://kms:pw-in-the-secret-only@'));
    const env = functionEnvironment('db-url-ok');
    expect(JSON.stringify(env)).not.toContain('pw-in-the-secret-only');

    const first = await open(env);
    await first.store.create('probe', Buffer.from('written through the secret URL'), { writeOnce: false });
    await first.close();
    const second = await open(env);
    expect((await second.store.get('probe'))?.value.toString()).toBe('written through the secret URL');
    expect(await second.nonces!.claim('AK', 'n-1', Date.now() + 60_000)).toBe(true);
    expect(kms.readsOf('db-url-ok')).toBe(1);
  });

  it('when the secret does not exist, opening fails naming the secret and the code, and a later start reads it again', async () => {
    const env = functionEnvironment('db-url-later');
    const failure = await open(env).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PostgresUrlSecretError);
    expect((failure as Error).message).toMatch(
      /^cannot read the Alibaba Cloud KMS secret db-url-later \(KMS_POSTGRES_URL_SOURCE\): Forbidden\.ResourceNotFound.*The resource is not found/,
    );

    kms.secrets.set('db-url-later', database.url);
    await expect(open(env)).resolves.toBeDefined();
    expect(kms.readsOf('db-url-later')).toBe(2);
  });

  it.each([
    ['a bare password', 'hunter2-Secret!'],
    ['another database kind', 'mysql://kms:pw-Secret-1@rds.example:3306/kms'],
    ['an incomplete RDS account', '{"AccountName":"kms","Password":"pw-Secret-2"}'],
    ['nothing', '   '],
  ])('when the secret holds %s, opening fails saying what it must hold, without its value', async (_what, value) => {
    const name = `db-url-bad-${randomBytes(4).toString('hex')}`;
    kms.secrets.set(name, value);
    const failure = (await open(functionEnvironment(name)).catch((err: unknown) => err)) as Error;
    expect(failure).toBeInstanceOf(PostgresUrlSecretError);
    expect(failure.message).toBe(
      `the Alibaba Cloud KMS secret ${name} (KMS_POSTGRES_URL_SOURCE) holds neither a PostgreSQL URL (postgres://user:password@host:5432/database) nor an RDS account ({"AccountName": …, "AccountPassword": …})`,
    );
    expect(`${failure.message}${String(failure.cause ?? '')}`).not.toMatch(/Secret|hunter2|mysql/);
  });

  it('when the secret is a KMS-managed RDS secret (an account), the account goes into the address KMS_POSTGRES_URL gives', async () => {
    kms.secrets.set('db-rds-account', JSON.stringify({ AccountName: 'kms', AccountPassword: 'p@ss:w/rd-Secret' }));
    const address = database.url.replace('postgres://kms@', 'postgres://');
    const env = { ...functionEnvironment('db-rds-account'), KMS_POSTGRES_URL: `${address}?sslmode=disable` };
    const backend = await open(env);
    await backend.store.create('rds-probe', Buffer.from('x'), { writeOnce: false });
    expect((await backend.store.get('rds-probe'))?.value.toString()).toBe('x');
    const url = await postgresUrlFromSecret({ kind: 'alibaba-kms-secret', secretName: 'db-rds-account' }, { address: `${address}?sslmode=disable` });
    expect(new URL(url).username).toBe('kms');
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:w/rd-Secret');
    expect(url.endsWith('?sslmode=disable')).toBe(true);
    expect(kms.readsOf('db-rds-account')).toBe(1);
  });

  it('when the secret and KMS_POSTGRES_URL do not fit together, opening fails saying which to change, without the secret', async () => {
    kms.secrets.set('db-rds-alone', JSON.stringify({ AccountName: 'kms', AccountPassword: 'pw-Secret-3' }));
    const alone = (await open(functionEnvironment('db-rds-alone')).catch((err: unknown) => err)) as Error;
    expect(alone).toBeInstanceOf(PostgresUrlSecretError);
    expect(alone.message).toMatch(
      /db-rds-alone \(KMS_POSTGRES_URL_SOURCE\) holds an RDS account: set KMS_POSTGRES_URL to the database's address, without user or password/,
    );
    expect(alone.message).not.toContain('pw-Secret-3');

    kms.secrets.set('db-url-and-address', database.url.replace('postgres://kms@', 'postgres://kms:pw-Secret-4@'));
    const both = (await open({ ...functionEnvironment('db-url-and-address'), KMS_POSTGRES_URL: 'postgres://rds.example:5432/kms' }).catch(
      (err: unknown) => err,
    )) as Error;
    expect(both.message).toMatch(/db-url-and-address \(KMS_POSTGRES_URL_SOURCE\) holds a whole URL: leave KMS_POSTGRES_URL unset/);
    expect(both.message).not.toContain('pw-Secret-4');
  });

  it('when the database refuses the URL the secret held (a rotated secret), the next start reads the secret again', async () => {
    kms.secrets.set('db-url-rotated', database.url.replace(/\/[^/]+$/, '/no_such_database'));
    const env = functionEnvironment('db-url-rotated');
    await expect(open(env)).rejects.toThrow(/no_such_database/);
    kms.secrets.set('db-url-rotated', database.url);
    await expect(open(env)).resolves.toBeDefined();
    expect(kms.readsOf('db-url-rotated')).toBe(2);
  });

  it('when the instance has no Alibaba Cloud credentials (no role), the error says so and nothing is called', async () => {
    const before = kms.reads.length;
    await expect(postgresUrlFromSecret({ kind: 'alibaba-kms-secret', secretName: 'x' }, { env: {} })).rejects.toThrow(
      /cannot read the Alibaba Cloud KMS secret x \(KMS_POSTGRES_URL_SOURCE\): no Alibaba Cloud credentials .*give the function a role/,
    );
    expect(kms.reads.length).toBe(before);
  });

  it.each([
    [
      { KMS_POSTGRES_URL: 'postgres://kms:pw@db/kms', KMS_POSTGRES_URL_SOURCE: 'alibaba-kms-secret:db' },
      /KMS_POSTGRES_URL holds a user or password: with KMS_POSTGRES_URL_SOURCE it gives only the address/,
    ],
    [{ KMS_POSTGRES_URL: 'postgres://kms@db/kms', KMS_POSTGRES_URL_SOURCE: 'alibaba-kms-secret:db' }, /KMS_POSTGRES_URL holds a user or password/],
    [{ KMS_POSTGRES_URL_SOURCE: 'aws-secrets-manager:db' }, /KMS_POSTGRES_URL_SOURCE must be alibaba-kms-secret:<secret-name>, not "aws-secrets-manager:db"/],
    [{ KMS_POSTGRES_URL_SOURCE: 'alibaba-kms-secret:' }, /must be alibaba-kms-secret:<secret-name>/],
    [{}, /needs KMS_POSTGRES_URL \(postgres:\/\/user:password@host:5432\/database\) or KMS_POSTGRES_URL_SOURCE/],
  ])('when the environment is %j, it is refused as a configuration error', (env, message) => {
    expect(() => postgresBackend.fromEnvironment({ KMS_KEY_STORE: 'postgres', ...env })).toThrow(ConfigurationError);
    expect(() => postgresBackend.fromEnvironment({ KMS_KEY_STORE: 'postgres', ...env })).toThrow(message);
  });

  it('when the secret is named, the configuration holds its name and no URL', () => {
    expect(
      postgresBackend.fromEnvironment({ KMS_POSTGRES_URL_SOURCE: 'alibaba-kms-secret:kms-prod-postgres-url', KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:r' }),
    ).toEqual({
      urlSource: { kind: 'alibaba-kms-secret', secretName: 'kms-prod-postgres-url' },
      rootKey: { kind: 'alibaba-kms-secret', secretName: 'r' },
    });
  });
});
