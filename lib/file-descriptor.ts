import { closeSync, writeSync } from 'node:fs';

/**
 * write(2) until every byte is in the file: a short write (disk full) is retried, then fails with
 * ENOSPC. Synchronous, as Node writes stdout to a file: for the batched appends of the replay
 * journal and the log files, one call per turn of the event loop, where a round trip through the
 * thread pool would cost more than the write.
 */
export function writeFully(fd: number, bytes: Buffer, what = 'the file'): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw Object.assign(new Error(`${what} accepted no bytes`), { code: 'ENOSPC' });
    offset += written;
  }
}

/** Closes a descriptor that may already be unusable: nothing is left to release then. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already gone.
  }
}
