import { timingSafeEqual } from 'node:crypto';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from './key-store.js';

/** The earlier layout's record, in the table, of each version whose material is a secret (./split-store.ts). */
const INDEX_PREFIX = 'material-index/';
const MATERIAL_PREFIX = 'key-versions/';

/** The secrets of the earlier layout, as the migration reads and (when asked) retires them. */
export interface LegacySecrets {
  /** The material of a version, or undefined when its secret is gone or scheduled for deletion. */
  get(name: string): Promise<{ value: Buffer } | undefined>;
  /** Schedules the secret's deletion with a recovery window (restorable until then); idempotent. */
  retire(name: string, recoveryWindowDays: number): Promise<void>;
}

export interface MaterialMigrationOptions {
  /** The sealed table store (key material goes here, sealed under the root key). */
  table: KeyStore;
  secrets: LegacySecrets;
  /** Schedule each copied version's secret for deletion, restorable for this many days (7–30). */
  deleteSecrets?: { recoveryWindowDays: number };
  /** Called after each version, with what happened to it. */
  onVersion?: (name: string, outcome: MigrationOutcome) => void;
}

export type MigrationOutcome = 'copied' | 'present' | 'missing' | 'conflict';

export interface MaterialMigrationReport {
  /** Versions the table's index names (every version whose material was a secret). */
  versions: number;
  /** Copied into the table and read back equal. */
  copied: number;
  /** Already in the table, equal to the secret (an earlier run), or with its secret already retired. */
  present: number;
  /** Named by the index, in neither place (a version whose write failed, or destroyed meanwhile). */
  missing: string[];
  /** In the table with another value than the secret: left alone, named here (names are not secret). */
  conflicts: string[];
  /** Secrets scheduled for deletion by this run. */
  secretsDeleted: number;
}

/**
 * Copies every key version's material from its Secrets Manager secret (the layout before material
 * moved into the table) into the sealed table, version by version: read the secret, create the
 * table entry (write-once, as material always is), read it back and compare. Idempotent and
 * resumable: a version already in the table with the same value counts as present, so a run that
 * stopped half-way is finished by running it again. A table entry that differs is a conflict and
 * is never overwritten. Secrets are deleted only with `deleteSecrets`, only after their value was
 * verified in the table, and with a recovery window; then the version's index entry goes too.
 * Values are compared in constant time and zeroed after use; nothing of them is reported.
 */
export async function migrateMaterial(options: MaterialMigrationOptions): Promise<MaterialMigrationReport> {
  const { table, secrets } = options;
  const report: MaterialMigrationReport = { versions: 0, copied: 0, present: 0, missing: [], conflicts: [], secretsDeleted: 0 };
  for (const index of await table.list(INDEX_PREFIX)) {
    const name = `${MATERIAL_PREFIX}${index.slice(INDEX_PREFIX.length)}`;
    report.versions++;
    const { outcome, secretExists } = await migrateVersion(table, secrets, name, index);
    if (outcome === 'missing') report.missing.push(name);
    else if (outcome === 'conflict') report.conflicts.push(name);
    else report[outcome]++;
    if (options.deleteSecrets && (outcome === 'copied' || outcome === 'present')) {
      if (secretExists) {
        await secrets.retire(name, options.deleteSecrets.recoveryWindowDays);
        report.secretsDeleted++;
      }
      await removeIndex(table, index);
    }
    options.onVersion?.(name, outcome);
  }
  return report;
}

async function migrateVersion(
  table: KeyStore,
  secrets: LegacySecrets,
  name: string,
  index: string,
): Promise<{ outcome: MigrationOutcome; secretExists: boolean }> {
  const secret = await secrets.get(name);
  if (!secret) return { outcome: (await table.get(name).then(zeroed)) ? 'present' : 'missing', secretExists: false };
  return { outcome: await copyVersion(table, name, index, secret.value), secretExists: true };
}

/**
 * Copies one version's material into the table and reads it back; `material` is zeroed after.
 *
 * The version may be destroyed (DeleteKeyMaterial, the deletion job) between the secret's read
 * and the table's create: the service's store removes the secret and the index entry first, then
 * the table's entry (./material-fallback-store.ts), so a copy created after that finds its index
 * entry gone, and is destroyed again and reported missing rather than bringing destroyed material
 * back. (Two runs at once could mistake the other's `--delete-secrets` for a destruction: run one
 * at a time.)
 */
async function copyVersion(table: KeyStore, name: string, index: string, material: Buffer): Promise<MigrationOutcome> {
  try {
    let copied = true;
    try {
      await table.create(name, material, { writeOnce: true });
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
      copied = false;
    }
    if (copied && !(await table.get(index).then(zeroed))) {
      await table.destroy(name);
      return 'missing';
    }
    // Verified by reading it back (through the seal): what the service will read from now on.
    const stored = await table.get(name);
    try {
      if (!stored || !sameBytes(stored.value, material)) {
        if (copied) throw new Error(`the material of ${name} read back from the table differs from what was written`);
        return 'conflict';
      }
    } finally {
      stored?.value.fill(0);
    }
    return copied ? 'copied' : 'present';
  } finally {
    material.fill(0);
  }
}

async function removeIndex(table: KeyStore, index: string): Promise<void> {
  for (;;) {
    const entry = await table.get(index);
    if (!entry) return;
    try {
      await table.delete(index, entry.revision);
      return;
    } catch (err) {
      if (err instanceof EntryNotFoundError) return;
      if (!(err instanceof RevisionConflictError)) throw err;
    }
  }
}

function zeroed(entry: { value: Buffer } | undefined): boolean {
  entry?.value.fill(0);
  return entry !== undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
