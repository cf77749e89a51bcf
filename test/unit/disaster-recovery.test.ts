import { runKmsHere } from '../helpers/cli-in-process.js';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OPERATIONS } from '../../functions/actions.js';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { applySeed } from '../../lib/seed.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import type { Service } from '../../lib/service.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';
import { ACCOUNT_ID, ADMIN, ALIAS, CONSUMER, KEY_ID, KEY_MATERIAL, REGION, TEST_SEED } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';

/*
 * Disaster recovery of a stage's whole state, as docs/operations.md ("Backup and restore") tells
 * it: `kms store copy` from the stage's table into a file store sealed under a root key of its own
 * (the backup), then from the backup into a fresh stack (another table, another root-key secret).
 * Afterwards every old ciphertext decrypts, aliases resolve and the access keys sign requests.
 * DynamoDB through dynalite and the real SDK; the root-key secrets in a Secrets Manager fake.
 */

const sm = mockClient(SecretsManagerClient);
let dynalite: Dynalite;
let dir: string;
const saved = { ...process.env };

const stage = (table: string, secret: string) => ({
  KMS_KEY_STORE: 'dynamodb',
  KMS_STATE_TABLE: table,
  KMS_ROOT_KEY_SOURCE: `aws-secrets-manager:${secret}`,
  AWS_REGION: 'eu-central-1',
  KMS_REGION: REGION,
  KMS_ACCOUNT_ID: ACCOUNT_ID,
  KMS_LOG_LEVEL: 'silent',
});
const OLD = stage('kms-prod-state', 'kms/prod/root-key');
const NEW = stage('kms-prod-restored-state', 'kms/prod-restored/root-key');

beforeAll(async () => {
  dynalite = await startDynalite();
  dir = await mkdtemp(join(tmpdir(), 'kms-dr-'));
  for (const table of [OLD.KMS_STATE_TABLE, NEW.KMS_STATE_TABLE]) await createStateTable(dynalite.client(), table, { timeToLive: false });
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
  const secrets = new FakeSecretsManager({ interleave: false }).install(sm);
  secrets.createSecret({ Name: 'kms/prod/root-key', SecretString: Buffer.alloc(32, 1).toString('base64') });
  secrets.createSecret({ Name: 'kms/prod-restored/root-key', SecretString: Buffer.alloc(32, 2).toString('base64') });
});

