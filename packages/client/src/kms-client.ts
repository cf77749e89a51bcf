import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isoSeconds } from './internal/time.js';
import { percentEncode } from './signing/percent-encode.js';
import { sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from './signing/v3.js';

export const API_VERSION = '2016-01-20';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080/';
const EMPTY_BODY_SHA256 = sha256Hex('');
/** Headers this client signs: everything the gateway requires, and `host`. */
const SIGNED_HEADERS = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'] as const;

export interface KmsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface KmsClientOptions {
  /** `http(s)://host[:port][/]`, or a bare `host[:port]` (http for loopback hosts, else https). */
  endpoint: string;
  credentials: KmsCredentials;
  /** Per-request timeout; 30 s unless given. */
  timeoutMs?: number;
  /** https only: the CA that signs the server's certificate (PEM), and a client certificate for mutual TLS. */
  tls?: ClientTls;
}

/** TLS settings of a client: trust a private CA, present a client certificate (mutual TLS). */
export interface ClientTls {
  /** PEM: the certificate authorities trusted for the server's certificate, instead of the system's. */
  ca?: string | Buffer;
  /** PEM: the client's certificate and private key, when the server asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** The service answered with an Alibaba error body (or at least an error status). */
export class KmsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'KmsApiError';
  }
}

/** No answer: the endpoint could not be reached, the connection broke, or the request timed out. */
export class KmsConnectionError extends Error {
  readonly code = 'ServiceUnreachable';
  constructor(
    readonly endpoint: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${endpoint}: ${detail}`, options);
    this.name = 'KmsConnectionError';
  }
}

export type ApiParams = Readonly<Record<string, string | number | boolean | undefined>>;

/** Normalises an endpoint to a URL; a bare `host[:port]` gets http on loopback, https elsewhere. */
export function endpointUrl(endpoint: string): URL {
  const text = endpoint.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
    ? text
    : `${/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i.test(text) ? 'http' : 'https'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`the endpoint "${endpoint}" is not a URL or host[:port]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the endpoint "${endpoint}" must be http or https`);
  if (url.search || url.hash || url.username || url.password) throw new TypeError(`the endpoint "${endpoint}" must not carry a query, fragment or user info`);
  return url;
}

/**
 * A small client of the KMS API (2016-01-20): each call is a POST with the parameters in the
 * query, signed with ACS3-HMAC-SHA256 (./signing, the code the server verifies with), as the
 * official `@alicloud/kms20160120` client sends it. Returns the parsed JSON body; an error
 * response becomes a {@link KmsApiError}, no response a {@link KmsConnectionError}.
 */
export class KmsClient {
  readonly endpoint: URL;
  readonly #credentials: KmsCredentials;
  readonly #timeoutMs: number;
  readonly #tls: ClientTls | undefined;

  constructor(options: KmsClientOptions) {
    this.endpoint = endpointUrl(options.endpoint);
    this.#credentials = options.credentials;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#tls = options.tls;
  }

