import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, fdatasync, fstatSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ServiceUnavailableError } from '../../errors.js';
import { closeQuietly, writeFully } from '../../file-descriptor.js';
import { MemoryNonceStore, type NonceStore } from '../nonce-store.js';
import type { Fingerprint } from '../nonce-table.js';

/** Rewrite the journal with only live entries once it holds this many lines, and twice as many as were live at the last rewrite. */
const COMPACT_AFTER_LINES = 100_000;
/**
 * No journal line is longer: a nonce or access key id that would make one longer (or that holds a
 * tab or newline) is journaled as its SHA-256, and a longer line found at load is skipped, so
 * neither memory nor disk grows by more than this per accepted request.
 */
export const MAX_JOURNAL_LINE_CHARS = 256;
/**
 * Batches that follow one another (claims that arrived during a batch's sync) are decided in one
 * exclusive section, saving its cross-process lock, for at most this long (ms), and only until
 * another process waits for it.
 */
const LEASE_MS = 100;
/**
 * A section with claims still to decide is left to a waiting process only after this long (ms):
 * two busy processes then take turns a run of batches each, not a batch each with the lock idle
 * between while the waiter wakes.
 */
const YIELD_AFTER_MS = 20;
/** A compaction's temporary file older than this was left by a process that died. */
const STALE_TEMPORARY_MS = 60_000;

/**
 * Runs `work` while no other process on the same journal runs its own (a cross-process lock, such
 * as the file store's). The journal's batches run inside it, so claims are decided one batch at a
 * time across every process on the directory. `contended()`, asked inside, is true once another
 * process waits for the section: the journal then ends it after the batch in hand, once it has held
 * it {@link YIELD_AFTER_MS}.
 */
export type ExclusiveSection = <T>(work: (contended: () => boolean) => Promise<T>) => Promise<T>;

/** The section of a journal that no other process shares: never contended. */
const ALONE: ExclusiveSection = (work) => work(() => false);

export interface JournalOptions {
  /** Lines after which the journal is compacted (and twice as many as were live at the last compaction); {@link COMPACT_AFTER_LINES} by default. */
  compactAfterLines?: number;
  /** How long batches that follow one another may share one exclusive section (ms); {@link LEASE_MS} by default, 0 for a section per batch. */
  leaseMs?: number;
  /** How long a section runs at least before it is left to a waiting process (ms); {@link YIELD_AFTER_MS} by default. */
  yieldAfterMs?: number;
}

/** Where a compaction starts: the journal's file and its length when the compaction began, and a descriptor of that file. */
interface CompactionStart {
  source: number;
  ino: number;
  end: number;
}

interface PendingClaim {
  /** The pair in memory's table, hashed once for the look-up, the claim and a release. */
  fingerprint: Fingerprint;
  expiresAt: number;
  line: string;
  settle: (fresh: boolean) => void;
  fail: (err: unknown) => void;
}

/**
 * Nonces in an append-only journal file shared by every process on a data directory (one gateway,
 * several, the CLI), so a request served by one is refused as a replay by all, and a request
 * captured before a restart cannot be replayed after it.
 *
 * Group commit: the claims of one turn of the event loop form a batch, decided in an exclusive
 * section (see {@link ExclusiveSection}): first the lines other processes appended since this one
 * last looked are read (the whole file again when another process compacted it), then each claim is
 * a replay or fresh, then the fresh ones are appended in one write and one fdatasync(2) before any
 * is answered. Memory holds every live nonce of every process, so a replay this process already
 * knows is refused without waiting.
 *
 * Fail closed: when the journal cannot take a batch (disk full, read-only, I/O error, the lock not
 * obtained) every claim in it is withdrawn and rejected with {@link ServiceUnavailableError}, so no
 * request is served on a nonce that would be forgotten. Each batch starts with a newline, so a line
 * cut short by a failed write is never glued to the next one.
 *
 * The file holds `expiresAt <TAB> accessKeyId <TAB> nonce` lines; expired, malformed and
 * over-long lines are skipped when read (as a stream, so a journal of any size is read in bounded
 * memory) and dropped when the file is compacted. A compaction copies the live lines beside the
 * batches, which go on meanwhile, and takes the exclusive section only to copy what was appended
 * since and put the copy in place (see {@link #compact}).
 */
