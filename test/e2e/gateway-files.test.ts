import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CREDENTIALS_FILE, adminCredentialsFileBeside } from '../../infra/gateway/bootstrap.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, runGatewayToExit, startGateway } from '../helpers/gateway-process.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * What the gateway writes on disk and where: the admin credentials of a new store never replace
 * an existing file (another store's), and nothing is created outside the data directory (a log
 * path or a data directory whose parent is missing stops the start, naming it).
 */

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-files-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
}

const readCredentials = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Credentials;
const listKeys = (gateway: ReadyGateway, credentials: Credentials) => sendRaw(gateway.port, toRecorded(signedRpcRequest(credentials, 'ListKeys', {})));

/** The credentials file the ready gateway said it created, checked: 0600, beside the one that was there. */
async function createdBeside(gateway: ReadyGateway, dataDir: string): Promise<{ path: string; credentials: Credentials }> {
  const path = /its credentials are in (\S+)$/m.exec(gateway.stdout())?.[1];
  expect(path).toBeDefined();
  const credentials = await readCredentials(path!);
  expect(path).toBe(join(dataDir, adminCredentialsFileBeside(credentials.accessKeyId)));
  expect((await stat(path!)).mode & 0o777).toBe(0o600);
  expect(gateway.stdout()).toContain(`${join(dataDir, ADMIN_CREDENTIALS_FILE)} exists and was left as it is`);
  expect(gateway.output()).not.toContain(credentials.accessKeySecret);
  return { path: path!, credentials };
}

describe('The admin credentials of a new store', () => {
  it('on an empty file store whose data directory holds an admin-credentials.json, go beside it; the old file is left byte for byte, and a second start writes none', async () => {
    const dataDir = join(root, 'file-store');
    await mkdir(dataDir, { mode: 0o700 });
    const existing = join(dataDir, ADMIN_CREDENTIALS_FILE);
    const before = `${JSON.stringify({ accessKeyId: 'LTAIkeptfromanotherstore', accessKeySecret: 'kept-secret-of-another-store' })}\n`;
    await writeFile(existing, before, { mode: 0o600 });

    const gateway = await startGateway({ dataDir });
    const { credentials } = await createdBeside(gateway, dataDir);
    expect(await readFile(existing, 'utf8')).toBe(before);
    expect((await listKeys(gateway, credentials)).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const again = await startGateway({ dataDir });
    expect(again.stdout()).not.toContain('created an admin access key');
    expect(await again.stop('SIGTERM')).toBe(0);
    expect((await readdir(dataDir)).filter((name) => name.startsWith('admin-credentials')).sort()).toEqual(
      [ADMIN_CREDENTIALS_FILE, adminCredentialsFileBeside(credentials.accessKeyId)].sort(),
    );
  });

  describe('on an empty PostgreSQL store, with the data directory of a file store', () => {
    let postgres: TestPostgres;
    beforeAll(async () => {
      postgres = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await killAllGateways();
      await postgres?.stop();
    });

    it('go beside the file store’s, which is left as it was and still opens the file store', async () => {
      const dataDir = join(root, 'moved-to-postgres');
      const single = await startGateway({ dataDir });
      const fileAdmin = await readCredentials(join(dataDir, ADMIN_CREDENTIALS_FILE));
      const fileBytes = await readFile(join(dataDir, ADMIN_CREDENTIALS_FILE));
      expect(await single.stop('SIGTERM')).toBe(0);

      const cluster = await startGateway({ dataDir, env: { KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: postgres.url, KMS_POSTGRES_SCHEMA: 'moved' } });
      const { credentials } = await createdBeside(cluster, dataDir);
      expect(await readFile(join(dataDir, ADMIN_CREDENTIALS_FILE))).toEqual(fileBytes);
      expect((await listKeys(cluster, credentials)).status).toBe(200);
      // Two stores, two admins: the file store's key means nothing to PostgreSQL.
      expect((await listKeys(cluster, fileAdmin)).json.Code).toBe('InvalidAccessKeyId.NotFound');
      expect(await cluster.stop('SIGTERM')).toBe(0);

      const back = await startGateway({ dataDir });
      expect((await listKeys(back, fileAdmin)).status).toBe(200);
      expect(await back.stop('SIGTERM')).toBe(0);
    }, 60_000);
  });
});

describe('Nothing is created outside the data directory', () => {
  it.each([
    ['KMS_AUDIT_LOG', 'audit.log'],
    ['KMS_ACCESS_LOG', 'access.log'],
  ])('%s in a directory that does not exist: the gateway exits 1 naming the directory, and creates it not', async (variable, file) => {
    const missing = join(root, `missing-${variable}`, 'logs');
    const dataDir = join(root, `data-${variable}`);
    const run = await runGatewayToExit({ dataDir, env: { [variable]: join(missing, file) } });
    expect(run.ready).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${variable}=${join(missing, file)}: the directory ${missing} does not exist`);
    expect(existsSync(join(root, `missing-${variable}`))).toBe(false);
  });

  it('a data directory whose parent does not exist: the gateway exits 1 naming the parent, and creates neither', async () => {
    const parent = join(root, 'no-such-parent');
    const run = await runGatewayToExit({ dataDir: join(parent, 'data') });
    expect(run.ready).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the directory ${parent} does not exist`);
    expect(existsSync(parent)).toBe(false);
  });

  it('log files in a directory that exists are created (0600), as is the data directory (0700)', async () => {
    const logs = join(root, 'logs');
    await mkdir(logs);
    const dataDir = join(root, 'data-with-logs');
    const gateway = await startGateway({ dataDir, env: { KMS_AUDIT_LOG: join(logs, 'audit.log'), KMS_ACCESS_LOG: join(logs, 'access.log') } });
    expect(((await stat(join(logs, 'audit.log'))).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(join(logs, 'access.log'))).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(dataDir)).mode & 0o777).toString(8)).toBe('700');
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});
