import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { run } from '../../infra/cli/program.js';
import { type Gateway, startGateway } from '../../infra/gateway/server.js';
import { runKmsHere } from '../helpers/cli-in-process.js';
import { ADMIN, createTestService, KEY_ID, type TestService } from '../helpers/service.js';

/*
 * `kms secrets create|get|put|list|versions|delete|restore` as a user runs them (the program's own
 * `run`, in this process) against an in-process gateway over HTTP: values from the command line,
 * a file, stdin and binary files; reads by stage and version id, as JSON and as the bare value;
 * stages moving on put; deletion with a window, restore, forced deletion; and errors, which exit as
 * the other commands do and never print a secret's value.
 */

let t: TestService;
let gateway: Gateway;
let dir: string;

const env = () => ({ KMS_ENDPOINT: gateway.url, ALIBABA_CLOUD_ACCESS_KEY_ID: ADMIN.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ADMIN.accessKeySecret });

/** Runs `kms …args` with `stdin` as its standard input (when given). */
async function kms(args: string[], stdin?: Buffer) {
  const spy = stdin === undefined ? undefined : vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([stdin]) as unknown as typeof process.stdin);
  try {
    return await runKmsHere(args, env());
  } finally {
    spy?.mockRestore();
  }
}

/** Runs `kms …args`; expects exit 0 and nothing on stderr, and returns the JSON it printed. */
async function ok(args: string[], stdin?: Buffer): Promise<Record<string, any>> {
  const r = await kms(args, stdin);
  expect(r.code, `kms ${args.join(' ')}: ${r.stderr}`).toBe(EXIT.OK);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

/** Runs `kms …args`; expects exit `code`, stderr matching `pattern`, and nothing on stdout. */
async function fails(args: string[], code: number, pattern: RegExp, stdin?: Buffer) {
  const r = await kms(args, stdin);
  expect(r.code, `kms ${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).toBe('');
  return r;
}

/** Runs `kms …args` and returns the bytes it wrote to stdout, exactly (runKmsHere keeps text). */
async function rawStdout(args: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let stderr = '';
  const before = { ...process.env };
  Object.assign(process.env, env());
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await run(['node', 'kms', ...args]);
    expect(code, stderr).toBe(EXIT.OK);
    expect(stderr).toBe('');
    return Buffer.concat(chunks);
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = before;
  }
}

beforeAll(async () => {
  t = await createTestService();
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'kms-cli-secrets-'));
});

afterAll(async () => {
  await gateway?.close(0);
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('kms secrets create and get', () => {
  it('--value: a text secret, version id a new UUID; get prints the answer, --value-only the value alone', async () => {
    const created = await ok(['secrets', 'create', 'cli/text', '--value', 'hunter2', '--description', 'the db']);
    expect(created).toEqual({
      RequestId: expect.any(String),
      Arn: expect.stringMatching(/:secret\/cli\/text$/),
      VersionId: expect.stringMatching(UUID),
      SecretName: 'cli/text',
      SecretType: 'Generic',
    });
    const got = await ok(['secrets', 'get', 'cli/text']);
    expect(got).toMatchObject({
      SecretName: 'cli/text',
      VersionId: created.VersionId,
      SecretData: 'hunter2',
      SecretDataType: 'text',
      VersionStages: { VersionStage: ['ACSCurrent'] },
    });
    const bare = await kms(['secrets', 'get', 'cli/text', '--value-only']);
    expect(bare).toEqual({ code: EXIT.OK, stdout: 'hunter2', stderr: '' });
  });

  it('--value-file: the file byte for byte (a final newline kept), with --version-id and --key', async () => {
    const file = join(dir, 'value.txt');
    await writeFile(file, 'pässwörd\n');
    const created = await ok(['secrets', 'create', 'cli/file', '--value-file', file, '--version-id', 'v1', '--key', KEY_ID]);
    expect(created).toMatchObject({ SecretName: 'cli/file', VersionId: 'v1' });
    expect((await kms(['secrets', 'get', 'cli/file', '--value-only'])).stdout).toBe('pässwörd\n');
    const described = await t.service.secrets.describe('cli/file');
    expect(described).toMatchObject({ kmsKeyId: KEY_ID });
  });

  it('--value-file -: the value from stdin', async () => {
    await ok(['secrets', 'create', 'cli/stdin', '--value-file', '-', '--version-id', 's1'], Buffer.from('from stdin'));
    expect(await ok(['secrets', 'get', 'cli/stdin'])).toMatchObject({ VersionId: 's1', SecretData: 'from stdin', SecretDataType: 'text' });
  });

  it('--binary: the bytes of a file (or stdin) as Base64; --value-only writes back the decoded bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80]), randomBytes(300)]);
    const file = join(dir, 'value.bin');
    await writeFile(file, bytes);
    await ok(['secrets', 'create', 'cli/binary', '--value-file', file, '--binary', '--version-id', 'b1']);
    expect(await ok(['secrets', 'get', 'cli/binary'])).toMatchObject({ SecretData: bytes.toString('base64'), SecretDataType: 'binary' });
    expect((await rawStdout(['secrets', 'get', 'cli/binary', '--value-only'])).equals(bytes)).toBe(true);

    const fromStdin = randomBytes(64);
    await ok(['secrets', 'create', 'cli/binary-stdin', '--value-file', '-', '--binary'], fromStdin);
    expect((await rawStdout(['secrets', 'get', 'cli/binary-stdin', '--value-only'])).equals(fromStdin)).toBe(true);
  });

  it('refuses, as usage (exit 2), no value, both values, --binary with --value, an empty value, a file that is not UTF-8 without --binary', async () => {
    await fails(['secrets', 'create', 'cli/none'], EXIT.USAGE, /give exactly one of --value and --value-file/);
    await fails(['secrets', 'create', 'cli/both', '--value', 'x', '--value-file', '-'], EXIT.USAGE, /cannot be used with/);
    await fails(['secrets', 'create', 'cli/bin', '--value', 'x', '--binary'], EXIT.USAGE, /--binary goes with --value-file/);
    await fails(['secrets', 'create', 'cli/empty', '--value-file', '-'], EXIT.USAGE, /is empty/, Buffer.alloc(0));
    await fails(['secrets', 'create', 'cli/latin1', '--value-file', '-'], EXIT.USAGE, /not UTF-8 text; use --binary/, Buffer.from([0x66, 0xff]));
    await fails(['secrets', 'create', 'cli/missing', '--value-file', join(dir, 'nowhere')], EXIT.UNAVAILABLE, /--value-file: cannot read .*nowhere \(ENOENT\)/);
    expect(await t.service.secrets.list()).not.toContainEqual(
      expect.objectContaining({ name: expect.stringMatching(/^cli\/(none|both|bin|empty|latin1|missing)$/) }),
    );
  });
});

describe('kms secrets put, versions, list', () => {
  it('put moves ACSCurrent to the new version (the former one ACSPrevious); get by --stage and --version-id', async () => {
    await ok(['secrets', 'create', 'cli/rotating', '--value', 'one', '--version-id', 'v1']);
    const put = await ok(['secrets', 'put', 'cli/rotating', '--value', 'two', '--version-id', 'v2']);
    expect(put).toEqual({ RequestId: expect.any(String), SecretName: 'cli/rotating', VersionId: 'v2', VersionStages: { VersionStage: ['ACSCurrent'] } });
    expect(await ok(['secrets', 'get', 'cli/rotating'])).toMatchObject({ VersionId: 'v2', SecretData: 'two' });
    expect(await ok(['secrets', 'get', 'cli/rotating', '--stage', 'ACSPrevious'])).toMatchObject({
      VersionId: 'v1',
      SecretData: 'one',
      VersionStages: { VersionStage: ['ACSPrevious'] },
    });
    expect((await kms(['secrets', 'get', 'cli/rotating', '--version-id', 'v1', '--value-only'])).stdout).toBe('one');

    // --stages: the new version gets those stages instead; ACSCurrent stays where it was.
    const staged = await ok(['secrets', 'put', 'cli/rotating', '--value-file', '-', '--version-id', 'v3', '--stages', 'blue,green'], Buffer.from('three'));
    expect(staged.VersionStages.VersionStage.sort()).toEqual(['blue', 'green']);
    expect(await ok(['secrets', 'get', 'cli/rotating', '--stage', 'green'])).toMatchObject({ VersionId: 'v3', SecretData: 'three' });
    expect(await ok(['secrets', 'get', 'cli/rotating'])).toMatchObject({ VersionId: 'v2' });
    // A put without --version-id gets a UUID.
    expect((await ok(['secrets', 'put', 'cli/rotating', '--value', 'four'])).VersionId).toMatch(UUID);

    const versions = await ok(['secrets', 'versions', 'cli/rotating']);
    expect(versions.SecretName).toBe('cli/rotating');
    expect(versions.Versions.map((v: { VersionId: string }) => v.VersionId)).toEqual(['v2', 'v3', expect.stringMatching(UUID)]);
    expect(versions.Versions[0]).toEqual({ VersionId: 'v2', CreateTime: expect.any(String), VersionStages: ['ACSPrevious'] });
    expect(versions.TotalCount).toBe(3);
    const all = await ok(['secrets', 'versions', 'cli/rotating', '--include-deprecated']);
    expect(all.Versions.map((v: { VersionId: string }) => v.VersionId)).toEqual(['v1', 'v2', 'v3', expect.stringMatching(UUID)]);
    expect(all.Versions[0].VersionStages).toEqual([]);

    const table = await kms(['-o', 'table', 'secrets', 'versions', 'cli/rotating']);
    expect(table.stdout).toMatch(/^VersionId\s+CreateTime\s+VersionStages\n/);
    expect(table.stdout).toMatch(/^v2 .*ACSPrevious$/m);
  });

  it('list: every page by default, one page with --page/--page-size; -o table', async () => {
    for (let i = 0; i < 12; i++) await ok(['secrets', 'create', `cli/list-${String(i).padStart(2, '0')}`, '--value', `v${i}`]);
    const names = (await t.service.secrets.list()).map((s) => s.name);
    const all = await ok(['secrets', 'list']);
    expect(all.TotalCount).toBe(names.length);
    expect(all.Secrets.map((s: { SecretName: string }) => s.SecretName)).toEqual(names);
    expect(all.Secrets[0]).toMatchObject({ SecretName: names[0], SecretType: 'Generic', CreateTime: expect.any(String) });

    const page = await ok(['secrets', 'list', '--page', '2', '--page-size', '5']);
    expect(page).toMatchObject({ TotalCount: names.length, PageNumber: 2, PageSize: 5 });
    expect(page.Secrets.map((s: { SecretName: string }) => s.SecretName)).toEqual(names.slice(5, 10));

    const table = await kms(['-o', 'table', 'secrets', 'list']);
    expect(table.stdout).toMatch(/^SecretName\s+CreateTime\s+UpdateTime\s+PlannedDeleteTime\n/);
    expect(table.stdout).toContain('cli/list-11');
  });
});

describe('kms secrets delete and restore', () => {
  it('delete with a recovery window: listed with PlannedDeleteTime, reads refused; restore brings it back', async () => {
    await ok(['secrets', 'create', 'cli/deleted', '--value', 'keep me']);
    const deleted = await ok(['secrets', 'delete', 'cli/deleted', '--recovery-window-days', '7']);
    expect(deleted).toEqual({ RequestId: expect.any(String), SecretName: 'cli/deleted', PlannedDeleteTime: expect.any(String) });
    const days = (Date.parse(deleted.PlannedDeleteTime) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const listed = (await ok(['secrets', 'list'])).Secrets.find((s: { SecretName: string }) => s.SecretName === 'cli/deleted');
    expect(listed.PlannedDeleteTime).toBe(deleted.PlannedDeleteTime);
    await fails(['secrets', 'get', 'cli/deleted'], EXIT.REFUSED, /^Rejected\.ResourceInDeleteWindow: \S.*\n$/);

    expect(await ok(['secrets', 'restore', 'cli/deleted'])).toEqual({ RequestId: expect.any(String), SecretName: 'cli/deleted' });
    expect((await kms(['secrets', 'get', 'cli/deleted', '--value-only'])).stdout).toBe('keep me');
    await fails(['secrets', 'restore', 'cli/deleted'], EXIT.REFUSED, /^Rejected\.ResourceInUse: /);
  });

  it('delete --force destroys it now; a window and --force together are a usage error', async () => {
    await ok(['secrets', 'create', 'cli/forced', '--value', 'gone']);
    await fails(['secrets', 'delete', 'cli/forced', '--force', '--recovery-window-days', '7'], EXIT.USAGE, /cannot be used with/);
    await fails(['secrets', 'delete', 'cli/forced', '--recovery-window-days', '3'], EXIT.USAGE, /expected a whole number from 7 to 30/);
    expect(await ok(['secrets', 'delete', 'cli/forced', '--force'])).toMatchObject({ SecretName: 'cli/forced' });
    await fails(['secrets', 'get', 'cli/forced'], EXIT.REFUSED, /^Forbidden\.ResourceNotFound: /);
    expect((await ok(['secrets', 'list'])).Secrets.map((s: { SecretName: string }) => s.SecretName)).not.toContain('cli/forced');
  });
});

describe('kms secrets: errors', () => {
  it.each([
    ['get', ['secrets', 'get', 'cli/unknown']],
    ['get --value-only', ['secrets', 'get', 'cli/unknown', '--value-only']],
    ['put', ['secrets', 'put', 'cli/unknown', '--value', 'x']],
    ['versions', ['secrets', 'versions', 'cli/unknown']],
    ['delete', ['secrets', 'delete', 'cli/unknown']],
    ['restore', ['secrets', 'restore', 'cli/unknown']],
  ])('%s of an unknown secret: exit 1 (refused), "Forbidden.ResourceNotFound: …" on stderr', async (_name, args) => {
    await fails(args, EXIT.REFUSED, /^Forbidden\.ResourceNotFound: \S.*\n$/);
  });

  it('no credentials: exit 2, before anything is read from stdin', async () => {
    const r = await runKmsHere(['secrets', 'create', 'cli/nocreds', '--value', 'x'], {
      KMS_ENDPOINT: gateway.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: '',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: '',
    });
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toMatch(/no credentials/);
  });

  it('the value never shows on stderr when a create or put fails', async () => {
    const value = 'do-not-print-me-4f1c';
    const file = join(dir, 'never.txt');
    await writeFile(file, value);
    await ok(['secrets', 'create', 'cli/taken', '--value', 'first', '--version-id', 'v1']);
    const runs = [
      // The name in use, another value: Rejected.ResourceExist.
      await fails(['secrets', 'create', 'cli/taken', '--value', value, '--version-id', 'v1'], EXIT.REFUSED, /^Rejected\.ResourceExist: /),
      await fails(['secrets', 'create', 'cli/taken', '--value-file', file], EXIT.REFUSED, /^Rejected\.ResourceExist: /),
      await fails(['secrets', 'create', 'cli/taken', '--value-file', '-'], EXIT.REFUSED, /^Rejected\.ResourceExist: /, Buffer.from(value)),
      // A version id repeated with another value.
      await fails(['secrets', 'put', 'cli/taken', '--value', value, '--version-id', 'v1'], EXIT.REFUSED, /^Rejected\.ResourceExist: /),
      // An unknown secret, an unknown key, a bad name, a usage error.
      await fails(['secrets', 'put', 'cli/unknown', '--value-file', file], EXIT.REFUSED, /^Forbidden\.ResourceNotFound: /),
      await fails(['secrets', 'create', 'cli/badkey', '--value', value, '--key', 'alias/nope'], EXIT.REFUSED, /^\S+: /),
      await fails(['secrets', 'create', 'acs/reserved', '--value', value], EXIT.REFUSED, /^\S+: /),
      await fails(['secrets', 'put', 'cli/taken', '--value', value, '--stages', 'a,,b'], EXIT.USAGE, /--stages/),
      await fails(['secrets', 'create', 'cli/both', '--value', value, '--value-file', file], EXIT.USAGE, /cannot be used with/),
    ];
    for (const r of runs) expect(r.stderr).not.toContain(value);
    expect((await kms(['secrets', 'get', 'cli/taken', '--value-only'])).stdout).toBe('first');
  });
});
