import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Operation } from '../operation.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { Service } from '../service.js';
import { authentication } from './authentication.js';
import { errorResponseAndAccessLog } from './error-response.js';
import { requestContext } from './request-context.js';
import { rpcParameters } from './rpc-parameters.js';
import { runOperation } from './run-operation.js';
import { audited } from './audited.js';

/** A platform-neutral handler: one RPC request in, one response out, never a throw. */
export type RpcHandler = (request: RpcRequest, context?: Context) => Promise<RpcResponse>;

/**
 * The one middleware stack every function runs, on every platform:
 * request id → RPC parameters → authentication → operation (validate, resolve + authorise,
 * execute) → JSON/XML; any error → Alibaba error body. Built once per operation and service.
 */
export function buildRpcHandler(operation: Operation<any, any>, service: Service): RpcHandler {
  const handler = middy<RpcRequest, RpcResponse>(runOperation(operation, service))
    .use(requestContext(service))
    .use(rpcParameters(service))
    .use(authentication(service))
    .use(errorResponseAndAccessLog(service));
  return audited(operation.action, service, (request, context) => handler(request, context ?? ({} as Context)));
}
