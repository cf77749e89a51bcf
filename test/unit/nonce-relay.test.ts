import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MemoryNonceStore, type NonceStore } from '../../lib/keystore/nonce-store.js';
import { ServiceUnavailableError, ThrottlingError } from '../../lib/errors.js';
import { RateLimiter } from '../../lib/ratelimit/rate-limiter.js';
import { NONCE_CLAIM, nonceClaimHandler, RelayedNonceStore } from '../../infra/gateway/nonce-relay.js';
import { RATE_ADMIT, rateAdmitHandler, RelayedRateLimiter } from '../../infra/gateway/rate-relay.js';
import { answerWorkerCalls, WorkerCalls } from '../../infra/gateway/worker-calls.js';

/** Workers' call channels wired to one primary side, in memory (node:cluster's IPC in the gateway). */
function cluster(handlers: Parameters<typeof answerWorkerCalls>[1], workers = 2) {
  const sent: unknown[] = [];
  const calls = Array.from({ length: workers }, () => {
    const toWorker = new EventEmitter();
    const fakeWorker = Object.assign(new EventEmitter(), {
      isConnected: () => true,
      // Through JSON, as the IPC channel does.
      send: (message: unknown) => setImmediate(() => toWorker.emit('message', JSON.parse(JSON.stringify(message)))) && true,
    });
    answerWorkerCalls(fakeWorker as never, handlers);
    return new WorkerCalls(
      {
        on: (event, listener) => toWorker.on(event, listener),
        send: (message) => {
          sent.push(message);
          setImmediate(() => fakeWorker.emit('message', JSON.parse(JSON.stringify(message))));
          return true;
        },
      },
      { timeoutMs: 200 },
    );
  });
  return { calls, sent };
}

describe('Gateway workers ask their primary: nonces', () => {
  it('when two workers claim the same nonces, each is fresh exactly once across both, and a later claim anywhere is a replay', async () => {
    const { calls } = cluster({ [NONCE_CLAIM]: nonceClaimHandler(new MemoryNonceStore()) });
    const relays = calls.map((c) => new RelayedNonceStore(c));
    const expires = Date.now() + 60_000;
    const nonces = Array.from({ length: 50 }, (_, i) => `n-${i}`);
    const outcomes = await Promise.all(nonces.flatMap((n) => relays.map((r) => r.claim('ak', n, expires))));
    expect(outcomes.filter(Boolean)).toHaveLength(50);
    for (const n of nonces) expect(await relays[1]!.claim('ak', n, expires)).toBe(false);
    expect(await relays[0]!.claim('other', 'n-1', expires)).toBe(true);
  });

  it("sends the claims of one turn of the event loop in one message, and reports the primary's table size", async () => {
    const { calls, sent } = cluster({ [NONCE_CLAIM]: nonceClaimHandler(new MemoryNonceStore()) }, 1);
    const relay = new RelayedNonceStore(calls[0]!);
    await Promise.all(Array.from({ length: 20 }, (_, i) => relay.claim('ak', `x${i}`, Date.now() + 60_000)));
    expect(sent).toHaveLength(1);
    expect(relay.size).toBe(20);
  });

  it("when the primary's store fails, the claim is refused with 503 (never accepted)", async () => {
    const failing: NonceStore = { claim: () => Promise.reject(new Error('disk full')) };
    const { calls } = cluster({ [NONCE_CLAIM]: nonceClaimHandler(failing) }, 1);
    await expect(new RelayedNonceStore(calls[0]!).claim('ak', 'n', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('when the primary never answers, or answers what was not asked, the claim is refused with 503 after the timeout', async () => {
    const listeners: Array<(m: unknown) => void> = [];
    const silent = new WorkerCalls({ on: (_event, listener) => listeners.push(listener), send: () => true }, { timeoutMs: 50 });
    const pending = new RelayedNonceStore(silent).claim('ak', 'n', Date.now() + 60_000);
    for (const l of listeners) {
      l(null);
      l({ type: 'kms:answers', id: 999, answers: [{ ok: { fresh: true } }] });
      l({ type: 'something-else' });
    }
    await expect(pending).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('Gateway workers ask their primary: rate limits', () => {
  it('when a key limited to 5 crypto requests per second calls through two workers, 5 are admitted in all, and the rest are throttled with the limit in the message', async () => {
    const limits = { default: { crypto: 5 } };
    const { calls } = cluster({ [RATE_ADMIT]: rateAdmitHandler(new RateLimiter(limits)) });
    const limiters = calls.map((c) => new RelayedRateLimiter(limits, c));
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => limiters[i % 2]!.admit('ak', 'crypto')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason);
    expect(refused.every((err) => err instanceof ThrottlingError)).toBe(true);
    expect((refused[0] as ThrottlingError).message).toMatch(/5 crypto request\(s\) per second; retry after \d+ ms/);
    expect((refused[0] as ThrottlingError).retryAfterMs).toBeGreaterThan(0);
  });

  it("when no limit applies, nothing is sent to the primary; a key's own limits travel with the request", async () => {
    const { calls, sent } = cluster({ [RATE_ADMIT]: rateAdmitHandler(new RateLimiter({})) }, 1);
    const limiter = new RelayedRateLimiter({}, calls[0]!);
    for (let i = 0; i < 10; i++) await limiter.admit('ak', 'crypto');
    expect(sent).toHaveLength(0);
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => limiter.admit('ak', 'crypto', { crypto: 2 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
  });

  it('when the primary cannot answer, a limited request is refused with 503, never let through', async () => {
    const limiter = new RelayedRateLimiter({ default: { read: 1 } }, new WorkerCalls({ on: () => undefined, send: () => true }, { timeoutMs: 50 }));
    await expect(limiter.admit('ak', 'read')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
