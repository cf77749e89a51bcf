import { afterEach, describe, expect, it, vi } from 'vitest';
import { type KmsApi, openPartitionKeys, type PartitionEntry, type PartitionRegistry } from '@alibaba-kms-compatible/client';

/*
 * The data-key cache's lifetime: close() while a key is being loaded loads nothing more and leaves
 * no key in memory; a key past its TTL is never used again, even before its timer has run.
 */

const KEY_B64 = Buffer.alloc(32, 0x5a).toString('base64');

const entry: PartitionEntry = {
  partitionId: 'p1',
  keyId: 'k',
  keyVersionId: 'v',
  ciphertextBlob: 'blob',
  encryptionContext: { partition: 'p1' },
  createdAt: new Date().toISOString(),
};
const registry: PartitionRegistry = {
  url: 'mem:',
  create: async () => 'existing',
  get: async (id) => (id === 'p1' ? entry : undefined),
  list: async () => ['p1'],
};

afterEach(() => vi.restoreAllMocks());

describe('review: openPartitionKeys close() racing a load', () => {
  it('after close() returns, an in-flight encryptRecord must not decrypt the key again nor leave it cached unzeroed', async () => {
    let decrypts = 0;
    const pending: Array<() => void> = [];
    const kms: KmsApi = {
      call: async (action) => {
        expect(action).toBe('Decrypt');
        decrypts += 1;
        if (decrypts === 1) await new Promise<void>((r) => pending.push(r)); // the first Decrypt is slow
        return { Plaintext: KEY_B64 };
      },
    };
    const made: Buffer[] = [];
    const realFrom = Buffer.from.bind(Buffer) as (...a: unknown[]) => Buffer;
    vi.spyOn(Buffer, 'from').mockImplementation(((...args: unknown[]) => {
      const b = realFrom(...args);
      if (args[0] === KEY_B64 && args[1] === 'base64') made.push(b);
      return b;
    }) as never);

    const keys = openPartitionKeys({ accessKeyId: 'a', accessKeySecret: 'b', registry, kms, cacheTtlMs: 60 * 60_000 });
    const inFlight = keys.encryptRecord('p1', 'written after close?');
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    keys.close();
    pending[0]!();
    const outcome = await inFlight.then(
      (record) => ({ ok: true as const, record }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    await new Promise((r) => setTimeout(r, 10));

    const liveKeys = made.filter((b) => b.some((x) => x !== 0));
    // Expected after close(): the call fails, no second Decrypt, every key buffer zeroed.
    expect({ ok: outcome.ok, decrypts, liveKeys: liveKeys.length }).toEqual({ ok: false, decrypts: 1, liveKeys: 0 });
  });

  it('a key past its TTL is not used again, even when its eviction timer has not fired yet', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // the clock moves; the TTL timer does not get to run first
    try {
      let decrypts = 0;
      const kms: KmsApi = {
        call: async () => {
          decrypts += 1;
          return { Plaintext: KEY_B64 };
        },
      };
      const keys = openPartitionKeys({ accessKeyId: 'a', accessKeySecret: 'b', registry, kms, cacheTtlMs: 1000 });
      await keys.encryptRecord('p1', 'x');
      vi.setSystemTime(Date.now() + 10 * 60_000); // ten minutes past a one-second TTL
      await keys.encryptRecord('p1', 'x');
      keys.close();
      expect(decrypts).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
