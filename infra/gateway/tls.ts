import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsFiles } from './config.js';

export interface TlsOptions extends SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * PEM files that cannot serve: unreadable, not PEM, cut short, or a certificate that does not
 * match its key. The message names the variable and the file, never their contents.
 */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
}

/**
 * The server's TLS options from its PEM files: TLS 1.2 at least; with a client CA, every client
 * must present a certificate that chains to it (mutual TLS), else the handshake fails. The pair
 * is checked whole before it is returned (a certificate, a private key, the two matching, and
 * OpenSSL accepting them with the CA), so nothing that would fail in the server gets that far:
 * read again on SIGHUP (see main.ts), a bad renewal is refused and the previous pair kept.
 * Rejects with {@link TlsFilesError}.
 */
export async function readTlsOptions(files: TlsFiles): Promise<TlsOptions> {
  const [cert, key, ca] = await Promise.all([
    readPem(files.certFile, 'KMS_TLS_CERT'),
    readPem(files.keyFile, 'KMS_TLS_KEY'),
    files.clientCaFile ? readPem(files.clientCaFile, 'KMS_TLS_CLIENT_CA') : undefined,
  ]);
  const options: TlsOptions = {
    cert,
    key,
    minVersion: 'TLSv1.2',
    ...(ca ? { ca } : {}),
    requestCert: ca !== undefined,
    rejectUnauthorized: ca !== undefined,
  };
  checkTlsOptions(options, files);
  return options;
}

/** Throws {@link TlsFilesError} saying what is wrong with the pair (OpenSSL's text carries no key material, but says little). */
export function checkTlsOptions(options: TlsOptions, files: TlsFiles): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(options.cert as Buffer);
  } catch {
    throw new TlsFilesError(`KMS_TLS_CERT: ${files.certFile} holds no whole PEM certificate (empty, cut short, or not a certificate)`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(options.key as Buffer);
  } catch {
    throw new TlsFilesError(`KMS_TLS_KEY: ${files.keyFile} holds no whole, unencrypted PEM private key (empty, cut short, encrypted, or not a key)`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new TlsFilesError(`KMS_TLS_CERT and KMS_TLS_KEY do not match: the certificate in ${files.certFile} is not for the key in ${files.keyFile}`);
  }
  try {
    createSecureContext(options);
  } catch (err) {
    const what = files.clientCaFile ? `${files.certFile}, ${files.keyFile} and ${files.clientCaFile}` : `${files.certFile} and ${files.keyFile}`;
    throw new TlsFilesError(`TLS cannot use ${what}: ${(err as Error).message}`);
  }
}

async function readPem(path: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TlsFilesError(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
