import { link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccessKeyRegistry, generateAccessKey } from '../../lib/access-keys.js';
import { writeTemporaryFile } from '@alibaba-kms-compatible/client/internal/durable-files';
import { ADMIN_POLICY } from '../../lib/policy/policy.js';

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials.json';

/** Where the admin key of a store goes when `admin-credentials.json` already holds another's. */
export function adminCredentialsFileBeside(accessKeyId: string): string {
  return `admin-credentials-${accessKeyId}.json`;
}

export interface CreatedAdmin {
  /** The file the credentials were written to. */
  path: string;
  /** The `admin-credentials.json` that was there already, left as it was (it belongs to another store, or to this one before it was emptied). */
  keptExisting?: string;
}

/**
 * On a store that never had an access key, creates an admin key (`kms:*` on `*`) and writes it to
 * `<dataDir>/admin-credentials.json` (0600, durably), or, when that file exists — the data
 * directory of another store (a file store, before a move to PostgreSQL) — beside it, to
 * `admin-credentials-<accessKeyId>.json`. An existing file is never replaced: the name is taken
 * with link(2), which fails rather than overwrite, so two gateways starting at once cannot replace
 * each other's either; nor their temporary files, whose names are random and created exclusively
 * (two containers on one data directory both run as pid 1). Returns where it wrote, when it
 * created a key. The secret goes only to that file.
 */
export async function bootstrapAdmin(dataDir: string, accessKeys: AccessKeyRegistry): Promise<CreatedAdmin | undefined> {
  // Deleted keys count: a store whose keys were all deleted is not a new store, and gets no new admin.
  if (await accessKeys.anyEverCreated()) return undefined;
  const { accessKeyId, accessKeySecret } = generateAccessKey();
  const preferred = join(dataDir, ADMIN_CREDENTIALS_FILE);
  // 0600 and durable; a write that fails leaves none.
  const tmp = await writeTemporaryFile(dataDir, `${JSON.stringify({ accessKeyId, accessKeySecret }, null, 2)}\n`);
  let created: CreatedAdmin;
  try {
    // The file first: a crash in between leaves a file naming no key, and the next start makes another.
    created = await linkNew(tmp, preferred, join(dataDir, adminCredentialsFileBeside(accessKeyId)));
  } finally {
    // A name not taken (a full or read-only disk), or done: no temporary copy of the secret is left behind.
    await unlink(tmp).catch(() => undefined);
  }
  await accessKeys.create({ accessKeyId, accessKeySecret, status: 'Enabled', policy: ADMIN_POLICY, createdAt: new Date().toISOString() });
  return created;
}

/** Gives the written file its name: `preferred` if free, else `beside` (free: its name is the new key's id). Never replaces a file. */
async function linkNew(tmp: string, preferred: string, beside: string): Promise<CreatedAdmin> {
  try {
    await link(tmp, preferred);
    return { path: preferred };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await link(tmp, beside);
  return { path: beside, keptExisting: preferred };
}
