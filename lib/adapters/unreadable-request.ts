import { randomUUID } from 'node:crypto';
import { InternalFailureError, KmsError } from '../errors.js';
import { awsErrorResponse } from '../aws/protocol.js';
import { errorResponse } from '../rpc/serialize.js';
import type { RpcResponse } from '../rpc/request.js';

/** Headers as a platform hands them over: any case, a value or a list. */
export type RawHeaders = Readonly<Record<string, string | string[] | undefined>> | undefined | null;

/** Whether a request speaks the AWS KMS protocol (an X-Amz-Target header, in any case). */
export function speaksAws(headers: RawHeaders): boolean {
  return Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'x-amz-target');
}

/**
 * The answer to a request an adapter could not even read (too large, aborted, not an HTTP event),
 * before the middleware stack — which answers everything else — ever saw it: an error body in the
 * request's protocol (Alibaba's JSON, or AWS's when it has an X-Amz-Target header), never a
 * platform 5xx or a stack trace.
 */
export function unreadableRequestResponse(err: unknown, headers?: RawHeaders): RpcResponse {
  const error = err instanceof KmsError ? err : new InternalFailureError();
  const requestId = randomUUID().toUpperCase();
  return speaksAws(headers) ? awsErrorResponse(requestId, error) : errorResponse('JSON', requestId, 'kms', error);
}
