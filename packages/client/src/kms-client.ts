import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KmsApiError, KmsConnectionError } from './api-errors.js';
import { isoSeconds } from './internal/time.js';
import {
  type AsymmetricEncryptionAlgorithmName,
  asymmetricDecrypt,
  asymmetricEncrypt,
  type BinaryInput,
  generateMac,
  getPublicKey,
  type MacAlgorithmName,
  newestKeyVersionId,
  type SigningAlgorithmName,
  signDigest,
  type UsedKeyVersion,
  verifyDigest,
  verifyMac,
} from './key-operations.js';
import { percentEncode } from './signing/percent-encode.js';
import { amzDateOf, SIGV4_ALGORITHM, sigV4CanonicalRequest, sigV4Signature } from './signing/sigv4.js';
import { sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from './signing/v3.js';

export { KmsApiError, KmsConnectionError };

export const API_VERSION = '2016-01-20';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080/';
/** The region AWS-protocol calls are signed for unless told: the one the service serves by default (`KMS_AWS_REGIONS`). */
export const DEFAULT_AWS_REGION = 'us-east-1';
const EMPTY_BODY_SHA256 = sha256Hex('');
/** Headers this client signs on an AWS-protocol call (SigV4): what the service requires, and the body's type. */
const AWS_SIGNED_HEADERS = ['content-type', 'host', 'x-amz-date', 'x-amz-target'] as const;
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
  /** The region {@link KmsClient.callAws} signs for: one the service serves (`KMS_AWS_REGIONS`, `KMS_REGION`); default `us-east-1`. */
  awsRegion?: string;
}

/** TLS settings of a client: trust a private CA, present a client certificate (mutual TLS). */
export interface ClientTls {
  /** PEM: the certificate authorities trusted for the server's certificate, instead of the system's. */
  ca?: string | Buffer;
  /** PEM: the client's certificate and private key, when the server asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
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
  readonly #awsRegion: string;

  constructor(options: KmsClientOptions) {
    this.endpoint = endpointUrl(options.endpoint);
    this.#credentials = options.credentials;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#tls = options.tls;
    this.#awsRegion = options.awsRegion ?? DEFAULT_AWS_REGION;
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
    const parsed = parseBody(body);
    if (status >= 400 || parsed === undefined) {
      const code = typeof parsed?.Code === 'string' ? parsed.Code : `HTTP${status}`;
      const message = typeof parsed?.Message === 'string' ? parsed.Message : `the endpoint answered HTTP ${status} without an error body`;
      throw new KmsApiError(code, message, status, typeof parsed?.RequestId === 'string' ? parsed.RequestId : undefined);
    }
    return parsed as T;
  }

  /**
   * Calls an operation of the AWS KMS protocol (JSON 1.1, `X-Amz-Target: TrentService.<operation>`)
   * the service also speaks, signed with AWS Signature Version 4 for the client's `awsRegion` with
   * the same access key: for what the Alibaba API has no Action for (GenerateMac, VerifyMac).
   * Blobs in `body` and in the answer are Base64. An error answer becomes a {@link KmsApiError}
   * whose `code` is AWS's exception name (`KMSInvalidMacException`).
   */
  async callAws<T extends Record<string, unknown> = Record<string, unknown>>(operation: string, body: Readonly<Record<string, unknown>>): Promise<T> {
    const path = this.endpoint.pathname || '/';
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const amzDate = amzDateOf(Date.now());
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      host: this.endpoint.host,
      'x-amz-date': amzDate,
      'x-amz-target': `TrentService.${operation}`,
    };
    const scope = { date: amzDate.slice(0, 8), region: this.#awsRegion };
    const canonical = sigV4CanonicalRequest({ method: 'POST', path, query: [], headers, signedHeaders: AWS_SIGNED_HEADERS, payloadHash: sha256Hex(payload) });
    const signature = sigV4Signature(this.#credentials.accessKeySecret, scope, amzDate, canonical);
    headers.authorization = `${SIGV4_ALGORITHM} Credential=${this.#credentials.accessKeyId}/${scope.date}/${scope.region}/kms/aws4_request, SignedHeaders=${AWS_SIGNED_HEADERS.join(';')}, Signature=${signature}`;
    let answer: { status: number; body: Buffer; headers: Record<string, string | undefined> };
    try {
      answer = await this.#send(path, headers, payload);
    } finally {
      // The request may hold a message or plaintext.
      payload.fill(0);
    }
    const parsed = parseBody(answer.body);
    if (answer.status >= 400 || parsed === undefined) {
      // `__type` may carry a namespace (`com.amazonaws.kms#NotFoundException`); the name is after `#`.
      const type = typeof parsed?.__type === 'string' ? parsed.__type.slice(parsed.__type.lastIndexOf('#') + 1) : `HTTP${answer.status}`;
      const text = parsed?.message ?? parsed?.Message;
      const message = typeof text === 'string' ? text : `the endpoint answered HTTP ${answer.status} without an error body`;
      throw new KmsApiError(type, message, answer.status, answer.headers['x-amzn-requestid']);
    }
    return parsed as T;
  }

  #send(
    pathAndQuery: string,
    headers: Record<string, string>,
    payload?: Buffer,
  ): Promise<{ status: number; body: Buffer; headers: Record<string, string | undefined> }> {
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
          headers: { ...headers, 'content-length': String(payload?.length ?? 0) },
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
            const answerHeaders: Record<string, string | undefined> = {};
            for (const [name, value] of Object.entries(res.headers)) answerHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
            resolve({ status: res.statusCode ?? 0, body, headers: answerHeaders });
          });
          res.on('error', (err) => reject(new KmsConnectionError(display, err.message, { cause: err })));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (err) => reject(new KmsConnectionError(display, err.message, { cause: err })));
      req.end(payload);
    });
  }
}

