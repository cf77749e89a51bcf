import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_REGISTRY_URL, InvalidPartitionEventError, openRegistry, parseRegistryUrl, RegistryUnavailableError } from '@alibaba-kms-compatible/client';
import { entryFileName } from '../../packages/client/src/partitions/entry.js';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { FORBID_OVERWRITE_HEADER, type OssClient, OssRegistry, translateOssError } from '../../packages/client/src/partitions/registry/oss-registry.js';
import { S3Registry, type S3RegistryOptions, translateS3Error } from '../../packages/client/src/partitions/registry/s3-registry.js';
import { awsErrors, serviceError } from '../keystore/aws-errors.js';
import { FakeOss, type FakeOssOptions, ossError, ossErrors } from '../partitions/oss-fake.js';
import { entryOf, partitionRegistryConformance } from '../partitions/registry-conformance.js';
import { FakeS3, type FakeS3Options } from '../partitions/s3-fake.js';

// ---- fault injection at the fs calls FileRegistry makes (as in file-store-faults.test.ts) ----

interface Fault {
  call: string;
  matches: (path: string) => boolean;
  /** The fs error code to fail with; without one the fault only counts calls. */
  code?: string;
  hits: number;
}

const faults = vi.hoisted(() => [] as Fault[]);

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const HANDLE_CALLS = new Set(['writeFile', 'sync', 'close']);
  const enter = (call: string, target: unknown) => {
    const path = String(target);
    for (const fault of faults) {
      if (fault.call !== call || !fault.matches(path)) continue;
      fault.hits++;
      if (fault.code) throw Object.assign(new Error(`${fault.code}: injected fault, ${call} '${path}'`), { code: fault.code, syscall: call, path });
    }
  };
  const pass = <F extends (...args: any[]) => Promise<unknown>>(call: string, fn: F) =>
    (async (...args: Parameters<F>) => {
      enter(call, args[0]);
      return fn(...args);
    }) as F;
  const open = (async (...args: Parameters<typeof real.open>) => {
    const path = args[0];
    enter('open', path);
    const handle = await real.open(...args);
    return new Proxy(handle, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop !== 'string' || !HANDLE_CALLS.has(prop)) return value.bind(target);
        return async (...callArgs: unknown[]) => {
          enter(`handle.${prop}`, path);
          return value.apply(target, callArgs);
        };
      },
    });
  }) as typeof real.open;
  const fs = {
    ...real,
    open,
    link: pass('link', real.link),
    mkdir: pass('mkdir', real.mkdir),
    readdir: pass('readdir', real.readdir),
    readFile: pass('readFile', real.readFile),
    unlink: pass('unlink', real.unlink),
  };
  return { ...fs, default: fs };
});