afterAll(async () => {
  process.env = saved;
  vi.unstubAllEnvs();
  sm.restore();
  await dynalite.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `kms …` in this process, in the environment given (over the test's own), with its output. */
const kms = (env: Record<string, string>, ...args: string[]) => runKmsHere(['--output', 'json', ...args], env);

async function call(service: Service, who: Credentials, action: string, params: Record<string, string>) {
  const response = await createDispatcher(service, OPERATIONS)(signedRpcRequest(who, action, params));
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, string> };
}

describe('a stage backed up to a sealed file store and restored into a fresh stack', () => {
  const backupDir = () => join(dir, 'backup');
  const backupKey = () => join(dir, 'backup-root.key');
  const backup = () => ({ KMS_KEY_STORE: 'file', KMS_DATA_DIR: backupDir(), KMS_ROOT_KEY_SOURCE: `file:${backupKey()}`, KMS_LOG_LEVEL: 'silent' });
  /** `kms store copy` from the backup into the stack `target` describes. */
  const restoreInto = (target: ReturnType<typeof stage>) =>
    kms(
      backup(),
      'store',
      'copy',
      ...['KMS_KEY_STORE', 'KMS_STATE_TABLE', 'KMS_ROOT_KEY_SOURCE', 'AWS_REGION'].flatMap((name) => [
        '--to',
        `${name}=${target[name as keyof typeof target]}`,
      ]),
    );
  const blobs: Array<{ blob: string; plaintext: string }> = [];
  let rotatedKeyId: string;

  beforeAll(async () => {
    const old = await serviceFromEnvironment(OLD);
    await applySeed(TEST_SEED, old);
    // A rotated key: ciphertexts under its first and its second version.
    const created = await call(old, ADMIN, 'CreateKey', {});
    rotatedKeyId = (created.body.KeyMetadata as unknown as { KeyId: string }).KeyId;
    for (const keyId of [rotatedKeyId, ALIAS, KEY_ID]) {
      const dataKey = await call(old, ADMIN, 'GenerateDataKey', { KeyId: keyId });
      blobs.push({ blob: dataKey.body.CiphertextBlob!, plaintext: dataKey.body.Plaintext! });
    }
    await call(old, ADMIN, 'CreateKeyVersion', { KeyId: rotatedKeyId });
    const second = await call(old, ADMIN, 'GenerateDataKey', { KeyId: rotatedKeyId });
    blobs.push({ blob: second.body.CiphertextBlob!, plaintext: second.body.Plaintext! });
  });

  it('backs up every entry into a file store sealed under its own root key, with no secret in the clear', async () => {
    const result = await kms(
      OLD,
      'store',
      'copy',
      '--to',
      'KMS_KEY_STORE=file',
      '--to',
      `KMS_DATA_DIR=${backupDir()}`,
      '--to',
      `KMS_ROOT_KEY_SOURCE=file:${backupKey()}`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT.OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ Conflicts: [] });
    expect(JSON.parse(result.stdout).Copied).toBeGreaterThan(10);
    // Every file of the backup is sealed: neither an access-key secret nor a version's material appears.
    const material = Buffer.from(KEY_MATERIAL, 'base64');
    for (const file of await readdir(backupDir(), { recursive: true })) {
      const bytes = await readFile(join(backupDir(), file)).catch(() => Buffer.alloc(0));
      for (const secret of [ADMIN.accessKeySecret, CONSUMER.accessKeySecret]) expect(bytes.includes(secret), `${file} holds an access-key secret`).toBe(false);
      expect(bytes.includes(material), `${file} holds key material`).toBe(false);
    }
  });

  it('the backup does not open under the stage root key, only under its own', async () => {
    const wrongKey = await kms({ ...backup(), KMS_ROOT_KEY_SOURCE: OLD.KMS_ROOT_KEY_SOURCE, AWS_REGION: 'eu-central-1' }, 'access-keys', 'list');
    expect(wrongKey.code).not.toBe(EXIT.OK);
    expect(wrongKey.stderr).toMatch(/root key does not match/);
    const ownKey = await kms(backup(), 'access-keys', 'list');
    expect(ownKey.code).toBe(EXIT.OK);
    expect(ownKey.stdout).toContain(ADMIN.accessKeyId);
    expect(ownKey.stdout).not.toContain(ADMIN.accessKeySecret);
  });

  it('restores into a fresh stack (another table, another root key): old ciphertexts decrypt, aliases resolve, access keys sign', async () => {
    const restore = await restoreInto(NEW);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(EXIT.OK);
    const restored = await serviceFromEnvironment(NEW);
    for (const { blob, plaintext } of blobs) {
      for (const who of [ADMIN, CONSUMER]) {
        const decrypted = await call(restored, who, 'Decrypt', { CiphertextBlob: blob });
        expect(decrypted.status).toBe(200);
        expect(decrypted.body.Plaintext).toBe(plaintext);
      }
    }
    const byAlias = await call(restored, ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
    expect(byAlias.status).toBe(200);
    expect(byAlias.body.KeyId).toBe(KEY_ID);
    // The restored key keeps rotating from where it was: its versions, its primary.
    const versions = await call(restored, ADMIN, 'ListKeyVersions', { KeyId: rotatedKeyId });
    expect((versions.body.KeyVersions as unknown as { KeyVersion: unknown[] }).KeyVersion).toHaveLength(2);
    // The consumer's policy came along: still Decrypt only.
    expect((await call(restored, CONSUMER, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(403);
  });

  it('running the restore again changes nothing: every entry is already present', async () => {
    const again = await restoreInto(NEW);
    expect(again.code).toBe(EXIT.OK);
    expect(JSON.parse(again.stdout)).toMatchObject({ Copied: 0, Conflicts: [] });
  });

  it('a restore over a stack that holds other keys names the entries that differ and leaves them (exit 1, StoreConflict)', async () => {
    await createStateTable(dynalite.client(), 'kms-diverged-state', { timeToLive: false });
    const diverged = stage('kms-diverged-state', 'kms/prod-restored/root-key');
    const service = await serviceFromEnvironment(diverged);
    // The same access key id with another secret: the restore must not overwrite it.
    await applySeed(
      { keys: [], accessKeys: [{ accessKeyId: ADMIN.accessKeyId, accessKeySecret: 'another-secret-0123456789', policy: TEST_SEED.accessKeys![0]!.policy }] },
      service,
    );
    const result = await restoreInto(diverged);
    expect(result.code).toBe(EXIT.REFUSED);
    expect(result.stderr).toMatch(/StoreConflict/);
    expect(JSON.parse(result.stdout).Conflicts).toContain(`access-keys/${ADMIN.accessKeyId}`);
  });
});