  async call<T extends Record<string, unknown> = Record<string, unknown>>(action: string, params: ApiParams = {}): Promise<T> {
    const query = Object.entries(params)
      .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
      .map(([name, value]) => [name, String(value)] as [string, string]);
    const path = this.endpoint.pathname || '/';
    const headers: Record<string, string> = {
      host: this.endpoint.host,
      'x-acs-action': action,
      'x-acs-version': API_VERSION,
      'x-acs-date': isoSeconds(Date.now()),
      'x-acs-signature-nonce': randomUUID(),
      'x-acs-content-sha256': EMPTY_BODY_SHA256,
    };
    const canonical = v3CanonicalRequest({ method: 'POST', path, query, headers, signedHeaders: SIGNED_HEADERS, hashedPayload: EMPTY_BODY_SHA256 });
    const signature = v3Signature(this.#credentials.accessKeySecret, canonical);
    headers.authorization = `${V3_ALGORITHM} Credential=${this.#credentials.accessKeyId},SignedHeaders=${SIGNED_HEADERS.join(';')},Signature=${signature}`;
    const rawQuery = query.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');

    const { status, body } = await this.#send(rawQuery ? `${path}?${rawQuery}` : path, headers);
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    } finally {
      // The body may hold a data key (GenerateDataKey, Decrypt); the parsed strings cannot be
      // zeroed, the bytes can.
      body.fill(0);
    }
    if (status >= 400 || parsed === undefined || typeof parsed !== 'object' || parsed === null) {
      const code = typeof parsed?.Code === 'string' ? parsed.Code : `HTTP${status}`;
      const message = typeof parsed?.Message === 'string' ? parsed.Message : `the endpoint answered HTTP ${status} without an error body`;
      throw new KmsApiError(code, message, status, typeof parsed?.RequestId === 'string' ? parsed.RequestId : undefined);
    }
    return parsed as T;
  }

  #send(pathAndQuery: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    const send = this.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    const display = this.endpoint.origin;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: this.endpoint.protocol,
          hostname: this.endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.endpoint.port || undefined,
          method: 'POST',
          path: pathAndQuery,
          headers: { ...headers, 'content-length': '0' },
          agent: false,
          timeout: this.#timeoutMs,
          ...(this.endpoint.protocol === 'https:' && this.#tls ? tlsOptionsOf(this.#tls) : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            for (const chunk of chunks) chunk.fill(0);
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on('error', (err) => reject(new KmsConnectionError(display, err.message, { cause: err })));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (err) => reject(new KmsConnectionError(display, err.message, { cause: err })));
      req.end();
    });
  }
}

/** Options of {@link createKmsClient}. */
export interface CreateKmsClientOptions {
  /**
   * `http(s)://host[:port]`, or a bare `host[:port]` (http for loopback, else https). Default: this
   * service's local gateway, or Alibaba Cloud KMS's public endpoint of `regionId` when that is given.
   */
  endpoint?: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** An Alibaba Cloud region (`cn-hangzhou`): picks `https://kms.<regionId>.aliyuncs.com` when no endpoint is given. */
  regionId?: string;
  /** Per-request timeout in milliseconds; 30 s unless given. */
  timeoutMs?: number;
  /** https endpoints: a private CA to trust, a client certificate for mutual TLS. */
  tls?: ClientTls;
}

/** What {@link createKmsClient} returns: one signed call per API Action. */
export interface KmsApi {
  /**
   * Calls an Action with string parameters (map parameters such as `EncryptionContext` as JSON text)
   * and returns the parsed response body. Throws {@link KmsApiError} (with the API's `code`) when
   * the service refuses, {@link KmsConnectionError} when it cannot be reached.
   */
  call(action: string, params?: Record<string, string>): Promise<Record<string, unknown>>;
}

/**
 * A signed client of the KMS API (2016-01-20), for this service and for Alibaba Cloud KMS alike:
 * every call is signed with ACS3-HMAC-SHA256, as the official SDKs sign it.
 *
 * @example
 * ```ts
 * import { createKmsClient } from '@alibaba-kms-compatible/client';
 * const kms = createKmsClient({ endpoint: 'http://127.0.0.1:8080', accessKeyId, accessKeySecret });
 * const { CiphertextBlob } = await kms.call('GenerateDataKeyWithoutPlaintext', { KeyId: 'alias/orders' });
 * ```
 */
export function createKmsClient(options: CreateKmsClientOptions): KmsApi {
  const endpoint = options.endpoint ?? (options.regionId ? `https://kms.${options.regionId}.aliyuncs.com/` : DEFAULT_ENDPOINT);
  const client = new KmsClient({
    endpoint,
    credentials: { accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  return { call: (action, params = {}) => client.call(action, params) };
}

function tlsOptionsOf(tls: ClientTls): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } {
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) };
}
