import type { MiddlewareObj } from '@middy/core';
import { authenticate } from '../auth/authenticate.js';
import type { Service } from '../service.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/** Verifies the signature, timestamp and nonce; records the caller and the signed Action. */
export function authentication(service: Service): MiddlewareObj {
  const before = async (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    const { principal, action } = await authenticate(request.event, state.params!, {
      accessKeys: service.accessKeys,
      nonces: service.nonces,
      now: service.now,
      admit: (principal, action) => service.rateLimiter.admit(principal.accessKeyId, action, principal.rateLimits),
    });
    state.principal = principal;
    state.action = action;
  };
  return { before } as MiddlewareObj;
}
