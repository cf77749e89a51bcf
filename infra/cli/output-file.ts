import { randomBytes } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CliError, EXIT, usageError } from './exit-codes.js';
import type { Progress } from './progress.js';

/** Frames are written in batches (writev) of up to this much, not one system call per frame. */
const WRITE_BUFFER = 4 * 1024 * 1024;

/** What `encrypt-file` and `decrypt-file` may do to OUT: with `force`, replace a file that exists. */
export interface OutputPolicy {
  /** The input path (`-` for stdin): OUT naming the same file needs `force` too. */
  inPath: string;
  force: boolean;
}

/**
 * Checks OUT before any work is done (no KMS call, no temporary file): its directory exists, and
 * OUT is not a directory or a device; an existing OUT (the input itself included) is refused
 * unless `force`. Messages name the path the user gave.
 */
export async function checkOutput(outPath: string, policy: OutputPolicy): Promise<void> {
  if (outPath === '-') return;
  const dir = dirname(outPath);
  const dirStats = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new CliError(EXIT.UNAVAILABLE, `cannot write ${outPath}: the directory ${dir} does not exist`);
    if (err.code === 'ENOTDIR') throw new CliError(EXIT.UNAVAILABLE, `cannot write ${outPath}: a part of ${dir} is not a directory`);
    throw new CliError(EXIT.UNAVAILABLE, `cannot write ${outPath}: the directory ${dir} cannot be read (${err.code ?? err.message})`);
  });
  if (!dirStats.isDirectory()) throw new CliError(EXIT.UNAVAILABLE, `cannot write ${outPath}: ${dir} is not a directory`);
  const existing = await stat(outPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new CliError(EXIT.UNAVAILABLE, `cannot write ${outPath}: ${err.code ?? err.message}`);
  });
  if (!existing) return;
  if (existing.isDirectory()) throw usageError(`${outPath} is a directory: give the output file's name`);
  // Renaming over a device or a pipe would replace it, not write to it: stdout is "-".
  if (!existing.isFile()) throw usageError(`${outPath} is not a regular file: give a file name, or - for stdout`);
  if (policy.force) return;
  if (policy.inPath !== '-' && sameFile(existing, await stat(policy.inPath).catch(() => undefined))) {
    throw usageError(`${outPath} is the input file itself: pass --force to replace it (it is replaced only once the whole output is written)`);
  }
  throw usageError(`${outPath} exists: pass --force to replace it`);
}

function sameFile(a: Stats, b: Stats | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Runs `work` with an output stream: for a file, a new temporary file beside `path` (mode 0600)
 * that becomes `path` when `work` resolves and is removed when it fails or is interrupted, so OUT
 * is either untouched or complete. Without `force` it is linked into place, which never replaces a
 * file that appeared meanwhile; with `force` it is renamed over OUT. For `-`, stdout.
 */
export async function writeAtomically(
  path: string,
  force: boolean,
  progress: Progress,
  work: (output: Writable, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tmp = path === '-' ? undefined : join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  let output: Writable = process.stdout;
  try {
    if (tmp !== undefined) {
      const handle = await open(tmp, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
        throw new CliError(EXIT.UNAVAILABLE, `cannot write ${path}: ${err.code ?? err.message} in ${dirname(path)}`);
      });
      created = true;
      output = createWriteStream('', { fd: handle, highWaterMark: WRITE_BUFFER });
    }
    await work(output, abort.signal);
    if (tmp !== undefined) await moveIntoPlace(tmp, path, force);
  } catch (err) {
    progress.clear();
    if (created) {
      output.destroy();
      await unlink(tmp!).catch(() => undefined);
    }
    if (abort.signal.aborted) throw new CliError(EXIT.INTERRUPTED, 'interrupted; no output was written');
    throw outputError(err, tmp, path);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function moveIntoPlace(tmp: string, path: string, force: boolean): Promise<void> {
  if (force) return rename(tmp, path);
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw usageError(`${path} was created while the output was written: nothing replaced it; pass --force to replace it`);
    // A file system without hard links: OUT was checked just before the work began.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EMLINK') return rename(tmp, path);
    throw err;
  }
  await unlink(tmp);
}

/** A failure writing the temporary file, named by the path the user gave (the temporary name means nothing to them). */
function outputError(err: unknown, tmp: string | undefined, path: string): unknown {
  const errno = err as NodeJS.ErrnoException;
  if (
    tmp === undefined ||
    typeof errno?.code !== 'string' ||
    (errno.path !== tmp && errno.path !== undefined) ||
    !['write', 'writev', 'open', 'close', 'fsync', 'rename', 'link'].includes(errno.syscall ?? '')
  ) {
    return err;
  }
  return new CliError(EXIT.UNAVAILABLE, `cannot write ${path}: ${errno.code}; no output was written`);
}
