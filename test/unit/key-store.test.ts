import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { openFileBackend } from '../../lib/keystore/file/file-backend.js';
import { stateBackendConformance } from '../keystore/backend-conformance.js';
import { keyStoreConformance } from '../keystore/conformance.js';
import { incrementCounter } from '../keystore/counter.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('../fixtures/keystore-worker.ts', import.meta.url));

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-keystore-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Every file and directory under `dir` (relative path → stat), hidden ones included. */
async function walk(dir: string, prefix = ''): Promise<Map<string, { mode: number; isDirectory: boolean }>> {
  const out = new Map<string, { mode: number; isDirectory: boolean }>();
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const s = await stat(path);
    out.set(`${prefix}${name}`, { mode: s.mode & 0o777, isDirectory: s.isDirectory() });
    if (s.isDirectory()) for (const [k, v] of await walk(path, `${prefix}${name}/`)) out.set(k, v);
  }
  return out;
}

const lockPath = (dir: string, name: string) => join(dir, '.locks', createHash('sha256').update(name).digest('hex'));

keyStoreConformance('MemoryKeyStore', async () => new MemoryKeyStore());
keyStoreConformance('FileKeyStore', async () => new FileKeyStore(await tempDir()));
stateBackendConformance('file (two instances on one data directory)', async () => {
  const dir = await tempDir();
  return { a: await openFileBackend(dir), b: await openFileBackend(dir) };
});

