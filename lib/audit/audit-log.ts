import { closeSync, openSync } from 'node:fs';
import { closeQuietly, writeFully } from '../file-descriptor.js';
import { jsonMembers } from '../json-line.js';
import { requireLogDirectory } from '../log-file.js';

/**
 * One audit line: who did what to which key, and how it ended. Never a data key, key material,
 * a secret, a signature or an EncryptionContext value — only the context's keys.
 */
export interface AuditRecord {
  time: string;
  /** `request` (an API call) or `job` (a scheduled rotation or deletion). */
  type: 'request' | 'job';
  requestId?: string;
  /**
   * The access key id the request claimed, once its signed fields parsed (absent when it did not
   * get that far), and whether the signature matched that key's secret. A line with
   * `accessKeyVerified: false` names whose key someone tried, not who sent it.
   */
  accessKeyId?: string;
  accessKeyVerified?: boolean;
  sourceIp?: string;
  /** The Action (requests) or the job: `RotateKey`, `DestroyKey`, `DestroyExpiredKeyMaterial`. */
  action?: string;
  /** AWS-protocol requests: the AWS operation (X-Amz-Target) that `action` served. */
  awsOperation?: string;
  keyArn?: string;
  keyVersionId?: string;
  encryptionContextKeys?: string[];
  dryRun?: boolean;
  /** `OK`, or the error Code answered. */
  code: string;
  status?: number;
  latencyMs?: number;
}

/** The key every audit line ends with: audit lines may share a stream with the log's. */
const TAIL_KEYS = ['audit'] as const;

/**
 * An audit line: `JSON.stringify({ ...record, audit: true })` and a newline, byte for byte, built
 * without the copy where the record's fields allow (../json-line.ts; the record of a request always does).
 */
export function auditLine(record: AuditRecord): string {
  const members = jsonMembers(record, TAIL_KEYS);
  if (members === undefined) return `${JSON.stringify({ ...record, audit: true })}\n`;
  return members === '' ? '{"audit":true}\n' : `{${members},"audit":true}\n`;
}

/**
 * Where audit lines go. `write` resolves once the line is handed to the operating system and
 * rejects when it cannot be: the caller then refuses the request (fail closed). `ready` rejects
 * while the sink is known to be broken, so a request is refused before it does anything.
 */
export interface AuditLog {
  write(record: AuditRecord): Promise<void>;
  ready(): Promise<void>;
  /**
   * Opens the sink anew (SIGHUP, after logrotate renamed or removed the file): lines written after
   * it settles go to a file at the configured path, created if it is gone. Rejects when the path
   * cannot be opened; the log is then broken (requests are refused) until it can.
   */
  reopen?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Lines waiting for one write, and its outcome: one promise for the whole batch, which its writers
 * share (their lines are written together, so they succeed or fail together). It was a promise and
 * two resolvers per line; measured, the difference is within noise (≈ 2.3 µs a line either way,
 * line and await included), but there is less to it.
 */
interface Batch {
  lines: string[];
  written: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Lines gathered per turn of the event loop and written with one call (a busy gateway writes
 * hundreds per call); every caller of the batch learns whether its line was written: the promise
 * `write` returns is the batch's, resolved once all its lines are handed to the operating system,
 * rejected (fail closed) when they cannot be. A line handed over after its batch was taken goes
 * into the next.
 */
abstract class BatchedAuditLog implements AuditLog {
  #batch: Batch | undefined;
  #chain: Promise<void> = Promise.resolve();
  protected broken: unknown;

  write(record: AuditRecord): Promise<void> {
    const line = auditLine(record);
    const batch = this.#batch ?? this.#newBatch();
    batch.lines.push(line);
    return batch.written;
  }

  #newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const written = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = { lines: [], written, resolve, reject };
    this.#batch = batch;
    setImmediate(() => this.#take(batch));
    return batch;
  }

  async ready(): Promise<void> {
    if (this.broken === undefined) return;
    await this.recover();
  }

  /** Reopens after the lines already handed over are written: no batch straddles the old and the new file. */
  reopen(): Promise<void> {
    // The batch still gathering was handed over too: it goes to the file open now, not the next.
    if (this.#batch) this.#take(this.#batch);
    const reopened = this.#chain.then(() => this.reopenSink());
    this.#chain = reopened.catch(() => undefined);
    return reopened;
  }

  /** Queues `batch` for its write, once: at the end of its turn, or earlier for a reopen. */
  #take(batch: Batch): void {
    if (this.#batch !== batch) return;
    this.#batch = undefined;
    this.#chain = this.#chain.then(() => this.#flush(batch));
  }

  async #flush(batch: Batch): Promise<void> {
    try {
      await this.append(batch.lines.join(''));
      this.broken = undefined;
      batch.resolve();
    } catch (err) {
      this.broken = err;
      batch.reject(err);
    }
  }

