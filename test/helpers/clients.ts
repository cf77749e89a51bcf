import { createRequire } from 'node:module';
import type KmsModule from '@alicloud/kms20160120';
import type OpenApiModule from '@alicloud/openapi-client';
import type OpenApiUtilModule from '@alicloud/openapi-util';
import type PopCoreClient from '@alicloud/pop-core';
import type RpcClientModule from '@alicloud/rpc-client';
import type TeaUtilModule from '@alicloud/tea-util';
import type { Credentials } from './sign.js';

/*
 * The official Alibaba Cloud clients, pointed at a local gateway. They are CommonJS; loading them
 * with require() gives the same module object under tsc, tsx and vitest (default-import interop
 * differs between them).
 */
const require = createRequire(import.meta.url);
const OpenApi = require('@alicloud/openapi-client') as typeof OpenApiModule;
const OpenApiUtil = (require('@alicloud/openapi-util') as typeof OpenApiUtilModule).default;
const TeaUtil = require('@alicloud/tea-util') as typeof TeaUtilModule;
const Kms = require('@alicloud/kms20160120') as typeof KmsModule;
const RpcClient = require('@alicloud/rpc-client') as typeof RpcClientModule;
const RPCClient = require('@alicloud/pop-core') as typeof PopCoreClient;

export const API_VERSION = '2016-01-20';
export const REGION_ID = 'cn-hangzhou';

export type EncryptionContextMap = Record<string, string>;

export interface DataKeyParams {
  KeyId: string;
  KeySpec?: string;
  NumberOfBytes?: number;
  EncryptionContext?: EncryptionContextMap;
}

export interface EncryptParams {
  KeyId: string;
  Plaintext: string;
  EncryptionContext?: EncryptionContextMap;
}

export interface DecryptParams {
  CiphertextBlob: string;
  EncryptionContext?: EncryptionContextMap;
}

/** A response's fields as the service names them. */
export interface KmsResult {
  RequestId?: string;
  KeyId?: string;
  KeyVersionId?: string;
  Plaintext?: string;
  CiphertextBlob?: string;
  [field: string]: unknown;
}

/**
 * One official client behind a common shape. Every method throws the SDK's own error on a
 * refusal (see {@link serverCodeOf} and {@link KmsClient.sdkCode}).
 */
export interface KmsClient {
  name: ClientKind;
  generateDataKey(p: DataKeyParams): Promise<KmsResult>;
  generateDataKeyWithoutPlaintext(p: DataKeyParams): Promise<KmsResult>;
  encrypt(p: EncryptParams): Promise<KmsResult>;
  decrypt(p: DecryptParams): Promise<KmsResult>;
  /** The `code` this SDK puts on its error for a service error Code (some append "Error"). */
  sdkCode(serviceCode: string): string;
  /** Releases kept-alive sockets. */
  close(): void;
}

