import { timingSafeEqual } from 'node:crypto';
import { EntryExistsError, type KeyStore } from './key-store.js';

export interface CopyReport {
  /** Entries written to the target. */
  copied: number;
  /** Entries the target already held with the same value (an earlier run, or shared material). */
  present: number;
  /** Entries the target holds with another value: left alone, named here (names are not secret). */
  conflicts: string[];
}

/**
 * Copies every entry of one store into another (a migration between backends: the file store to
 * PostgreSQL, a Secrets Manager store to DynamoDB with its material left in place). Entries keep
 * their write-once flag; revisions start anew, which compare-and-swap does not mind. Idempotent:
 * an entry already in the target with the same value counts as present, so an interrupted copy
 * is finished by running it again. Run it with the service stopped: writes made meanwhile may be
 * missed. Values are compared in constant time and zeroed after use.
 */
export async function copyStore(source: KeyStore, target: KeyStore, options: { onEntry?: (name: string) => void } = {}): Promise<CopyReport> {
  const report: CopyReport = { copied: 0, present: 0, conflicts: [] };
  for (const name of await source.list('')) {
    const entry = await source.get(name);
    if (!entry) continue;
    try {
      await target.create(name, entry.value, { writeOnce: entry.writeOnce });
      report.copied++;
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
      const existing = await target.get(name);
      if (existing && sameBytes(existing.value, entry.value)) report.present++;
      else report.conflicts.push(name);
      existing?.value.fill(0);
    } finally {
      entry.value.fill(0);
    }
    options.onEntry?.(name);
  }
  return report;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
