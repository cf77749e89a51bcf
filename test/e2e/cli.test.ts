import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsClient } from '@alibaba-kms-compatible/client';
import { decodeHeader, TAG_BYTES } from '../../packages/client/src/file-envelope/format.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { killAllGateways, makeTempDir, READY_LINE, type ReadyGateway, REPO_ROOT, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, CONSUMER, KEY_ID, OTHER_KEY_ID, PROVIDER, TEST_SEED } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';
import { openExportedDataKey, TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { type CliRun, runKms } from '../helpers/cli-process.js';

/**
 * The `kms` command as a user runs it: `node bin/kms.mjs …` in a child process, against a real
 * gateway child process on a temporary data dir seeded with TEST_SEED. KMS_CACHE_TTL_MS=0, so a
 * change the CLI makes in the store (access keys) is seen by the gateway's next request.
 */

const FRAME = 64 * 1024;

let dir: string;
let dataDir: string;
let gateway: ReadyGateway;

type Run = CliRun;

interface RunOptions {
  /** Credentials in ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET; null for none. ADMIN unless given. */
  credentials?: Credentials | null;
  /** More environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
  stdin?: Buffer;
}

/** Runs `node bin/kms.mjs …args` against this suite's gateway and data dir. */
function kms(args: string[], options: RunOptions = {}): Promise<Run> {
  return runKms(args, {
    endpoint: gateway.url,
    credentials: options.credentials === undefined ? ADMIN : options.credentials,
    env: { KMS_DATA_DIR: dataDir, ...options.env },
    ...(options.stdin ? { stdin: options.stdin } : {}),
  });
}

/** Runs and expects exit 0; returns the parsed JSON stdout. */
async function ok(args: string[], options?: RunOptions): Promise<any> {
  const run = await kms(args, options);
  expect(run.stderr, `kms ${args.join(' ')}`).toBe('');
  expect(run.code, `kms ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout);
}

/** Runs and expects a refusal: exit 1 and one `Code: Message` line on stderr. */
async function refused(args: string[], code: string, options?: RunOptions): Promise<Run> {
  const run = await kms(args, options);
  expect(run.code, `kms ${args.join(' ')}: ${run.stderr}`).toBe(1);
  expect(run.stderr).toMatch(new RegExp(`^${code.replace(/\./g, '\\.')}: \\S.*\\n$`));
  expect(run.stdout).toBe('');
  return run;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const DECRYPT_ONLY = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['acs:kms:*:*:key/*'] }] };
const DATA_KEYS_AND_DECRYPT = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' }] };

beforeAll(async () => {
  dir = await makeTempDir('kms-cli-');
  dataDir = join(dir, 'data');
  gateway = await startGateway({
    dataDir,
    seedFile: await writeSeedFile(dir, TEST_SEED),
    logLevel: 'silent',
    env: { KMS_CACHE_TTL_MS: '0' },
  });
});

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  await killAllGateways();
  await removeDir(dir);
});

describe('kms: options, credentials and exit codes', { timeout: 120_000 }, () => {
  it('--help and --version exit 0; the help names every command group', async () => {
    const help = await kms(['--help'], { credentials: null });
    expect(help.code).toBe(0);
    for (const group of [
      'keys',
      'aliases',
      'secrets',
      'datakey',
      'access-keys',
      'encrypt-file',
      'decrypt-file',
      'serve',
      'random-password',
      'regions',
      'service',
    ])
      expect(help.stdout).toContain(group);
    // A group's help lists its commands from the command table (it once named `protect` and `delete`).
    const keysHelp = await kms(['keys', '--help'], { credentials: null });
    expect(keysHelp.code).toBe(0);
    expect(keysHelp.stdout).not.toMatch(/^ {2}(protect|delete) /m);
    expect(keysHelp.stdout).toMatch(/^ {2}schedule-deletion\b/m);
    expect(help.stdout).toMatch(/^ {2}keys\s+customer master keys: create, describe,\s+list, rotate/m);
    const version = await kms(['--version'], { credentials: null });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('a reader that stops early (`kms --help | head`) ends the command quietly, exit 0, no EPIPE trace', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'kms.mjs'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the command writes anything: its write meets a pipe with no reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('usage errors exit 2: an unknown command, an unknown option, a missing option, a bad value', async () => {
    for (const args of [
      ['frobnicate'],
      ['keys', 'list', '--bogus'],
      ['keys', 'schedule-deletion', KEY_ID],
      ['keys', 'schedule-deletion', KEY_ID, '--days', '3'],
      ['--output', 'yaml', 'keys', 'list'],
      ['datakey', 'generate', '--key', KEY_ID, '--bytes', '16', '--spec', 'AES_128'],
      ['datakey', 'generate', '--key', KEY_ID, '--context', 'novalue'],
      ['keys', 'describe'],
    ]) {
      const run = await kms(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).not.toBe('');
    }
  });

  it('no credentials at all: exit 2 and says where they come from', async () => {
    const run = await kms(['keys', 'list'], { credentials: null });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });

  it('credentials from the environment, from flags, and flags win over the environment', async () => {
    expect((await ok(['keys', 'describe', ALIAS])).KeyMetadata.KeyId).toBe(KEY_ID);
    const flags = ['--access-key-id', ADMIN.accessKeyId, '--access-key-secret', ADMIN.accessKeySecret];
    expect((await ok([...flags, 'keys', 'describe', ALIAS], { credentials: null })).KeyMetadata.KeyId).toBe(KEY_ID);
    expect((await ok(['keys', 'describe', ALIAS, ...flags], { credentials: { ...ADMIN, accessKeySecret: 'wrong' } })).KeyMetadata.KeyId).toBe(KEY_ID);
  });

  it('the endpoint from KMS_ENDPOINT or --endpoint (a URL or host:port)', async () => {
    const hostPort = `127.0.0.1:${gateway.port}`;
    expect((await ok(['--endpoint', hostPort, 'keys', 'describe', ALIAS], { env: { KMS_ENDPOINT: undefined } })).KeyMetadata.KeyId).toBe(KEY_ID);
    expect((await ok(['keys', 'describe', ALIAS], { env: { KMS_ENDPOINT: hostPort } })).KeyMetadata.KeyId).toBe(KEY_ID);
  });

  it('a wrong secret is refused: exit 1, "SignatureDoesNotMatch: …"', async () => {
    await refused(['keys', 'list'], 'SignatureDoesNotMatch', { credentials: { ...ADMIN, accessKeySecret: 'not-the-secret' } });
    await refused(['keys', 'list'], 'InvalidAccessKeyId.NotFound', { credentials: { accessKeyId: 'noSuchKey01', accessKeySecret: 'x' } });
  });

  it('an unknown key is refused: exit 1, "Forbidden.KeyNotFound: …"', async () => {
    await refused(['keys', 'describe', 'key-doesnotexist000000000000'], 'Forbidden.KeyNotFound');
    await refused(['datakey', 'generate', '--key', 'alias/nothing-here'], 'Forbidden.AliasNotFound');
  });

  it('an endpoint that does not answer: exit 3', async () => {
    const run = await kms(['keys', 'list', '--endpoint', `http://127.0.0.1:${await unusedPort()}/`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});

describe('kms keys', { timeout: 120_000 }, () => {
  it('create, describe, rotate, versions, list (all pages and one page), disable, enable, schedule and cancel deletion, set-rotation', async () => {
    const created = await ok(['keys', 'create', '--description', 'made by the cli']);
    const keyId: string = created.KeyMetadata.KeyId;
    expect(keyId).toMatch(/^key-[a-z0-9]{24}$/);
    expect(created.KeyMetadata).toMatchObject({ KeyState: 'Enabled', Description: 'made by the cli' });
    expect(created.RequestId).toMatch(/^[0-9A-F-]{36}$/);

    const table = await kms(['keys', 'describe', keyId, '--output', 'table']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Field\s+Value\n-+\s+-+\n/);
    expect(table.stdout).toMatch(new RegExp(`^KeyId\\s+${keyId}$`, 'm'));
    expect(table.stdout).toMatch(/^KeyState\s+Enabled$/m);

    const rotated = await ok(['keys', 'rotate', keyId]);
    expect(rotated.KeyVersion.KeyId).toBe(keyId);
    const versions = await ok(['keys', 'versions', keyId]);
    expect(versions.KeyVersions.map((v: any) => v.KeyVersionId).sort()).toEqual(
      [created.KeyMetadata.PrimaryKeyVersion, rotated.KeyVersion.KeyVersionId].sort(),
    );
    expect(versions.TotalCount).toBe(2);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.PrimaryKeyVersion).toBe(rotated.KeyVersion.KeyVersionId);

    const all = await ok(['keys', 'list']);
    expect(all.Keys.map((k: any) => k.KeyId)).toEqual(expect.arrayContaining([KEY_ID, OTHER_KEY_ID, keyId]));
    expect(all.TotalCount).toBe(all.Keys.length);
    const one = await ok(['keys', 'list', '--page', '2', '--page-size', '1']);
    expect(one.Keys).toHaveLength(1);
    expect(one).toMatchObject({ PageNumber: 2, PageSize: 1, TotalCount: all.TotalCount });
    const listTable = await kms(['-o', 'table', 'keys', 'list']);
    expect(listTable.stdout.split('\n')[0]).toMatch(/^KeyId\s+KeyArn$/);
    expect(listTable.stdout).toContain(keyId);

    expect(await ok(['keys', 'disable', keyId])).toEqual({ RequestId: expect.any(String) });
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.KeyState).toBe('Disabled');
    await refused(['datakey', 'generate', '--key', keyId], 'Rejected.Disabled');
    await ok(['keys', 'enable', keyId]);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.KeyState).toBe('Enabled');

    await ok(['keys', 'schedule-deletion', keyId, '--days', '7']);
    const pending = (await ok(['keys', 'describe', keyId])).KeyMetadata;
    expect(pending.KeyState).toBe('PendingDeletion');
    expect(pending.DeleteDate).not.toBe('');
    await refused(['keys', 'enable', keyId], 'Rejected.StateModifiedFailed');
    await ok(['keys', 'cancel-deletion', keyId]);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.KeyState).toBe('Enabled');

    await ok(['keys', 'set-rotation', keyId, '--enable', '--interval', '30d']);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '2592000s' });
    await ok(['keys', 'set-rotation', keyId, '--disable']);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.AutomaticRotation).toBe('Disabled');
  });
});

