import type { MiddlewareObj } from '@middy/core';
import { InternalFailureError, KmsError, ServiceUnavailableError } from '../errors.js';
import { KeyStoreUnavailableError } from '../keystore/store-errors.js';
import { metrics } from '../metrics/metrics.js';
import type { Service } from '../service.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/**
 * Last line of the stack: a {@link KmsError} becomes its protocol's error body and status; an
 * unavailable key store a 503 ServiceUnavailableTemporary; anything else is an InternalFailure
 * whose details go to the log only (never to the caller). One access-log line per request, written
 * at every log level, with no parameters in it.
 */
export function errorResponseAndAccessLog(service: Service): MiddlewareObj {
  const log = (request: KmsMiddyRequest, code?: string) => {
    const state = stateOf(request.event);
    service.logger.access('request', {
      requestId: state.requestId,
      action: state.action,
      accessKeyId: state.claimedAccessKey?.accessKeyId,
      accessKeyVerified: state.claimedAccessKey?.verified,
      status: request.response?.statusCode,
      code,
      ms: service.now() - state.startedAt,
    });
  };
  const after = (request: KmsMiddyRequest) => {
    stateOf(request.event).code = 'OK';
    log(request);
  };
  const onError = (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    let error = request.error;
    if (error instanceof KeyStoreUnavailableError) {
      // Any backend that cannot serve now (disk full or read-only, a lock held too long, a network
      // outage): retryable, so a 503, never a 500.
      metrics.storeError(error.reason);
      service.logger.warn('key store unavailable', { requestId: state.requestId, reason: error.reason, operation: error.operation, entry: error.entry });
      error = new ServiceUnavailableError({ cause: error });
    } else if (!(error instanceof KmsError)) {
      service.logger.error('internal failure', {
        requestId: state.requestId,
        error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
      error = new InternalFailureError();
    }
    const kmsError = error as KmsError;
    request.response = state.protocol.fail(state, kmsError);
    state.code = kmsError.code;
    log(request, kmsError.code);
  };
  return { after, onError } as MiddlewareObj;
}
