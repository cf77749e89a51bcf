import type { MiddlewareObj } from '@middy/core';
import { authenticate } from '../auth/authenticate.js';
import type { Service } from '../service.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/** Verifies the signature, timestamp and nonce; records the caller and the signed Action. */
export function authentication(service: Service): MiddlewareObj {
  const before = async (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    // Before any cache is read: a change acknowledged through any process before this request is seen.
    await service.validateCaches();
    const { principal, action, region } = await authenticate((claimed) => state.protocol.claim(request.event, state.wire, claimed), {
      accessKeys: service.accessKeys,
      nonces: service.nonces,
      now: service.now,
      // Metered by the Action that serves the request (AWS's EnableKeyRotation is an UpdateRotationPolicy).
      admit: (principal, action) => service.rateLimiter.admit(principal.accessKeyId, action, principal.rateLimits),
      attribute: (accessKeyId, verified) => {
        state.claimedAccessKey = { accessKeyId, verified };
      },
    });
    state.principal = principal;
    state.action = action;
    if (region !== undefined) state.signedRegion = region;
  };
  return { before } as MiddlewareObj;
}