describe('kms keys create --key-spec', { timeout: 120_000 }, () => {
  it('makes RSA, EC and HMAC keys with the usage asked for (SIGN/VERIFY by default for RSA and EC); a usage that does not fit is exit 1 InvalidParameter', async () => {
    expect((await ok(['keys', 'create', '--key-spec', 'RSA_2048'])).KeyMetadata).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' });
    expect((await ok(['keys', 'create', '--key-spec', 'RSA_2048', '--key-usage', 'ENCRYPT/DECRYPT'])).KeyMetadata).toMatchObject({
      KeySpec: 'RSA_2048',
      KeyUsage: 'ENCRYPT/DECRYPT',
    });
    expect((await ok(['keys', 'create', '--key-spec', 'EC_P256K'])).KeyMetadata).toMatchObject({ KeySpec: 'EC_P256K', KeyUsage: 'SIGN/VERIFY' });
    expect((await ok(['keys', 'create', '--key-spec', 'HMAC_256'])).KeyMetadata).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await refused(['keys', 'create', '--key-spec', 'EC_P256', '--key-usage', 'ENCRYPT/DECRYPT'], 'InvalidParameter');
  });
});

describe('kms aliases', { timeout: 120_000 }, () => {
  it('create, list (json, table, by key), update, delete', async () => {
    expect(await ok(['aliases', 'create', 'alias/cli-a', KEY_ID])).toEqual({ RequestId: expect.any(String) });
    await refused(['aliases', 'create', 'alias/cli-a', OTHER_KEY_ID], 'AliasAlreadyExists');
    const list = await ok(['aliases', 'list']);
    expect(list.Aliases).toContainEqual(expect.objectContaining({ AliasName: 'alias/cli-a', KeyId: KEY_ID }));
    expect(list.TotalCount).toBe(list.Aliases.length);
    const table = await kms(['aliases', 'list', '--output', 'table']);
    expect(table.stdout.split('\n')[0]).toMatch(/^AliasName\s+KeyId\s+AliasArn$/);
    expect(table.stdout).toMatch(new RegExp(`^alias/cli-a\\s+${KEY_ID}\\s+acs:kms:`, 'm'));

    await ok(['aliases', 'update', 'alias/cli-a', OTHER_KEY_ID]);
    expect((await ok(['keys', 'describe', 'alias/cli-a'])).KeyMetadata.KeyId).toBe(OTHER_KEY_ID);
    const byKey = await ok(['aliases', 'list', '--key', OTHER_KEY_ID]);
    expect(byKey.Aliases.map((a: any) => a.AliasName).sort()).toEqual(['alias/cli-a', 'alias/other']);
    const page = await ok(['aliases', 'list', '--page-size', '1']);
    expect(page).toMatchObject({ PageNumber: 1, PageSize: 1 });
    expect(page.Aliases).toHaveLength(1);

    await ok(['aliases', 'delete', 'alias/cli-a']);
    await refused(['aliases', 'delete', 'alias/cli-a'], 'Forbidden.AliasNotFound');
    await refused(['aliases', 'create', 'no-prefix', KEY_ID], 'InvalidParameter');
  });
});

