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
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? (stdoutBatch ??= batchedStdout());
  const line = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] >= threshold) line(level, message, fields);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    access: (message, fields) => {
      if (threshold < RANK.silent) line('info', message, fields);
    },
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

let stdoutBatch: ((line: string) => void) | undefined;

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