  abstract close(): Promise<void>;
  protected abstract append(text: string): Promise<void>;
  /** Tries to make a broken sink writable again; rejects while it is not. */
  protected abstract recover(): Promise<void>;
  protected abstract reopenSink(): Promise<void>;
}

/** Audit lines on stdout (the default; on Lambda and Function Compute they go to the platform's logs). */
export class StdoutAuditLog extends BatchedAuditLog {
  constructor() {
    super();
    // A closed stdout (EPIPE) breaks the sink, and so refuses requests, instead of the process.
    process.stdout.on('error', (err) => {
      this.broken = err;
    });
  }

  protected async append(text: string): Promise<void> {
    // Gateway workers share one stdout: a pipe takes a write of up to PIPE_BUF bytes whole, so
    // each write holds whole lines and stays under it, and no worker's line is cut by another's.
    // One after another: pieces queued together would leave in one larger write(v).
    for (const chunk of pipeSizedChunks(text)) {
      await new Promise<void>((resolve, reject) => {
        process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
    }
  }

  protected async recover(): Promise<void> {
    await this.append('');
  }

  protected async reopenSink(): Promise<void> {}

  async close(): Promise<void> {}
}

/** POSIX's smallest PIPE_BUF: writes up to this size to a pipe are never interleaved with others. */
const PIPE_BUF = 512;
/** Linux's PIPE_BUF. */
const LINUX_PIPE_BUF = 4096;

/** `text` (whole lines) cut at line ends into pieces of at most PIPE_BUF bytes where lines allow. */
export function pipeSizedChunks(text: string, limit: number = process.platform === 'linux' ? LINUX_PIPE_BUF : PIPE_BUF): string[] {
  if (Buffer.byteLength(text) <= limit) return [text];
  const chunks: string[] = [];
  let current = '';
  let size = 0;
  for (const line of text.split(/(?<=\n)/)) {
    const bytes = Buffer.byteLength(line);
    if (size > 0 && size + bytes > limit) {
      chunks.push(current);
      current = '';
      size = 0;
    }
    current += line;
    size += bytes;
  }
  if (current) chunks.push(current);
  return chunks;
}

/**
 * Audit lines appended to a file (`KMS_AUDIT_LOG=<file>`, created 0600, in a directory that must
 * exist). A write that fails (disk full, read-only, removed mount) fails its requests; later
 * requests try the file again. {@link reopen} follows a rotation.
 */
export class FileAuditLog extends BatchedAuditLog {
  readonly #path: string;
  #fd: number | undefined;

  private constructor(path: string, fd: number) {
    super();
    this.#path = path;
    this.#fd = fd;
  }

  static async open(path: string): Promise<FileAuditLog> {
    requireLogDirectory(path, 'KMS_AUDIT_LOG');
    try {
      return new FileAuditLog(path, openSync(path, 'a', 0o600));
    } catch (err) {
      throw new Error(`KMS_AUDIT_LOG=${path}: cannot open the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  /**
   * One write(2) per batch, synchronously: a batch is one turn's lines, and a round trip through
   * the thread pool costs more than the write (measured: the gateway's CPU per request fell by
   * several µs). The answers of the batch wait for it either way.
   */
  protected async append(text: string): Promise<void> {
    try {
      this.#fd ??= openSync(this.#path, 'a', 0o600);
      writeFully(this.#fd, Buffer.from(text, 'utf8'), 'the audit log');
    } catch (err) {
      // Reopened on the next attempt: the file may have been rotated away or its disk remounted.
      if (this.#fd !== undefined) closeQuietly(this.#fd);
      this.#fd = undefined;
      throw err;
    }
  }

  protected async recover(): Promise<void> {
    await this.append('');
  }

  protected async reopenSink(): Promise<void> {
    const previous = this.#fd;
    this.#fd = undefined;
    if (previous !== undefined) closeQuietly(previous);
    try {
      this.#fd = openSync(this.#path, 'a', 0o600);
    } catch (err) {
      // Not the old file instead: after a rotation its lines would go where no one looks.
      this.broken = err;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Nothing is written (`KMS_AUDIT_LOG=none`: for tests and benchmarks, never for production). */
export class NoAuditLog implements AuditLog {
  async write(): Promise<void> {}
  async ready(): Promise<void> {}
  async reopen(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The audit log `KMS_AUDIT_LOG` names: unset or `stdout`, `none`, or a file path. */
export async function auditLogFromEnvironment(value: string | undefined): Promise<AuditLog> {
  if (value === undefined || value === '' || value === 'stdout') return new StdoutAuditLog();
  if (value === 'none') return new NoAuditLog();
  return FileAuditLog.open(value);
}
