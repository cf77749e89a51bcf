import { mkdtemp, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The journal's compaction while claims go on: it copies the journal beside the batches and holds
 * them up only to copy what was appended meanwhile and put the copy in place. Its first step is
 * held at a gate here (its reads go through an open descriptor, the catch-ups' through the path),
 * so what happens meanwhile is decided, not raced.
 */
const faults = vi.hoisted(() => ({
  /** While set, the next compaction's first step waits for it. */
  gate: undefined as Promise<void> | undefined,
  /** Opening a file whose name contains this fails (EROFS). */
  failOpening: undefined as string | undefined,
  /** Writes to a descriptor of a file whose name contains this fail (ENOSPC). */
  failWritingTo: undefined as string | undefined,
  /** Descriptors open for writing, by file name. */
  names: new Map<number, string>(),
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...fs,
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      const name = String(args[0]);
      if (faults.failOpening && name.includes(faults.failOpening)) throw errno('EROFS');
      const fd = fs.openSync(...args);
      faults.names.set(fd, name);
      return fd;
    },
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      const name = faults.names.get(args[0] as number) ?? '';
      if (faults.failWritingTo && name.includes(faults.failWritingTo)) throw errno('ENOSPC');
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
    createReadStream: (path: string, options: { fd?: number } & Record<string, unknown>) => {
      const stream = fs.createReadStream(path, options as never);
      // Only the first step's read, from the start of the file (the second copies from where it ended).
      if (typeof options?.fd !== 'number' || options.start !== 0 || faults.gate === undefined) return stream;
      // One read held per gate: a compaction started later (another process's) reads at once.
      const gate = faults.gate;
      faults.gate = undefined;
      return Readable.from(
        (async function* () {
          await gate;
          yield* stream;
        })(),
      );
    },
  };
});

const { JournaledNonceStore } = await import('../../lib/keystore/file/nonce-journal.js');
import type { ExclusiveSection } from '../../lib/keystore/file/nonce-journal.js';

const journal = async () => join(await mkdtemp(join(tmpdir(), 'kms-nonce-compaction-')), 'nonces.journal');
const liveNonces = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[2])
    .sort();
const leftovers = async (path: string) => (await readdir(dirname(path))).filter((name) => name.startsWith(`${basename(path)}.tmp-`));

function gate(): () => void {
  let open!: () => void;
  faults.gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    faults.gate = undefined;
    open();
  };
}

/** Claims `nonces` in one turn (one batch); each must be fresh. */
async function claimAll(store: { claim(a: string, n: string, e: number): Promise<boolean> }, nonces: string[], expiresAt: number): Promise<void> {
  expect(await Promise.all(nonces.map((nonce) => store.claim('AK', nonce, expiresAt)))).toEqual(nonces.map(() => true));
}

/** One exclusive section for stores that share a journal, as the file store's cross-process lock is. */
function sharedSection(): ExclusiveSection {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const turn = tail.then(() => work(() => false));
    tail = turn.catch(() => undefined);
    return turn;
  };
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

afterEach(() => {
  faults.gate = undefined;
  faults.failOpening = undefined;
  faults.failWritingTo = undefined;
});

