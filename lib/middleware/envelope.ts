import type { MiddlewareObj } from '@middy/core';
import { stateOf, type KmsMiddyRequest } from './state.js';

/** Reads the request's envelope in its protocol (parameters, format, version; a body's shape), before authentication. */
export function envelope(): MiddlewareObj {
  const before = (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    state.protocol.decode(request.event, state.wire);
  };
  return { before } as MiddlewareObj;
}
