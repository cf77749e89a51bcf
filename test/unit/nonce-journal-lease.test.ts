import { mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextCheck, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { JournaledNonceStore } from '../../lib/keystore/file/nonce-journal.js';

/**
 * The journal's lease: claims that arrive while a batch syncs are decided in the same exclusive
 * section (one cross-process lock for a run of batches), until another process waits for it,
 * which then gets the lock before the holder takes it again.
 */
const directory = () => mkdtemp(join(tmpdir(), 'kms-nonce-lease-'));

/**
 * A section of one process that counts how often it is entered; `contended` is what it tells the
 * work, and `onEntry`, if set, runs once as the next section is entered (its batch already taken).
 */
function countingSection(contended: () => boolean = () => false) {
  const section = Object.assign(
    <T>(work: (contended: () => boolean) => Promise<T>) => {
      section.entered += 1;
      const onEntry = section.onEntry;
      section.onEntry = undefined;
      onEntry?.();
      return work(contended);
    },
    { entered: 0, onEntry: undefined as (() => void) | undefined },
  );
  return section;
}

/** Claims `first`, then, once their batch has been taken and its section entered, `then`: a second batch. */
async function twoBatches(store: JournaledNonceStore, section: ReturnType<typeof countingSection>, first: string[], then: string[], expiresAt: number) {
  const two: Array<Promise<boolean>> = [];
  section.onEntry = () => {
    for (const nonce of then) two.push(store.claim('AK', nonce, expiresAt));
  };
  const one = await Promise.all(first.map((nonce) => store.claim('AK', nonce, expiresAt)));
  return [...one, ...(await Promise.all(two))];
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('Class: JournaledNonceStore, batches that follow one another', () => {
  it('when claims arrive while a batch syncs, they are decided in the same exclusive section, each journaled before it is answered', async () => {
    const path = join(await directory(), 'nonces.journal');
    const section = countingSection();
    const store = await JournaledNonceStore.open(path, Date.now, section);
    const opened = section.entered;
    const expiresAt = Date.now() + 60_000;

    expect(await twoBatches(store, section, ['a'], names('b', 20), expiresAt)).toEqual(Array(21).fill(true));
    expect(section.entered - opened).toBe(1);
    // Both batches are in the file: a restart refuses all of them.
    const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(21);
    const reopened = await JournaledNonceStore.open(path);
    for (const nonce of ['a', ...names('b', 20)]) expect(await reopened.claim('AK', nonce, expiresAt)).toBe(false);
  });

  it('when the second batch repeats a nonce of the first, it is refused as a replay inside the same section', async () => {
    const path = join(await directory(), 'nonces.journal');
    const section = countingSection();
    const store = await JournaledNonceStore.open(path, Date.now, section);
    const expiresAt = Date.now() + 60_000;
    expect(await twoBatches(store, section, ['x', 'y'], ['y', 'z', 'x'], expiresAt)).toEqual([true, true, false, true, false]);
  });

  it('when another process waits for the section (past the least a section runs), or the lease is 0, each batch takes a section of its own', async () => {
    const expiresAt = Date.now() + 60_000;
    for (const [section, options] of [
      [countingSection(() => true), { yieldAfterMs: 0 }],
      [countingSection(), { leaseMs: 0 }],
    ] as const) {
      const path = join(await directory(), 'nonces.journal');
      const store = await JournaledNonceStore.open(path, Date.now, section, options);
      const opened = section.entered;
      expect(await twoBatches(store, section, ['a'], names('b', 5), expiresAt)).toEqual(Array(6).fill(true));
      expect(section.entered - opened).toBe(2);
    }
  });
});

describe('Class: FileKeyStore, a lock held section after section', () => {
  it('when another store waits for the lock, the holder is told, and the waiter takes it before the holder takes it again', async () => {
    const dir = await directory();
    const holder = new FileKeyStore(dir);
    const waiter = new FileKeyStore(dir);
    const order: string[] = [];
    let toldOfWaiter = false;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));

    const first = holder.exclusive('nonces/journal', async (contended) => {
      order.push('holder');
      entered();
      expect(contended()).toBe(false);
      // Work goes on (a run of batches) until a waiter announces itself.
      const deadline = Date.now() + 5_000;
      while (!contended() && Date.now() < deadline) await sleep(2);
      toldOfWaiter = contended();
    });
    await inside;
    const waited = waiter.exclusive('nonces/journal', async () => {
      order.push('waiter');
    });
    await first;
    expect(toldOfWaiter).toBe(true);
    // At once, as the journal's next batch would: the waiter still goes first.
    await holder.exclusive('nonces/journal', async (contended) => {
      order.push('holder again');
      expect(contended()).toBe(false);
    });
    await waited;
    expect(order).toEqual(['holder', 'waiter', 'holder again']);
    // The waiter withdrew its announcement when it took the lock.
    expect((await readdir(join(dir, '.locks'))).filter((f) => f.endsWith('.waiting'))).toEqual([]);
  });

  it('when an announcement is older than a waiter leaves one, or dated ahead (the clock stepped back), the holder is not told, and a clean-up removes it', async () => {
    for (const offsetMs of [-10_000, 3_600_000]) {
      const dir = await directory();
      const store = new FileKeyStore(dir, { staleLockMs: 1_000, lockTimeoutMs: 2_000 });
      let lock = '';
      await store.exclusive('nonces/journal', async () => {
        lock = (await readdir(join(dir, '.locks')))[0] ?? '';
      });
      const announcement = join(dir, '.locks', `${lock}.waiting`);
      await writeFile(announcement, 'a waiter that died');
      const dated = new Date(Date.now() + offsetMs);
      await utimes(announcement, dated, dated);
      await store.exclusive('nonces/journal', async (contended) => {
        expect(contended()).toBe(false);
      });
      await store.removeStaleTemporaryFiles();
      expect(await readdir(join(dir, '.locks'))).toEqual([]);
    }
  });

  it('when the waiter that was let in died and the wall clock steps back, the holder takes the lock again at once', async () => {
    const dir = await directory();
    const store = new FileKeyStore(dir);
    let lock = '';
    await store.exclusive('nonces/journal', async () => {
      lock = (await readdir(join(dir, '.locks')))[0] ?? '';
    });
    // A waiter's fresh announcement, and the waiter gone (killed) before it took the lock.
    await writeFile(join(dir, '.locks', `${lock}.waiting`), 'a waiter that was killed');
    await store.exclusive('nonces/journal', async (contended) => {
      expect(contended()).toBe(true);
    });
    const now = Date.now();
    const stepped = vi.spyOn(Date, 'now').mockImplementation(() => now - 30_000);
    try {
      const started = performance.now();
      await store.exclusive('nonces/journal', async () => undefined);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      stepped.mockRestore();
    }
  });

  it('when two journals share a directory and one claims without pause, the other’s claim is still answered at once, and each refuses the other’s nonces', async () => {
    const dir = await directory();
    const path = join(dir, 'nonces.journal');
    const storeOf = (store: FileKeyStore) => JournaledNonceStore.open(path, Date.now, (work) => store.exclusive('nonces/journal', work));
    const busy = await storeOf(new FileKeyStore(dir));
    const other = await storeOf(new FileKeyStore(dir));
    const expiresAt = Date.now() + 60_000;

    // Claims every check phase for 3 s: batch after batch, each arriving during the last one's sync.
    const busyNonces: string[] = [];
    const answers: Array<Promise<boolean>> = [];
    let running = true;
    const load = (async () => {
      const until = Date.now() + 3_000;
      while (running && Date.now() < until) {
        for (let i = 0; i < 5; i++) {
          const nonce = `busy-${busyNonces.length}`;
          busyNonces.push(nonce);
          answers.push(busy.claim('AK', nonce, expiresAt));
        }
        await nextCheck();
      }
    })();
    await sleep(200);
    const started = Date.now();
    expect(await other.claim('AK', 'other-1', expiresAt)).toBe(true);
    // Without the hand-over the waiter lost every race for the lock until the load ended.
    const waited = Date.now() - started;
    running = false;
    await load;
    expect(waited).toBeLessThan(1_500);
    expect(await Promise.all(answers)).toEqual(busyNonces.map(() => true));

    expect(await busy.claim('AK', 'other-1', expiresAt)).toBe(false);
    for (const nonce of busyNonces.slice(0, 50)) expect(await other.claim('AK', nonce, expiresAt)).toBe(false);
  });

  it('when two journals on one directory both claim without pause, both are answered throughout, none waits long, and no nonce is accepted twice', async () => {
    const dir = await directory();
    const path = join(dir, 'nonces.journal');
    const storeOf = (store: FileKeyStore) => JournaledNonceStore.open(path, Date.now, (work) => store.exclusive('nonces/journal', work));
    const stores = [await storeOf(new FileKeyStore(dir)), await storeOf(new FileKeyStore(dir))];
    const expiresAt = Date.now() + 60_000;
    const waits: number[] = [];
    const accepted: string[] = [];
    const until = Date.now() + 1_500;
    // Each store claims its own nonces and, every tenth, one the other store claims too.
    await Promise.all(
      stores.map(async (store, s) => {
        const inFlight: Array<Promise<void>> = [];
        for (let i = 0; Date.now() < until; i++) {
          for (let k = 0; k < 5; k++) {
            const nonce = (i * 5 + k) % 10 === 0 ? `shared-${i}-${k}` : `own-${s}-${i}-${k}`;
            const started = performance.now();
            inFlight.push(
              store.claim('AK', nonce, expiresAt).then((fresh) => {
                waits.push(performance.now() - started);
                if (fresh) accepted.push(nonce);
              }),
            );
          }
          await nextCheck();
        }
        await Promise.all(inFlight);
      }),
    );
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(waits.length).toBeGreaterThan(100);
    // Taking turns a run of batches each, with the lock handed over at once: no claim waits a pause of the other's.
    expect(Math.max(...waits)).toBeLessThan(1_000);
  });
});
