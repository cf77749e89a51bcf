import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ActionDefinition } from '../action.js';
import type { Protocol } from '../protocol/protocol.js';
import type { ActionGroup } from '../ratelimit/action-groups.js';
import { protocolOf, protocolsFor } from '../protocol/protocols.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { Service } from '../service.js';
import { audited } from './audited.js';
import { authentication } from './authentication.js';
import { envelope } from './envelope.js';
import { errorResponseAndAccessLog } from './error-response.js';
import { runOperation } from './run-operation.js';

/** A platform-neutral handler: one request in, one response out, never a throw. */
export type RpcHandler = (request: RpcRequest, context?: Context) => Promise<RpcResponse>;

/** A stack whose protocol the caller has chosen and opened already (the dispatcher). */
export type OpenedStack = (request: RpcRequest, context: Context | undefined, protocol: Protocol, wire: unknown) => Promise<RpcResponse>;

/**
 * The one middleware stack every function runs, on every platform and for every protocol:
 * envelope → authentication → operation (input, resolve + authorise, execute) → the protocol's
 * answer; any error → the protocol's error body. Built once per Action and service.
 */
export function buildStack(definition: ActionDefinition, service: Service, groups: ReadonlyMap<string, ActionGroup> = groupsOf([definition])): OpenedStack {
  const handler = middy<RpcRequest, RpcResponse>(runOperation(definition, service))
    .use(envelope())
    .use(authentication(service, groups, { readsOnly: definition.store === 'reads' }))
    .use(errorResponseAndAccessLog(service));
  return audited(definition.name, service, (request, context) => handler(request, (context ?? {}) as Context));
}

/** The stack of one Action as a handler: the request's protocol is chosen here, once. */
export function buildRpcHandler(definition: ActionDefinition, service: Service): RpcHandler {
  const protocols = protocolsFor([definition], service);
  const stack = buildStack(definition, service);
  return (request, context) => {
    const protocol = protocolOf(protocols, request.headers);
    return stack(request, context, protocol, protocol.open(request));
  };
}

/** The rate-limit group of each Action served. */
export function groupsOf(definitions: readonly ActionDefinition[]): ReadonlyMap<string, ActionGroup> {
  return new Map(definitions.map((definition) => [definition.name, definition.group]));
}