export const CLIENT_KINDS = ['openapi-v3', 'openapi-v2', 'kms20160120', 'pop-core-get', 'pop-core-post'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface ClientTarget {
  port: number;
  /** 127.0.0.1 unless given. */
  host?: string;
}

export function createClient(kind: ClientKind, target: ClientTarget, credentials: Credentials): KmsClient {
  switch (kind) {
    case 'openapi-v3':
      return openApiClient(kind, target, credentials, undefined);
    case 'openapi-v2':
      return openApiClient(kind, target, credentials, 'v2');
    case 'kms20160120':
      return kmsSdkClient(target, credentials);
    case 'pop-core-get':
      return popCoreClient(kind, target, credentials, 'GET');
    case 'pop-core-post':
      return popCoreClient(kind, target, credentials, 'POST');
  }
}

/** The service's error Code carried by an SDK error (all three SDKs keep the response body in `data`). */
export function serverCodeOf(err: unknown): string | undefined {
  const e = err as { data?: { Code?: unknown }; code?: unknown };
  if (typeof e?.data?.Code === 'string') return e.data.Code;
  return typeof e?.code === 'string' ? e.code : undefined;
}

/** Runs `call`, expecting it to throw; returns the SDK error. */
export async function sdkError(
  call: () => Promise<unknown>,
): Promise<{ code?: string; data?: Record<string, unknown>; statusCode?: number; message?: string }> {
  try {
    await call();
  } catch (err) {
    return err as { code?: string; data?: Record<string, unknown>; statusCode?: number; message?: string };
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

const hostOf = (target: ClientTarget) => `${target.host ?? '127.0.0.1'}:${target.port}`;
const contextText = (context: EncryptionContextMap | undefined) => (context === undefined ? undefined : JSON.stringify(context));

function defined(params: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = v;
  return out;
}

function toRpcParams(action: string, p: DataKeyParams | EncryptParams | DecryptParams): Record<string, string> {
  switch (action) {
    case 'GenerateDataKey':
    case 'GenerateDataKeyWithoutPlaintext': {
      const d = p as DataKeyParams;
      return defined({
        KeyId: d.KeyId,
        KeySpec: d.KeySpec,
        NumberOfBytes: d.NumberOfBytes === undefined ? undefined : String(d.NumberOfBytes),
        EncryptionContext: contextText(d.EncryptionContext),
      });
    }
    case 'Encrypt': {
      const e = p as EncryptParams;
      return defined({ KeyId: e.KeyId, Plaintext: e.Plaintext, EncryptionContext: contextText(e.EncryptionContext) });
    }
    default: {
      const d = p as DecryptParams;
      return defined({ CiphertextBlob: d.CiphertextBlob, EncryptionContext: contextText(d.EncryptionContext) });
    }
  }
}

/** `@alicloud/openapi-client` generic callApi: V3 ACS3-HMAC-SHA256 by default, RPC HMAC-SHA1 with signatureAlgorithm 'v2'. */
function openApiClient(kind: ClientKind, target: ClientTarget, credentials: Credentials, signatureAlgorithm: 'v2' | undefined): KmsClient {
  const config = new OpenApi.Config({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    endpoint: hostOf(target),
    protocol: 'http',
    regionId: REGION_ID,
  });
  if (signatureAlgorithm) config.signatureAlgorithm = signatureAlgorithm;
  const client = new OpenApi.default(config);
  const call = async (action: string, p: DataKeyParams | EncryptParams | DecryptParams): Promise<KmsResult> => {
    const params = new OpenApi.Params({
      action,
      version: API_VERSION,
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new OpenApi.OpenApiRequest({ query: OpenApiUtil.query(toRpcParams(action, p)) });
    const response = await client.callApi(params, request, new TeaUtil.RuntimeOptions({}));
    return response.body as KmsResult;
  };
  return {
    name: kind,
    generateDataKey: (p) => call('GenerateDataKey', p),
    generateDataKeyWithoutPlaintext: (p) => call('GenerateDataKeyWithoutPlaintext', p),
    encrypt: (p) => call('Encrypt', p),
    decrypt: (p) => call('Decrypt', p),
    sdkCode: (code) => code,
    close: () => undefined,
  };
}

/**
 * `@alicloud/kms20160120` 1.2.0: the generated product client (over `@alicloud/rpc-client`, RPC
 * HMAC-SHA1). Map parameters are sent flattened (`EncryptionContext.k=v`), responses are models
 * with camelCase fields.
 */
function kmsSdkClient(target: ClientTarget, credentials: Credentials): KmsClient {
  const client = new Kms.default(
    new RpcClient.Config({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      endpoint: hostOf(target),
      protocol: 'http',
      regionId: REGION_ID,
    }),
  );
  const fromModel = (m: { requestId?: string; keyId?: string; keyVersionId?: string; plaintext?: string; ciphertextBlob?: string }): KmsResult => {
    const out: KmsResult = {};
    if (m.requestId !== undefined) out.RequestId = m.requestId;
    if (m.keyId !== undefined) out.KeyId = m.keyId;
    if (m.keyVersionId !== undefined) out.KeyVersionId = m.keyVersionId;
    if (m.plaintext !== undefined) out.Plaintext = m.plaintext;
    if (m.ciphertextBlob !== undefined) out.CiphertextBlob = m.ciphertextBlob;
    return out;
  };
  return {
    name: 'kms20160120',
    generateDataKey: async (p) =>
      fromModel(
        await client.generateDataKey(
          new Kms.GenerateDataKeyRequest({ keyId: p.KeyId, keySpec: p.KeySpec, numberOfBytes: p.NumberOfBytes, encryptionContext: p.EncryptionContext }),
        ),
      ),
    generateDataKeyWithoutPlaintext: async (p) =>
      fromModel(
        await client.generateDataKeyWithoutPlaintext(
          new Kms.GenerateDataKeyWithoutPlaintextRequest({
            keyId: p.KeyId,
            keySpec: p.KeySpec,
            numberOfBytes: p.NumberOfBytes,
            encryptionContext: p.EncryptionContext,
          }),
        ),
      ),
    encrypt: async (p) =>
      fromModel(await client.encrypt(new Kms.EncryptRequest({ keyId: p.KeyId, plaintext: p.Plaintext, encryptionContext: p.EncryptionContext }))),
    decrypt: async (p) => fromModel(await client.decrypt(new Kms.DecryptRequest({ ciphertextBlob: p.CiphertextBlob, encryptionContext: p.EncryptionContext }))),
    sdkCode: (code) => `${code}Error`,
    close: () => undefined,
  };
}

/** `@alicloud/pop-core` RPCClient: GET (parameters in the query) or POST (form body). */
function popCoreClient(kind: ClientKind, target: ClientTarget, credentials: Credentials, method: 'GET' | 'POST'): KmsClient {
  const client = new RPCClient({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    endpoint: `http://${hostOf(target)}`,
    apiVersion: API_VERSION,
  });
  const call = async (action: string, p: DataKeyParams | EncryptParams | DecryptParams): Promise<KmsResult> =>
    (await client.request<KmsResult>(action, toRpcParams(action, p), { method, formatParams: false, timeout: 10_000 })) as KmsResult;
  return {
    name: kind,
    generateDataKey: (p) => call('GenerateDataKey', p),
    generateDataKeyWithoutPlaintext: (p) => call('GenerateDataKeyWithoutPlaintext', p),
    encrypt: (p) => call('Encrypt', p),
    decrypt: (p) => call('Decrypt', p),
    sdkCode: (code) => code,
    close: () => (client as unknown as { keepAliveAgent?: { destroy(): void } }).keepAliveAgent?.destroy(),
  };
}

/** Parameter values a generic call accepts: strings as they are, numbers and booleans as text, maps as JSON. */
export type ActionParams = Record<string, string | number | boolean | EncryptionContextMap | undefined>;

/**
 * A client that calls any Action by name (the key-management Actions included), through one of the
 * official clients' generic paths: pop-core `request(action, params, {method})`, or
 * openapi-client `callApi` (V3 ACS3-HMAC-SHA256, or RPC HMAC-SHA1 with signatureAlgorithm 'v2').
 * It returns the response body as the SDK surfaces it (the service's own field names).
 */
export interface ActionClient {
  name: ActionClientKind;
  call(action: string, params?: ActionParams): Promise<Record<string, any>>;
  /** Releases kept-alive sockets. */
  close(): void;
}

export const ACTION_CLIENT_KINDS = ['pop-core-post', 'pop-core-get', 'openapi-v3', 'openapi-v2'] as const;
export type ActionClientKind = (typeof ACTION_CLIENT_KINDS)[number];

function toParamText(params: ActionParams | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    out[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

export function createActionClient(kind: ActionClientKind, target: ClientTarget, credentials: Credentials): ActionClient {
  if (kind === 'pop-core-post' || kind === 'pop-core-get') {
    const method = kind === 'pop-core-post' ? 'POST' : 'GET';
    const client = new RPCClient({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      endpoint: `http://${hostOf(target)}`,
      apiVersion: API_VERSION,
    });
    return {
      name: kind,
      call: async (action, params) =>
        (await client.request<Record<string, any>>(action, toParamText(params), { method, formatParams: false, timeout: 10_000 })) as Record<string, any>,
      close: () => (client as unknown as { keepAliveAgent?: { destroy(): void } }).keepAliveAgent?.destroy(),
    };
  }
  const config = new OpenApi.Config({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    endpoint: hostOf(target),
    protocol: 'http',
    regionId: REGION_ID,
  });
  if (kind === 'openapi-v2') config.signatureAlgorithm = 'v2';
  const client = new OpenApi.default(config);
  return {
    name: kind,
    async call(action, params) {
      const apiParams = new OpenApi.Params({
        action,
        version: API_VERSION,
        protocol: 'HTTP',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      const request = new OpenApi.OpenApiRequest({ query: OpenApiUtil.query(toParamText(params)) });
      const response = await client.callApi(apiParams, request, new TeaUtil.RuntimeOptions({}));
      return response.body as Record<string, any>;
    },
    close: () => undefined,
  };
}

/** The `@alicloud/kms20160120` module, for its request models (`new KmsSdk.CreateKeyRequest({…})`). */
export const KmsSdk = Kms;

/**
 * A `@alicloud/kms20160120` 1.2.0 product client pointed at a local gateway: it has a typed method
 * for every Action here but ReEncrypt; responses are models with camelCase fields.
 */
export function createKmsSdkClient(target: ClientTarget, credentials: Credentials) {
  return new Kms.default(
    new RpcClient.Config({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      endpoint: hostOf(target),
      protocol: 'http',
      regionId: REGION_ID,
    }),
  );
}
