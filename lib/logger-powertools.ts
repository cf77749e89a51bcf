import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Logger, LogLevel } from './logger.js';

export interface PowertoolsLoggerOptions {
  level?: LogLevel;
  /** The `service` key of every line (default: POWERTOOLS_SERVICE_NAME, else `kms`). */
  serviceName?: string;
}

const LEVELS = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'SILENT' } as const;

/** The {@link Logger} interface over Powertools, with the Powertools instance for Lambda-specific use. */
export interface PowertoolsBackedLogger extends Logger {
  readonly powertools: PowertoolsLogger;
  /** Adds the invocation's fields (AWS request id, function, cold start) to every following line, access lines included. */
  addContext(context: Context): void;
}

/**
 * The service's {@link Logger} over AWS Lambda Powertools' Logger, for Lambda: one structured JSON
 * line per call with `level`, `message`, `timestamp`, `service` (and the X-Ray trace id when
 * there is one), plus the caller's fields. As with the local logger, callers pass only fields they
 * chose (the access-log line carries `requestId`); nothing logs request parameters, so key
 * material, data-key plaintext and secrets have no way in.
 *
 * `powertools` is exposed so a Lambda adapter can add the invocation context
 * (`powertools.addContext(context)`: function name, memory, cold start, AWS request id).
 */
export function createPowertoolsLogger(options: PowertoolsLoggerOptions = {}): PowertoolsBackedLogger {
  const serviceName = options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'kms';
  const level = options.level ?? 'info';
  const powertools = new PowertoolsLogger({ serviceName, logLevel: LEVELS[level] });
  // Access lines go through a second logger at INFO, so that they are written whatever the level.
  const accessLog = level === 'silent' ? undefined : new PowertoolsLogger({ serviceName, logLevel: 'INFO' });
  return {
    powertools,
    addContext: (context) => {
      powertools.addContext(context);
      accessLog?.addContext(context);
    },
    access: (message, fields) => (fields ? accessLog?.info(message, fields) : accessLog?.info(message)),
    debug: (message, fields) => (fields ? powertools.debug(message, fields) : powertools.debug(message)),
    info: (message, fields) => (fields ? powertools.info(message, fields) : powertools.info(message)),
    warn: (message, fields) => (fields ? powertools.warn(message, fields) : powertools.warn(message)),
    error: (message, fields) => (fields ? powertools.error(message, fields) : powertools.error(message)),
  };
}
