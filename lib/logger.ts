import { isoTime } from './iso-time.js';
import { jsonMembers } from './json-line.js';

/**
 * Structured JSON-line logging. Callers pass fields they chose; nothing logs request parameters,
 * so key material, data-key plaintext and secrets have no way in.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /**
   * The one access line per request: written at every level but `silent` (a deployment that logs
   * only warnings still records who called what), at level `info`.
   */
  access(message: string, fields?: Record<string, unknown>): void;
  /** Opens the log files anew at their paths (SIGHUP, after logrotate moved or removed them); absent when there are none. */
  reopen?(): Promise<void>;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout (batched) by default. */
  write?: (line: string) => void;
  /** Where the access lines go instead, with how to reopen it (KMS_ACCESS_LOG=<file>: lib/log-file.ts). */
  accessLog?: { write: (line: string) => void; reopen(): Promise<void> };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? sharedStdout();
  const line = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => write(formatLine(level, message, fields));
  const accessLog = options.accessLog;
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] >= threshold) line(level, message, fields);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    access: (message, fields) => {
      if (threshold >= RANK.silent) return;
      if (accessLog) accessLog.write(formatLine('info', message, fields));
      else line('info', message, fields);
    },
    ...(accessLog ? { reopen: () => accessLog.reopen() } : {}),
  };
}

/** The keys a line writes before the caller's fields. */
const HEAD_KEYS = ['time', 'level', 'message'] as const;

/**
 * One line: `JSON.stringify({ time, level, message, ...fields })` and a newline, byte for byte, built
 * without the object where the fields allow (./json-line.ts); `time` is the current millisecond's.
 */
function formatLine(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): string {
  const time = isoTime(Date.now());
  if (typeof message === 'string') {
    const members = fields == null ? '' : jsonMembers(fields, HEAD_KEYS);
    // A toISOString() string needs no escaping, and neither does a level.
    if (members !== undefined) return `{"time":"${time}","level":"${level}","message":${JSON.stringify(message)}${members === '' ? '' : ','}${members}}\n`;
  }
  return `${JSON.stringify({ time, level, message, ...fields })}\n`;
}

/**
 * A command-line tool's log: warnings and errors, on stderr, so that what the tool prints on
 * stdout (its JSON answer) stays the only thing there.
 */
export function toolLogger(): Logger {
  return createLogger({ level: 'warn', write: (line) => process.stderr.write(line) });
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

let stdoutBatch: ((line: string) => void) | undefined;

/** The process's one batched stdout writer, made on first use. */
function sharedStdout(): (line: string) => void {
  stdoutBatch ??= batchedStdout();
  return stdoutBatch;
}

/**
 * Lines for stdout, gathered and written once per turn of the event loop: one write(2) for many
 * requests instead of one each (stdout to a file or a pipe is synchronous in Node). Whatever is
 * still pending is written when the process exits.
 */
function batchedStdout(): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