describe('kms keys set-description, set-deletion-protection, tag, untag, tags', { timeout: 120_000 }, () => {
  it('renames a key, protects it from deletion, tags it, and lifts the protection', async () => {
    const keyId = (await ok(['keys', 'create', '--description', 'before', '--tag', 'owner=ops', '--tag', 'tier=1'])).KeyMetadata.KeyId as string;
    expect((await ok(['keys', 'tags', keyId])).Tags.Tag.map((t: any) => [t.TagKey, t.TagValue])).toEqual([
      ['owner', 'ops'],
      ['tier', '1'],
    ]);
    await ok(['keys', 'untag', keyId, 'owner', 'tier']);
    await ok(['keys', 'set-description', keyId, 'after — ü']);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata.Description).toBe('after — ü');
    await ok(['keys', 'set-deletion-protection', keyId, '--enable', '--description', 'payroll']);
    expect((await ok(['keys', 'describe', keyId])).KeyMetadata).toMatchObject({ DeletionProtection: 'Enabled', DeletionProtectionDescription: 'payroll' });
    await refused(['keys', 'schedule-deletion', keyId, '--days', '7'], 'Rejected.StateModifiedFailed');
    await ok(['keys', 'tag', keyId, 'project=alpha', 'env=', 'path=a=b']);
    expect((await ok(['keys', 'tags', keyId])).Tags.Tag.map((t: any) => [t.TagKey, t.TagValue])).toEqual([
      ['env', ''],
      ['path', 'a=b'],
      ['project', 'alpha'],
    ]);
    const table = await kms(['keys', 'tags', keyId, '--output', 'table']);
    expect(table.stdout).toMatch(/^project\s+alpha\s+key-/m);
    await ok(['keys', 'untag', keyId, 'env', 'path']);
    expect((await ok(['keys', 'tags', keyId])).Tags.Tag).toHaveLength(1);
    expect((await kms(['keys', 'tag', keyId, 'novalue'])).code).not.toBe(0);
    await ok(['keys', 'set-deletion-protection', keyId, '--disable']);
    await ok(['keys', 'schedule-deletion', keyId, '--days', '7']);
  });
});

describe('kms keys: bring your own key', { timeout: 120_000 }, () => {
  it('create --external → import-material (each algorithm, an expiry) → use → delete-material → import the same material again', async () => {
    const material = join(dir, 'material.bin');
    await writeFile(material, randomBytes(32));
    const key = (await ok(['keys', 'create', '--external', '--description', 'byok'])).KeyMetadata;
    expect(key).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL' });
    const params = await ok(['keys', 'import-params', key.KeyId, '--algorithm', 'RSAES_PKCS1_V1_5']);
    expect(params).toMatchObject({ KeyId: key.KeyId, PublicKey: expect.stringMatching(/^MIIBIjAN/), ImportToken: expect.any(String) });
    await ok(['keys', 'import-material', key.KeyId, '--material', material, '--expires', '2099-01-01T00:00:00Z']);
    expect((await ok(['keys', 'describe', key.KeyId])).KeyMetadata).toMatchObject({ KeyState: 'Enabled', MaterialExpireTime: '2099-01-01T00:00:00Z' });
    for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'])
      await ok(['keys', 'import-material', key.KeyId, '--material', material, '--algorithm', algorithm]);
    expect((await ok(['keys', 'describe', key.KeyId])).KeyMetadata.MaterialExpireTime).toBe('');
    const generated = await ok(['datakey', 'generate', '--key', key.KeyId]);
    await ok(['keys', 'delete-material', key.KeyId]);
    await refused(['datakey', 'decrypt', '--blob', generated.CiphertextBlob], 'Rejected.PendingImport');
    const other = join(dir, 'other.bin');
    await writeFile(other, randomBytes(32));
    await refused(['keys', 'import-material', key.KeyId, '--material', other], 'InvalidKeyMaterial');
    await ok(['keys', 'import-material', key.KeyId, '--material', material]);
    expect((await ok(['datakey', 'decrypt', '--blob', generated.CiphertextBlob])).Plaintext).toBe(generated.Plaintext);
    // Usage errors: a material file of the wrong size, an unreadable one, a bad date, --external with rotation.
    const short = join(dir, 'short.bin');
    await writeFile(short, randomBytes(16));
    for (const args of [
      ['keys', 'import-material', key.KeyId, '--material', short],
      ['keys', 'import-material', key.KeyId, '--material', join(dir, 'missing.bin')],
      ['keys', 'import-material', key.KeyId, '--material', material, '--expires', 'tomorrow'],
      ['keys', 'create', '--external', '--rotation-interval', '30d'],
    ])
      expect((await kms(args)).code, args.join(' ')).toBe(2);
    await refused(['keys', 'import-params', KEY_ID], 'Unsupported.Origin');
  });
});

