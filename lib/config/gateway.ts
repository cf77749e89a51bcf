import * as z from '../zod.js';
import { flag, optionalText, text, variable, wholeNumber } from './variable.js';

/*
 * The local gateway's variables (`npm start`, `kms serve`), declared here with every other
 * variable of the service; infra/gateway/config.ts reads them and checks how they go together.
 */

/** Most gateway worker processes (KMS_WORKERS). */
export const MAX_WORKERS = 64;

const MS = 'a whole number of milliseconds';

export const HOST = text('KMS_HOST', { default: '127.0.0.1', doc: 'address the gateway listens on' });

export const PORT = wholeNumber('KMS_PORT', { default: 8080, what: 'a port number', max: 65_535, doc: 'port (`0`: any free port; the ready line shows it)' });

export const TLS_CERT = optionalText('KMS_TLS_CERT', {
  doc: 'PEM file of the certificate (chain): the gateway speaks HTTPS (required off loopback); goes with `KMS_TLS_KEY`',
});

export const TLS_KEY = optionalText('KMS_TLS_KEY', { doc: "PEM file of the certificate's private key" });

export const TLS_CLIENT_CA = optionalText('KMS_TLS_CLIENT_CA', { doc: 'PEM: require client certificates from this CA (mutual TLS)' });

export const ALLOW_PLAINTEXT_HTTP = flag('KMS_ALLOW_PLAINTEXT_HTTP', {
  doc: '`true` allows plain HTTP on a non-loopback address (behind a TLS-terminating proxy on a private network)',
});

export const METRICS_PORT = wholeNumber('KMS_METRICS_PORT', {
  what: 'a port number',
  max: 65_535,
  shownDefault: 'off',
  doc: "the Prometheus listener's port (`0`: any free port, printed at start)",
});

export const METRICS_HOST = text('KMS_METRICS_HOST', { default: '127.0.0.1', doc: "the Prometheus listener's address" });

export const SHUTDOWN_GRACE_MS = wholeNumber('KMS_SHUTDOWN_GRACE_MS', {
  default: 5_000,
  what: MS,
  max: 600_000,
  doc: 'how long SIGTERM lets open connections finish',
});

export const MAX_CONNECTIONS = wholeNumber('KMS_MAX_CONNECTIONS', {
  default: 1_024,
  what: 'a whole number',
  min: 1,
  max: 1_000_000,
  doc: "connections open at once; more wait in the kernel's queue until one closes",
});

export const HEADERS_TIMEOUT_MS = wholeNumber('KMS_HEADERS_TIMEOUT_MS', {
  default: 10_000,
  what: MS,
  min: 100,
  max: 600_000,
  doc: 'a client must send its request line and headers within this (a slowloris does not; the TLS handshake counts)',
});

export const REQUEST_TIMEOUT_MS = wholeNumber('KMS_REQUEST_TIMEOUT_MS', {
  default: 30_000,
  what: MS,
  min: 100,
  max: 600_000,
  doc: '…and its whole request within this',
});

export const KEEP_ALIVE_TIMEOUT_MS = wholeNumber('KMS_KEEP_ALIVE_TIMEOUT_MS', {
  default: 5_000,
  what: MS,
  min: 100,
  max: 600_000,
  doc: 'an idle keep-alive connection is closed after this',
});

export const WORKERS = variable(
  'KMS_WORKERS',
  z.pipe(
    z.optional(z.string()),
    z.transform((value, context): number | 'auto' => {
      if (value === undefined || value === 'auto') return 'auto';
      const count = Number(value);
      if (/^\d+$/.test(value) && count >= 1 && count <= MAX_WORKERS) return count;
      return z.refuse(context, value, `must be a whole number of processes (or auto, one per core) from 1 up to ${MAX_WORKERS}, not "${value.slice(0, 40)}"`);
    }),
  ),
  {
    default: 'auto',
    doc: `processes serving the port (node:cluster): a number up to ${MAX_WORKERS}, or \`auto\` for one per core; \`1\` serves from the main process`,
  },
);

export const SEED_FILE = optionalText('KMS_SEED_FILE', {
  doc: 'a seed file applied at start: keys, aliases and access keys (idempotent; the store wins on what the API can change)',
});

export const SCHEDULE_INTERVAL_MS = wholeNumber('KMS_SCHEDULE_INTERVAL_MS', {
  default: 60_000,
  what: MS,
  min: 100,
  doc: 'how often the gateway runs key rotation and expired-key deletion',
});

/** Every gateway variable, in the order the configuration table lists them. */
export const GATEWAY_VARIABLES = [
  HOST,
  PORT,
  SEED_FILE,
  SCHEDULE_INTERVAL_MS,
  TLS_CERT,
  TLS_KEY,
  TLS_CLIENT_CA,
  ALLOW_PLAINTEXT_HTTP,
  HEADERS_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  SHUTDOWN_GRACE_MS,
  WORKERS,
  METRICS_PORT,
  METRICS_HOST,
] as const;
