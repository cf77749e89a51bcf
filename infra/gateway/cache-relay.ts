import cluster, { type Worker } from 'node:cluster';
import type { Channel } from './worker-calls.js';

/**
 * Cache invalidation between the gateway's processes (KMS_WORKERS > 1). Each process caches key
 * metadata, aliases and access keys for KMS_CACHE_TTL_MS; without this, a change made through one
 * worker (DisableKey, a new policy) would reach the others only when their entry expired. Every
 * process reports the store entries it changed; the primary passes them to every other process,
 * which drops them from its caches: the next read anywhere sees the change.
 *
 * Names only travel, never values. Within one event-loop turn the names are sent as one message.
 */
const EVICT = 'kms:evict';

interface EvictMessage {
  type: typeof EVICT;
  names: string[];
}

function isEvict(message: unknown): message is EvictMessage {
  const m = message as Partial<EvictMessage> | null;
  return !!m && m.type === EVICT && Array.isArray(m.names) && m.names.every((n) => typeof n === 'string');
}

/** Collects names within one turn and hands them to `flush` once. */
function batcher(flush: (names: string[]) => void): (name: string) => void {
  let pending: Set<string> | undefined;
  return (name) => {
    if (!pending) {
      pending = new Set();
      const names = pending;
      setImmediate(() => {
        pending = undefined;
        flush([...names]);
      });
    }
    pending.add(name);
  };
}

/** A worker's side: reports its changes to the primary, and drops what the primary says others changed. */
export function workerCacheRelay(evict: (names: readonly string[]) => void, channel: Channel = process as unknown as Channel): (name: string) => void {
  channel.on('message', (message) => {
    if (isEvict(message)) evict(message.names);
  });
  return batcher((names) => {
    try {
      channel.send({ type: EVICT, names } satisfies EvictMessage);
    } catch {
      // The primary is gone; this worker is about to exit with it.
    }
  });
}

/**
 * The primary's side: what a worker changed is dropped here and sent to every other worker; what
 * the primary itself changes (its scheduled jobs) is sent to every worker. Returns the primary's
 * own change reporter, and the hook for each forked worker.
 */
export function primaryCacheRelay(evict: (names: readonly string[]) => void): { changed: (name: string) => void; attach: (worker: Worker) => void } {
  const sendToAll = (names: string[], except?: Worker) => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      // The callback takes a failed send (a worker that just died) instead of an 'error' event.
      if (worker && worker !== except && worker.isConnected()) worker.send({ type: EVICT, names } satisfies EvictMessage, undefined, {}, () => undefined);
    }
  };
  return {
    changed: batcher((names) => sendToAll(names)),
    attach(worker) {
      worker.on('message', (message: unknown) => {
        if (!isEvict(message)) return;
        evict(message.names);
        sendToAll(message.names, worker);
      });
    },
  };
}
