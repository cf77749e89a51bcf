import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MemoryNonceStore, type NonceStore } from '../../lib/auth/nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { answerNonceClaims, RelayedNonceStore } from '../../infra/gateway/nonce-relay.js';

/** Two workers' relays wired to one primary side, over in-memory channels (node:cluster's IPC in the gateway). */
function cluster(primaryStore: NonceStore, workers = 2) {
  const sent: unknown[] = [];
  const relays = Array.from({ length: workers }, () => {
    const toWorker = new EventEmitter();
    const fakeWorker = Object.assign(new EventEmitter(), {
      isConnected: () => true,
      send: (message: unknown) => {
        setImmediate(() => toWorker.emit('message', message));
        return true;
      },
    });
    answerNonceClaims(fakeWorker as never, primaryStore);
    const channel = {
      on: (event: 'message', listener: (m: unknown) => void) => toWorker.on(event, listener),
      send: (message: unknown) => {
        sent.push(message);
        setImmediate(() => fakeWorker.emit('message', message));
        return true;
      },
    };
    return new RelayedNonceStore(channel, { answerTimeoutMs: 200 });
  });
  return { relays, sent };
}

describe('Nonce relay (gateway workers share the primary\'s replay store)', () => {
  it('when two workers claim the same nonces, each is fresh exactly once across both, and a later claim anywhere is a replay', async () => {
    const { relays } = cluster(new MemoryNonceStore());
    const expires = Date.now() + 60_000;
    const nonces = Array.from({ length: 50 }, (_, i) => `n-${i}`);
    const outcomes = await Promise.all(nonces.flatMap((n) => relays.map((r) => r.claim('ak', n, expires))));
    expect(outcomes.filter(Boolean)).toHaveLength(50);
    for (const n of nonces) expect(await relays[1]!.claim('ak', n, expires)).toBe(false);
    // Another access key's same nonce is its own.
    expect(await relays[0]!.claim('other', 'n-1', expires)).toBe(true);
  });

  it('sends the claims of one turn of the event loop in one message, and reports the primary\'s table size', async () => {
    const { relays, sent } = cluster(new MemoryNonceStore(), 1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => relays[0]!.claim('ak', `x${i}`, Date.now() + 60_000)));
    expect(sent).toHaveLength(1);
    expect(relays[0]!.size).toBe(20);
  });

  it('when the primary\'s store fails, the claim is refused with 503 (never accepted)', async () => {
    const failing: NonceStore = { claim: () => Promise.reject(new Error('disk full')) };
    const { relays } = cluster(failing, 1);
    await expect(relays[0]!.claim('ak', 'n', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('when the primary never answers, the claim is refused with 503 after the timeout', async () => {
    const silent = new RelayedNonceStore({ on: () => undefined, send: () => true }, { answerTimeoutMs: 50 });
    await expect(silent.claim('ak', 'n', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('ignores messages that are not answers to its own claims', async () => {
    const listeners: Array<(m: unknown) => void> = [];
    const relay = new RelayedNonceStore({ on: (_e, l) => listeners.push(l), send: () => true }, { answerTimeoutMs: 50 });
    const pending = relay.claim('ak', 'n', Date.now() + 60_000);
    for (const l of listeners) {
      l(null);
      l({ type: 'kms:nonce-results', id: 999, results: [true] });
      l({ type: 'something-else' });
    }
    await expect(pending).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
