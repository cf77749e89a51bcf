import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * What the file-backed stores (the key store, the partition registry) share to write atomically and
 * durably, and to tell a disk that cannot serve now from a fault.
 */

/**
 * fs error codes that mean the disk or the process cannot serve now (full, read-only, permissions,
 * I/O error, out of descriptors, busy, and a network file system that lost its server or its
 * handles): the store is unavailable, which is not a fault of the request.
 */
export const UNAVAILABLE_IO_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EROFS',
  'EACCES',
  'EPERM',
  'EIO',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
  'ETIMEDOUT',
  // NFS / NAS: a file handle the server no longer knows, a mount whose server is gone or unreachable.
  'ESTALE',
  'ENOTCONN',
  'ENETDOWN',
  'EHOSTDOWN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** The code of an fs error that means "unavailable" (see {@link UNAVAILABLE_IO_CODES}), or undefined. */
export function unavailableIoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && UNAVAILABLE_IO_CODES.has(code) ? code : undefined;
}

/**
 * Writes `data` to a new temporary file in `dir` (`.tmp-<random>`, 0600, created exclusively) and
 * fsyncs it; returns its path. On any failure no temporary file remains.
 */
export async function writeTemporaryFile(dir: string, data: string | Uint8Array): Promise<string> {
  const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
  const handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  try {
    await closeAfter(handle, async () => {
      await handle.writeFile(data);
      await handle.sync();
    });
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return tmp;
}

/** Runs `work` on an open file, then closes it; the first failure wins, so a failed close never hides a failed write. */
export async function closeAfter<T>(handle: FileHandle, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  await handle.close();
  return result;
}

/** Makes a directory's entries (a new link, a rename, a removed file) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  await closeAfter(handle, () => handle.sync());
}
