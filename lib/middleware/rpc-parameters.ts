import type { MiddlewareObj } from '@middy/core';
import { InvalidParameterError } from '../errors.js';
import { rpcParams } from '../rpc/params.js';
import { parseFormat } from '../rpc/serialize.js';
import type { Service } from '../service.js';
import { readAwsParameters } from './aws-parameters.js';
import { stateOf, type KmsMiddyRequest } from './state.js';

/**
 * Decodes query and form parameters once, and reads Format (so even later errors use it). An AWS
 * KMS request (X-Amz-Target) has its JSON read and translated instead (./aws-parameters.ts).
 */
export function rpcParameters(service: Service): MiddlewareObj {
  const before = (request: KmsMiddyRequest) => {
    const state = stateOf(request.event);
    if (state.protocol === 'aws') return readAwsParameters(request.event, state, service);
    const params = rpcParams(request.event);
    state.params = params;
    const format = parseFormat(params.all.get('Format'));
    if (!format) throw new InvalidParameterError('Format', 'It must be JSON or XML.');
    state.format = format;
    const version = params.all.get('Version') ?? request.event.headers['x-acs-version'];
    if (version !== undefined && version !== '2016-01-20') throw new InvalidParameterError('Version', 'This service implements API version 2016-01-20.');
  };
  return { before } as MiddlewareObj;
}