/**
 * A JSON object answer, or undefined. The bytes are zeroed: the body may hold a data key
 * (GenerateDataKey, Decrypt); the parsed strings cannot be zeroed, the bytes can.
 */
function parseBody(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  } finally {
    body.fill(0);
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
  /** The region `generateMac` and `verifyMac` (AWS protocol) sign for: one the service serves; default `us-east-1`. */
  awsRegion?: string;
}

/** One signed call per API Action (what the partition helpers need of a client). */
export interface KmsApi {
  /**
   * Calls an Action with string parameters (map parameters such as `EncryptionContext` as JSON text)
   * and returns the parsed response body. Throws {@link KmsApiError} (with the API's `code`) when
   * the service refuses, {@link KmsConnectionError} when it cannot be reached.
   */
  call(action: string, params?: Record<string, string>): Promise<Record<string, unknown>>;
}

/**
 * What {@link createKmsClient} returns: {@link KmsApi}'s call of any Action, and typed calls of the
 * asymmetric and HMAC Actions. Each throws {@link KmsApiError} (with the API's `code`) when the
 * service refuses, {@link KmsConnectionError} when it cannot be reached. Binary inputs are bytes
 * or their Base64 text.
 */
export interface KmsApiClient extends KmsApi {
  /** AsymmetricSign: signs a digest (SHA-256 of the message; not the message) with a key version. */
  sign(keyId: string, keyVersionId: string, algorithm: SigningAlgorithmName, digest: BinaryInput): Promise<UsedKeyVersion & { signature: Buffer }>;
  /** AsymmetricVerify: whether a signature of a digest verifies; false for one that does not. */
  verify(keyId: string, keyVersionId: string, algorithm: SigningAlgorithmName, digest: BinaryInput, signature: BinaryInput): Promise<boolean>;
  /** GetPublicKey: a key version's public key, PEM (SubjectPublicKeyInfo). */
  getPublicKey(keyId: string, keyVersionId: string): Promise<UsedKeyVersion & { publicKeyPem: string }>;
  /** AsymmetricEncrypt: RSA-OAEP of raw bytes with a key version's public key. */
  asymmetricEncrypt(
    keyId: string,
    keyVersionId: string,
    algorithm: AsymmetricEncryptionAlgorithmName,
    plaintext: BinaryInput,
  ): Promise<UsedKeyVersion & { ciphertextBlob: Buffer }>;
  /** AsymmetricDecrypt: the raw bytes of an RSA-OAEP ciphertext. */
  asymmetricDecrypt(
    keyId: string,
    keyVersionId: string,
    algorithm: AsymmetricEncryptionAlgorithmName,
    ciphertextBlob: BinaryInput,
  ): Promise<UsedKeyVersion & { plaintext: Buffer }>;
  /** GenerateMac (AWS protocol, this service only): the HMAC of a message (1–4096 bytes) under an HMAC key. */
  generateMac(keyId: string, algorithm: MacAlgorithmName, message: BinaryInput): Promise<{ keyId: string; macAlgorithm: MacAlgorithmName; mac: Buffer }>;
  /** VerifyMac (AWS protocol, this service only): whether a MAC of a message verifies; false for one that does not. */
  verifyMac(keyId: string, algorithm: MacAlgorithmName, message: BinaryInput, mac: BinaryInput): Promise<boolean>;
  /** The id of a key's newest version (ListKeyVersions), for the Actions that need one named. */
  newestKeyVersionId(keyId: string): Promise<string>;
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
 * const digest = createHash('sha256').update(message).digest();
 * const version = await kms.newestKeyVersionId('alias/signing');
 * const { signature } = await kms.sign('alias/signing', version, 'ECDSA_SHA_256', digest);
 * const { mac } = await kms.generateMac('alias/hmac', 'HMAC_SHA_256', message);
 * ```
 */
export function createKmsClient(options: CreateKmsClientOptions): KmsApiClient {
  const endpoint = options.endpoint ?? (options.regionId ? `https://kms.${options.regionId}.aliyuncs.com/` : DEFAULT_ENDPOINT);
  const client = new KmsClient({
    endpoint,
    credentials: { accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.awsRegion ? { awsRegion: options.awsRegion } : {}),
  });
  return {
    call: (action, params = {}) => client.call(action, params),
    sign: (keyId, keyVersionId, algorithm, digest) => signDigest(client, keyId, keyVersionId, algorithm, digest),
    verify: (keyId, keyVersionId, algorithm, digest, signature) => verifyDigest(client, keyId, keyVersionId, algorithm, digest, signature),
    getPublicKey: (keyId, keyVersionId) => getPublicKey(client, keyId, keyVersionId),
    asymmetricEncrypt: (keyId, keyVersionId, algorithm, plaintext) => asymmetricEncrypt(client, keyId, keyVersionId, algorithm, plaintext),
    asymmetricDecrypt: (keyId, keyVersionId, algorithm, ciphertextBlob) => asymmetricDecrypt(client, keyId, keyVersionId, algorithm, ciphertextBlob),
    generateMac: (keyId, algorithm, message) => generateMac(client, keyId, algorithm, message),
    verifyMac: (keyId, algorithm, message, mac) => verifyMac(client, keyId, algorithm, message, mac),
    newestKeyVersionId: (keyId) => newestKeyVersionId(client, keyId),
  };
}

function tlsOptionsOf(tls: ClientTls): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } {
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) };
}