export class JournaledNonceStore implements NonceStore {
  readonly #memory: MemoryNonceStore;
  readonly #path: string;
  readonly #now: () => number;
  readonly #exclusive: ExclusiveSection;
  #pending: PendingClaim[] = [];
  #scheduled = false;
  /** Batches run one after another in this process. */
  #chain: Promise<void> = Promise.resolve();
  #fd: number | undefined;
  /** The journal file this process has read, and how far. */
  #ino: number | undefined;
  #offset = 0;
  #lines = 0;
  #linesAfterCompaction = 0;
  readonly #compactAfterLines: number;
  readonly #leaseMs: number;
  readonly #yieldAfterMs: number;
  /** The compaction running beside the batches, if any: at most one per process. */
  #compaction: Promise<void> | undefined;

  /** Nonces held in memory (every live one of every process on the journal). */
  get size(): number {
    return this.#memory.size;
  }

  get bytes(): number {
    return this.#memory.bytes;
  }

  private constructor(path: string, now: () => number, exclusive: ExclusiveSection, options: JournalOptions) {
    this.#path = path;
    this.#now = now;
    this.#exclusive = exclusive;
    this.#compactAfterLines = options.compactAfterLines ?? COMPACT_AFTER_LINES;
    this.#leaseMs = options.leaseMs ?? LEASE_MS;
    this.#yieldAfterMs = options.yieldAfterMs ?? YIELD_AFTER_MS;
    this.#memory = new MemoryNonceStore(now);
  }

  /**
   * Opens (or creates, 0600) the journal and loads the nonces that have not expired. Processes
   * sharing the journal must pass the same cross-process `exclusive` section; alone, none is
   * needed. A journal that cannot be rewritten (read-only disk) still opens; claims then fail closed.
   */
  static async open(
    path: string,
    now: () => number = Date.now,
    exclusive: ExclusiveSection = ALONE,
    options: JournalOptions = {},
  ): Promise<JournaledNonceStore> {
    const store = new JournaledNonceStore(path, now, exclusive, options);
    // Files' times are the real clock's, whatever `now` the store is given.
    removeStaleTemporaries(path, Date.now());
    await exclusive(async () => {
      await store.#catchUp();
      if (store.#lines > 0) store.#startCompaction();
    });
    await store.#compaction;
    return store;
  }

  /** The compaction in progress, settled (never rejected) when it has ended; undefined when none runs. */
  get compaction(): Promise<void> | undefined {
    return this.#compaction;
  }

  claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const id = journalField(accessKeyId);
    const key = journalField(nonce);
    const fingerprint = this.#memory.fingerprint(id, key);
    if (this.#memory.hasFingerprint(fingerprint)) return Promise.resolve(false);
    return new Promise<boolean>((settle, fail) => {
      this.#pending.push({ fingerprint, expiresAt, line: `${expiresAt}\t${id}\t${key}\n`, settle, fail });
      if (this.#scheduled) return;
      // Group commit: the batch is taken when its turn comes — after the previous batch's sync —
      // so every claim that arrived during that sync shares the next one.
      this.#scheduled = true;
      this.#chain = this.#chain
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          this.#scheduled = false;
          const batch = this.#pending;
          this.#pending = [];
          return this.#commit(batch);
        });
    });
  }

