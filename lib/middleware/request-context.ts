import { randomUUID } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { Service } from '../service.js';
import { initState, type KmsMiddyRequest } from './state.js';

const HOST = /^[A-Za-z0-9.\-:[\]]{1,255}$/;

/** First in the stack: a fresh RequestId for every response, the start time, JSON until Format is read. */
export function requestContext(service: Service): MiddlewareObj {
  const before = (request: KmsMiddyRequest) => {
    const host = request.event.headers['host'];
    initState(request.event, {
      requestId: randomUUID().toUpperCase(),
      protocol: request.event.headers['x-amz-target'] !== undefined ? 'aws' : 'alibaba',
      startedAt: service.now(),
      format: 'JSON',
      // HostId echoes the endpoint the caller used, when it looks like a host name.
      hostId: host !== undefined && HOST.test(host) ? host : 'kms',
    });
  };
  return { before } as MiddlewareObj;
}
