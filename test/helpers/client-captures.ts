import { readFileSync } from 'node:fs';
import { AccessKeyRegistry } from '../../lib/access-keys.js';
import type { AuthenticationDeps } from '../../lib/auth/authenticate.js';
import { MemoryNonceStore } from '../../lib/keystore/nonce-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { ADMIN_POLICY } from '../../lib/policy/policy.js';
import type { RpcRequest } from '../../lib/rpc/request.js';

/**
 * What the official clients sent, as captured by test/fixtures/capture-clients.ts into
 * test/fixtures/client-requests.json, and the glue the signature known-answer tests share.
 */
export interface CapturedRequest {
  name: string;
  client: string;
  signature: 'rpc' | 'v3';
  action: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface ClientCapture {
  credentials: { accessKeyId: string; accessKeySecret: string };
  inputs: { plaintext: string; encryptionContext: Record<string, string>; flattenedContext: Record<string, string> };
  requests: CapturedRequest[];
}

export const CAPTURE: ClientCapture = JSON.parse(readFileSync(new URL('../fixtures/client-requests.json', import.meta.url), 'utf8')) as ClientCapture;

export const capturesSigned = (signature: 'rpc' | 'v3'): CapturedRequest[] => CAPTURE.requests.filter((r) => r.signature === signature);

export function captureNamed(name: string): CapturedRequest {
  const found = CAPTURE.requests.find((r) => r.name === name);
  if (!found) throw new Error(`no captured request named ${name}`);
  return found;
}

/** A captured request as the adapters would hand it over: path/rawQuery split, lower-case headers, body bytes. */
export function toRpcRequest(captured: CapturedRequest): RpcRequest & { headers: Record<string, string> } {
  const q = captured.url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(captured.headers)) headers[name.toLowerCase()] = value;
  return {
    method: captured.method,
    path: q === -1 ? captured.url : captured.url.slice(0, q),
    rawQuery: q === -1 ? '' : captured.url.slice(q + 1),
    headers,
    body: Buffer.from(captured.body, 'utf8'),
  };
}

/** The request's own timestamp (RPC `Timestamp` or V3 `x-acs-date`) in epoch ms. */
export function capturedAt(captured: CapturedRequest): number {
  const request = toRpcRequest(captured);
  const fromHeader = request.headers['x-acs-date'];
  const fromQuery = new URLSearchParams(request.rawQuery).get('Timestamp') ?? new URLSearchParams(captured.body).get('Timestamp');
  const value = fromHeader ?? fromQuery;
  if (!value) throw new Error(`${captured.name} carries no timestamp`);
  return Date.parse(value);
}

/**
 * Authentication dependencies over the real registry and stores: the capture's access key (or
 * none, another secret, or disabled), a fresh nonce store, and a fixed clock.
 */
export async function authDeps(options: {
  now: number;
  accessKey?: 'capture' | 'absent';
  secret?: string;
  status?: 'Enabled' | 'Disabled';
}): Promise<AuthenticationDeps & { nonces: MemoryNonceStore }> {
  const now = () => options.now;
  const accessKeys = new AccessKeyRegistry(new MemoryKeyStore(), { cacheTtlMs: 60_000, now });
  if (options.accessKey !== 'absent') {
    await accessKeys.create({
      accessKeyId: CAPTURE.credentials.accessKeyId,
      accessKeySecret: options.secret ?? CAPTURE.credentials.accessKeySecret,
      status: options.status ?? 'Enabled',
      policy: ADMIN_POLICY,
      createdAt: new Date(options.now).toISOString(),
    });
  }
  return { accessKeys, nonces: new MemoryNonceStore(now), now };
}
