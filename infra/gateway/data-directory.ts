import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigurationError } from './config.js';

/**
 * Creates the data directory (0700) when it is missing, but never its parents: the gateway creates
 * nothing outside its data directory, so a mistyped KMS_DATA_DIR stops the start with a message
 * naming the missing directory instead of growing a tree wherever it points.
 */
export async function createDataDirectory(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(dataDir)).isDirectory()) return;
    if (code === 'ENOENT')
      throw new ConfigurationError(
        `KMS_DATA_DIR=${dataDir}: the directory ${dirname(resolve(dataDir))} does not exist; create it first (only the data directory itself is created)`,
      );
    throw new ConfigurationError(`KMS_DATA_DIR=${dataDir}: cannot create the data directory (${code ?? 'error'})`);
  }
}
