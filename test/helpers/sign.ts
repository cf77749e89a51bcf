import { createHash, randomUUID } from 'node:crypto';
import { sigV4CanonicalRequest, sigV4Signature } from '../../lib/auth/sigv4.js';
import { percentEncode, rpcSignature, rpcStringToSign, sha256Hex, v3CanonicalRequest, v3Signature } from '@alibaba-kms-compatible/client/signing';
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
  const encoded = Object.entries(all)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
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
  const signedHeaders = Object.keys(headers)
    .filter((h) => !(options.unsigned ?? []).includes(h))
    .sort();
  const canonical = v3CanonicalRequest({ method: 'POST', path: '/', query, headers, signedHeaders, hashedPayload: headers['x-acs-content-sha256']! });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${credentials.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${v3Signature(credentials.accessKeySecret, canonical)}`;
  const request = { method: 'POST', path: '/', rawQuery: query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'), headers, body };
  options.afterSigning?.(request);
  return request;
}

export interface AwsRequestOptions {
  /** The AWS service the operation is of: X-Amz-Target's prefix and the SigV4 scope's service (default kms). */
  service?: 'kms' | 'secretsmanager';
  /** Signs for this service's scope instead (a signature for one service sent to another's operation). */
  scopeService?: string;
  region?: string;
  /** X-Amz-Date; default now. */
  amzDate?: string;
  body?: Buffer;
  /** amz-sdk-invocation-id; default a random UUID; null: no such header (as the AWS CLI v2 sends). */
  invocationId?: string | null;
  /** amz-sdk-request (`attempt=N; max=M`), when given; none by default. */
  sdkRequest?: string;
  /** Header names sent but left out of SignedHeaders (boto3 sends amz-sdk-* unsigned). */
  unsigned?: string[];
  /** Changes applied after signing (tampering). */
  afterSigning?: (request: RpcRequest & { headers: Record<string, string> }) => void;
}

/** yyyyMMddTHHmmssZ of an epoch-ms time. */
export function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * An AWS KMS JSON request (X-Amz-Target) signed with SigV4 as the AWS SDKs sign it. The official
 * SDK's own signer is exercised by test/contract/aws-protocol.test.ts; this one lets a test send
 * bodies the SDK would not build.
 */
export function signedAwsRequest(credentials: Credentials, operation: string, body: unknown, options: AwsRequestOptions = {}): RpcRequest {
  const region = options.region ?? 'us-east-1';
  const amzDate = options.amzDate ?? amzDateOf(Date.now());
  const payload = options.body ?? Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-date': amzDate,
    'x-amz-target': `${options.service === 'secretsmanager' ? 'secretsmanager.' : 'TrentService.'}${operation}`,
  };
  if (options.invocationId !== null) headers['amz-sdk-invocation-id'] = options.invocationId ?? randomUUID();
  if (options.sdkRequest !== undefined) headers['amz-sdk-request'] = options.sdkRequest;
  const signedHeaders = Object.keys(headers)
    .filter((h) => !(options.unsigned ?? []).includes(h))
    .sort();
  const canonical = sigV4CanonicalRequest({
    method: 'POST',
    path: '/',
    query: [],
    headers,
    signedHeaders,
    payloadHash: createHash('sha256').update(payload).digest('hex'),
  });
  // The scope's service: the operation's own unless a test signs for another.
  const service = options.scopeService ?? options.service ?? 'kms';
  const signature = sigV4Signature(credentials.accessKeySecret, { date: amzDate.slice(0, 8), region, service }, amzDate, canonical);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${amzDate.slice(0, 8)}/${region}/${service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  const request = { method: 'POST', path: '/', rawQuery: '', headers, body: payload };
  options.afterSigning?.(request);
  return request;
}
