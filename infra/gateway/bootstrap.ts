import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccessKeyRegistry, generateAccessKey } from '../../lib/auth/access-keys.js';
import { ADMIN_POLICY } from '../../lib/policy/policy.js';

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials.json';

/**
 * On a store that never had an access key, creates an admin key (`kms:*` on `*`) and writes it to
 * `<dataDir>/admin-credentials.json` (0600, atomically). Returns the file's path when it created
 * one. The secret goes only to that file.
 */
export async function bootstrapAdmin(dataDir: string, accessKeys: AccessKeyRegistry): Promise<string | undefined> {
  // Deleted keys count: a store whose keys were all deleted is not a new store, and gets no new admin.
  if (await accessKeys.anyEverCreated()) return undefined;
  const { accessKeyId, accessKeySecret } = generateAccessKey();
  const path = join(dataDir, ADMIN_CREDENTIALS_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const handle = await open(tmp, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ accessKeyId, accessKeySecret }, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The file first: a crash in between leaves a file naming no key, and the next start makes another.
    await rename(tmp, path);
  } catch (err) {
    // A full or read-only disk: no half-written secret is left behind.
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await accessKeys.create({ accessKeyId, accessKeySecret, status: 'Enabled', policy: ADMIN_POLICY, createdAt: new Date().toISOString() });
  return path;
}