describe('kms random-password, regions, service', { timeout: 120_000 }, () => {
  it('random-password honours its options; regions and service describe the deployment', async () => {
    expect((await ok(['random-password'])).RandomPassword).toHaveLength(32);
    const digits = await ok([
      'random-password',
      '--length',
      '12',
      '--exclude-lowercase',
      '--exclude-uppercase',
      '--exclude-punctuation',
      '--exclude-characters',
      '0',
    ]);
    expect(digits.RandomPassword).toMatch(/^[1-9]{12}$/);
    const loose = await ok(['random-password', '--length', '8', '--no-require-each-included-type']);
    expect(loose.RandomPassword).toHaveLength(8);
    await refused(['random-password', '--length', '200'], 'InvalidParameter');
    expect((await ok(['regions'])).Regions.Region).toEqual([{ RegionId: expect.any(String) }]);
    expect((await ok(['service'])).KeySpecs.KeySpec[0].Name).toBe('Aliyun_AES_256');
  });

  it('-o table shows nested answers as dotted, indexed names, never as JSON', async () => {
    for (const args of [['service'], ['regions'], ['access-keys', 'describe', ADMIN.accessKeyId]]) {
      const run = await kms(['-o', 'table', ...args]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout, args.join(' ')).not.toMatch(/[{}"]|\[\{/);
    }
    expect((await kms(['-o', 'table', 'service'])).stdout).toMatch(/^KeySpecs\.KeySpec\[0\]\.Name\s+Aliyun_AES_256$/m);
    expect((await kms(['-o', 'table', 'regions'])).stdout).toMatch(/^Regions\.Region\[0\]\.RegionId\s+\S+$/m);
    expect((await kms(['-o', 'table', 'access-keys', 'describe', ADMIN.accessKeyId])).stdout).toMatch(/^Policy\.Statement\[0\]\.Effect\s+Allow$/m);
  });
});

describe('kms datakey', { timeout: 120_000 }, () => {
  it('generate → decrypt with the same context; another context is refused', async () => {
    const generated = await ok(['datakey', 'generate', '--key', ALIAS, '--context', 'tenant=acme', '--context', 'q=a=b']);
    expect(generated).toMatchObject({ KeyId: KEY_ID, KeyVersionId: expect.any(String), CiphertextBlob: expect.any(String) });
    expect(Buffer.from(generated.Plaintext, 'base64')).toHaveLength(32);
    const decrypted = await ok(['datakey', 'decrypt', '--blob', generated.CiphertextBlob, '--context', 'q=a=b', '--context', 'tenant=acme']);
    expect(decrypted.Plaintext).toBe(generated.Plaintext);
    expect(decrypted.KeyId).toBe(KEY_ID);
    await refused(['datakey', 'decrypt', '--blob', generated.CiphertextBlob, '--context', 'tenant=other'], 'InvalidCiphertext');
    await refused(['datakey', 'decrypt', '--blob', generated.CiphertextBlob], 'InvalidCiphertext');
  });

  it('--spec, --bytes, generate-without-plaintext, --dry-run, table output', async () => {
    expect(Buffer.from((await ok(['datakey', 'generate', '--key', KEY_ID, '--spec', 'AES_128'])).Plaintext, 'base64')).toHaveLength(16);
    expect(Buffer.from((await ok(['datakey', 'generate', '--key', KEY_ID, '--bytes', '64'])).Plaintext, 'base64')).toHaveLength(64);
    const blobOnly = await ok(['datakey', 'generate-without-plaintext', '--key', KEY_ID]);
    expect(blobOnly.Plaintext).toBeUndefined();
    expect(Buffer.from((await ok(['datakey', 'decrypt', '--blob', blobOnly.CiphertextBlob])).Plaintext, 'base64')).toHaveLength(32);
    const dry = await ok(['datakey', 'generate', '--key', KEY_ID, '--dry-run']);
    expect(Object.keys(dry)).toEqual(['RequestId', 'DryRun']);
    expect(dry.DryRun).toMatch(/would have succeeded/);
    await refused(['datakey', 'generate', '--key', 'alias/missing', '--dry-run'], 'Forbidden.AliasNotFound');
    const table = await kms(['-o', 'table', 'datakey', 'generate', '--key', KEY_ID]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Plaintext\s+\S+={0,2}$/m);
    expect(table.stdout).toMatch(/^CiphertextBlob\s+\S+$/m);
  });

  it('generate-and-export and export: the data key under a public key from a PEM or DER file, never its plaintext', async () => {
    const pem = join(dir, 'recipient.pem');
    const der = join(dir, 'recipient.der');
    await writeFile(pem, `-----BEGIN PUBLIC KEY-----\n${TEST_RSA_PUBLIC_KEY_BLOB.replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`);
    await writeFile(der, Buffer.from(TEST_RSA_PUBLIC_KEY_BLOB, 'base64'));
    const both = await ok(['datakey', 'generate-and-export', '--key', ALIAS, '--public-key', pem, '--context', 'to=hsm', '--spec', 'AES_128']);
    expect(both.Plaintext).toBeUndefined();
    const exported = openExportedDataKey(both.ExportedDataKey);
    expect(exported).toHaveLength(16);
    expect((await ok(['datakey', 'decrypt', '--blob', both.CiphertextBlob, '--context', 'to=hsm'])).Plaintext).toBe(exported.toString('base64'));
    const again = await ok(['datakey', 'export', '--blob', both.CiphertextBlob, '--public-key', der, '--algorithm', 'RSAES_OAEP_SHA_1', '--context', 'to=hsm']);
    expect(openExportedDataKey(again.ExportedDataKey, 'RSAES_OAEP_SHA_1').equals(exported)).toBe(true);
    await refused(['datakey', 'export', '--blob', both.CiphertextBlob, '--public-key', der], 'InvalidCiphertext');
    await refused(['datakey', 'generate-and-export', '--key', ALIAS, '--public-key', der, '--bytes', '200'], 'InvalidParameter');
    expect((await ok(['datakey', 'generate-and-export', '--key', ALIAS, '--public-key', der, '--dry-run'])).DryRun).toMatch(/would have succeeded/);
    const missing = await kms(['datakey', 'export', '--blob', both.CiphertextBlob, '--public-key', join(dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
  });

  it("the seed's trust split: the provider makes blobs only, the consumer only decrypts", async () => {
    const blob = (await ok(['datakey', 'generate-without-plaintext', '--key', KEY_ID], { credentials: PROVIDER })).CiphertextBlob;
    await refused(['datakey', 'generate', '--key', KEY_ID], 'Forbidden.NoPermission', { credentials: PROVIDER });
    expect((await ok(['datakey', 'decrypt', '--blob', blob], { credentials: CONSUMER })).KeyId).toBe(KEY_ID);
    await refused(['datakey', 'generate-without-plaintext', '--key', KEY_ID], 'Forbidden.NoPermission', { credentials: CONSUMER });
  });
});

describe('kms encrypt-file / decrypt-file', { timeout: 120_000 }, () => {
  let files: string;
  beforeAll(async () => {
    files = join(dir, 'files');
    await mkdir(files);
  });

  /** Names in the files directory that are leftovers of a failed run (temporary files). */
  const leftovers = async () => (await readdir(files)).filter((name) => name.endsWith('.tmp'));
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  for (const size of [0, 1, FRAME, FRAME + 1]) {
    it(`round trip of ${size} bytes`, async () => {
      const plaintext = randomBytes(size);
      const [input, sealed, output] = [`in-${size}`, `enc-${size}`, `out-${size}`].map((n) => join(files, n)) as [string, string, string];
      await writeFile(input, plaintext);
      expect(await kms(['encrypt-file', input, sealed, '--key', ALIAS, '--context', 'file=test'])).toEqual({ code: 0, stdout: '', stderr: '' });
      const encrypted = await readFile(sealed);
      const header = decodeHeader(encrypted)!;
      expect(header.header.context).toBe('{"file":"test"}');
      expect(header.header.frameSize).toBe(FRAME);
      expect(encrypted.length).toBe(header.length + size + Math.max(1, Math.ceil(size / FRAME)) * TAG_BYTES);
      expect(await kms(['decrypt-file', sealed, output])).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await readFile(output)).equals(plaintext)).toBe(true);
      expect(await leftovers()).toEqual([]);
    });
  }

  it('stdin to stdout with "-"', async () => {
    const plaintext = randomBytes(3 * FRAME + 5);
    const runRaw = (args: string[], stdin: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const env = {
          ...process.env,
          KMS_ENDPOINT: gateway.url,
          ALIBABA_CLOUD_ACCESS_KEY_ID: ADMIN.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: ADMIN.accessKeySecret,
        };
        const child = spawn(process.execPath, ['bin/kms.mjs', ...args], { cwd: REPO_ROOT, env });
        const out: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`exit ${code}`))));
        child.stdin.end(stdin);
      });
    const encrypted = await runRaw(['encrypt-file', '-', '-', '--key', KEY_ID], plaintext);
    expect(encrypted.subarray(0, 4).toString()).toBe('KMSF');
    expect((await runRaw(['decrypt-file', '-', '-'], encrypted)).equals(plaintext)).toBe(true);
  });

  describe('refusals: exit 4, and no output file left behind', () => {
    let sealed: Buffer;
    let headerLength: number;
    const frameBytes = FRAME + TAG_BYTES;

    beforeAll(async () => {
      const input = join(files, 'three-frames');
      await writeFile(input, randomBytes(3 * FRAME + 100));
      const run = await kms(['encrypt-file', input, join(files, 'three-frames.kms'), '--key', ALIAS, '--context', 'tenant=acme']);
      expect(run.code).toBe(0);
      sealed = await readFile(join(files, 'three-frames.kms'));
      headerLength = decodeHeader(sealed)!.length;
    });

    async function refusedFile(name: string, bytes: Buffer, pattern: RegExp = /does not authenticate/) {
      const input = join(files, `${name}.kms`);
      const output = join(files, `${name}.out`);
      await writeFile(input, bytes);
      const run = await kms(['decrypt-file', input, output]);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(pattern);
      expect(await exists(output)).toBe(false);
      expect(await leftovers()).toEqual([]);
    }

    const frame = (i: number) => sealed.subarray(headerLength + i * frameBytes, headerLength + (i + 1) * frameBytes);

    it('truncated at a frame boundary', () => refusedFile('truncated-boundary', sealed.subarray(0, headerLength + 3 * frameBytes)));
    it('truncated mid-frame', () => refusedFile('truncated-mid', sealed.subarray(0, headerLength + frameBytes + 1000)));
    it('truncated inside the header', () => refusedFile('truncated-header', sealed.subarray(0, headerLength - 3), /ends inside its header/));
    it('two frames swapped', () =>
      refusedFile('reordered', Buffer.concat([sealed.subarray(0, headerLength), frame(1), frame(0), sealed.subarray(headerLength + 2 * frameBytes)])));

    it('a bit flipped in a frame (first, middle, last byte)', async () => {
      for (const at of [headerLength, headerLength + frameBytes + 77, sealed.length - 1]) {
        const modified = Buffer.from(sealed);
        modified[at]! ^= 0x04;
        await refusedFile(`flipped-${at}`, modified);
      }
    });

    it("the header's context or blob changed (the KMS refuses the blob)", async () => {
      const text = sealed.toString('latin1');
      const context = Buffer.from(sealed);
      context.write('ACME', text.indexOf('acme'), 'latin1');
      await refusedFile('context', context, /header does not authenticate \(InvalidCiphertext: /);
      const blob = Buffer.from(sealed);
      const blobAt = text.indexOf(decodeHeader(sealed)!.header.ciphertextBlob) + 60;
      blob[blobAt] = blob[blobAt] === 0x41 ? 0x42 : 0x41; // another Base64 digit
      await refusedFile('blob', blob, /header does not authenticate/);
    });

    it('bytes appended', () => refusedFile('appended', Buffer.concat([sealed, Buffer.from('x')])));
    it('not an encrypted file', () => refusedFile('plain', Buffer.from('just some text, not encrypted'), /bad magic/));
  });

  describe('an existing OUT: refused without --force, replaced with it, never left partial', () => {
    let input: string;
    let sealed: string;
    let plaintext: Buffer;
    beforeAll(async () => {
      input = join(files, 'keep-in');
      sealed = join(files, 'keep-in.kms');
      plaintext = randomBytes(2 * FRAME + 3);
      await writeFile(input, plaintext);
      expect((await kms(['encrypt-file', input, sealed, '--key', ALIAS])).code).toBe(0);
    });

    /** A file that must survive: 1 MiB of its own bytes. */
    async function precious(name: string): Promise<{ path: string; bytes: Buffer }> {
      const path = join(files, name);
      const bytes = randomBytes(1 << 20);
      await writeFile(path, bytes);
      return { path, bytes };
    }

    it('encrypt-file and decrypt-file refuse an existing OUT (exit 2, OUT untouched), before any call to the KMS', async () => {
      const out = await precious('precious-1');
      const unreachable = { KMS_ENDPOINT: `http://127.0.0.1:${await unusedPort()}/` };
      for (const args of [
        ['encrypt-file', input, out.path, '--key', ALIAS],
        ['encrypt-file', input, out.path, '--partition', 'p-1'],
        ['decrypt-file', sealed, out.path],
        ['decrypt-file', '-', out.path],
      ]) {
        // The endpoint does not answer: a check made after a KMS call would exit 3.
        const run = await kms(args, { env: unreachable, stdin: await readFile(sealed) });
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toBe(`${out.path} exists: pass --force to replace it\n`);
        expect((await readFile(out.path)).equals(out.bytes)).toBe(true);
      }
      expect(await leftovers()).toEqual([]);
    });

    it('with --force, OUT is replaced by the complete output', async () => {
      const out = await precious('precious-2');
      expect((await kms(['encrypt-file', input, out.path, '--key', ALIAS, '--force'])).code).toBe(0);
      expect((await readFile(out.path)).subarray(0, 4).toString()).toBe('KMSF');
      const plain = await precious('precious-3');
      expect(await kms(['decrypt-file', out.path, plain.path, '--force'])).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await readFile(plain.path)).equals(plaintext)).toBe(true);
    });

    it('with --force and a file that does not authenticate, OUT keeps its old bytes (exit 4)', async () => {
      const out = await precious('precious-4');
      const tampered = Buffer.from(await readFile(sealed));
      tampered[tampered.length - 20]! ^= 1;
      await writeFile(join(files, 'tampered.kms'), tampered);
      const run = await kms(['decrypt-file', join(files, 'tampered.kms'), out.path, '--force']);
      expect(run.code, run.stderr).toBe(4);
      expect((await readFile(out.path)).equals(out.bytes)).toBe(true);
      expect(await leftovers()).toEqual([]);
    });

    it('OUT that is IN (the same path, or a hard link to it) is refused without --force; with it, the file is replaced in place', async () => {
      const file = join(files, 'in-place');
      await writeFile(file, plaintext);
      await link(file, join(files, 'in-place-link'));
      for (const out of [file, join(files, 'in-place-link'), `${files}/./in-place`]) {
        const run = await kms(['encrypt-file', file, out, '--key', ALIAS]);
        expect(run.code, out).toBe(2);
        expect(run.stderr).toBe(`${out} is the input file itself: pass --force to replace it (it is replaced only once the whole output is written)\n`);
        expect((await readFile(file)).equals(plaintext)).toBe(true);
      }
      expect((await kms(['encrypt-file', file, file, '--key', ALIAS, '--force'])).code).toBe(0);
      expect((await readFile(file)).subarray(0, 4).toString()).toBe('KMSF');
      expect((await kms(['decrypt-file', file, file])).code).toBe(2);
      expect((await kms(['decrypt-file', file, file, '--force'])).code).toBe(0);
      expect((await readFile(file)).equals(plaintext)).toBe(true);
      expect(await leftovers()).toEqual([]);
    });

    it('OUT that is a directory or a device is refused, even with --force', async () => {
      for (const out of [files, '/dev/null']) {
        for (const force of [[], ['--force']]) {
          const run = await kms(['decrypt-file', sealed, out, ...force]);
          expect(run.code, `${out} ${force.join(' ')}`).toBe(2);
          expect(run.stderr).toMatch(new RegExp(`^${out.replace(/[/.]/g, '\\$&')} is (a directory|not a regular file)`));
        }
      }
    });

    it('a missing output directory is named as the user gave it (exit 3), never a hidden temporary file', async () => {
      const missing = join(files, 'no-such-dir', 'out.kms');
      const underFile = join(files, 'keep-in', 'out.kms');
      for (const [args, expected] of [
        [['encrypt-file', input, missing, '--key', ALIAS], `cannot write ${missing}: the directory ${join(files, 'no-such-dir')} does not exist\n`],
        [['decrypt-file', sealed, missing], `cannot write ${missing}: the directory ${join(files, 'no-such-dir')} does not exist\n`],
        [['decrypt-file', sealed, underFile, '--force'], `cannot write ${underFile}: ${join(files, 'keep-in')} is not a directory\n`],
      ] as const) {
        const run = await kms([...args]);
        expect(run.code, args.join(' ')).toBe(3);
        expect(run.stderr).toBe(expected);
      }
      expect(await exists(join(files, 'no-such-dir'))).toBe(false);
    });
  });

  it('permissions: a Decrypt-only key cannot encrypt a file but can decrypt one; a missing input is exit 3', async () => {
    const input = join(files, 'perm-in');
    await writeFile(input, 'secret data');
    await refused(['encrypt-file', input, join(files, 'perm-enc'), '--key', KEY_ID], 'Forbidden.NoPermission', { credentials: CONSUMER });
    expect(await exists(join(files, 'perm-enc'))).toBe(false);
    expect((await kms(['encrypt-file', input, join(files, 'perm-enc'), '--key', KEY_ID])).code).toBe(0);
    expect((await kms(['decrypt-file', join(files, 'perm-enc'), join(files, 'perm-out')], { credentials: CONSUMER })).code).toBe(0);
    expect(await readFile(join(files, 'perm-out'), 'utf8')).toBe('secret data');
    const missing = await kms(['encrypt-file', join(files, 'no-such-file'), join(files, 'x'), '--key', KEY_ID]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});

describe('kms access-keys', { timeout: 120_000 }, () => {
  it('create (secret once) → the key works with its policy → set-policy → disable → enable → delete', async () => {
    const policyFile = join(dir, 'decrypt-only.json');
    await writeFile(policyFile, JSON.stringify(DECRYPT_ONLY));
    const created = await ok(['access-keys', 'create', '--policy', policyFile]);
    expect(created).toMatchObject({
      AccessKeyId: expect.stringMatching(/^LTAI[A-Za-z0-9]{20}$/),
      AccessKeySecret: expect.stringMatching(/^[A-Za-z0-9]{30}$/),
      Status: 'Enabled',
      Policy: DECRYPT_ONLY,
    });
    const key: Credentials = { accessKeyId: created.AccessKeyId, accessKeySecret: created.AccessKeySecret };

    // Never again: not in list (json or table), not in describe.
    for (const args of [
      ['access-keys', 'list'],
      ['-o', 'table', 'access-keys', 'list'],
      ['access-keys', 'describe', key.accessKeyId],
      ['-o', 'table', 'access-keys', 'describe', key.accessKeyId],
    ]) {
      const run = await kms(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(key.accessKeyId);
      expect(run.stdout).not.toContain(key.accessKeySecret);
      expect(run.stdout).not.toMatch(/AccessKeySecret/);
    }
    const list = await ok(['access-keys', 'list']);
    expect(list.AccessKeys.map((k: any) => k.AccessKeyId)).toEqual(expect.arrayContaining([ADMIN.accessKeyId, CONSUMER.accessKeyId, key.accessKeyId]));

    // Its policy is enforced: Decrypt yes, GenerateDataKey no.
    const blob = (await ok(['datakey', 'generate', '--key', KEY_ID])).CiphertextBlob;
    expect((await ok(['datakey', 'decrypt', '--blob', blob], { credentials: key })).KeyId).toBe(KEY_ID);
    await refused(['datakey', 'generate', '--key', KEY_ID], 'Forbidden.NoPermission', { credentials: key });

    const updated = await ok(['access-keys', 'set-policy', key.accessKeyId, '--policy-json', JSON.stringify(DATA_KEYS_AND_DECRYPT)]);
    expect(updated.Policy).toEqual(DATA_KEYS_AND_DECRYPT);
    expect(updated.AccessKeySecret).toBeUndefined();
    expect((await ok(['datakey', 'generate', '--key', KEY_ID], { credentials: key })).KeyId).toBe(KEY_ID);

    expect((await ok(['access-keys', 'disable', key.accessKeyId])).Status).toBe('Disabled');
    await refused(['datakey', 'decrypt', '--blob', blob], 'InvalidAccessKeyId.Inactive', { credentials: key });
    expect((await ok(['access-keys', 'enable', key.accessKeyId])).Status).toBe('Enabled');
    expect((await ok(['datakey', 'decrypt', '--blob', blob], { credentials: key })).KeyId).toBe(KEY_ID);

    expect(await ok(['access-keys', 'delete', key.accessKeyId])).toEqual({ AccessKeyId: key.accessKeyId, Deleted: true });
    await refused(['datakey', 'decrypt', '--blob', blob], 'InvalidAccessKeyId.NotFound', { credentials: key });
    await refused(['access-keys', 'delete', key.accessKeyId], 'InvalidAccessKeyId.NotFound');
    await refused(['access-keys', 'disable', key.accessKeyId], 'InvalidAccessKeyId.NotFound');
    expect((await ok(['access-keys', 'list'])).AccessKeys.map((k: any) => k.AccessKeyId)).not.toContain(key.accessKeyId);
  });

  it('--admin and --id; a taken id is refused; bad policies and ids are usage errors; a missing store is exit 3', async () => {
    const admin = await ok(['access-keys', 'create', '--admin', '--id', 'cliAdmin0001']);
    expect(admin.AccessKeyId).toBe('cliAdmin0001');
    expect(
      (await ok(['keys', 'describe', ALIAS], { credentials: { accessKeyId: 'cliAdmin0001', accessKeySecret: admin.AccessKeySecret } })).KeyMetadata.KeyId,
    ).toBe(KEY_ID);
    await refused(['access-keys', 'create', '--admin', '--id', 'cliAdmin0001'], 'AccessKeyAlreadyExists');

    for (const args of [
      ['access-keys', 'create'],
      ['access-keys', 'create', '--policy-json', '{"Version":"1"}'],
      ['access-keys', 'create', '--policy-json', 'not json'],
      ['access-keys', 'create', '--policy-json', JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: {} }] })],
      ['access-keys', 'create', '--admin', '--policy-json', '{}'],
      ['access-keys', 'create', '--admin', '--id', 'bad-id!'],
      ['access-keys', 'set-policy', 'cliAdmin0001'],
    ]) {
      const run = await kms(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).not.toBe('');
    }
    const missing = await kms(['access-keys', 'list', '--data-dir', join(dir, 'no-such-store')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no key store at/);
    const missingFile = await kms(['access-keys', 'create', '--policy', join(dir, 'no-such-policy.json')]);
    expect(missingFile.code).toBe(3);
  });
});

