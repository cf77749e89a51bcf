import { createDispatcher } from '../../middleware/dispatch.js';
import { buildRpcHandler, type RpcHandler } from '../../middleware/stack.js';
import type { Operation } from '../../operation.js';
import { percentEncode } from '../../rpc/percent-encode.js';
import type { RpcRequest, RpcResponse } from '../../rpc/request.js';
import { serviceFromEnvironment } from '../../service-from-env.js';
import type { Service } from '../../service.js';
import type { FcContext, FcHttpEvent, FcHttpEventRaw, FcHttpResult } from './types.js';

/** The event as the runtime delivers it (JSON in a Buffer or a string), or already parsed. */
export function parseFcEvent(event: FcHttpEventRaw | FcHttpEvent): FcHttpEvent {
  if (Buffer.isBuffer(event)) return JSON.parse(event.toString('utf8')) as FcHttpEvent;
  if (typeof event === 'string') return JSON.parse(event) as FcHttpEvent;
  return event;
}

/**
 * FC 3.0 HTTP trigger event → RpcRequest. Header names are lower-cased. FC hands over the query
 * already decoded, so the raw query is rebuilt by RFC 3986-encoding every name and value: both
 * signature versions decode the query and encode it again their own way, so a signature made over
 * the caller's encoding still verifies over this one.
 */
export function fromFcEvent(raw: FcHttpEventRaw | FcHttpEvent): RpcRequest {
  const event = parseFcEvent(raw);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  const rawQuery = Object.entries(event.queryParameters ?? {})
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    rawQuery,
    headers,
    body,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

/** RpcResponse → the result FC maps onto the HTTP response (the body is always text: JSON or XML). */
export function toFcResult(response: RpcResponse): FcHttpResult {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/** A Function Compute handler: `(event, context) => Promise<result>`, as the nodejs20 runtime calls it. */
export type FcHttpHandler = (event: FcHttpEventRaw | FcHttpEvent, context?: FcContext) => Promise<FcHttpResult>;

/**
 * An operation as a Function Compute handler behind an HTTP trigger, exported by each function file
 * as `fcHandler`. The service (key store, caches) is built on the first invocation and kept for the
 * instance's life; the middleware stack is the one every platform runs.
 */
export function fcHttpHandler(operation: Operation<any, any>): FcHttpHandler {
  return fcAdapter((service) => buildRpcHandler(operation, service));
}

/** Every operation behind one Function Compute handler, dispatched by Action (form-body requests). */
export function fcHttpDispatcher(operations: Iterable<Operation<any, any>>): FcHttpHandler {
  return fcAdapter((service) => createDispatcher(service, operations));
}

function fcAdapter(build: (service: Service) => RpcHandler): FcHttpHandler {
  let rpc: Promise<RpcHandler> | undefined;
  return async (event) => {
    rpc ??= serviceFromEnvironment().then(build);
    return toFcResult(await (await rpc)(fromFcEvent(event)));
  };
}