describe('Class: JournaledNonceStore, compaction beside the batches', () => {
  it('when a compaction is copying the journal, claims are answered without waiting for it, and none of them is lost by it', async () => {
    const path = await journal();
    let now = 1_000_000;
    const store = await JournaledNonceStore.open(path, () => now, undefined, { compactAfterLines: 10 });
    await claimAll(store, names('short', 5), now + 1_000);
    await claimAll(store, names('long', 5), now + 60_000);
    expect(store.compaction).toBeUndefined();
    now += 2_000; // the `short` ones have expired when the compaction starts
    // 11 lines > 10: the batch that wrote the 11th started a compaction, held at its first step.
    const release = gate();
    await claimAll(store, names('trigger', 1), now + 60_000);
    const compaction = store.compaction;
    expect(compaction).toBeDefined();
    // Nothing has been copied yet; these are answered all the same, one batch after another.
    for (const nonce of names('during', 5)) expect(await store.claim('AK', nonce, now + 60_000)).toBe(true);
    expect(await store.claim('AK', 'during-000', now + 60_000)).toBe(false);
    expect(store.compaction).toBe(compaction);

    release();
    await compaction;
    expect(store.compaction).toBeUndefined();
    expect(await liveNonces(path)).toEqual([...names('during', 5), ...names('long', 5), ...names('trigger', 1)]);
    expect(await leftovers(path)).toEqual([]);

    // The live file is the one appended to from now on, and a restart refuses every live nonce.
    expect(await store.claim('AK', 'after', now + 60_000)).toBe(true);
    const restarted = await JournaledNonceStore.open(path, () => now);
    for (const nonce of [...names('long', 5), ...names('during', 5), 'trigger-000', 'after'])
      expect(await restarted.claim('AK', nonce, now + 60_000)).toBe(false);
    expect(await restarted.claim('AK', 'short-000', now + 60_000)).toBe(true);
  });

  it('when another process compacts the journal while this one copies it, its file stands, and no nonce of either is lost', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const first = await JournaledNonceStore.open(path, Date.now, undefined, { compactAfterLines: 10 });
    await claimAll(first, names('first', 10), expiresAt);
    expect(first.compaction).toBeUndefined();
    const release = gate();
    await claimAll(first, names('trigger', 1), expiresAt);
    const compaction = first.compaction;
    expect(compaction).toBeDefined();

    // The other process starts (it compacts at start: a new file renamed over the journal) and claims.
    const second = await JournaledNonceStore.open(path);
    expect(await second.claim('AK', 'second', expiresAt)).toBe(true);
    release();
    await compaction;
    expect(await leftovers(path)).toEqual([]);

    expect(await first.claim('AK', 'first-after', expiresAt)).toBe(true);
    expect(await first.claim('AK', 'second', expiresAt)).toBe(false);
    const restarted = await JournaledNonceStore.open(path);
    for (const nonce of [...names('first', 10), 'trigger-000', 'second', 'first-after']) expect(await restarted.claim('AK', nonce, expiresAt)).toBe(false);
  });

  it('when two processes share a journal, a file one of them compacted is not compacted again at once by the other', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const exclusive = sharedSection();
    const stores = [
      await JournaledNonceStore.open(path, Date.now, exclusive, { compactAfterLines: 100 }),
      await JournaledNonceStore.open(path, Date.now, exclusive, { compactAfterLines: 100 }),
    ];
    let rewrites = 0;
    let ino = (await stat(path).catch(() => undefined))?.ino;
    for (let b = 0; b < 400; b++) {
      const store = stores[b % 2]!;
      await claimAll(store, names(`b${b}`, 5), expiresAt);
      await store.compaction;
      const now = (await stat(path)).ino;
      if (now !== ino) rewrites++;
      ino = now;
    }
    // 2,000 live lines: compacted when the journal doubles (after 100, 200, 400, …), not at every batch.
    expect(rewrites).toBeLessThanOrEqual(10);
    const restarted = await JournaledNonceStore.open(path);
    for (let b = 0; b < 400; b += 37) expect(await restarted.claim('AK', `b${b}-000`, expiresAt)).toBe(false);
  });

  it("when the journal is removed under a running process, its lines are put back from the file the process has open, another process's too", async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const exclusive = sharedSection();
    const store = await JournaledNonceStore.open(path, Date.now, exclusive);
    const other = await JournaledNonceStore.open(path, Date.now, exclusive);
    await claimAll(store, names('before', 5), expiresAt);
    // Appended by the other process after this one last read the file.
    await claimAll(other, names('other', 5), expiresAt);
    await unlink(path);
    await claimAll(store, names('after', 5), expiresAt);
    for (const nonce of names('other', 5)) expect(await store.claim('AK', nonce, expiresAt)).toBe(false);
    const restarted = await JournaledNonceStore.open(path);
    for (const nonce of [...names('before', 5), ...names('other', 5), ...names('after', 5)]) expect(await restarted.claim('AK', nonce, expiresAt)).toBe(false);
    expect(await leftovers(path)).toEqual([]);
  });

  it.each([
    ['it was opened and has appended nothing yet', async (path: string) => JournaledNonceStore.open(path)],
    [
      'its own compaction has just replaced the file',
      async (path: string) => {
        const store = await JournaledNonceStore.open(path, Date.now, undefined, { compactAfterLines: 5 });
        await claimAll(store, names('more', 4), Date.now() + 60_000);
        expect(store.compaction).toBeDefined();
        await store.compaction;
        return store;
      },
    ],
  ])('when the journal is removed just after %s, the process still puts its lines back', async (_, ready) => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const first = await JournaledNonceStore.open(path);
    await claimAll(first, names('earlier', 3), expiresAt);
    const store = await ready(path);
    await unlink(path);
    await claimAll(store, names('after', 2), expiresAt);
    const restarted = await JournaledNonceStore.open(path);
    for (const nonce of [...names('earlier', 3), ...names('after', 2)]) expect(await restarted.claim('AK', nonce, expiresAt)).toBe(false);
  });

  it.each([
    ['its new file cannot be created (read-only disk)', () => (faults.failOpening = '.tmp-')],
    ['its new file cannot be written (disk full)', () => (faults.failWritingTo = '.tmp-')],
  ])('when %s, the journal stays as it was, claims go on, and the next attempt waits for as many lines again', async (_, fault) => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path, Date.now, undefined, { compactAfterLines: 10 });
    await claimAll(store, names('a', 10), expiresAt);
    fault();
    await claimAll(store, names('trigger', 1), expiresAt);
    await store.compaction;
    expect(await leftovers(path)).toEqual([]);
    expect(await liveNonces(path)).toEqual([...names('a', 10), 'trigger-000']);

    // 11 lines at the failed attempt: none is started again before 22.
    faults.failOpening = undefined;
    faults.failWritingTo = undefined;
    await claimAll(store, names('b', 10), expiresAt);
    expect(store.compaction).toBeUndefined();
    await claimAll(store, names('c', 2), expiresAt);
    expect(store.compaction).toBeDefined();
    await store.compaction;
    expect((await liveNonces(path)).length).toBe(23);
    const restarted = await JournaledNonceStore.open(path);
    for (const nonce of [...names('a', 10), ...names('b', 10), ...names('c', 2)]) expect(await restarted.claim('AK', nonce, expiresAt)).toBe(false);
  });
});