function inject(call: string, where: RegExp | ((path: string) => boolean), code?: string): Fault {
  const fault: Fault = { call, matches: where instanceof RegExp ? (p) => where.test(p) : where, ...(code ? { code } : {}), hits: 0 };
  faults.push(fault);
  return fault;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-partition-registry-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  faults.length = 0;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const TMP = /\/\.tmp-[0-9a-f]+$/;
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

// ---- the backends under the one conformance suite ----

async function fileRegistryUnderTest() {
  const dir = join(await tempDir(), 'registry');
  return {
    registry: new FileRegistry(dir),
    putRaw: async (name: string, text: string) => {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    },
  };
}

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
afterAll(() => s3.restore());

/** A fresh fake S3 behind the mock, and a registry over it. */
function s3Setup(fakeOptions: FakeS3Options = {}, registryOptions: Partial<S3RegistryOptions> = {}) {
  s3.reset();
  const fake = new FakeS3(fakeOptions).install(s3);
  const registry = new S3Registry({ client: s3Client, bucket: 'registry', prefix: 'partitions/dev', ...registryOptions });
  return { fake, registry };
}

function ossSetup(fakeOptions: FakeOssOptions = {}, prefix = 'kms/partitions') {
  const fake = new FakeOss(fakeOptions);
  return { fake, registry: new OssRegistry({ client: fake, bucket: 'registry', prefix }) };
}

/** The fake without listV2, as an older client (or one typed to `list` only) would be. */
function listV1Only(fake: FakeOss): OssClient {
  return { put: fake.put.bind(fake), get: fake.get.bind(fake), list: fake.list.bind(fake) };
}

partitionRegistryConformance('FileRegistry', fileRegistryUnderTest);
partitionRegistryConformance('S3Registry over a stateful fake (409 conflicts under contention, pages of 7)', async () => {
  const { fake, registry } = s3Setup({ pageSize: 7, conflictOnConcurrentWrites: true });
  return { registry, putRaw: async (name, text) => fake.putRaw(`partitions/dev/${name}`, text) };
});
partitionRegistryConformance('S3Registry at the bucket root', async () => {
  const { fake, registry } = s3Setup({ pageSize: 50 }, { prefix: '' });
  return { registry, putRaw: async (name, text) => fake.putRaw(name, text) };
});
partitionRegistryConformance('OssRegistry over a stateful fake (listV2, pages of 7)', async () => {
  const { fake, registry } = ossSetup({ pageSize: 7 });
  return { registry, putRaw: async (name, text) => fake.putRaw(`kms/partitions/${name}`, text) };
});
partitionRegistryConformance('OssRegistry over a client with list (v1) only, at the bucket root', async () => {
  const fake = new FakeOss({ pageSize: 11 });
  return { registry: new OssRegistry({ client: listV1Only(fake), bucket: 'registry', prefix: '' }), putRaw: async (name, text) => fake.putRaw(name, text) };
});

// ---- what is particular to each backend ----

describe('Module: partition registries', () => {
  describe('class FileRegistry', () => {
    it('when the first entry is written, the directory (and missing parents) are created 0700 and entry files are 0600, with nothing else left', async () => {
      const root = await tempDir();
      const dir = join(root, 'a', 'registry');
      const registry = new FileRegistry(dir);
      await registry.create(entryOf('p1'));
      await registry.create(entryOf('tenant/acme'));
      await registry.create(entryOf('p1', 2));
      expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await readdir(dir)).sort()).toEqual(['p1.json', 'tenant~acme.json']);
      for (const file of await readdir(dir)) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    });

    it('when an entry is stored, its file is <dir>/<entryFileName(id)> holding the entry JSON; ids like "." and "../x" stay inside the directory', async () => {
      const root = await tempDir();
      const dir = join(root, 'registry');
      const registry = new FileRegistry(dir);
      for (const id of ['.', '..', '../escape', 'a/b']) await registry.create(entryOf(id));
      expect(await readdir(root)).toEqual(['registry']);
      expect((await readdir(dir)).sort()).toEqual(['...json', '..json', '..~escape.json', 'a~b.json']);
      expect(JSON.parse(await readFile(join(dir, entryFileName('a/b')), 'utf8'))).toEqual(entryOf('a/b'));
    });

    it('when the directory is missing, list is empty and get is undefined, and neither creates it', async () => {
      const dir = join(await tempDir(), 'never-written');
      const registry = new FileRegistry(dir);
      expect(await registry.list()).toEqual([]);
      expect(await registry.get('p1')).toBeUndefined();
      await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('when an entry is created (or found existing), the directory is fsynced so that the link is durable', async () => {
      const dir = join(await tempDir(), 'registry');
      const registry = new FileRegistry(dir);
      const dirSync = inject('handle.sync', (p) => p === dir);
      const fileSync = inject('handle.sync', TMP);
      expect(await registry.create(entryOf('p1'))).toBe('created');
      expect([fileSync.hits, dirSync.hits]).toEqual([1, 1]);
      expect(await registry.create(entryOf('p1', 2))).toBe('existing');
      expect([fileSync.hits, dirSync.hits]).toEqual([2, 2]);
    });

    it('when the url is given it is kept as written; otherwise it is file:<dir>', async () => {
      expect(new FileRegistry('./x', { url: 'file:./x' }).url).toBe('file:./x');
      expect(new FileRegistry('/srv/registry').url).toBe('file:/srv/registry');
      expect(new FileRegistry('rel').dir).toBe(resolve('rel'));
    });

    it('when two registries on one directory (two processes) race 20 creates of a partition, exactly one is created', async () => {
      const dir = join(await tempDir(), 'registry');
      const a = new FileRegistry(dir);
      const b = new FileRegistry(dir);
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).create(entryOf('shared', i))));
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      expect(await a.get('shared')).toEqual(entryOf('shared', outcomes.indexOf('created')));
    });

    it.each(['/'.repeat(128), '.'.repeat(128), `a${':=+-/'.repeat(25)}b`])(
      'when the longest ids of any characters (%s) are stored, their file names stay within the file system limit and they round-trip',
      async (id) => {
        const dir = join(await tempDir(), 'registry');
        const registry = new FileRegistry(dir);
        expect(await registry.create(entryOf(id))).toBe('created');
        expect(await registry.get(id)).toEqual(entryOf(id));
        expect(await registry.list()).toEqual([id]);
        for (const name of await readdir(dir)) expect(name.length).toBeLessThanOrEqual(133);
      },
    );

    describe('when the disk refuses', () => {
      const DIR = /\/registry$/;
      // [code, call, path, whether the entry is in place after the failure]
      const writeFaults: Array<[string, string, RegExp, boolean]> = [
        ['ENOSPC', 'handle.writeFile', TMP, false],
        ['ENOSPC', 'handle.sync', TMP, false],
        ['EDQUOT', 'handle.writeFile', TMP, false],
        ['EROFS', 'open', TMP, false],
        ['EROFS', 'mkdir', DIR, false],
        ['EIO', 'link', TMP, false],
        ['EACCES', 'open', TMP, false],
        ['EMFILE', 'open', TMP, false],
        // The directory's fsync comes after the link: the entry is there, whole, only not known durable.
        ['EIO', 'handle.sync', DIR, true],
      ];

      it.each(writeFaults)(
        'when %s hits %s, create throws RegistryUnavailableError (cause kept) and no temporary file is left',
        async (code, call, where, linked) => {
          const dir = join(await tempDir(), 'registry');
          const registry = new FileRegistry(dir);
          const fault = inject(call, where, code);
          const error = await rejection(registry.create(entryOf('p1')));
          expect(fault.hits).toBeGreaterThan(0);
          expect(error).toBeInstanceOf(RegistryUnavailableError);
          expect(error).toMatchObject({ code: 'RegistryUnavailable', cause: { code } });
          expect((error as Error).message).toContain(code);
          expect((error as Error).message).toContain('p1');
          faults.length = 0;
          const left = await readdir(dir).catch(() => [] as string[]);
          expect(left.filter((f) => f.startsWith('.tmp-'))).toEqual([]);
          expect(await registry.get('p1')).toEqual(linked ? entryOf('p1') : undefined);
          // Once the disk serves again, so does the registry.
          expect(await registry.create(entryOf('p1', 1))).toBe(linked ? 'existing' : 'created');
        },
      );

      it.each([
        ['EACCES', 'readFile', 'get'],
        ['EIO', 'readFile', 'get'],
        ['EMFILE', 'readdir', 'list'],
        ['EPERM', 'readdir', 'list'],
      ] as const)('when %s hits %s, %s throws RegistryUnavailableError', async (code, call, method) => {
        const dir = join(await tempDir(), 'registry');
        const registry = new FileRegistry(dir);
        await registry.create(entryOf('p1'));
        inject(call, () => true, code);
        const error = await rejection(method === 'get' ? registry.get('p1') : registry.list());
        expect(error).toBeInstanceOf(RegistryUnavailableError);
        expect(error).toMatchObject({ cause: { code } });
      });

      it('when an fs error does not mean "unavailable" (ENOTDIR: the path is a file), it keeps its meaning', async () => {
        const root = await tempDir();
        await writeFile(join(root, 'file'), 'not a directory');
        const registry = new FileRegistry(join(root, 'file', 'registry'));
        const error = await rejection(registry.create(entryOf('p1')));
        expect(error).not.toBeInstanceOf(RegistryUnavailableError);
        expect(error).toMatchObject({ code: 'ENOTDIR' });
      });
    });
  });

  describe('class S3Registry', () => {
    it('when an entry is created, it is one PutObject with IfNoneMatch "*", ContentType application/json and the entry JSON, at <prefix/><entryFileName>', async () => {
      const { registry, fake } = s3Setup();
      const entry = entryOf('orders/2026-11');
      expect(await registry.create(entry)).toBe('created');
      expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
      expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
        Bucket: 'registry',
        Key: 'partitions/dev/orders~2026-11.json',
        IfNoneMatch: '*',
        ContentType: 'application/json',
        Body: JSON.stringify(entry),
      });
      expect(fake.object('partitions/dev/orders~2026-11.json')).toEqual({ body: JSON.stringify(entry), contentType: 'application/json' });
      expect(await registry.get('orders/2026-11')).toEqual(entry);
      expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'registry', Key: 'partitions/dev/orders~2026-11.json' });
    });

    it('when the partition exists, S3 answers 412 PreconditionFailed and create is existing, without a second write', async () => {
      const { registry, fake } = s3Setup();
      await registry.create(entryOf('p1', 1));
      expect(await registry.create(entryOf('p1', 2))).toBe('existing');
      expect(fake.count('PutObject')).toBe(2);
      expect(fake.count('HeadObject')).toBe(0);
      expect(await registry.get('p1')).toEqual(entryOf('p1', 1));
    });

    it('when list pages (2 keys a page), it follows ContinuationToken to the end, and keeps only the keys right under its prefix', async () => {
      const { registry, fake } = s3Setup({ pageSize: 2 });
      for (const id of ['e', 'd', 'c', 'b', 'a']) await registry.create(entryOf(id));
      fake.putRaw('partitions/dev2/x.json', JSON.stringify(entryOf('x')));
      fake.putRaw('partitions/devx.json', JSON.stringify(entryOf('devx')));
      fake.putRaw('partitions/dev/sub/y.json', JSON.stringify(entryOf('y')));
      fake.putRaw('other/z.json', JSON.stringify(entryOf('z')));
      expect(await registry.list()).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 3);
      expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 1, { Bucket: 'registry', Prefix: 'partitions/dev/' });
      const tokens = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.ContinuationToken);
      expect(tokens[0]).toBeUndefined();
      expect(tokens.slice(1).every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
    });

    it('when the prefix is given without a trailing slash, it is normalised to end with one', () => {
      expect(new S3Registry({ client: s3Client, bucket: 'registry', prefix: 'a/b' })).toMatchObject({ prefix: 'a/b/', url: 's3://registry/a/b/' });
      expect(new S3Registry({ client: s3Client, bucket: 'registry', prefix: 'a/b/' }).prefix).toBe('a/b/');
      expect(new S3Registry({ client: s3Client, bucket: 'registry' })).toMatchObject({ prefix: '', url: 's3://registry/' });
    });

    describe('409 ConditionalRequestConflict (another conditional write in flight)', () => {
      const conflict = () => serviceError('ConditionalRequestConflict', 'A conflicting operation occurred.', { status: 409 });

      it('when the other write did not land, create looks (HeadObject), tries again, and is created', async () => {
        const sleeps: number[] = [];
        const { registry, fake } = s3Setup({}, { sleep: async (ms) => void sleeps.push(ms) });
        let conflicts = 2;
        fake.failure = (command) => (command === 'PutObject' && conflicts-- > 0 ? conflict() : undefined);
        expect(await registry.create(entryOf('p1'))).toBe('created');
        expect([fake.count('PutObject'), fake.count('HeadObject')]).toEqual([3, 2]);
        expect(sleeps).toHaveLength(2);
        expect(await registry.get('p1')).toEqual(entryOf('p1'));
      });

      it('when the other write landed, create is existing at once and the other entry stays', async () => {
        const { registry, fake } = s3Setup({}, { sleep: async () => undefined });
        fake.failure = (command, input) => {
          if (command !== 'PutObject') return undefined;
          fake.putRaw(String(input.Key), JSON.stringify(entryOf('p1', 7)));
          return conflict();
        };
        expect(await registry.create(entryOf('p1'))).toBe('existing');
        expect([fake.count('PutObject'), fake.count('HeadObject')]).toEqual([1, 1]);
        fake.failure = undefined;
        expect(await registry.get('p1')).toEqual(entryOf('p1', 7));
      });

      it('when conflicts persist past the retries, create throws RegistryUnavailableError naming ConditionalRequestConflict', async () => {
        const { registry, fake } = s3Setup({}, { sleep: async () => undefined, conflictRetries: 2 });
        fake.failure = (command) => (command === 'PutObject' ? conflict() : undefined);
        const error = await rejection(registry.create(entryOf('p1')));
        expect(error).toBeInstanceOf(RegistryUnavailableError);
        expect((error as Error).message).toContain('ConditionalRequestConflict');
        expect(fake.count('PutObject')).toBe(3);
        expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'registry', Key: 'partitions/dev/p1.json' });
      });
    });

    describe('AWS failures', () => {
      const ROLE = 'arn:aws:sts::123456789012:assumed-role/registry-writer/session';
      const failures: Array<[string, () => Error]> = [
        ['ThrottlingException', awsErrors.throttling],
        ['SlowDown', () => serviceError('SlowDown', 'Please reduce your request rate.', { fault: 'server', status: 503 })],
        ['InternalError', () => serviceError('InternalError', 'We encountered an internal error.', { fault: 'server', status: 500 })],
        ['ServiceUnavailable', awsErrors.unavailable503],
        ['AccessDenied', () => serviceError('AccessDenied', `User: ${ROLE} is not authorized to perform: s3:PutObject`, { status: 403 })],
        ['InvalidAccessKeyId', () => serviceError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { status: 403 })],
        ['ExpiredToken', () => serviceError('ExpiredToken', 'The provided token has expired.', { status: 400 })],
        ['CredentialsProviderError', () => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })],
        ['TimeoutError', awsErrors.timeout],
        ['ECONNRESET', awsErrors.network],
        ['NoSuchBucket', () => serviceError('NoSuchBucket', 'The specified bucket does not exist', { status: 404 })],
      ];
      const calls: Array<[string, (r: S3Registry) => Promise<unknown>, (err: Error) => void]> = [
        ['create', (r) => r.create(entryOf('p1')), (err) => s3.on(PutObjectCommand).rejects(err)],
        ['get', (r) => r.get('p1'), (err) => s3.on(GetObjectCommand).rejects(err)],
        ['list', (r) => r.list(), (err) => s3.on(ListObjectsV2Command).rejects(err)],
      ];

      for (const [method, call, failWith] of calls) {
        it.each(failures)(
          `when S3 fails ${method} with %s, it throws RegistryUnavailableError naming the error (no AWS message), with the error as cause`,
          async (name, make) => {
            s3.reset();
            const registry = new S3Registry({ client: s3Client, bucket: 'registry', prefix: 'partitions/dev' });
            const err = make();
            failWith(err);
            const error = await rejection(call(registry));
            expect(error).toBeInstanceOf(RegistryUnavailableError);
            expect((error as RegistryUnavailableError).cause).toBe(err);
            expect((error as Error).message).toContain(name);
            expect((error as Error).message).toContain(`registry s3://registry/partitions/dev/: ${method}`);
            expect((error as Error).message).not.toContain(err.message);
          },
        );
      }

      it('when the error is the library’s own or a programming error, translateS3Error passes it through', () => {
        const bug = new TypeError('x is not a function');
        expect(translateS3Error(bug, 's3://b/', 'get', 'p')).toBe(bug);
        const own = new InvalidPartitionEventError('bad');
        expect(translateS3Error(own, 's3://b/', 'get', 'p')).toBe(own);
      });
    });
  });

  describe('class OssRegistry', () => {
    it('when an entry is created, it is one put with x-oss-forbid-overwrite: true, mime application/json and the entry JSON, at <prefix/><entryFileName>', async () => {
      const { registry, fake } = ossSetup();
      const entry = entryOf('orders/2026-11');
      expect(await registry.create(entry)).toBe('created');
      expect(fake.calls.filter((c) => c.method === 'put')).toEqual([
        {
          method: 'put',
          args: [
            'kms/partitions/orders~2026-11.json',
            Buffer.from(JSON.stringify(entry)),
            { mime: 'application/json', headers: { [FORBID_OVERWRITE_HEADER]: 'true' } },
          ],
        },
      ]);
      expect(FORBID_OVERWRITE_HEADER).toBe('x-oss-forbid-overwrite');
      expect(fake.object('kms/partitions/orders~2026-11.json')).toEqual({ content: JSON.stringify(entry), mime: 'application/json' });
      expect(await registry.get('orders/2026-11')).toEqual(entry);
    });

    it('when the partition exists, OSS answers 409 FileAlreadyExists and create is existing', async () => {
      const { registry, fake } = ossSetup();
      await registry.create(entryOf('p1', 1));
      const seen: unknown[] = [];
      const put = fake.put.bind(fake);
      fake.put = async (...args) => {
        try {
          return await put(...args);
        } catch (err) {
          seen.push(err);
          throw err;
        }
      };
      expect(await registry.create(entryOf('p1', 2))).toBe('existing');
      expect(seen).toEqual([expect.objectContaining({ status: 409, code: 'FileAlreadyExists', name: 'FileAlreadyExistsError' })]);
      expect(await registry.get('p1')).toEqual(entryOf('p1', 1));
    });

    it('when list pages (2 names a page), listV2 follows continuation-token, or list follows marker, to the end; only names right under the prefix count', async () => {
      for (const v1 of [false, true]) {
        const fake = new FakeOss({ pageSize: 2 });
        const registry = new OssRegistry({ client: v1 ? listV1Only(fake) : fake, bucket: 'registry', prefix: 'kms/partitions/' });
        for (const id of ['e', 'd', 'c', 'b', 'a']) await registry.create(entryOf(id));
        fake.putRaw('kms/partitions2/x.json', '{}');
        fake.putRaw('kms/partitions/sub/y.json', '{}');
        expect(await registry.list()).toEqual(['a', 'b', 'c', 'd', 'e']);
        const pages = fake.calls.filter((c) => c.method === (v1 ? 'list' : 'listV2')).map((c) => c.args[0] as Record<string, unknown>);
        expect(pages).toHaveLength(3);
        expect(pages[0]).toEqual({ prefix: 'kms/partitions/', 'max-keys': 1000 });
        const cursor = v1 ? 'marker' : 'continuation-token';
        expect(pages.slice(1).every((q) => typeof q[cursor] === 'string')).toBe(true);
      }
    });

    it('when the client is bound to another bucket, the constructor refuses it', () => {
      expect(() => new OssRegistry({ client: new FakeOss({ bucket: 'elsewhere' }), bucket: 'registry' })).toThrow(TypeError);
      expect(new OssRegistry({ client: new FakeOss(), bucket: 'registry', prefix: 'p' })).toMatchObject({ prefix: 'p/', url: 'oss://registry/p/' });
    });

    describe('OSS failures', () => {
      const failures: Array<[string, () => Error]> = [
        ['AccessDenied', ossErrors.accessDenied],
        ['SecurityTokenExpired', ossErrors.tokenExpired],
        ['QpsLimitExceeded', ossErrors.throttled],
        ['InternalError', ossErrors.internal],
        ['RequestError', ossErrors.network],
        ['ResponseTimeoutError', ossErrors.timeout],
        ['NoSuchBucket', ossErrors.noSuchBucket],
        ['InvalidArgument', () => ossError(400, 'InvalidArgument', 'Argument is invalid.')],
      ];
      const calls: Array<[string, (r: OssRegistry) => Promise<unknown>, string]> = [
        ['create', (r) => r.create(entryOf('p1')), 'put'],
        ['get', (r) => r.get('p1'), 'get'],
        ['list', (r) => r.list(), 'listV2'],
      ];
      for (const [method, call, clientMethod] of calls) {
        it.each(failures)(
          `when OSS fails ${method} with %s, it throws RegistryUnavailableError naming the code (no OSS message), with the error as cause`,
          async (code, make) => {
            const { registry, fake } = ossSetup();
            const err = make();
            fake.failure = (m) => (m === clientMethod ? err : undefined);
            const error = await rejection(call(registry));
            expect(error).toBeInstanceOf(RegistryUnavailableError);
            expect((error as RegistryUnavailableError).cause).toBe(err);
            expect((error as Error).message).toContain(code);
            expect((error as Error).message).toContain(`registry oss://registry/kms/partitions/: ${method}`);
            expect((error as Error).message).not.toContain(err.message);
          },
        );
      }

      it('when the failure is throttling, a timeout, the network, a 5xx or access denied, the message says which', () => {
        const reasonOf = (err: Error) => (translateOssError(err, 'oss://b/', 'get', 'p') as Error).message.replace(/^.*failed: (.*?) \(.*$/, '$1');
        expect(reasonOf(ossErrors.throttled())).toBe('throttled');
        expect(reasonOf(ossErrors.timeout())).toBe('timeout');
        expect(reasonOf(ossErrors.network())).toBe('network');
        expect(reasonOf(ossErrors.internal())).toBe('server');
        expect(reasonOf(ossErrors.accessDenied())).toBe('access denied');
        expect(reasonOf(ossErrors.noSuchBucket())).toBe('refused');
        const bug = new TypeError('x is not a function');
        expect(translateOssError(bug, 'oss://b/', 'get', 'p')).toBe(bug);
      });
    });
  });

  describe('function openRegistry', () => {
    it('when the URL is file:<relative dir>, the dir is resolved against the working directory; file:/abs and file:///abs are absolute', () => {
      expect(parseRegistryUrl(DEFAULT_REGISTRY_URL)).toEqual({ scheme: 'file', dir: resolve('.kms-partitions') });
      expect(DEFAULT_REGISTRY_URL).toBe('file:./.kms-partitions');
      expect(parseRegistryUrl('file:data/registry')).toEqual({ scheme: 'file', dir: resolve('data/registry') });
      expect(parseRegistryUrl('file:../registry')).toEqual({ scheme: 'file', dir: resolve('../registry') });
      expect(parseRegistryUrl('file:/srv/kms/registry')).toEqual({ scheme: 'file', dir: '/srv/kms/registry' });
      expect(parseRegistryUrl('file:///srv/kms/registry')).toEqual({ scheme: 'file', dir: '/srv/kms/registry' });
      expect(parseRegistryUrl('file://localhost/srv/kms')).toEqual({ scheme: 'file', dir: '/srv/kms' });
      expect(parseRegistryUrl('file:///srv/with%20space')).toEqual({ scheme: 'file', dir: '/srv/with space' });
      expect(parseRegistryUrl('FILE:/srv/kms')).toEqual({ scheme: 'file', dir: '/srv/kms' });
    });

    it('when the URL is s3:// or oss://, it names the bucket and the prefix (normalised to end with /, empty for the root)', () => {
      expect(parseRegistryUrl('s3://my-bucket/tenants/prod')).toEqual({ scheme: 's3', bucket: 'my-bucket', prefix: 'tenants/prod/' });
      expect(parseRegistryUrl('s3://my.bucket/tenants/prod/')).toEqual({ scheme: 's3', bucket: 'my.bucket', prefix: 'tenants/prod/' });
      expect(parseRegistryUrl('s3://my-bucket')).toEqual({ scheme: 's3', bucket: 'my-bucket', prefix: '' });
      expect(parseRegistryUrl('s3://my-bucket/')).toEqual({ scheme: 's3', bucket: 'my-bucket', prefix: '' });
      expect(parseRegistryUrl('oss://kms-registry/partitions')).toEqual({ scheme: 'oss', bucket: 'kms-registry', prefix: 'partitions/' });
      expect(parseRegistryUrl('oss://kms-registry')).toEqual({ scheme: 'oss', bucket: 'kms-registry', prefix: '' });
    });

    it.each([
      ['', 'no scheme'],
      ['relative/dir', 'no scheme'],
      ['/absolute/dir', 'no scheme'],
      ['ftp://host/dir', 'another scheme'],
      ['https://bucket.s3.amazonaws.com/p', 'another scheme'],
      ['s3:bucket/p', 'no //'],
      ['s3://', 'no bucket'],
      ['s3:///prefix', 'no bucket'],
      ['s3://Bad_Bucket/p', 'a bucket S3 does not allow'],
      ['s3://ab/p', 'a bucket too short'],
      ['oss://bucket.with.dots/p', 'a bucket OSS does not allow'],
      ['s3://bucket//p', 'an empty folder'],
      ['s3://bucket/a//b', 'an empty folder'],
      ['s3://bucket/p?versionId=1', 'a query'],
      ['oss://bucket/p#x', 'a fragment'],
      ['s3://bucket/a%2Fb', 'percent-encoding'],
      ['s3://bucket/with space', 'whitespace'],
      ['file:', 'no directory'],
      ['file://', 'no directory'],
      ['file://otherhost/dir', 'a remote host'],
      ['file:///a%2Fb', 'an encoded /'],
    ])('when the URL is "%s" (%s), it throws TypeError naming the accepted forms', async (url) => {
      const error = await rejection(openRegistry(url, { s3Client, ossClient: new FakeOss() }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/file:<dir>.*s3:\/\/<bucket>\/<prefix>.*oss:\/\/<bucket>\/<prefix>/);
    });

    it('when a rejected URL holds credentials, the message does not repeat them', async () => {
      const error = await rejection(openRegistry('s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/p'));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).not.toMatch(/AKIAEXAMPLE|wJalrXUtnFEMI/);
    });

    it('when the URL is file:, it opens a FileRegistry on that directory, keeping the URL as written', async () => {
      const dir = await tempDir();
      const registry = await openRegistry(`file:${dir}/registry`);
      expect(registry).toBeInstanceOf(FileRegistry);
      expect(registry).toMatchObject({ url: `file:${dir}/registry`, dir: join(dir, 'registry') });
      await registry.create(entryOf('p1'));
      expect(await readdir(join(dir, 'registry'))).toEqual(['p1.json']);
      expect(await openRegistry('file:rel/dir')).toMatchObject({ dir: resolve('rel/dir'), url: 'file:rel/dir' });
    });

    it('when the URL is s3:// and a client is injected, it opens an S3Registry on that bucket and prefix with it', async () => {
      const { fake } = s3Setup();
      const registry = await openRegistry('s3://registry/partitions/dev', { s3Client });
      expect(registry).toBeInstanceOf(S3Registry);
      expect(registry).toMatchObject({ url: 's3://registry/partitions/dev', bucket: 'registry', prefix: 'partitions/dev/' });
      expect((registry as S3Registry).client).toBe(s3Client);
      await registry.create(entryOf('p1'));
      expect(fake.keys()).toEqual(['partitions/dev/p1.json']);
    });

    it('when the URL is s3:// and no client is injected, it builds one with the region from AWS_REGION', async () => {
      const registry = (await openRegistry('s3://my-bucket/p', { env: { AWS_REGION: 'eu-central-1' } })) as S3Registry;
      expect(registry).toBeInstanceOf(S3Registry);
      expect(registry.client).toBeInstanceOf(S3Client);
      expect(registry.client).not.toBe(s3Client);
      expect(await registry.client.config.region()).toBe('eu-central-1');
      registry.client.destroy();
    });

    it('when the URL is oss:// and a client is injected, it opens an OssRegistry with it', async () => {
      const fake = new FakeOss({ bucket: 'kms-registry' });
      const registry = await openRegistry('oss://kms-registry/partitions', { ossClient: fake });
      expect(registry).toBeInstanceOf(OssRegistry);
      expect(registry).toMatchObject({ url: 'oss://kms-registry/partitions', bucket: 'kms-registry', prefix: 'partitions/' });
      expect((registry as OssRegistry).client).toBe(fake);
      await registry.create(entryOf('p1'));
      expect(fake.names()).toEqual(['partitions/p1.json']);
    });

    it('when the URL is oss:// and no client is injected, it builds an ali-oss client (HTTPS, bound to the bucket) from the environment', async () => {
      const credentials = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret' };
      const byRegion = (await openRegistry('oss://kms-registry/p', { env: { ...credentials, OSS_REGION: 'oss-cn-shanghai' } })) as OssRegistry;
      const options = (byRegion.client as unknown as { options: { bucket: string; endpoint: URL; secure: boolean } }).options;
      expect(options).toMatchObject({ bucket: 'kms-registry', secure: true });
      expect(`${options.endpoint.protocol}//${options.endpoint.host}`).toBe('https://oss-cn-shanghai.aliyuncs.com');

      const byEndpoint = (await openRegistry('oss://kms-registry/p', {
        env: { ...credentials, OSS_ENDPOINT: 'oss-cn-beijing-internal.aliyuncs.com' },
      })) as OssRegistry;
      expect((byEndpoint.client as unknown as { options: { endpoint: URL } }).options.endpoint.host).toBe('oss-cn-beijing-internal.aliyuncs.com');
    });

    it('when the URL is oss:// and the environment lacks credentials or a region, it throws naming the variables (and no secret)', async () => {
      const error = await rejection(openRegistry('oss://kms-registry/p', { env: {} }));
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET.*ALIBABA_CLOUD_.*OSS_REGION or OSS_ENDPOINT/);
      const noRegion = await rejection(
        openRegistry('oss://kms-registry/p', { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'top-secret' } }),
      );
      expect((noRegion as Error).message).toContain('OSS_REGION or OSS_ENDPOINT');
      expect((noRegion as Error).message).not.toContain('top-secret');
    });

    it('when OSS_ACCESS_KEY_* are set they win over ALIBABA_CLOUD_*, and a plain-http OSS_ENDPOINT is refused', async () => {
      const plain = await rejection(
        openRegistry('oss://kms-registry/p', { env: { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 's', OSS_ENDPOINT: 'http://oss.example' } }),
      );
      expect((plain as Error).message).toMatch(/OSS_ENDPOINT must be https/);
      const registry = await openRegistry('oss://kms-registry/p', {
        env: {
          OSS_ACCESS_KEY_ID: 'oss-id',
          OSS_ACCESS_KEY_SECRET: 'oss-secret',
          ALIBABA_CLOUD_ACCESS_KEY_ID: 'kms-id',
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'kms-secret',
          OSS_REGION: 'oss-cn-hangzhou',
        },
      });
      const options = (registry as unknown as { client: { options: { accessKeyId: string } } }).client.options;
      expect(options.accessKeyId).toBe('oss-id');
    });

    it('when open.ts is loaded, it imports no cloud SDK and no object-store backend (file: users never load them)', async () => {
      const source = await readFile(fileURLToPath(new URL('../../packages/client/src/partitions/registry/open.ts', import.meta.url)), 'utf8');
      const valueImports = [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gm)].map((m) => m[1]);
      expect(valueImports.sort()).toEqual(['./file-registry.js', 'node:path', 'node:url']);
      for (const lazy of [
        "() => import('@aws-sdk/client-s3')",
        "() => import('ali-oss')",
        "() => import('./s3-registry.js')",
        "await import('./oss-registry.js')",
      ]) {
        expect(source).toContain(lazy);
      }
      const fileRegistrySource = await readFile(
        fileURLToPath(new URL('../../packages/client/src/partitions/registry/file-registry.ts', import.meta.url)),
        'utf8',
      );
      expect(fileRegistrySource).not.toMatch(/@aws-sdk|ali-oss|s3-registry|oss-registry/);
    });
  });
});
