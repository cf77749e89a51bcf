import { openSync, statSync } from 'node:fs';
import { closeQuietly, writeFully } from './file-descriptor.js';
import { dirname, resolve } from 'node:path';

/**
 * A log file's directory must exist: the service creates no directory for a log (an operator's
 * typo such as `/var/lgo/kms/audit.log` would otherwise create a tree, as root, wherever it
 * points). `variable` names the setting in the message. Throws {@link MissingLogDirectoryError}.
 */
export function requireLogDirectory(path: string, variable: string): void {
  const dir = dirname(resolve(path));
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      throw new MissingLogDirectoryError(`${variable}=${path}: cannot use the directory ${dir} (${code ?? 'error'})`, dir);
    isDirectory = false;
  }
  if (!isDirectory)
    throw new MissingLogDirectoryError(`${variable}=${path}: the directory ${dir} does not exist; create it first (no directory is created for a log)`, dir);
}

/** A log path whose directory is missing (or unusable); the message names the directory. */
export class MissingLogDirectoryError extends Error {
  override readonly name = 'MissingLogDirectoryError';
  constructor(
    message: string,
    readonly directory: string,
  ) {
    super(message);
  }
}

/**
 * Lines appended to a file (created 0600), gathered per turn of the event loop and written with one
 * write(2), synchronously, as Node writes stdout to a file; what is pending is written when the
 * process exits. Best effort, as a log on stdout is: a write that fails drops its lines and says
 * so once on stderr until a write succeeds again. {@link reopen} (SIGHUP) opens the path anew, so a
 * file logrotate renamed or removed is replaced by a new one at the path.
 */
export class LineFile {
  readonly #path: string;
  #fd: number | undefined;
  #pending: string[] = [];
  #scheduled = false;
  #failing = false;

  private constructor(path: string, fd: number) {
    this.#path = path;
    this.#fd = fd;
    process.once('exit', () => this.#flush());
  }

  /** Opens (or creates) `path`; `variable` names the setting in errors. */
  static open(path: string, variable: string): LineFile {
    requireLogDirectory(path, variable);
    try {
      return new LineFile(path, openSync(path, 'a', 0o600));
    } catch (err) {
      throw new Error(`${variable}=${path}: cannot open the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  readonly write = (line: string): void => {
    this.#pending.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  };

  /** Writes what is pending to the file open now, then opens the path anew; rejects (keeping nothing open) when it cannot. */
  async reopen(): Promise<void> {
    this.#flush();
    const previous = this.#fd;
    this.#fd = undefined;
    if (previous !== undefined) closeQuietly(previous);
    this.#fd = openSync(this.#path, 'a', 0o600);
    this.#failing = false;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const bytes = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    try {
      this.#fd ??= openSync(this.#path, 'a', 0o600);
      writeFully(this.#fd, bytes);
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) process.stderr.write(`log file ${this.#path}: lines lost (${(err as NodeJS.ErrnoException).code ?? 'error'})\n`);
      this.#failing = true;
    }
  }
}
