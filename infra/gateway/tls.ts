import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import type { TlsFiles } from './config.js';

export interface TlsOptions extends SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * The server's TLS options from its PEM files: TLS 1.2 at least; with a client CA, every client
 * must present a certificate that chains to it (mutual TLS), else the handshake fails. Read again
 * on SIGHUP (see server.ts), so a renewed certificate takes effect without a restart.
 */
export async function readTlsOptions(files: TlsFiles): Promise<TlsOptions> {
  const [cert, key, ca] = await Promise.all([
    readPem(files.certFile, 'KMS_TLS_CERT'),
    readPem(files.keyFile, 'KMS_TLS_KEY'),
    files.clientCaFile ? readPem(files.clientCaFile, 'KMS_TLS_CLIENT_CA') : undefined,
  ]);
  return {
    cert,
    key,
    minVersion: 'TLSv1.2',
    ...(ca ? { ca } : {}),
    requestCert: ca !== undefined,
    rejectUnauthorized: ca !== undefined,
  };
}

async function readPem(path: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
