import type { MiddlewareObj } from '@middy/core';
import { authenticate } from '../auth/authenticate.js';
import type { Service } from '../service.js';
import { servingAction } from '../aws/operations.js';
import { parseSigV4Authorization } from '../aws/sigv4.js';
import { awsBodyOf } from './aws-parameters.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/** Verifies the signature, timestamp and nonce; records the caller and the signed Action. */
export function authentication(service: Service): MiddlewareObj {
  const before = async (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    const { principal, action } = await authenticate(request.event, state.params!, {
      accessKeys: service.accessKeys,
      nonces: service.nonces,
      now: service.now,
      // Metered by the Action that serves the request (AWS's EnableKeyRotation is an UpdateRotationPolicy).
      admit: (principal, action) =>
        service.rateLimiter.admit(principal.accessKeyId, state.aws ? servingAction(state.aws.operation, awsBodyOf(request.event)) : action, principal.rateLimits),
      awsRegions: service.aws.regions,
    });
    state.principal = principal;
    state.action = action;
    if (state.aws) {
      // The signed X-Amz-Target named the operation; the Action is the Alibaba one that serves it.
      state.action = servingAction(state.aws.operation, awsBodyOf(request.event));
      state.aws.region = parseSigV4Authorization(request.event.headers['authorization']!).region;
    }
  };
  return { before } as MiddlewareObj;
}
