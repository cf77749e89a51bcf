import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, removeDir } from '../helpers/gateway-process.js';

/*
 * The package as a user installs it: its root exports the public API (compiled JavaScript and
 * .d.ts; the client package's, re-exported), a TypeScript consumer type-checks against it, and
 * `kms` runs the compiled CLI with plain node. The client installed alone: client-package.test.ts.
 */

const run = promisify(execFile);
let app: string;

beforeAll(async () => {
  app = await makeTempDir('kms-library-');
  await mkdir(join(app, 'node_modules'));
  await symlink(REPO_ROOT, join(app, 'node_modules', 'alibaba-kms-compatible'), 'dir');
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
});

afterAll(async () => {
  await removeDir(app);
});

const API = [
  'createKmsClient',
  'provisionPartitions',
  'openPartitionKeys',
  'KmsApiError',
  'KmsConnectionError',
  'InvalidPartitionEventError',
  'InvalidRecordError',
  'InvalidRegistryEntryError',
  'PartitionKeysError',
  'PartitionNotFoundError',
  'RegistryUnavailableError',
];

describe('the package root', () => {
  it('exports the public API to an importing application, from dist/ (no TypeScript at run time)', async () => {
    await writeFile(join(app, 'probe.mjs'), "const m = await import('alibaba-kms-compatible'); console.log(JSON.stringify(Object.keys(m)));");
    const { stdout } = await run(process.execPath, ['probe.mjs'], { cwd: app });
    const names = JSON.parse(stdout) as string[];
    for (const name of API) expect(names).toContain(name);
    const resolved = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('alibaba-kms-compatible'))"], { cwd: app });
    expect(resolved.stdout.trim()).toMatch(/\/dist\/lib\/index\.js$/);
  });

  it('type-checks a TypeScript consumer against its .d.ts, and each export carries TSDoc with an example where it is a function', async () => {
    await writeFile(
      join(app, 'consumer.ts'),
      `import { createKmsClient, openPartitionKeys, provisionPartitions, type PartitionEvent, type ProvisionSummary, KmsApiError } from 'alibaba-kms-compatible';
const kms = createKmsClient({ endpoint: 'http://127.0.0.1:8080', accessKeyId: 'a', accessKeySecret: 'b' });
const events: PartitionEvent[] = [{ partitionId: 'p', encryptionContext: { tenant: 't' } }];
export async function main(): Promise<ProvisionSummary> {
  const body: Record<string, unknown> = await kms.call('DescribeKey', { KeyId: 'alias/x' });
  const keys = openPartitionKeys({ accessKeyId: 'a', accessKeySecret: 'b', registry: 'file:./r', cacheTtlMs: 1000, maxUses: 10 });
  const record: Buffer = await keys.encryptRecord('p', 'text', new Uint8Array(0));
  const back: Buffer = await keys.decryptRecord(record);
  keys.close();
  void body; void back;
  try { return await provisionPartitions({ accessKeyId: 'a', accessKeySecret: 'b', registry: 'file:./r', keyId: 'alias/x', concurrency: 4 }, events); }
  catch (err) { if (err instanceof KmsApiError) console.log(err.code); throw err; }
}
`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app }).catch((err: { stdout?: string }) => {
      throw new Error(`the consumer does not type-check:\n${err.stdout}`);
    });
    // The root re-exports the client package, whose declarations carry the TSDoc.
    expect(await readFile(join(REPO_ROOT, 'dist', 'lib', 'index.d.ts'), 'utf8')).toContain("export * from '@alibaba-kms-compatible/client';");
    const clientDist = join(REPO_ROOT, 'packages', 'client', 'dist');
    const declarations = await readFile(join(clientDist, 'partitions', 'provision.d.ts'), 'utf8');
    expect(declarations).toMatch(/@example[\s\S]*provisionPartitions/);
    for (const file of ['kms-client.d.ts', 'partitions/partition-keys.d.ts', 'partitions/registry/open.d.ts', 'signing/v3.d.ts'])
      expect(await readFile(join(clientDist, file), 'utf8')).toContain('@example');
  }, 60_000);

  it('runs the kms command with plain node from dist/, with no TypeScript loader', async () => {
    expect(await readFile(join(REPO_ROOT, 'bin', 'kms.mjs'), 'utf8')).not.toMatch(/tsx/);
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'bin', 'kms.mjs'), '--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    // `exec`: the shell npm runs the script in becomes node, so a signal to `npm start` reaches the gateway.
    expect(pkg.scripts.start).toBe('exec node dist/infra/gateway/start.js');
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.dependencies.tsx).toBeUndefined();
    // Build tools and types are for development only.
    expect(Object.keys(pkg.dependencies).filter((name) => name === 'typescript' || name.startsWith('@types/'))).toEqual([]);
  });
});