describe('kms access-keys and store copy where there is no key store', { timeout: 120_000 }, () => {
  let places: string;
  beforeAll(async () => {
    places = join(dir, 'no-store');
    await mkdir(places);
  });

  /** Every name under `path`, recursively (undefined when it does not exist): what a refused command must leave as it was. */
  const tree = (path: string) =>
    readdir(path, { recursive: true }).then(
      (names) => names.sort(),
      () => undefined,
    );
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  /** Runs `args` against the store at `storeDir` and expects StoreNotFound (exit 3) naming it, with nothing created. */
  async function refusedWithoutStore(args: string[], storeDir: string, reason: RegExp, options: RunOptions = {}) {
    const before = await tree(storeDir);
    const run = await kms(args, { ...options, env: { KMS_DATA_DIR: storeDir, ...options.env } });
    expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(
        `^StoreNotFound: no key store at ${escapeRegExp(storeDir)}: ${reason.source}; point at the gateway's data directory with --data-dir DIR or KMS_DATA_DIR`,
      ),
    );
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr.includes('--create-store'), args.join(' ')).toBe(args[1] === 'create');
    expect(await tree(storeDir), `${args.join(' ')} changed ${storeDir}`).toEqual(before);
  }

  const ID = 'LTAInostore00001';
  const everyCommand = [
    ['access-keys', 'create', '--admin'],
    ['access-keys', 'create', '--id', ID, '--policy-json', JSON.stringify(DECRYPT_ONLY)],
    ['access-keys', 'enable', ID],
    ['access-keys', 'disable', ID],
    ['access-keys', 'delete', ID],
    ['access-keys', 'set-policy', ID, '--admin'],
    ['access-keys', 'set-rate-limits', ID, '--json', '{"crypto": 5}'],
    ['access-keys', 'list'],
    ['access-keys', 'describe', ID],
  ];

  it('in an empty directory, every access-keys command (writes and reads) is refused and writes nothing: no root key, no seal', async () => {
    const empty = join(places, 'empty');
    await mkdir(empty);
    for (const args of everyCommand) await refusedWithoutStore(args, empty, /the directory holds none/);
    expect(await readdir(empty)).toEqual([]);
  });

  it('in a directory that does not exist, or one of other files, create and set-policy are refused and nothing is created', async () => {
    const missing = join(places, 'missing');
    const others = join(places, 'others');
    await mkdir(join(others, 'notes'), { recursive: true });
    await writeFile(join(others, 'notes', 'todo.txt'), 'not a key store');
    await writeFile(join(others, 'root.key.bak'), 'x');
    for (const args of [everyCommand[0]!, everyCommand[5]!, everyCommand[7]!]) {
      await refusedWithoutStore(args, missing, /the directory does not exist/);
      await refusedWithoutStore(args, others, /the directory holds none/);
    }
    await refusedWithoutStore(everyCommand[0]!, join(others, 'root.key.bak'), /it is not a directory/);
    expect(await exists(missing)).toBe(false);
  });

  it('from another directory with no --data-dir (the default ./.kms-data), create is refused while the gateway runs elsewhere', async () => {
    const elsewhere = join(places, 'elsewhere');
    await mkdir(elsewhere);
    const run = await runKms(['access-keys', 'create', '--admin'], {
      endpoint: gateway.url,
      credentials: ADMIN,
      cwd: elsewhere,
      env: { KMS_DATA_DIR: undefined },
    });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(
        `^StoreNotFound: no key store at \\./\\.kms-data \\(${escapeRegExp(join(elsewhere, '.kms-data'))}\\): the directory does not exist; point at the gateway's data directory with --data-dir DIR or KMS_DATA_DIR, or pass --create-store`,
      ),
    );
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('store copy from a directory without a store is refused, and creates no target', async () => {
    const target = join(places, 'copy-target');
    await refusedWithoutStore(
      ['store', 'copy', '--to', 'KMS_KEY_STORE=file', '--to', `KMS_DATA_DIR=${target}`],
      join(places, 'copy-source'),
      /the directory does not exist/,
    );
    expect(await exists(target)).toBe(false);
  });

  it('create --create-store starts a store (a root key, the key in it) that a gateway started on it serves with that key', async () => {
    const fresh = join(places, 'fresh');
    const created = await ok(['access-keys', 'create', '--create-store', '--admin', '--id', 'freshAdmin001'], { env: { KMS_DATA_DIR: fresh } });
    expect(created).toMatchObject({ AccessKeyId: 'freshAdmin001', AccessKeySecret: expect.any(String) });
    expect(await readdir(fresh)).toContain('root.key');
    // Now there is a store: the commands that were refused work, --create-store or not.
    expect((await ok(['access-keys', 'list'], { env: { KMS_DATA_DIR: fresh } })).AccessKeys.map((k: any) => k.AccessKeyId)).toEqual(['freshAdmin001']);
    await ok(['access-keys', 'create', '--create-store', '--id', 'freshOther001', '--policy-json', JSON.stringify(DECRYPT_ONLY)], {
      env: { KMS_DATA_DIR: fresh },
    });
    const served = await startGateway({ dataDir: fresh, logLevel: 'silent' });
    try {
      const client = new KmsClient({ endpoint: served.url, credentials: { accessKeyId: 'freshAdmin001', accessKeySecret: created.AccessKeySecret } });
      expect((await client.call('ListKeys', {})).TotalCount).toBe(0);
      // The store had an access key: the gateway made no admin key of its own.
      expect(await readdir(fresh)).not.toContain('admin-credentials.json');
    } finally {
      await served.stop();
    }
  });
});