  /**
   * Decides and records batches inside one exclusive section: this one, then, while claims keep
   * arriving during each batch's sync, the next ones (see {@link LEASE_MS}). Any failure rejects
   * what is left undecided of the batch it hit with a 503; the claims after it wait for the next
   * section. An empty batch (its claims taken by the section before) takes no section.
   */
  async #commit(first: PendingClaim[]): Promise<void> {
    if (first.length === 0) return;
    let batch = first;
    try {
      await this.#exclusive(async (contended) => {
        const since = performance.now();
        for (;;) {
          await this.#decide(batch);
          if (this.#pending.length === 0) return;
          const held = performance.now() - since;
          // At the limit, contended() is still asked: a waiter is then let in before this process takes the section again.
          if (held >= this.#leaseMs) {
            contended();
            return;
          }
          if (held >= this.#yieldAfterMs && contended()) return;
          batch = this.#pending;
          this.#pending = [];
        }
      });
    } catch (err) {
      // Settled claims ignore this; the others are refused, and may be retried.
      for (const c of batch) c.fail(new ServiceUnavailableError({ cause: err }));
    }
  }

  /** Decides and records one batch; inside the exclusive section. */
  async #decide(batch: PendingClaim[]): Promise<void> {
    await this.#catchUp();
    const fresh: PendingClaim[] = [];
    for (const c of batch) {
      // Synchronously: a turn of the microtask queue per claim cost more than the claim.
      if (!this.#memory.claimFingerprintNow(c.fingerprint, c.expiresAt)) {
        c.settle(false);
        continue;
      }
      fresh.push(c);
    }
    if (fresh.length === 0) return;
    try {
      await this.#append(fresh);
    } catch (err) {
      for (const c of fresh) this.#memory.releaseFingerprint(c.fingerprint);
      throw err;
    }
    for (const c of fresh) c.settle(true);
    // Started here, inside the section, where the file's length is a batch's end; not awaited:
    // the batches go on while it copies.
    if (this.#compaction === undefined && this.#lines > Math.max(this.#compactAfterLines, 2 * this.#linesAfterCompaction)) this.#startCompaction();
  }

  /** Appends the batch in one write and syncs it; on failure the descriptor is dropped (reopened next time). */
  async #append(batch: PendingClaim[]): Promise<void> {
    const bytes = Buffer.from(`\n${batch.map((c) => c.line).join('')}`, 'utf8');
    try {
      const fd = this.#descriptor();
      writeFully(fd, bytes, 'the journal');
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      this.#offset += bytes.length;
      this.#lines += batch.length;
    } catch (err) {
      if (this.#fd !== undefined) closeQuietly(this.#fd);
      this.#fd = undefined;
      // What reached the file of this batch is not read back here (its claims were withdrawn, so
      // their requests may be retried); other processes and a restart read it as used: refused
      // requests may stay refused, never the reverse.
      try {
        this.#offset = statSync(this.#path).size;
      } catch {
        this.#ino = undefined;
      }
      throw err;
    }
  }

  #descriptor(): number {
    if (this.#fd === undefined) {
      // Readable too: if the path is removed, its lines are read back from here (see #restore).
      this.#fd = openSync(this.#path, 'a+', 0o600);
      // A journal this append creates: it is the file this process has read (all of it, nothing).
      this.#ino ??= fstatSync(this.#fd).ino;
    }
    return this.#fd;
  }

  /**
   * Reads what other processes appended since this one last looked; the whole file when it is new
   * to this process (first open, a compaction by another process, a failed write). Runs inside the
   * exclusive section, so nobody appends meanwhile.
   */
  async #catchUp(): Promise<void> {
    let ino: number;
    let size: number;
    try {
      ({ ino, size } = statSync(this.#path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Removed under this process (by hand, a clean-up job): its lines are put back from the file
      // this process still has open, so a restart still knows them (else the next append creates it).
      if (this.#fd !== undefined) await this.#restore(this.#fd);
      return;
    }
    const renewed = ino !== this.#ino;
    if (renewed) {
      if (this.#fd !== undefined) closeQuietly(this.#fd);
      this.#fd = undefined;
      this.#ino = ino;
      this.#offset = 0;
      // Counted from the start of this file: one that another process just compacted is not due again.
      this.#lines = 0;
    }
    if (this.#fd === undefined) this.#hold(ino);
    await this.#readUpTo(this.#path, size);
    if (renewed) this.#linesAfterCompaction = this.#lines;
  }

  /**
   * Keeps the journal file (inode `ino`) open, for appends and so that its lines can be put back
   * if its path is removed (see #restore); never creates it. Left for the next append to open when
   * the path no longer names that file.
   */
  #hold(ino: number): void {
    let fd: number;
    try {
      fd = openSync(this.#path, constants.O_RDWR | constants.O_APPEND);
    } catch {
      return;
    }
    if (fstatSync(fd).ino === ino) this.#fd = fd;
    else closeQuietly(fd);
  }

  /** Reads the lines of `file` (a path, or an open file) from where this process stopped up to `size` into memory. */
  async #readUpTo(file: string | number, size: number): Promise<void> {
    if (size <= this.#offset) return;
    const at = this.#now();
    for await (const line of boundedLines(file, MAX_JOURNAL_LINE_CHARS, this.#offset, size)) {
      this.#lines += 1;
      const entry = liveEntry(line, at);
      if (entry) this.#memory.claimNow(entry.accessKeyId, entry.nonce, entry.expiresAt);
    }
    this.#offset = size;
  }

  /**
   * Writes the live lines of the journal this process has open (`from`, whose path was removed)
   * to a new file at the path, after reading into memory what other processes appended to it since
   * this one last looked. Inside the exclusive section; rejects (the batch fails closed) when the
   * disk refuses. Best effort: when the first process to notice has not had the file open (it
   * has not used the journal since another created it), its next append creates the file anew, and
   * the removed file's lines are known only to the memory of the processes that read them.
   */
  async #restore(from: number): Promise<void> {
    await this.#readUpTo(from, fstatSync(from).size);
    const tmp = this.#temporaryPath();
    const out = openSync(tmp, 'w', 0o600);
    try {
      const copy = new LiveLineCopy(out, this.#now());
      await copy.from(from, 0, this.#offset);
      copy.flush();
      fsyncSync(out);
      renameSync(tmp, this.#path);
      fsyncDirectory(dirname(this.#path));
      this.#replacedBy(copy);
    } catch (err) {
      removeQuietly(tmp);
      throw err;
    } finally {
      closeQuietly(out);
    }
  }

  /** After the journal was replaced by `copy`'s file: appends go to it, and it is where reading goes on. */
  #replacedBy(copy: LiveLineCopy): void {
    if (this.#fd !== undefined) closeQuietly(this.#fd);
    this.#fd = undefined;
    this.#ino = statSync(this.#path).ino;
    this.#hold(this.#ino);
    this.#offset = copy.size;
    this.#lines = copy.kept;
    this.#linesAfterCompaction = copy.kept;
  }

  /** A compaction's or restoration's new file: a name of its own, so two stores of one process on the journal (tests, a tool beside the service) never share one. */
  #temporaryPath(): string {
    return `${this.#path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /**
   * Starts a compaction (see {@link #compact}) from the journal as it is now. Called inside the
   * exclusive section, after a catch-up: the file is the one this process has read, and its length
   * is where a batch ended, so no line is cut there.
   */
  #startCompaction(): void {
    let source: number;
    try {
      source = openSync(this.#path, 'r');
    } catch {
      this.#linesAfterCompaction = this.#lines;
      return;
    }
    const start: CompactionStart = { source, ino: this.#ino!, end: this.#offset };
    this.#compaction = this.#compact(start).finally(() => {
      this.#compaction = undefined;
    });
  }

  /**
   * Rewrites the journal with the live entries only (temporary file, then rename), in two steps:
   *
   * 1. beside the batches, which go on appending meanwhile: the live lines of the first `end` bytes,
   *    read through the descriptor of the file as it was. Those bytes never change while the file
   *    stays: lines are only appended after them, and a compaction replaces the file, not its bytes.
   * 2. in the batches' turn and inside the exclusive section: what other processes appended since
   *    is read into memory (a catch-up), the live lines appended after `end` are copied too, and
   *    the copy is synced and renamed over the journal. When another process replaced the file
   *    meanwhile (its own compaction), its file stands and this copy is dropped.
   *
   * So a compaction holds the batches up only for what was appended while it copied, not for the
   * whole journal (measured: 200,000 lines held every claim for about half a second). Best effort:
   * if the disk refuses, the journal stays as it was (still complete) and the next attempt waits
   * for as many lines again. Never rejects.
   */
  async #compact({ source, ino, end }: CompactionStart): Promise<void> {
    const at = this.#now();
    const tmp = this.#temporaryPath();
    let out: number | undefined;
    try {
      out = openSync(tmp, 'w', 0o600);
      const copy = new LiveLineCopy(out, at);
      await copy.from(source, 0, end);
      copy.flush();
      // Synced here, beside the batches: in the section only what was appended meanwhile is left to sync.
      const target = out;
      await new Promise<void>((resolve, reject) => fdatasync(target, (err) => (err ? reject(err) : resolve())));
      const replaced = await this.#inTurn(() =>
        this.#exclusive(async () => {
          await this.#catchUp();
          if (this.#ino !== ino) return false;
          await copy.from(source, end, this.#offset);
          copy.flush();
          fsyncSync(target);
          renameSync(tmp, this.#path);
          fsyncDirectory(dirname(this.#path));
          this.#replacedBy(copy);
          return true;
        }),
      );
      if (!replaced) removeQuietly(tmp);
    } catch {
      removeQuietly(tmp);
      this.#linesAfterCompaction = this.#lines;
    } finally {
      closeQuietly(source);
      if (out !== undefined) closeQuietly(out);
    }
  }

  /** Runs `work` after the batches queued before it, and before those queued after: it and a batch never interleave. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.#chain.then(work);
    this.#chain = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }
}

/** The live lines of a journal, copied to `out` (a compaction's new file) in writes of about 64 KiB. */
class LiveLineCopy {
  kept = 0;
  size = 0;
  readonly #out: number;
  /** Lines that expire by then are left out. */
  readonly #at: number;
  #pending: string[] = [];
  #pendingChars = 0;

  constructor(out: number, at: number) {
    this.#out = out;
    this.#at = at;
  }

  /** Copies the live lines of bytes `start` to `end` of the file open as `source`. */
  async from(source: number, start: number, end: number): Promise<void> {
    for await (const line of boundedLines(source, MAX_JOURNAL_LINE_CHARS, start, end)) {
      if (!liveEntry(line, this.#at)) continue;
      this.#pending.push(`${line}\n`);
      this.#pendingChars += line.length + 1;
      this.kept++;
      if (this.#pendingChars >= 64 * 1024) this.flush();
    }
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.from(this.#pending.join(''), 'utf8');
    writeFully(this.#out, bytes, 'the journal');
    this.size += bytes.length;
    this.#pending = [];
    this.#pendingChars = 0;
  }
}

/** A journal line's entry when it is well formed and expires after `at`; undefined for any other line. */
function liveEntry(line: string, at: number): { expiresAt: number; accessKeyId: string; nonce: string } | undefined {
  const [expires, accessKeyId, nonce, extra] = line.split('\t');
  const expiresAt = Number(expires);
  if (!accessKeyId || nonce === undefined || nonce === '' || extra !== undefined || !(expiresAt > at)) return undefined;
  return { expiresAt, accessKeyId, nonce };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Nothing to remove, or the disk refuses that too; a later start removes it.
  }
}

/** A value as the journal writes it: itself when it is short, printable and tab-free; else its digest. */
function journalField(value: string): string {
  if (value.length <= 100 && /^[\x21-\x7e]+$/.test(value)) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
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
async function* boundedLines(file: string | number, maxChars: number, start = 0, end?: number): AsyncGenerator<string> {
  if (end !== undefined && end <= start) return;
  const range = { encoding: 'utf8' as const, highWaterMark: 64 * 1024, start, ...(end === undefined ? {} : { end: end - 1 }) };
  // An open file is read where it is, and left open for its owner.
  const stream = typeof file === 'number' ? createReadStream('', { ...range, fd: file, autoClose: false }) : createReadStream(file, range);
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
