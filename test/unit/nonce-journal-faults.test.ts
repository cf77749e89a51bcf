import * as realFs from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * Disk faults under the nonce journal, injected at write(2)/open(2): the journal must fail closed
 * (503, the claim withdrawn) and never leave a line that loses or forges a nonce at the next start.
 */
const faults = vi.hoisted(() => ({
  /** Bytes the next write(2) accepts before the disk is "full"; undefined: no fault. */
  acceptBytes: undefined as number | undefined,
  openError: undefined as string | undefined,
  syncError: undefined as string | undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...fs,
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      if (faults.openError) throw errno(faults.openError);
      return fs.openSync(...args);
    },
    fdatasync: (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      if (faults.syncError) return setImmediate(() => callback(errno(faults.syncError!)));
      return fs.fdatasync(fd, callback);
    },
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      if (faults.acceptBytes === undefined) return fs.writeSync(...args);
      const [fd, buffer, offset = 0, length = (buffer as Buffer).length - (offset as number)] = args as unknown as [number, Buffer, number?, number?];
      if (faults.acceptBytes === 0) throw errno('ENOSPC');
      const n = Math.min(length, faults.acceptBytes);
      faults.acceptBytes -= n;
      return fs.writeSync(fd, buffer, offset, n);
    },
  };
});

const { JournaledNonceStore, MAX_JOURNAL_LINE_CHARS } = await import('../../lib/keystore/file/nonce-journal.js');
const { ServiceUnavailableError } = await import('../../lib/errors.js');

const journal = async () => join(await mkdtemp(join(tmpdir(), 'kms-nonce-faults-')), 'nonces.journal');

/** After a restart: the nonces of `used` are refused, those of `retriable` (never served) accepted. */
async function expectAfterRestart(path: string, expiresAt: number, used: string[], retriable: string[]): Promise<void> {
  const reopened = await JournaledNonceStore.open(path);
  for (const nonce of used) expect(await reopened.claim('AK', nonce, expiresAt), nonce).toBe(false);
  for (const nonce of retriable) expect(await reopened.claim('AK', nonce, expiresAt), nonce).toBe(true);
}

afterEach(() => {
  faults.acceptBytes = undefined;
  faults.openError = undefined;
  faults.syncError = undefined;
});

describe('Class: JournaledNonceStore, under disk faults', () => {
  it('when a write is cut short (disk full), the claim fails with 503, and after a restart the next lines are intact', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path);
    expect(await store.claim('AK', 'before', expiresAt)).toBe(true);

    faults.acceptBytes = 12;
    await expect(store.claim('AK', 'cut-short-nonce', expiresAt)).rejects.toBeInstanceOf(ServiceUnavailableError);
    faults.acceptBytes = undefined;

    // The disk has room again: a new claim is journaled whole, not glued to the cut line.
    expect(await store.claim('AK', 'after', expiresAt)).toBe(true);
    // The cut-short claim was never served, so its request may be retried.
    await expectAfterRestart(path, expiresAt, ['before', 'after'], ['cut-short-nonce']);
  });

  it('when the disk accepts nothing, every claim of the batch fails with 503 and none is remembered', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path);
    faults.acceptBytes = 0;
    const results = await Promise.allSettled([store.claim('AK', 'a', expiresAt), store.claim('AK', 'b', expiresAt)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);
    faults.acceptBytes = undefined;
    expect(await store.claim('AK', 'a', expiresAt)).toBe(true);
  });

  it.each(['EROFS', 'EACCES', 'EIO'])('when the journal cannot be opened for appending (%s), claims fail closed with 503', async (code) => {
    const path = await journal();
    const store = await JournaledNonceStore.open(path);
    faults.openError = code;
    await expect(store.claim('AK', 'n', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it.each(['EIO', 'ENOSPC'])('when the sync after the append fails (%s), the claim fails with 503 and is withdrawn', async (code) => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path);
    faults.syncError = code;
    await expect(store.claim('AK', 'unsynced', expiresAt)).rejects.toBeInstanceOf(ServiceUnavailableError);
    faults.syncError = undefined;
    expect(await store.claim('AK', 'unsynced', expiresAt)).toBe(true);
  });

  it('when another process on the same journal compacts it (renames a new file over it), this one keeps appending to the live file', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const first = await JournaledNonceStore.open(path);
    expect(await first.claim('AK', 'before', expiresAt)).toBe(true);
    // A second process starts on the same directory: it loads and compacts (rename over the file).
    await JournaledNonceStore.open(path);
    expect(await first.claim('AK', 'after-compaction', expiresAt)).toBe(true);
    const restarted = await JournaledNonceStore.open(path);
    expect(await restarted.claim('AK', 'before', expiresAt)).toBe(false);
    expect(await restarted.claim('AK', 'after-compaction', expiresAt)).toBe(false);
  });

  it('when the disk is read-only at start, the journal still opens (and compaction leaves no temporary file)', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    await writeFile(path, `${expiresAt}\tAK\tlive\n`);
    faults.openError = 'EROFS';
    const store = await JournaledNonceStore.open(path);
    expect(await readdir(join(path, '..'))).toEqual(['nonces.journal']);
    faults.openError = undefined;
    expect(await store.claim('AK', 'live', expiresAt)).toBe(false);
  });
});

