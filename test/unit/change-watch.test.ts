import { setImmediate as oneTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ChangeWatch } from '../../lib/keystore/change-watch.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';

/** A marker whose reads the test answers one by one, recording when each began. */
function scriptedMarker() {
  const reads: Array<{ resolve: (value: string) => void; reject: (err: unknown) => void }> = [];
  return {
    reads,
    marker: {
      read: () => new Promise<string>((resolve, reject) => reads.push({ resolve, reject })),
    },
  };
}

/** A few event-loop turns: enough for a read that is due to have started. */
async function nextTurn(): Promise<void> {
  for (let i = 0; i < 3; i++) await oneTurn();
}

/** Settles once the promise has settled, and says how. */
function state(promise: Promise<unknown>): () => 'pending' | 'resolved' | 'rejected' {
  let now: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (now = 'resolved'),
    () => (now = 'rejected'),
  );
  return () => now;
}

describe('Module: change-watch', () => {
  describe('class ChangeWatch', () => {
    it('when calls come in one event-loop turn, they share one read of the marker, made at the end of that turn', async () => {
      const { marker, reads } = scriptedMarker();
      const watch = new ChangeWatch(marker, () => undefined);
      const calls = [watch.validate(), watch.validate(), watch.validate()];
      expect(reads).toHaveLength(0);
      await oneTurn();
      expect(reads).toHaveLength(1);
      reads[0]!.resolve('1');
      await Promise.all(calls);
      expect(reads).toHaveLength(1);
    });

    it('when a call comes while a read runs, it waits for the next read, which starts only once the running one ended (one in flight)', async () => {
      const { marker, reads } = scriptedMarker();
      const watch = new ChangeWatch(marker, () => undefined);
      const first = watch.validate();
      await nextTurn();
      expect(reads).toHaveLength(1);
      const second = state(watch.validate());
      const third = watch.validate();
      await nextTurn();
      expect(reads).toHaveLength(1);
      reads[0]!.resolve('1');
      await first;
      // The first read began before the second call: it does not answer it.
      expect(second()).toBe('pending');
      await nextTurn();
      expect(reads).toHaveLength(2);
      reads[1]!.resolve('1');
      await third;
      expect(second()).toBe('resolved');
      expect(reads).toHaveLength(2);
    });

    it('when the marker moved since the read before, the caches are dropped before the callers go on; when it did not, they are kept', async () => {
      const { marker, reads } = scriptedMarker();
      const drops: string[] = [];
      const watch = new ChangeWatch(marker, () => drops.push('drop'));
      const answer = async (value: string) => {
        const call = watch.validate();
        await nextTurn();
        reads[reads.length - 1]!.resolve(value);
        await call;
      };
      // The first read: whatever was cached before it is not trusted.
      await answer('7');
      expect(drops).toHaveLength(1);
      await answer('7');
      await answer('7');
      expect(drops).toHaveLength(1);
      await answer('8');
      expect(drops).toHaveLength(2);
      // Any other value is a change, whether it looks larger or not (file markers are random tokens).
      await answer('3');
      expect(drops).toHaveLength(3);
    });

    it('when the marker cannot be read, the callers get the error and the caches are dropped; the next read that succeeds drops them again', async () => {
      const { marker, reads } = scriptedMarker();
      let drops = 0;
      const watch = new ChangeWatch(marker, () => drops++);
      const ok = watch.validate();
      await nextTurn();
      reads[0]!.resolve('1');
      await ok;
      expect(drops).toBe(1);

      const failing = [watch.validate(), watch.validate()];
      await nextTurn();
      const outage = new KeyStoreUnavailableError('network', 'changes', undefined);
      reads[1]!.reject(outage);
      for (const call of failing) await expect(call).rejects.toBe(outage);
      expect(drops).toBe(2);

      // Back, with the same marker as before the outage: a change may have come and gone unseen in between.
      const again = watch.validate();
      await nextTurn();
      reads[2]!.resolve('1');
      await again;
      expect(drops).toBe(3);
    });

    it('when a read fails, the next call starts a fresh read rather than sharing the failure', async () => {
      const { marker, reads } = scriptedMarker();
      const watch = new ChangeWatch(marker, () => undefined);
      const failing = watch.validate();
      await nextTurn();
      reads[0]!.reject(new Error('down'));
      await expect(failing).rejects.toThrow('down');
      const next = watch.validate();
      await nextTurn();
      expect(reads).toHaveLength(2);
      reads[1]!.resolve('2');
      await expect(next).resolves.toBeUndefined();
    });
  });
});

describe('Module: key-store', () => {
  describe('interface KeyStore', () => {
    it('every store says whether it keeps a change marker: one that leaves `changes` out does not type-check (a decorator cannot forget to pass it on)', async () => {
      const inner = new MemoryKeyStore();
      // @ts-expect-error `changes` is required: a ChangeMarker, or undefined for a store that keeps none.
      const forgot: KeyStore = {
        create: (name, value, options) => inner.create(name, value, options),
        get: (name) => inner.get(name),
        update: (name, revision, value) => inner.update(name, revision, value),
        delete: (name, revision) => inner.delete(name, revision),
        destroy: (name) => inner.destroy(name),
        list: (prefix) => inner.list(prefix),
      };
      const none: KeyStore = { ...forgot, changes: undefined };
      const passed: KeyStore = { ...forgot, changes: inner.changes };
      expect(none.changes).toBeUndefined();
      await inner.create('keys/k', Buffer.from('v'), { writeOnce: false });
      expect(await passed.changes?.read()).toBe(await inner.changes.read());
    });
  });
});
