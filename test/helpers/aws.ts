import { Readable } from 'node:stream';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RpcRequest, RpcResponse } from '../../lib/rpc/request.js';
import type { TestService } from './service.js';
import type { Credentials } from './sign.js';

/** The region AWS-protocol tests sign for (served by default). */
export const AWS_REGION = 'us-east-1';

/**
 * The official AWS SDK's KMS client, talking to a service in this process: its requests, signed by
 * the SDK itself (SigV4), go to the real dispatcher instead of the network.
 */
export function inProcessKmsClient(
  t: Pick<TestService, 'dispatch'>,
  credentials: Credentials,
  options: {
    region?: string;
    maxAttempts?: number;
    /** Sees each request as the dispatcher gets it, and the answer; may replace the answer the client gets. */
    onExchange?: (request: RpcRequest, response: RpcResponse) => RpcResponse | undefined;
  } = {},
): KMSClient {
  return new KMSClient(inProcessClientConfig(t, credentials, options));
}

/** The official AWS SDK's Secrets Manager client, talking to a service in this process (as {@link inProcessKmsClient}). */
export function inProcessSecretsManagerClient(
  t: Pick<TestService, 'dispatch'>,
  credentials: Credentials,
  options: Parameters<typeof inProcessKmsClient>[2] = {},
): SecretsManagerClient {
  return new SecretsManagerClient(inProcessClientConfig(t, credentials, options));
}

function inProcessClientConfig(t: Pick<TestService, 'dispatch'>, credentials: Credentials, options: NonNullable<Parameters<typeof inProcessKmsClient>[2]>) {
  return {
    region: options.region ?? AWS_REGION,
    endpoint: 'http://127.0.0.1:8080',
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.accessKeySecret },
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        const rpcRequest = toRpcRequest(request);
        const served = await t.dispatch(rpcRequest);
        const response = options.onExchange?.(rpcRequest, served) ?? served;
        // What @smithy's HttpResponse holds (it checks the shape, not the class).
        return { response: { statusCode: response.statusCode, headers: response.headers, body: Readable.from([Buffer.from(response.body)]) } };
      },
    },
  };
}

/** The parts of @smithy's HttpRequest the dispatcher needs. */
interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
}

function toRpcRequest(request: HttpRequest): RpcRequest {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body as string | Uint8Array);
  const query = Object.entries(request.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return { method: request.method, path: request.path, rawQuery: query, headers, body };
}
