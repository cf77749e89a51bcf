import { randomUUID } from 'node:crypto';
import { InternalFailureError, KmsError } from '../errors.js';
import { answeringProtocolOf } from '../protocol/protocols.js';
import type { RpcResponse } from '../rpc/request.js';

/** Headers as a platform hands them over: any case, a value or a list. */
export type RawHeaders = Readonly<Record<string, string | string[] | undefined>> | undefined | null;

/**
 * The answer to a request an adapter could not even read (too large, aborted, not an HTTP event),
 * before the middleware stack — which answers everything else — ever saw it: an error body in the
 * protocol its headers speak (Alibaba's JSON, or AWS's when it has an X-Amz-Target header), never
 * a platform 5xx or a stack trace.
 */
export function unreadableRequestResponse(err: unknown, headers?: RawHeaders): RpcResponse {
  const error = err instanceof KmsError ? err : new InternalFailureError();
  return answeringProtocolOf(headers).fail({ requestId: randomUUID().toUpperCase() }, error);
}
