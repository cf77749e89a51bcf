import type { MiddlewareObj } from '@middy/core';
import { authenticate } from '../auth/authenticate.js';
import type { ActionGroup } from '../ratelimit/action-groups.js';
import type { Service } from '../service.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/**
 * Verifies the signature, timestamp and nonce; records the caller and the signed Action. A
 * verified request is metered in the rate-limit group of the Action it asks for (`groups`: the
 * Actions served here; one not served counts as `write`, and is refused once authenticated).
 */
export function authentication(service: Service, groups: ReadonlyMap<string, ActionGroup>): MiddlewareObj {
  const before = async (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    // Before any cache is read: a change acknowledged through any process before this request is seen.
    await service.validateCaches();
    const { principal, action, region } = await authenticate((claimed) => state.protocol.claim(request.event, state.wire, claimed), {
      accessKeys: service.accessKeys,
      nonces: service.nonces,
      now: service.now,
      // Metered by the Action that serves the request (AWS's EnableKeyRotation is an UpdateRotationPolicy).
      admit: (principal, action) => service.rateLimiter.admit(principal.accessKeyId, groups.get(action) ?? 'write', principal.rateLimits),
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
