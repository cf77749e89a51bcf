import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, REPO_ROOT, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, TEST_SEED } from '../helpers/service.js';

/*
 * The client package as a user installs it, alone: `npm pack` of packages/client (its dist/, which
 * the test build made), installed from the registry into an empty application with
 * `npm install --omit=dev` — once, for every case here — then imported by plain node and run
 * against a real gateway.
 */

const run = promisify(execFile);
const CLIENT_DIR = join(REPO_ROOT, 'packages', 'client');
/** The budget for what installing the client alone brings. */
const MAX_INSTALLED_PACKAGES = 40;

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  types?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let dir: string;
let app: string;
let packed: { filename: string; files: Array<{ path: string }> };
let installed: string[];
let gateway: ReadyGateway;

/** The environment of a nested npm: the test's own, without what an outer `npm test` put there (npm_config_*, npm_package_*). */
function npmEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** Every package in a node_modules tree (scoped and nested ones too), by name. */
async function packagesIn(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  const entries = await readdir(nodeModules, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const scoped = entry.name.startsWith('@');
    const dirs = scoped ? (await readdir(join(nodeModules, entry.name))).map((name) => `${entry.name}/${name}`) : [entry.name];
    for (const name of dirs) {
      names.push(name);
      names.push(...(await packagesIn(join(nodeModules, name, 'node_modules'))));
    }
  }
  return names;
}

beforeAll(async () => {
  dir = await makeTempDir('kms-client-package-');
  app = join(dir, 'app');
  // --ignore-scripts: dist/ is built (the test build), and rebuilding it here would rewrite files other suites are reading.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: CLIENT_DIR, env: npmEnv() });
  [packed] = JSON.parse(stdout) as [typeof packed];
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: app, env: npmEnv(), timeout: 180_000 });
  installed = await packagesIn(join(app, 'node_modules'));
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
}, 240_000);

afterAll(async () => {
  await killAllGateways();
  if (dir) await removeDir(dir);
});

describe('the client package, installed alone', () => {
  it(`brings at most ${MAX_INSTALLED_PACKAGES} packages and none of the server's dependencies, nor its optional peers, nor build tools`, async () => {
    const client = JSON.parse(await readFile(join(CLIENT_DIR, 'package.json'), 'utf8')) as Manifest;
    const server = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
    expect(installed).toContain(client.name);
    expect(installed.length).toBeLessThanOrEqual(MAX_INSTALLED_PACKAGES);
    // What the server needs that the client does not declare itself must not come along.
    const ownDependencies = Object.keys(client.dependencies ?? {});
    const serverOnly = Object.keys(server.dependencies ?? {}).filter((name) => name !== client.name && !ownDependencies.includes(name));
    expect(serverOnly).toEqual(
      expect.arrayContaining(['pg', '@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@middy/core', 'prom-client', 'commander']),
    );
    expect(installed.filter((name) => serverOnly.includes(name))).toEqual([]);
    const optionalPeers = Object.entries(client.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional)
      .map(([name]) => name);
    expect(optionalPeers.length).toBeGreaterThan(0);
    expect(installed.filter((name) => optionalPeers.includes(name) || name === 'typescript' || name.startsWith('@types/'))).toEqual([]);
  });

  it('is publishable: not private, Apache-2.0 with its LICENSE, a CHANGELOG, a README, and .d.ts types beside the JavaScript', async () => {
    const manifest = JSON.parse(await readFile(join(app, 'node_modules', '@alibaba-kms-compatible', 'client', 'package.json'), 'utf8')) as Manifest;
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/signing/index.d.ts']),
    );
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.includes('tsconfig'))).toEqual([]);
    expect(manifest.types).toBeDefined();
    expect(files).toContain(manifest.types!.replace(/^\.\//, ''));
    expect(await readFile(join(app, 'node_modules', '@alibaba-kms-compatible', 'client', 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  it('imported by plain node, it generates a data key on a real gateway and decrypts it; partition keys work on a file registry with no cloud SDK installed', async () => {
    await writeFile(
      join(app, 'data-key.mjs'),
      `import { createKmsClient, openPartitionKeys, provisionPartitions } from '@alibaba-kms-compatible/client';
const [endpoint, accessKeyId, accessKeySecret, keyId, registry] = process.argv.slice(2);
const kms = createKmsClient({ endpoint, accessKeyId, accessKeySecret });
const context = JSON.stringify({ purpose: 'client-package' });
const made = await kms.call('GenerateDataKey', { KeyId: keyId, EncryptionContext: context });
const back = await kms.call('Decrypt', { CiphertextBlob: made.CiphertextBlob, EncryptionContext: context });
const summary = await provisionPartitions({ endpoint, accessKeyId, accessKeySecret, registry, keyId }, [{ partitionId: 'orders-1' }]);
const keys = openPartitionKeys({ endpoint, accessKeyId, accessKeySecret, registry });
const opened = await keys.decryptRecord(await keys.encryptRecord('orders-1', 'order 17'));
keys.close();
console.log(JSON.stringify({ bytes: Buffer.from(made.Plaintext, 'base64').length, same: back.Plaintext === made.Plaintext, summary, opened: opened.toString() }));
`,
    );
    const registry = `file:${join(dir, 'registry')}`;
    const { stdout } = await run(process.execPath, ['data-key.mjs', gateway.url, ADMIN.accessKeyId, ADMIN.accessKeySecret, ALIAS, registry], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ bytes: 32, same: true, summary: { created: 1, existing: 0, failed: [] }, opened: 'order 17' });
  });

  it('when an s3:// or oss:// registry is opened without its SDK (an optional peer), the error names the package to install; the signing is there on its own', async () => {
    await writeFile(
      join(app, 'peers.mjs'),
      `import { openRegistry } from '@alibaba-kms-compatible/client';
import { rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
const messages = [];
for (const url of ['s3://kms-registry/partitions', 'oss://kms-registry/partitions']) {
  try { await openRegistry(url, { env: { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 'secret', OSS_REGION: 'oss-cn-hangzhou' } }); messages.push('opened'); }
  catch (err) { messages.push(err.message); }
}
console.log(JSON.stringify({ messages, signature: rpcSignature('secret', rpcStringToSign('GET', [['Action', 'DescribeKey']])) }));
`,
    );
    const { stdout } = await run(process.execPath, ['peers.mjs'], { cwd: app });
    const { messages, signature } = JSON.parse(stdout) as { messages: string[]; signature: string };
    expect(messages).toEqual([
      'an s3:// partition registry needs the package @aws-sdk/client-s3, an optional peer dependency of this library: npm install @aws-sdk/client-s3',
      'an oss:// partition registry needs the package ali-oss, an optional peer dependency of this library: npm install ali-oss',
    ]);
    expect(signature).toBe(rpcSignature('secret', rpcStringToSign('GET', [['Action', 'DescribeKey']])));
  });
});
