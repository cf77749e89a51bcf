import { type KeyStore, RevisionConflictError } from '../../lib/keystore/key-store.js';

/**
 * One increment of a decimal counter entry, as every key-store caller must write it: read, modify,
 * compare-and-swap, and retry on RevisionConflictError. Returns how many conflicts it met.
 */
export async function incrementCounter(store: KeyStore, entry: string): Promise<number> {
  for (let conflicts = 0; conflicts < 10_000; conflicts++) {
    const current = await store.get(entry);
    if (!current) throw new Error(`${entry} vanished`);
    const next = Number(current.value.toString('utf8')) + 1;
    try {
      await store.update(entry, current.revision, Buffer.from(String(next), 'utf8'));
      return conflicts;
    } catch (err) {
      if (!(err instanceof RevisionConflictError)) throw err;
    }
  }
  throw new Error(`gave up incrementing ${entry} after 10000 conflicts`);
}
