import { describe, expect, it } from 'vitest';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError, WriteOnceViolationError } from '../../lib/keystore/key-store.js';
import { incrementCounter } from './counter.js';

/**
 * The contract of lib/keystore/key-store.ts, run against any backend (after MinIO KES: one shared
 * conformance suite for every key store). `makeStore` must return a fresh, empty store each call.
 */
export function keyStoreConformance(name: string, makeStore: () => Promise<KeyStore>): void {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  describe(`Module: key store conformance (${name})`, () => {
    describe('method create / get', () => {
      it('when an entry is created, get returns its bytes, revision 1 and its kind', async () => {
        const store = await makeStore();
        await store.create('keys/k1', bytes('metadata'), { writeOnce: false });
        await store.create('versions/v1', bytes('material'), { writeOnce: true });
        expect(await store.get('keys/k1')).toEqual({ value: bytes('metadata'), revision: 1, writeOnce: false });
        expect(await store.get('versions/v1')).toEqual({ value: bytes('material'), revision: 1, writeOnce: true });
      });

      it('when the name does not exist, get returns undefined', async () => {
        const store = await makeStore();
        expect(await store.get('keys/absent')).toBeUndefined();
      });

      it('when a value holds every byte value or is empty, it round-trips exactly', async () => {
        const store = await makeStore();
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        await store.create('keys/binary', all, { writeOnce: true });
        await store.create('keys/empty', new Uint8Array(0), { writeOnce: false });
        expect((await store.get('keys/binary'))!.value.equals(all)).toBe(true);
        expect((await store.get('keys/empty'))!.value.length).toBe(0);
      });

      it('when the caller mutates the buffer it passed or got back, the stored value does not change', async () => {
        const store = await makeStore();
        const input = bytes('original');
        await store.create('keys/copy', input, { writeOnce: false });
        input.fill(0);
        const first = await store.get('keys/copy');
        first!.value.fill(0);
        expect((await store.get('keys/copy'))!.value.toString('utf8')).toBe('original');
      });

      it.each([
        ['a mutable entry', false],
        ['a write-once entry', true],
      ])('when the name is taken by %s, create throws EntryExistsError and keeps the first value', async (_kind, writeOnce) => {
        const store = await makeStore();
        await store.create('keys/taken', bytes('first'), { writeOnce });
        for (const again of [false, true]) {
          const error = await store.create('keys/taken', bytes('second'), { writeOnce: again }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(EntryExistsError);
          expect((error as EntryExistsError).entry).toBe('keys/taken');
        }
        expect(await store.get('keys/taken')).toEqual({ value: bytes('first'), revision: 1, writeOnce });
      });

      it.each(['../escape', 'keys/../escape', 'keys/with space', 'keys/ümlaut', ''])(
        'when the name "%s" is not a valid entry name, create refuses it',
        async (bad) => {
          const store = await makeStore();
          await expect(store.create(bad, bytes('x'), { writeOnce: false })).rejects.toThrow();
          expect(await store.list('')).toEqual([]);
        },
      );
    });

    describe('method update', () => {
      it('when the expected revision is current, it replaces the value and returns the next revision', async () => {
        const store = await makeStore();
        await store.create('keys/m', bytes('v1'), { writeOnce: false });
        expect(await store.update('keys/m', 1, bytes('v2'))).toBe(2);
        expect(await store.update('keys/m', 2, bytes('v3'))).toBe(3);
        expect(await store.get('keys/m')).toEqual({ value: bytes('v3'), revision: 3, writeOnce: false });
      });

      it('when the expected revision is stale, it throws RevisionConflictError and keeps the value', async () => {
        const store = await makeStore();
        await store.create('keys/m', bytes('v1'), { writeOnce: false });
        await store.update('keys/m', 1, bytes('v2'));
        const error = await store.update('keys/m', 1, bytes('lost')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect((error as RevisionConflictError).entry).toBe('keys/m');
        await expect(store.update('keys/m', 7, bytes('future'))).rejects.toBeInstanceOf(RevisionConflictError);
        expect(await store.get('keys/m')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
      });

      it('when the entry does not exist, it throws EntryNotFoundError and creates nothing', async () => {
        const store = await makeStore();
        const error = await store.update('keys/none', 1, bytes('x')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EntryNotFoundError);
        expect((error as EntryNotFoundError).entry).toBe('keys/none');
        expect(await store.get('keys/none')).toBeUndefined();
      });

      it('when the entry is write-once, it throws WriteOnceViolationError whatever the revision, and the value never changes', async () => {
        const store = await makeStore();
        await store.create('versions/v', bytes('material'), { writeOnce: true });
        for (const revision of [1, 2, 0]) {
          const error = await store.update('versions/v', revision, bytes('replaced')).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WriteOnceViolationError);
          expect((error as WriteOnceViolationError).entry).toBe('versions/v');
        }
        await expect(store.create('versions/v', bytes('replaced'), { writeOnce: true })).rejects.toBeInstanceOf(EntryExistsError);
        expect(await store.get('versions/v')).toEqual({ value: bytes('material'), revision: 1, writeOnce: true });
      });
    });

    describe('method list', () => {
      it('when entries exist, it returns the names that start with the prefix, in byte order', async () => {
        const store = await makeStore();
        for (const n of ['keys/b', 'keys/a', 'keys/a/v2', 'keys/A', 'aliases/alias/x', 'versions/1']) {
          await store.create(n, bytes(n), { writeOnce: n.startsWith('versions/') });
        }
        expect(await store.list('keys/')).toEqual(['keys/A', 'keys/a', 'keys/a/v2', 'keys/b']);
        expect(await store.list('keys/a')).toEqual(['keys/a', 'keys/a/v2']);
        expect(await store.list('aliases/')).toEqual(['aliases/alias/x']);
        expect(await store.list('ke')).toEqual(['keys/A', 'keys/a', 'keys/a/v2', 'keys/b']);
        expect(await store.list('')).toEqual(['aliases/alias/x', 'keys/A', 'keys/a', 'keys/a/v2', 'keys/b', 'versions/1']);
        expect(await store.list('nothing/')).toEqual([]);
      });

      it('when the store is empty, it returns an empty list', async () => {
        expect(await (await makeStore()).list('keys/')).toEqual([]);
      });
    });

    describe('method delete', () => {
      it('when the revision is current, it removes a mutable entry and the name can be created again', async () => {
        const store = await makeStore();
        await store.create('aliases/a', bytes('k1'), { writeOnce: false });
        await store.update('aliases/a', 1, bytes('k2'));
        await store.delete('aliases/a', 2);
        expect(await store.get('aliases/a')).toBeUndefined();
        expect(await store.list('aliases/')).toEqual([]);
        await store.create('aliases/a', bytes('k3'), { writeOnce: false });
        expect((await store.get('aliases/a'))!.revision).toBe(1);
      });

      it('when the revision is stale, it throws RevisionConflictError and keeps the entry', async () => {
        const store = await makeStore();
        await store.create('aliases/b', bytes('k1'), { writeOnce: false });
        await store.update('aliases/b', 1, bytes('k2'));
        await expect(store.delete('aliases/b', 1)).rejects.toBeInstanceOf(RevisionConflictError);
        expect((await store.get('aliases/b'))!.value.toString('utf8')).toBe('k2');
      });

      it('when the entry is absent, it throws EntryNotFoundError', async () => {
        const store = await makeStore();
        await expect(store.delete('aliases/none', 1)).rejects.toBeInstanceOf(EntryNotFoundError);
      });

      it('when the entry is write-once, it throws WriteOnceViolationError and the material stays', async () => {
        const store = await makeStore();
        await store.create('key-versions/v', bytes('material'), { writeOnce: true });
        await expect(store.delete('key-versions/v', 1)).rejects.toBeInstanceOf(WriteOnceViolationError);
        expect((await store.get('key-versions/v'))!.value.toString('utf8')).toBe('material');
      });
    });

    describe('method destroy', () => {
      it('when the entry is write-once, it is gone afterwards, and destroying again is not an error', async () => {
        const store = await makeStore();
        await store.create('key-versions/k/v', bytes('material'), { writeOnce: true });
        await store.destroy('key-versions/k/v');
        expect(await store.get('key-versions/k/v')).toBeUndefined();
        await store.destroy('key-versions/k/v');
      });

      it('when the entry is mutable, it throws WriteOnceViolationError and keeps it', async () => {
        const store = await makeStore();
        await store.create('keys/m', bytes('metadata'), { writeOnce: false });
        await expect(store.destroy('keys/m')).rejects.toBeInstanceOf(WriteOnceViolationError);
        expect(await store.get('keys/m')).toBeDefined();
      });
    });

    describe('concurrency', () => {
      it('when 20 creates of one name race, exactly one succeeds and the others get EntryExistsError', async () => {
        const store = await makeStore();
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.create('keys/race', bytes(`writer-${i}`), { writeOnce: true }).then(() => i)),
        );
        const winners = results.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled');
        const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const l of losers) expect(l.reason).toBeInstanceOf(EntryExistsError);
        expect((await store.get('keys/race'))!.value.toString('utf8')).toBe(`writer-${winners[0]!.value}`);
      });

      it('when 20 updates race with the same expected revision, exactly one wins', async () => {
        const store = await makeStore();
        await store.create('keys/cas', bytes('0'), { writeOnce: false });
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.update('keys/cas', 1, bytes(`writer-${i}`))));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RevisionConflictError);
        expect((await store.get('keys/cas'))!.revision).toBe(2);
      });

      it('when 20 read-modify-update loops with retry increment one counter, no update is lost (final value 20)', async () => {
        const store = await makeStore();
        await store.create('keys/counter', bytes('0'), { writeOnce: false });
        await Promise.all(Array.from({ length: 20 }, () => incrementCounter(store, 'keys/counter')));
        const final = await store.get('keys/counter');
        expect(final!.value.toString('utf8')).toBe('20');
        expect(final!.revision).toBe(21);
      });
    });
  });
}
