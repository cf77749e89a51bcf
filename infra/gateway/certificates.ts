import type { Logger } from '../../lib/logger.js';
import { tlsReloadFailuresTotal } from '../../lib/metrics/prometheus.js';
import type { TlsFiles } from './config.js';
import { readTlsOptions, type TlsOptions } from './tls.js';

/**
 * The certificate pair the gateway serves: read and checked at start (a pair that cannot serve
 * stops the start), read again on SIGHUP. A renewal that cannot serve — unreadable, not PEM, cut
 * short, a certificate for another key — is refused: the previous pair stays in use, the reason is
 * logged (file names, never contents) and counted (`kms_tls_reload_failures_total`).
 *
 * With workers only the primary reads the files; every worker takes the pair from it (at start and
 * after each SIGHUP), so a worker that replaces a dead one while the files on disk are broken
 * starts with the pair the others serve instead of dying in a loop, and all serve the same pair.
 */
export class Certificates {
  #current: TlsOptions;

  constructor(
    private readonly files: TlsFiles,
    initial: TlsOptions,
    private readonly logger: Logger,
  ) {
    this.#current = initial;
  }

  get current(): TlsOptions {
    return this.#current;
  }

  /**
   * Reads the files again and, when they hold a pair that serves, hands it to `apply` (the
   * server's own swap) and keeps it. Resolves whether a new pair was taken; never rejects.
   */
  async reload(apply: (options: TlsOptions) => void = () => undefined): Promise<boolean> {
    try {
      const next = await readTlsOptions(this.files);
      apply(next);
      this.#current = next;
      this.logger.warn('TLS certificate reloaded', { cert: this.files.certFile });
      return true;
    } catch (err) {
      tlsReloadFailuresTotal.inc();
      this.logger.error('TLS certificate not reloaded; the previous one stays in use', { error: (err as Error).message });
      return false;
    }
  }
}

/** The pair as it travels to a worker (JSON over the IPC channel: PEM as text). */
export interface PairMessage {
  cert: string;
  key: string;
  ca?: string;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: TlsOptions['minVersion'];
}

/** The primary's side: the pair in use, for a worker. */
export function encodePair(options: TlsOptions): PairMessage {
  const text = (pem: unknown) => (Buffer.isBuffer(pem) ? pem.toString('latin1') : String(pem));
  return {
    cert: text(options.cert),
    key: text(options.key),
    ...(options.ca !== undefined ? { ca: text(options.ca) } : {}),
    requestCert: options.requestCert,
    rejectUnauthorized: options.rejectUnauthorized,
    minVersion: options.minVersion,
  };
}

/** A worker's side: the pair as the primary sent it. */
export function decodePair(message: unknown): TlsOptions {
  const m = message as PairMessage | null;
  if (typeof m?.cert !== 'string' || typeof m.key !== 'string') throw new Error('malformed TLS pair from the gateway primary');
  return {
    cert: Buffer.from(m.cert, 'latin1'),
    key: Buffer.from(m.key, 'latin1'),
    ...(m.ca !== undefined ? { ca: Buffer.from(m.ca, 'latin1') } : {}),
    requestCert: m.requestCert,
    rejectUnauthorized: m.rejectUnauthorized,
    ...(m.minVersion ? { minVersion: m.minVersion } : {}),
  };
}