describe('Class: JournaledNonceStore, bounded footprint', () => {
  it('when a nonce or access key id is huge, its journal line stays within the line bound, and it is still refused once used', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path);
    const huge = 'n'.repeat(60_000);
    expect(await store.claim('A'.repeat(5_000), huge, expiresAt)).toBe(true);
    const text = await readFile(path, 'utf8');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(MAX_JOURNAL_LINE_CHARS);
    const reopened = await JournaledNonceStore.open(path);
    expect(await reopened.claim('A'.repeat(5_000), huge, expiresAt)).toBe(false);
    expect(await reopened.claim('A'.repeat(5_000), `${huge}x`, expiresAt)).toBe(true);
  });

  it('when the journal holds a line of 20 MB without a newline and over-long lines, it opens, skipping them, and keeps the good lines', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const fd = realFs.openSync(path, 'w');
    realFs.writeSync(fd, `${expiresAt}\tAK\tgood1\n`);
    realFs.writeSync(fd, `${expiresAt}\tAK\t${'x'.repeat(MAX_JOURNAL_LINE_CHARS)}\n`);
    realFs.writeSync(fd, `${expiresAt}\tAK\tgood2\n`);
    const chunk = 'y'.repeat(1 << 20);
    for (let i = 0; i < 20; i++) realFs.writeSync(fd, chunk);
    realFs.closeSync(fd);
    const store = await JournaledNonceStore.open(path);
    expect(await store.claim('AK', 'good1', expiresAt)).toBe(false);
    expect(await store.claim('AK', 'good2', expiresAt)).toBe(false);
    expect((await readFile(path, 'utf8')).length).toBeLessThan(1_000);
  });

  it('when a batch fails in a run of batches sharing one section, only its claims fail with 503; the batch before stays journaled, and the next section works', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    let onEntry: (() => void) | undefined;
    const store = await JournaledNonceStore.open(path, Date.now, (work) => {
      const entered = onEntry;
      onEntry = undefined;
      entered?.();
      return work(() => false);
    });
    let second: Array<Promise<boolean>> = [];
    onEntry = () => {
      // The first batch ('a') is taken; these form the next, decided in the same section, and the
      // disk is full after the first batch's bytes.
      second = ['b', 'c'].map((nonce) => store.claim('AK', nonce, expiresAt));
      faults.acceptBytes = Buffer.byteLength(`\n${expiresAt}\tAK\ta\n`);
    };
    expect(await store.claim('AK', 'a', expiresAt)).toBe(true);
    const results = await Promise.allSettled(second);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);

    faults.acceptBytes = undefined;
    expect(await store.claim('AK', 'd', expiresAt)).toBe(true);
    // b and c were never served, so their requests may be retried.
    await expectAfterRestart(path, expiresAt, ['a', 'd'], ['b', 'c']);
  });
});