describe('Module: file-store', () => {
  describe('class FileKeyStore', () => {
    it('when entries are written, files are mode 0600 and directories 0700 (the store root included)', async () => {
      const root = join(await tempDir(), 'store');
      const store = new FileKeyStore(root);
      await store.create('keys/k', Buffer.from('m'), { writeOnce: false });
      await store.create('versions/v', Buffer.from('x'), { writeOnce: true });
      await store.update('keys/k', 1, Buffer.from('m2'));
      expect((await stat(root)).mode & 0o777).toBe(0o700);
      const tree = await walk(root);
      expect([...tree.keys()].sort()).toEqual(['.changes', '.changes/marker', '.locks', 'keys', 'keys/k', 'versions', 'versions/v']);
      for (const [path, entry] of tree) expect([path, entry.mode]).toEqual([path, entry.isDirectory ? 0o700 : 0o600]);
    });

    it('when names have several segments, each entry is one file <namespace>/<rest with "/" as "!">', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('aliases/alias/team/app', Buffer.from('k'), { writeOnce: false });
      expect(await readdir(join(dir, 'aliases'))).toEqual(['alias!team!app']);
      expect(await store.list('aliases/')).toEqual(['aliases/alias/team/app']);
    });

    it('when creates, failed creates, updates and failed updates are done, no temporary file or lock is left behind (the change marker is one file)', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/a', Buffer.from('1'), { writeOnce: false });
      await store.create('keys/a', Buffer.from('2'), { writeOnce: false }).catch(() => undefined);
      await store.create('versions/v', Buffer.from('m'), { writeOnce: true });
      await store.update('versions/v', 1, Buffer.from('x')).catch(() => undefined);
      await store.update('keys/a', 1, Buffer.from('3'));
      await store.update('keys/a', 1, Buffer.from('4')).catch(() => undefined);
      await Promise.all(Array.from({ length: 10 }, () => incrementCounter(store, 'keys/a')));
      await Promise.allSettled(Array.from({ length: 10 }, () => store.create('keys/race', Buffer.from('r'), { writeOnce: true })));
      const files = [...(await walk(dir)).entries()].filter(([, e]) => !e.isDirectory).map(([p]) => p);
      expect(files.sort()).toEqual(['.changes/marker', 'keys/a', 'keys/race', 'versions/v']);
    });

    it('when another instance opens the same directory, it reads what the first wrote', async () => {
      const dir = await tempDir();
      await new FileKeyStore(dir).create('keys/p', Buffer.from('persisted'), { writeOnce: true });
      expect(await new FileKeyStore(dir).get('keys/p')).toEqual({ value: Buffer.from('persisted'), revision: 1, writeOnce: true });
    });

    it('when two instances on one directory (two processes, simulated) race increments, nothing is lost', async () => {
      const dir = await tempDir();
      const a = new FileKeyStore(dir);
      const b = new FileKeyStore(dir);
      await a.create('keys/counter', Buffer.from('0'), { writeOnce: false });
      await Promise.all([
        ...Array.from({ length: 15 }, () => incrementCounter(a, 'keys/counter')),
        ...Array.from({ length: 15 }, () => incrementCounter(b, 'keys/counter')),
      ]);
      const final = await new FileKeyStore(dir).get('keys/counter');
      expect(final!.value.toString()).toBe('30');
      expect(final!.revision).toBe(31);
    });

    it('when two instances race creates of one write-once name, exactly one wins', async () => {
      const dir = await tempDir();
      const stores = [new FileKeyStore(dir), new FileKeyStore(dir)];
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => stores[i % 2]!.create('versions/v', Buffer.from(`w${i}`), { writeOnce: true })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('when a real second process increments the same entry concurrently, the final count has every increment', { timeout: 120_000 }, async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/counter', Buffer.from('0'), { writeOnce: false });
      const PER_PROCESS = 40;
      const child = spawn('npx', ['tsx', WORKER, dir, 'keys/counter', String(PER_PROCESS)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      try {
        // Start together: the worker waits for "go" once it has loaded.
        while (!stdout.includes('ready')) {
          if (child.exitCode !== null) throw new Error(`worker exited early: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        child.stdin.write('go\n');
        for (let i = 0; i < PER_PROCESS; i++) await incrementCounter(store, 'keys/counter');
        const [code] = await exited;
        expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      } finally {
        if (child.exitCode === null) child.kill();
      }
      expect(stdout).toMatch(/done \d+/);
      const final = await store.get('keys/counter');
      expect(final!.value.toString()).toBe(String(2 * PER_PROCESS));
      expect(final!.revision).toBe(2 * PER_PROCESS + 1);
    });

    it('when a lock file is stale (mtime 60 s ago), it is broken and the update succeeds', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/locked', Buffer.from('before'), { writeOnce: false });
      await store.update('keys/locked', 1, Buffer.from('creates the lock dir'));
      const lock = lockPath(dir, 'keys/locked');
      await writeFile(lock, '999999\n', { mode: 0o600 });
      const past = new Date(Date.now() - 60_000);
      await utimes(lock, past, past);
      const started = Date.now();
      expect(await store.update('keys/locked', 2, Buffer.from('after'))).toBe(3);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await store.get('keys/locked'))!.value.toString()).toBe('after');
      await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('when many writers find the same stale lock at once, exactly one of them wins each compare-and-swap (30 trials)', async () => {
      for (let trial = 0; trial < 30; trial++) {
        const dir = await tempDir();
        const first = new FileKeyStore(dir);
        await first.create('keys/k', Buffer.from('0'), { writeOnce: false });
        await first.update('keys/k', 1, Buffer.from('creates the lock dir'));
        const lock = lockPath(dir, 'keys/k');
        await writeFile(lock, 'a writer that died\n', { mode: 0o600 });
        const past = new Date(Date.now() - 60_000);
        await utimes(lock, past, past);
        // Separate instances: no in-process queue between them, as with separate processes.
        const writers = Array.from({ length: 8 }, () => new FileKeyStore(dir));
        const results = await Promise.allSettled(writers.map((w, i) => w.update('keys/k', 2, Buffer.from(`writer ${i}`))));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect((await first.get('keys/k'))!.revision).toBe(3);
        await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
      }
    });

    it('when a lock file is fresh (another writer holds it), the update waits until it is released', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/held', Buffer.from('before'), { writeOnce: false });
      await store.update('keys/held', 1, Buffer.from('creates the lock dir'));
      const lock = lockPath(dir, 'keys/held');
      await writeFile(lock, '999999\n', { mode: 0o600 });
      let done = false;
      const update = store.update('keys/held', 2, Buffer.from('after')).then((r) => {
        done = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(done).toBe(false);
      expect((await store.get('keys/held'))!.value.toString()).toBe('creates the lock dir');
      await rm(lock);
      expect(await update).toBe(3);
      expect((await readFile(join(dir, 'keys', 'held'), 'utf8')).includes('"revision":3')).toBe(true);
    });
  });
});
