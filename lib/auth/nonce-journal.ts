import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MemoryNonceStore, type NonceStore } from './nonce-store.js';

/** Rewrite the journal with only live entries once it holds this many lines, and twice as many as were live at the last rewrite. */
const COMPACT_AFTER_LINES = 100_000;

/**
 * Nonces kept in memory and in an append-only journal file, so a request captured before a
 * restart cannot be replayed after it (the local gateway's replay protection across restarts).
 *
 * Group commit: every claim made in one turn of the event loop shares one append, and a claim is
 * answered only after its line reached the file. The append is a synchronous write(2) to a
 * descriptor kept open: a few microseconds into the page cache, which outlives the process (a
 * thread-pool round trip per batch cost more than the write itself). The file holds `expiresAt <TAB> accessKeyId
 * <TAB> nonce` lines; expired ones are dropped at load and when the file is compacted.
 */
export class JournaledNonceStore implements NonceStore {
  readonly #memory: MemoryNonceStore;
  readonly #path: string;
  readonly #now: () => number;
  #pending: string[] = [];
  #flush: Promise<void> | undefined;
  #fd: number | undefined;
  #lines = 0;
  #linesAfterCompaction = 0;
  #live = new Map<string, number>();

  private constructor(path: string, now: () => number) {
    this.#path = path;
    this.#now = now;
    this.#memory = new MemoryNonceStore(now);
  }

  /** Opens (or creates, 0600) the journal and loads the nonces that have not expired. */
  static async open(path: string, now: () => number = Date.now): Promise<JournaledNonceStore> {
    const store = new JournaledNonceStore(path, now);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const at = now();
    for (const line of text.split('\n')) {
      const [expires, accessKeyId, nonce] = line.split('\t');
      const expiresAt = Number(expires);
      if (accessKeyId === undefined || nonce === undefined || !(expiresAt > at)) continue;
      await store.#memory.claim(accessKeyId, nonce, expiresAt);
      store.#live.set(`${accessKeyId}\t${nonce}`, expiresAt);
    }
    if (text.length > 0) store.#compactSync();
    return store;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    // Tabs and newlines would break the line format; such a nonce is still unique as JSON text.
    const safeNonce = /[\t\n\r]/.test(nonce) ? JSON.stringify(nonce) : nonce;
    if (!(await this.#memory.claim(accessKeyId, safeNonce, expiresAt))) return false;
    this.#pending.push(`${expiresAt}\t${accessKeyId}\t${safeNonce}\n`);
    this.#live.set(`${accessKeyId}\t${safeNonce}`, expiresAt);
    this.#flush ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        try {
          this.#write();
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
    await this.#flush;
    return true;
  }

  #write(): void {
    const lines = this.#pending;
    this.#pending = [];
    this.#flush = undefined;
    if (lines.length === 0) return;
    this.#fd ??= openSync(this.#path, 'a', 0o600);
    writeSync(this.#fd, lines.join(''));
    this.#lines += lines.length;
    if (this.#lines > Math.max(COMPACT_AFTER_LINES, 2 * this.#linesAfterCompaction)) this.#compactSync();
  }

  /**
   * Rewrites the journal with the live entries only (temporary file, then rename). Synchronous, so
   * no append can land in the file being replaced.
   */
  #compactSync(): void {
    const at = this.#now();
    const lines: string[] = [];
    for (const [key, expiresAt] of this.#live) {
      if (expiresAt > at) lines.push(`${expiresAt}\t${key}\n`);
      else this.#live.delete(key);
    }
    const tmp = `${this.#path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, lines.join(''));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#path);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#lines = lines.length;
    this.#linesAfterCompaction = lines.length;
  }
}
