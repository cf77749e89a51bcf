import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  ALLOW_PLAINTEXT_HTTP,
  HEADERS_TIMEOUT_MS,
  HOST,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_WORKERS,
  METRICS_HOST,
  METRICS_PORT,
  PORT,
  REQUEST_TIMEOUT_MS,
  SHUTDOWN_GRACE_MS,
  TLS_CERT,
  TLS_CLIENT_CA,
  TLS_KEY,
  WORKERS,
} from '../../lib/config/gateway.js';
import { ConfigurationError, defaultOf, type Environment } from '../../lib/config/variable.js';

export { ConfigurationError, MAX_WORKERS };

/** Defaults of the gateway's own variables, as lib/config/gateway.ts declares them (once; docs/configuration.md lists them). */
export const GATEWAY_DEFAULTS = {
  KMS_HOST: defaultOf(HOST),
  KMS_PORT: defaultOf(PORT),
  KMS_METRICS_HOST: defaultOf(METRICS_HOST),
  KMS_SHUTDOWN_GRACE_MS: defaultOf(SHUTDOWN_GRACE_MS),
  KMS_MAX_CONNECTIONS: defaultOf(MAX_CONNECTIONS),
  KMS_HEADERS_TIMEOUT_MS: defaultOf(HEADERS_TIMEOUT_MS),
  KMS_REQUEST_TIMEOUT_MS: defaultOf(REQUEST_TIMEOUT_MS),
  KMS_KEEP_ALIVE_TIMEOUT_MS: defaultOf(KEEP_ALIVE_TIMEOUT_MS),
} as const;

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
export function readGatewayConfig(env: Environment): GatewayConfig {
  const host = HOST.read(env);
  const port = PORT.read(env);
  const certFile = TLS_CERT.read(env);
  const keyFile = TLS_KEY.read(env);
  const clientCaFile = TLS_CLIENT_CA.read(env);
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new ConfigurationError('KMS_TLS_CERT and KMS_TLS_KEY go together: set both (PEM files) or neither');
  if (clientCaFile && !certFile) throw new ConfigurationError('KMS_TLS_CLIENT_CA (mutual TLS) needs KMS_TLS_CERT and KMS_TLS_KEY');
  const plaintextAllowed = ALLOW_PLAINTEXT_HTTP.read(env);
  if (!certFile && !isLoopback(host) && !plaintextAllowed) {
    throw new ConfigurationError(
      `KMS_HOST=${host} is reachable from other machines, and without TLS data keys would cross the network in the clear: set KMS_TLS_CERT and KMS_TLS_KEY (or, behind a TLS-terminating proxy on a private network, KMS_ALLOW_PLAINTEXT_HTTP=true)`,
    );
  }
  const metricsPort = METRICS_PORT.read(env);
  const workers = WORKERS.read(env);
  return {
    host,
    port,
    ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
    plaintextAllowed,
    ...(metricsPort !== undefined ? { metrics: { host: METRICS_HOST.read(env), port: metricsPort } } : {}),
    shutdownGraceMs: SHUTDOWN_GRACE_MS.read(env),
    maxConnections: MAX_CONNECTIONS.read(env),
    headersTimeoutMs: HEADERS_TIMEOUT_MS.read(env),
    requestTimeoutMs: REQUEST_TIMEOUT_MS.read(env),
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS.read(env),
    workers: workers === 'auto' ? Math.min(availableParallelism(), MAX_WORKERS) : workers,
  };
}

/** Loopback addresses and names: only this machine can reach them. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}
