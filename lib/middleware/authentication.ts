import type { MiddlewareObj } from '@middy/core';
import { authenticate } from '../auth/authenticate.js';
import type { ActionGroup } from '../ratelimit/action-groups.js';
import type { Service } from '../service.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/**
 * Verifies the signature, timestamp and nonce; records the caller and the signed Action. A
 * verified request is metered in the rate-limit group of the Action it asks for (`groups`: the
 * Actions served here; one not served counts as `write`, and is refused once authenticated).
 *
 * Round trips to the store, which a cold instance pays one after the other: the caches are
 * validated (one read of the change marker) while an access key not cached is read; with
 * `readsOnly` (an Action that changes nothing: `store: 'reads'`), the nonce claim runs beside the
 * operation, which awaits it before it answers (runOperation), so a replay still gets only
 * SignatureNonceUsed and changes nothing. test/unit/cold-start-rounds.test.ts counts the rounds.
 */
export function authentication(service: Service, groups: ReadonlyMap<string, ActionGroup>, options: { readsOnly?: boolean } = {}): MiddlewareObj {
  const before = async (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    // Before any cache is trusted: a change acknowledged through any process before this request is seen.
    const validated = service.validateCaches();
    // Awaited below; never left unhandled when authentication fails first.
    validated.catch(() => undefined);
    const { principal, action, region, nonceClaimed } = await authenticate((claimed) => state.protocol.claim(request.event, state.wire, claimed), {
      accessKeys: { lookup: (accessKeyId) => service.accessKeys.lookupValidating(accessKeyId, validated) },
      nonces: service.nonces,
      claimConcurrently: options.readsOnly === true,
      now: service.now,
      // Metered by the Action that serves the request (AWS's EnableKeyRotation is an UpdateRotationPolicy).
      admit: (principal, action) => service.rateLimiter.admit(principal.accessKeyId, groups.get(action) ?? 'write', principal.rateLimits),
      attribute: (accessKeyId, verified) => {
        state.claimedAccessKey = { accessKeyId, verified };
      },
    });
    // Whatever authenticate() refused early, no request goes on before its caches are valid.
    await validated;
    state.principal = principal;
    state.action = action;
    if (nonceClaimed) state.nonceClaimed = nonceClaimed;
    if (region !== undefined) state.signedRegion = region;
  };
  return { before } as MiddlewareObj;
}