describe('kms serve', { timeout: 120_000 }, () => {
  it('runs the gateway (as npm start) until SIGTERM, which exits 0; a bad seed is exit 3', async () => {
    const serveDir = join(dir, 'serve');
    const seed = await writeSeedFile(
      dir,
      { keys: [{ keyId: KEY_ID, aliases: ['alias/served'] }], accessKeys: [{ ...ADMIN, policy: DATA_KEYS_AND_DECRYPT }] },
      'serve-seed.json',
    );
    const child = spawn(process.execPath, ['bin/kms.mjs', 'serve', '--port', '0', '--data-dir', serveDir, '--seed', seed], {
      cwd: REPO_ROOT,
      env: { ...process.env, KMS_LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!READY_LINE.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const url = READY_LINE.exec(stdout)?.[1];
      expect(url, stdout).toBeDefined();
      const generated = await ok(['datakey', 'generate', '--key', 'alias/served'], { env: { KMS_ENDPOINT: url } });
      expect(generated.KeyId).toBe(KEY_ID);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    const badSeed = join(dir, 'bad-seed.json');
    await writeFile(badSeed, '{"keys": [{"keyId": 5}]}');
    const bad = await kms(['serve', '--port', '0', '--data-dir', join(dir, 'serve-bad'), '--seed', badSeed]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^kms gateway failed to start: /);
  });
});

describe('kms access-keys and the gateway writing one store at once', { timeout: 120_000 }, () => {
  it('loses no update: every acknowledged access key, policy change, key version and alias is there', { timeout: 180_000 }, async () => {
    const WORKERS = 4;
    const ROUNDS = 6;
    const GATEWAY_CALLERS = 3;
    const GATEWAY_ROUNDS = 8;
    const shared = 'sharedKey0001';
    await ok(['access-keys', 'create', '--id', shared, '--policy-json', JSON.stringify(DECRYPT_ONLY)]);
    const keyId: string = (await ok(['keys', 'create', '--description', 'concurrency'])).KeyMetadata.KeyId;

    const policyFor = (resource: string) => ({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [resource] }] });
    const createdIds: string[] = [];
    const writtenPolicies: string[] = [];
    let acknowledgedSetPolicies = 0;

    // Several CLI processes at once: each creates access keys and rewrites the shared key's policy.
    const cliWorker = async (w: number) => {
      for (let i = 0; i < ROUNDS; i++) {
        const id = `conc${w}x${i}abc`;
        const created = await kms(['access-keys', 'create', '--id', id, '--policy-json', JSON.stringify(policyFor(`acs:kms:*:*:key/${id}`))]);
        expect(created.code, created.stderr).toBe(0);
        createdIds.push(id);
        const resource = `acs:kms:*:*:key/w${w}-r${i}`;
        const set = await kms(['access-keys', 'set-policy', shared, '--policy-json', JSON.stringify(policyFor(resource))]);
        expect(set.code, set.stderr).toBe(0);
        acknowledgedSetPolicies++;
        writtenPolicies.push(resource);
      }
    };

    // Meanwhile the gateway writes the same store: new key versions (key metadata CAS) and aliases.
    const client = new KmsClient({ endpoint: gateway.url, credentials: ADMIN });
    const versions: string[] = [];
    const aliases: string[] = [];
    const gatewayCaller = async (c: number) => {
      for (let i = 0; i < GATEWAY_ROUNDS; i++) {
        const version = await client.call<{ KeyVersion: { KeyVersionId: string } }>('CreateKeyVersion', { KeyId: keyId });
        versions.push(version.KeyVersion.KeyVersionId);
        const alias = `alias/conc-${c}-${i}`;
        await client.call('CreateAlias', { AliasName: alias, KeyId: keyId });
        aliases.push(alias);
      }
    };

    await Promise.all([...Array.from({ length: WORKERS }, (_, w) => cliWorker(w)), ...Array.from({ length: GATEWAY_CALLERS }, (_, c) => gatewayCaller(c))]);

    // Every access key a CLI process acknowledged exists, with the policy it was created with.
    const listed = new Map<string, any>((await ok(['access-keys', 'list'])).AccessKeys.map((k: any) => [k.AccessKeyId, k]));
    expect(createdIds).toHaveLength(WORKERS * ROUNDS);
    for (const id of createdIds) expect(listed.get(id)?.Policy.Statement[0].Resource).toEqual([`acs:kms:*:*:key/${id}`]);

    // The shared key was rewritten once per acknowledged set-policy: its revision counts the writes
    // (1 for the create), and it holds one of the policies written.
    const entry = await new FileKeyStore(dataDir).get(`access-keys/${shared}`);
    expect(entry!.revision).toBe(1 + acknowledgedSetPolicies);
    expect(writtenPolicies).toContain(listed.get(shared).Policy.Statement[0].Resource[0]);

    // Every version and alias the gateway acknowledged exists.
    const listedVersions = (await ok(['keys', 'versions', keyId])).KeyVersions.map((v: any) => v.KeyVersionId);
    expect(listedVersions).toHaveLength(1 + GATEWAY_CALLERS * GATEWAY_ROUNDS);
    expect(listedVersions).toEqual(expect.arrayContaining(versions));
    const listedAliases = (await ok(['aliases', 'list', '--key', keyId])).Aliases.map((a: any) => a.AliasName);
    expect(listedAliases.sort()).toEqual([...aliases].sort());
    // The primary version is one of those created (the key's metadata was updated by CAS, not clobbered).
    expect(versions).toContain((await ok(['keys', 'describe', keyId])).KeyMetadata.PrimaryKeyVersion);
  });
});
