import { randomUUID } from 'node:crypto';
import { rpcSignature, rpcStringToSign } from '../../lib/auth/rpc-signature.js';
import { sha256Hex, v3CanonicalRequest, v3Signature } from '../../lib/auth/v3-signature.js';
import { percentEncode } from '../../lib/rpc/percent-encode.js';
import type { RpcRequest } from '../../lib/rpc/request.js';

/**
 * Builds signed requests for in-process contract tests. The signing code is the service's own;
 * the known-answer tests (test/unit/signature-*.test.ts) pin it to what the official clients send.
 */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface RpcOptions {
  method?: 'GET' | 'POST';
  /** POST only: parameters in an x-www-form-urlencoded body instead of the query. */
  form?: boolean;
  timestamp?: string;
  nonce?: string;
  format?: string;
  /** Changes applied after signing (tampering). */
  afterSigning?: (params: Record<string, string>) => void;
}

export function signedRpcRequest(credentials: Credentials, action: string, params: Record<string, string>, options: RpcOptions = {}): RpcRequest {
  const method = options.method ?? 'GET';
  const all: Record<string, string> = {
    Action: action,
    Format: options.format ?? 'JSON',
    Version: '2016-01-20',
    AccessKeyId: credentials.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: options.nonce ?? randomUUID(),
    Timestamp: options.timestamp ?? isoSeconds(Date.now()),
    ...params,
  };
  all.Signature = rpcSignature(credentials.accessKeySecret, rpcStringToSign(method, Object.entries(all)));
  options.afterSigning?.(all);
  const encoded = Object.entries(all).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  const headers: Record<string, string> = { host: '127.0.0.1:8080', 'x-acs-action': action, 'x-acs-version': '2016-01-20' };
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return { method: 'POST', path: '/', rawQuery: '', headers, body: Buffer.from(encoded) };
  }
  return { method, path: '/', rawQuery: encoded, headers, body: Buffer.alloc(0) };
}

export interface V3Options {
  date?: string;
  nonce?: string;
  body?: Buffer;
  contentType?: string;
  /** Header names to leave out of SignedHeaders. */
  unsigned?: string[];
  afterSigning?: (request: RpcRequest & { headers: Record<string, string> }) => void;
}

export function signedV3Request(credentials: Credentials, action: string, params: Record<string, string>, options: V3Options = {}): RpcRequest {
  const body = options.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'x-acs-action': action,
    'x-acs-version': '2016-01-20',
    'x-acs-date': options.date ?? isoSeconds(Date.now()),
    'x-acs-signature-nonce': options.nonce ?? randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
  };
  if (options.contentType) headers['content-type'] = options.contentType;
  const query = Object.entries(params);
  const signedHeaders = Object.keys(headers).filter((h) => !(options.unsigned ?? []).includes(h)).sort();
  const canonical = v3CanonicalRequest({ method: 'POST', path: '/', query, headers, signedHeaders, hashedPayload: headers['x-acs-content-sha256']! });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${credentials.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${v3Signature(credentials.accessKeySecret, canonical)}`;
  const request = { method: 'POST', path: '/', rawQuery: query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'), headers, body };
  options.afterSigning?.(request);
  return request;
}
