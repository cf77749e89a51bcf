import { randomUUID } from 'node:crypto';
import { InternalFailureError, KmsError } from '../errors.js';
import { errorResponse } from '../rpc/serialize.js';
import type { RpcResponse } from '../rpc/request.js';

/**
 * The answer to a request an adapter could not even read (too large, aborted, not an HTTP event),
 * before the middleware stack — which answers everything else — ever saw it: an Alibaba error body
 * in JSON, never a platform 5xx or a stack trace.
 */
export function unreadableRequestResponse(err: unknown): RpcResponse {
  return errorResponse('JSON', randomUUID().toUpperCase(), 'kms', err instanceof KmsError ? err : new InternalFailureError());
}
