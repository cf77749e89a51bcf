import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';

/** An environment variable the gateway cannot use; the message names it. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Defaults of the gateway's own environment variables, declared once (docs/operations.md lists them). */
export const GATEWAY_DEFAULTS = {
  KMS_HOST: '127.0.0.1',
  KMS_PORT: 8080,
  KMS_METRICS_HOST: '127.0.0.1',
  KMS_SHUTDOWN_GRACE_MS: 5_000,
  /** Connections open at once; more wait in the kernel's queue until one closes. */
  KMS_MAX_CONNECTIONS: 1_024,
  /** A client must send its whole request line and headers within this (a slowloris does not). */
  KMS_HEADERS_TIMEOUT_MS: 10_000,
  /** …and its whole request within this. */
  KMS_REQUEST_TIMEOUT_MS: 30_000,
  /** An idle keep-alive connection is closed after this. */
  KMS_KEEP_ALIVE_TIMEOUT_MS: 5_000,
} as const;

/** Most gateway worker processes (KMS_WORKERS). */
export const MAX_WORKERS = 64;

/** Pipelined requests of one connection served at a time before its socket stops being read. */
export const MAX_QUEUED_PER_CONNECTION = 16;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Client certificates must chain to this CA (mutual TLS). */
  clientCaFile?: string;
}

export interface GatewayConfig {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** Plain HTTP on a non-loopback address, explicitly allowed (KMS_ALLOW_PLAINTEXT_HTTP=true). */
  plaintextAllowed: boolean;
  /** The Prometheus listener, when KMS_METRICS_PORT is set. */
  metrics?: { host: string; port: number };
  shutdownGraceMs: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * Processes serving the port (KMS_WORKERS: a number, or `auto`, the default, for one per core);
   * 1 serves from the main process. Each checks the store's change marker before a request reads
   * its caches (lib/keystore/change-watch.ts), so a change made through one is seen by all at once.
   */
  workers: number;
}

/** Reads and checks the gateway's variables; throws {@link ConfigurationError} naming the first bad one. */
export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const host = env.KMS_HOST || GATEWAY_DEFAULTS.KMS_HOST;
  const port = integer(env, 'KMS_PORT', GATEWAY_DEFAULTS.KMS_PORT, 0, 65_535, 'a port number');
  const certFile = env.KMS_TLS_CERT || undefined;
  const keyFile = env.KMS_TLS_KEY || undefined;
  const clientCaFile = env.KMS_TLS_CLIENT_CA || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigurationError('KMS_TLS_CERT and KMS_TLS_KEY go together: set both (PEM files) or neither');
  if (clientCaFile && !certFile) throw new ConfigurationError('KMS_TLS_CLIENT_CA (mutual TLS) needs KMS_TLS_CERT and KMS_TLS_KEY');
  const plaintextAllowed = flag(env, 'KMS_ALLOW_PLAINTEXT_HTTP');
  if (!certFile && !isLoopback(host) && !plaintextAllowed) {
    throw new ConfigurationError(
      `KMS_HOST=${host} is reachable from other machines, and without TLS data keys would cross the network in the clear: set KMS_TLS_CERT and KMS_TLS_KEY (or, behind a TLS-terminating proxy on a private network, KMS_ALLOW_PLAINTEXT_HTTP=true)`,
    );
  }
  const metricsPort = env.KMS_METRICS_PORT ? integer(env, 'KMS_METRICS_PORT', 0, 0, 65_535, 'a port number') : undefined;
  return {
    host,
    port,
    ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
    plaintextAllowed,
    ...(metricsPort !== undefined ? { metrics: { host: env.KMS_METRICS_HOST || GATEWAY_DEFAULTS.KMS_METRICS_HOST, port: metricsPort } } : {}),
    shutdownGraceMs: integer(env, 'KMS_SHUTDOWN_GRACE_MS', GATEWAY_DEFAULTS.KMS_SHUTDOWN_GRACE_MS, 0, 600_000, 'a whole number of milliseconds'),
    maxConnections: integer(env, 'KMS_MAX_CONNECTIONS', GATEWAY_DEFAULTS.KMS_MAX_CONNECTIONS, 1, 1_000_000, 'a whole number'),
    headersTimeoutMs: integer(env, 'KMS_HEADERS_TIMEOUT_MS', GATEWAY_DEFAULTS.KMS_HEADERS_TIMEOUT_MS, 100, 600_000, 'a whole number of milliseconds'),
    requestTimeoutMs: integer(env, 'KMS_REQUEST_TIMEOUT_MS', GATEWAY_DEFAULTS.KMS_REQUEST_TIMEOUT_MS, 100, 600_000, 'a whole number of milliseconds'),
    keepAliveTimeoutMs: integer(env, 'KMS_KEEP_ALIVE_TIMEOUT_MS', GATEWAY_DEFAULTS.KMS_KEEP_ALIVE_TIMEOUT_MS, 100, 600_000, 'a whole number of milliseconds'),
    workers:
      env.KMS_WORKERS === undefined || env.KMS_WORKERS === '' || env.KMS_WORKERS === 'auto'
        ? Math.min(availableParallelism(), MAX_WORKERS)
        : integer(env, 'KMS_WORKERS', 1, 1, MAX_WORKERS, 'a whole number of processes (or auto, one per core)'),
  };
}

/** Loopback addresses and names: only this machine can reach them. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, what: string): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) throw new ConfigurationError(`${name} must be ${what}${min > 0 ? ` from ${min}` : ''} up to ${max}, not "${text.slice(0, 40)}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const text = env[name];
  if (text === undefined || text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new ConfigurationError(`${name} must be true or false, not "${text.slice(0, 40)}"`);
}
