import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fdatasync, fstatSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ServiceUnavailableError } from '../errors.js';
import { MemoryNonceStore, type NonceStore } from './nonce-store.js';

/** Rewrite the journal with only live entries once it holds this many lines, and twice as many as were live at the last rewrite. */
const COMPACT_AFTER_LINES = 100_000;
/**
 * No journal line is longer: a nonce or access key id that would make one longer (or that holds a
 * tab or newline) is journaled as its SHA-256, and a longer line found at load is skipped, so
 * neither memory nor disk grows by more than this per accepted request.
 */
export const MAX_JOURNAL_LINE_CHARS = 256;
/** A compaction's temporary file older than this was left by a process that died. */
const STALE_TEMPORARY_MS = 60_000;

interface PendingClaim {
  accessKeyId: string;
  nonce: string;
  line: string;
}

/**
 * Nonces kept in memory and in an append-only journal file, so a request captured before a
 * restart cannot be replayed after it (the local gateway's replay protection across restarts).
 *
 * Group commit: every claim made in one turn of the event loop shares one append and one
 * fdatasync(2), and a claim is answered only after its whole line is on disk. The append is a
 * synchronous write(2) to a descriptor kept open; the sync runs in the thread pool, so the event
 * loop gathers the next batch meanwhile (about a millisecond of latency, not of throughput).
 *
 * Fail closed: when the journal cannot take a batch (disk full, read-only, I/O error) every claim
 * in it is withdrawn and rejected with {@link ServiceUnavailableError}, so no request is served on
 * a nonce that would be forgotten at the next start. Each batch starts with a newline, so a line
 * cut short by a failed write is never glued to the next one: it is skipped at load, and the lines
 * after it are intact.
 *
 * The file holds `expiresAt <TAB> accessKeyId <TAB> nonce` lines; expired, malformed and
 * over-long lines are dropped at load (which streams the file, so a journal of any size can be
 * opened in bounded memory) and when the file is compacted.
 */
export class JournaledNonceStore implements NonceStore {
  readonly #memory: MemoryNonceStore;
  readonly #path: string;
  readonly #now: () => number;
  #pending: PendingClaim[] = [];
  #flush: Promise<void> | undefined;
  /** Batches written whose sync has not returned: compaction waits until there are none. */
  #syncing = 0;
  #fd: number | undefined;
  #lines = 0;
  #linesAfterCompaction = 0;
  #live = new Map<string, number>();

  private constructor(path: string, now: () => number) {
    this.#path = path;
    this.#now = now;
    this.#memory = new MemoryNonceStore(now);
  }

