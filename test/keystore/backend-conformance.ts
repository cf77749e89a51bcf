import { describe, expect, it } from 'vitest';
import { EntryExistsError } from '../../lib/keystore/key-store.js';
import type { StateBackend } from '../../lib/keystore/backend.js';
import { incrementCounter } from './counter.js';

/**
 * What every state backend promises when several instances share it (two processes, two Lambda
 * containers, two gateways): a write through one is read through the other at once, their
 * compare-and-swap writes never lose an update, and a nonce claimed through one is refused by the
 * other. `openPair` opens two instances on one fresh, empty engine namespace; both are closed after.
 */
export function stateBackendConformance(name: string, openPair: () => Promise<{ a: StateBackend; b: StateBackend }>): void {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  const withPair = async (test: (a: StateBackend, b: StateBackend) => Promise<void>) => {
    const { a, b } = await openPair();
    try {
      await test(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  };

  describe(`Module: state backend conformance, two instances (${name})`, () => {
    it('when an entry is created, updated and deleted through one instance, the other reads each change at once', () =>
      withPair(async (a, b) => {
        await a.store.create('keys/shared', bytes('v1'), { writeOnce: false });
        expect((await b.store.get('keys/shared'))!.value.toString()).toBe('v1');
        const revision = await b.store.update('keys/shared', 1, bytes('v2'));
        expect(await a.store.get('keys/shared')).toMatchObject({ revision, value: bytes('v2') });
        await a.store.create('versions/m1', bytes('material'), { writeOnce: true });
        expect(await b.store.list('versions/')).toEqual(['versions/m1']);
        await a.store.delete('keys/shared', revision);
        expect(await b.store.get('keys/shared')).toBeUndefined();
      }));

    it('when a mutable entry is created, updated or deleted through one instance, the change marker read through the other has moved by the time the write returns; nothing else moves it', () =>
      withPair(async (a, b) => {
        expect(a.store.changes).toBeDefined();
        const marker = () => b.store.changes!.read();
        let last = await marker();
        const moves = async (write: () => Promise<unknown>) => {
          await write();
          const now = await marker();
          expect(now).not.toBe(last);
          last = now;
        };
        const keeps = async (write: () => Promise<unknown>) => {
          await write().catch(() => undefined);
          expect(await marker()).toBe(last);
        };
        await moves(() => a.store.create('keys/m', bytes('v1'), { writeOnce: false }));
        await moves(() => a.store.update('keys/m', 1, bytes('v2')));
        await moves(() => b.store.update('keys/m', 2, bytes('v3')));
        await keeps(() => a.store.create('key-versions/k/v', bytes('material'), { writeOnce: true }));
        await keeps(() => a.store.get('keys/m'));
        await keeps(() => a.store.list(''));
        await keeps(() => a.store.destroy('key-versions/k/v'));
        // Refused writes change nothing.
        await keeps(() => a.store.create('keys/m', bytes('again'), { writeOnce: false }));
        await keeps(() => a.store.update('keys/m', 1, bytes('stale')));
        await keeps(() => a.store.delete('keys/none', 1));
        await moves(() => a.store.delete('keys/m', 3));
      }));

    it('when both instances write mutable entries at once, each write moves the marker: once it returns, the marker differs from what was read before it began', () =>
      withPair(async (a, b) => {
        await a.store.create('keys/shared', bytes('0'), { writeOnce: false });
        await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            const [writer, reader] = i % 2 ? [a, b] : [b, a];
            const before = await reader.store.changes!.read();
            if (i % 3 === 0) await incrementCounter(writer.store, 'keys/shared');
            else await writer.store.create(`aliases/a${i}`, bytes(String(i)), { writeOnce: false });
            expect(await reader.store.changes!.read()).not.toBe(before);
          }),
        );
      }));

    it('when both instances create one name at once, exactly one wins', () =>
      withPair(async (a, b) => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).store.create('keys/race', bytes(`w${i}`), { writeOnce: true })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(EntryExistsError);
      }));

    it('when both instances increment one counter with compare-and-swap, no update is lost', () =>
      withPair(async (a, b) => {
        await a.store.create('keys/counter', bytes('0'), { writeOnce: false });
        await Promise.all(Array.from({ length: 20 }, (_, i) => incrementCounter((i % 2 ? a : b).store, 'keys/counter')));
        expect((await b.store.get('keys/counter'))!.value.toString()).toBe('20');
      }));

    it('when a nonce is claimed through one instance, the other refuses it; another key or nonce is fresh', () =>
      withPair(async (a, b) => {
        const expiresAt = Date.now() + 60_000;
        expect(await a.nonces.claim('AK1', 'n-1', expiresAt)).toBe(true);
        expect(await b.nonces.claim('AK1', 'n-1', expiresAt)).toBe(false);
        expect(await a.nonces.claim('AK1', 'n-1', expiresAt)).toBe(false);
        expect(await b.nonces.claim('AK2', 'n-1', expiresAt)).toBe(true);
        expect(await b.nonces.claim('AK1', 'n-2', expiresAt)).toBe(true);
      }));

    it('when both instances claim the same nonces at once, each nonce is granted exactly once', () =>
      withPair(async (a, b) => {
        const expiresAt = Date.now() + 60_000;
        const nonces = Array.from({ length: 25 }, (_, i) => `race-${i}`);
        const results = await Promise.all(
          nonces.flatMap((n) => [a.nonces.claim('AK', n, expiresAt), b.nonces.claim('AK', n, expiresAt), a.nonces.claim('AK', n, expiresAt)]),
        );
        for (let i = 0; i < nonces.length; i++) expect(results.slice(i * 3, i * 3 + 3).filter(Boolean)).toHaveLength(1);
      }));

    it('when a claim has expired, the nonce may be claimed again', { timeout: 15_000 }, () =>
      withPair(async (a, b) => {
        expect(await a.nonces.claim('AK', 'short', Date.now() + 1_000)).toBe(true);
        expect(await b.nonces.claim('AK', 'short', Date.now() + 60_000)).toBe(false);
        // Backends may keep expiry in whole seconds (DynamoDB's TTL): past it by more than two.
        await new Promise((resolve) => setTimeout(resolve, 3_100));
        expect(await b.nonces.claim('AK', 'short', Date.now() + 60_000)).toBe(true);
        expect(await a.nonces.claim('AK', 'short', Date.now() + 60_000)).toBe(false);
      }),
    );

    it('when nonces are long, or hold characters a key or a file name could not, they are still told apart', () =>
      withPair(async (a, b) => {
        const expiresAt = Date.now() + 60_000;
        const odd = ['a/b', 'a\\b', "it's", 'x'.repeat(128), `${'y'.repeat(127)}z`, '%00', 'ü'];
        for (const n of odd) expect(await a.nonces.claim('AK', n, expiresAt)).toBe(true);
        for (const n of odd) expect(await b.nonces.claim('AK', n, expiresAt)).toBe(false);
      }));
  });
}