  /**
   * Opens (or creates, 0600) the journal and loads the nonces that have not expired. A journal that
   * cannot be rewritten (read-only disk) still opens; claims then fail closed.
   */
  static async open(path: string, now: () => number = Date.now): Promise<JournaledNonceStore> {
    const store = new JournaledNonceStore(path, now);
    removeStaleTemporaries(path, now());
    const at = now();
    let sawLines = false;
    for await (const line of boundedLines(path, MAX_JOURNAL_LINE_CHARS)) {
      sawLines = true;
      const [expires, accessKeyId, nonce, extra] = line.split('\t');
      const expiresAt = Number(expires);
      if (!accessKeyId || nonce === undefined || nonce === '' || extra !== undefined || !(expiresAt > at)) continue;
      await store.#memory.claim(accessKeyId, nonce, expiresAt);
      store.#live.set(`${accessKeyId}\t${nonce}`, expiresAt);
    }
    if (sawLines) store.#tryCompact();
    return store;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const id = journalField(accessKeyId);
    const key = journalField(nonce);
    if (!(await this.#memory.claim(id, key, expiresAt))) return false;
    this.#pending.push({ accessKeyId: id, nonce: key, line: `${expiresAt}\t${id}\t${key}\n` });
    this.#live.set(`${id}\t${key}`, expiresAt);
    this.#flush ??= new Promise<void>((resolve, reject) => setImmediate(() => this.#write().then(resolve, reject)));
    await this.#flush;
    return true;
  }

  /**
   * Appends the pending batch and syncs it; on any failure withdraws its claims and rejects with
   * ServiceUnavailableError. (Lines written before a failed sync may stay in the file: at worst a
   * request that was refused is refused again as a replay after a restart, never the reverse.)
   */
  async #write(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#flush = undefined;
    if (batch.length === 0) return;
    let fd: number;
    try {
      fd = this.#descriptor();
      writeFully(fd, Buffer.from(`\n${batch.map((c) => c.line).join('')}`, 'utf8'));
    } catch (err) {
      throw this.#failed(batch, err);
    }
    this.#syncing += 1;
    try {
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw this.#failed(batch, err);
    } finally {
      this.#syncing -= 1;
    }
    this.#lines += batch.length;
    if (this.#syncing === 0 && this.#lines > Math.max(COMPACT_AFTER_LINES, 2 * this.#linesAfterCompaction)) this.#tryCompact();
  }

  /**
   * The append descriptor, reopened when the file it names was replaced: another process on the
   * same directory compacted the journal (renamed a new file over it), and appends to the old,
   * unlinked file would be lost.
   */
  #descriptor(): number {
    if (this.#fd !== undefined && fstatSync(this.#fd).nlink === 0) {
      closeQuietly(this.#fd);
      this.#fd = undefined;
    }
    return (this.#fd ??= openSync(this.#path, 'a', 0o600));
  }

  /** Withdraws a batch's claims (its requests are refused, and may be retried) and closes the descriptor. */
  #failed(batch: PendingClaim[], cause: unknown): ServiceUnavailableError {
    for (const c of batch) {
      this.#memory.release(c.accessKeyId, c.nonce);
      this.#live.delete(`${c.accessKeyId}\t${c.nonce}`);
    }
    // A descriptor that failed once is reopened next time (the file may have been replaced).
    if (this.#fd !== undefined && this.#syncing === 0) closeQuietly(this.#fd);
    if (this.#syncing === 0) this.#fd = undefined;
    return new ServiceUnavailableError({ cause });
  }

  /**
   * Rewrites the journal with the live entries only (temporary file, then rename). Synchronous, so
   * no append can land in the file being replaced. Best effort: if the disk refuses, the journal
   * stays as it was (still complete) and the next attempt waits for as many lines again.
   */
  #tryCompact(): void {
    const at = this.#now();
    const lines: string[] = [];
    for (const [key, expiresAt] of this.#live) {
      if (expiresAt > at) lines.push(`${expiresAt}\t${key}\n`);
      else this.#live.delete(key);
    }
    const tmp = `${this.#path}.tmp-${process.pid}`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeFully(fd, Buffer.from(lines.join(''), 'utf8'));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#path);
      fsyncDirectory(dirname(this.#path));
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // Nothing to remove, or the disk refuses that too; a later start removes it.
      }
      this.#linesAfterCompaction = this.#lines;
      return;
    }
    if (this.#fd !== undefined) closeQuietly(this.#fd);
    this.#fd = undefined;
    this.#lines = lines.length;
    this.#linesAfterCompaction = lines.length;
  }
}

/** A value as the journal writes it: itself when it is short, printable and tab-free; else its digest. */
function journalField(value: string): string {
  if (value.length <= 100 && /^[\x21-\x7e]+$/.test(value)) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
}

/** write(2) until every byte is in the file: a short write (disk full) is retried, then fails. */
function writeFully(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw Object.assign(new Error('the journal accepted no bytes'), { code: 'ENOSPC' });
    offset += written;
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already unusable; nothing to keep.
  }
}

/** Compaction leftovers of processes that died mid-rewrite. */
function removeStaleTemporaries(path: string, now: number): void {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const file = join(dirname(path), name);
    try {
      if (now - statSync(file).mtimeMs > STALE_TEMPORARY_MS) unlinkSync(file);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

/**
 * The file's lines, streamed: a line longer than `maxChars` is skipped without being held in
 * memory, so no journal, however large or damaged, can exhaust memory at load. A missing file has
 * no lines.
 */
async function* boundedLines(path: string, maxChars: number): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  let carry = '';
  let skipping = false;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (;;) {
        const end = chunk.indexOf('\n', start);
        if (end === -1) {
          if (!skipping) {
            carry += chunk.slice(start);
            if (carry.length > maxChars) {
              carry = '';
              skipping = true;
            }
          }
          break;
        }
        if (!skipping) {
          const line = carry + chunk.slice(start, end);
          if (line.length <= maxChars && line.length > 0) yield line;
        }
        carry = '';
        skipping = false;
        start = end + 1;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return;
  }
  if (!skipping && carry.length > 0) yield carry;
}
