import { percentEncode } from '@alibaba-kms-compatible/client/signing';
import { MalformedRequestError, RequestTooLargeError } from '../../errors.js';
import { createDispatcher, createFunctionHandler } from '../../middleware/dispatch.js';
import { assertBodyWithinLimit, bodyLimitOf } from '../../rpc/body-limit.js';
import type { RpcHandler } from '../../middleware/stack.js';
import type { ActionDefinition } from '../../action.js';
import { emptyHeaders, type RpcRequest, type RpcResponse } from '../../rpc/request.js';
import type { Service } from '../../service.js';
import { lazyService, serveOnFunction } from '../lazy-service.js';
import { unreadableRequestResponse } from '../unreadable-request.js';
import type { Fc2HttpRequest, Fc2HttpResponse, FcContext, FcHttpEvent, FcHttpEventRaw, FcHttpResult } from './types.js';

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
  const headers = emptyHeaders();
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
    // secureTransport is left unset (false): the event has no field for the scheme (http.protocol
    // is "HTTP/1.1"), and a header could come from the client.
  };
}

/**
 * FC 2.0 HTTP-function request → RpcRequest: the body is read from the stream, the query is rebuilt
 * from the decoded `queries` as for FC 3.0.
 */
export async function fromFc2Request(request: Fc2HttpRequest): Promise<RpcRequest> {
  const headers = emptyHeaders();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const rawQuery = Object.entries(request.queries ?? {})
    .flatMap(([name, value]) => (value === undefined ? [] : Array.isArray(value) ? value : [value]).map((v) => `${percentEncode(name)}=${percentEncode(v)}`))
    .join('&');
  const limit = bodyLimitOf(headers, rawQuery);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) throw new RequestTooLargeError(limit);
    chunks.push(buffer);
  }
  // FC 2.0 says nothing of the scheme either: secureTransport is left unset (false).
  return { method: request.method, path: request.path, rawQuery, headers, body: Buffer.concat(chunks), sourceIp: request.clientIP };
}

/** RpcResponse written through an FC 2.0 HTTP-function response. */
export function writeFc2Response(response: RpcResponse, out: Fc2HttpResponse): void {
  out.setStatusCode(response.statusCode);
  for (const [name, value] of Object.entries(response.headers)) out.setHeader(name, value);
  out.send(response.body);
}

function isFc2Response(value: unknown): value is Fc2HttpResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Fc2HttpResponse).send === 'function' &&
    typeof (value as Fc2HttpResponse).setStatusCode === 'function'
  );
}

/** RpcResponse → the result FC maps onto the HTTP response (the body is always text: JSON or XML). */
export function toFcResult(response: RpcResponse): FcHttpResult {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/**
 * A Function Compute handler. FC 3.0 calls `(event, context)` and maps the returned result onto the
 * response; a function created through the FC 2.0 API as an HTTP function is called
 * `(request, response, context)` and answers through `response`. One handler serves both, so the
 * deployment works whichever way FC invokes it.
 */
export type FcHttpHandler = {
  (event: FcHttpEventRaw | FcHttpEvent, context?: FcContext): Promise<FcHttpResult>;
  (request: Fc2HttpRequest, response: Fc2HttpResponse, context?: FcContext): Promise<void>;
};

/**
 * An Action as a Function Compute handler behind an HTTP trigger (with the Actions it also serves:
 * ActionDefinition.alsoServes), exported by each function file as `fcHandler`. The service (key
 * store, caches) is built when the instance starts and kept for its life; the middleware stack is
 * the one every platform runs.
 */
export function fcHttpHandler(action: ActionDefinition): FcHttpHandler {
  return fcAdapter((service) => createFunctionHandler(service, action));
}

/** Every Action behind one Function Compute handler, dispatched by Action (form-body requests). */
export function fcHttpDispatcher(actions: Iterable<ActionDefinition>): FcHttpHandler {
  return fcAdapter((service) => createDispatcher(service, actions));
}

function fcAdapter(build: (service: Service) => RpcHandler): FcHttpHandler {
  // On Function Compute the service is built when the instance starts, not on the first request.
  const instance = lazyService(build, { eager: Boolean(process.env.FC_FUNCTION_NAME) });
  const handler = async (
    first: FcHttpEventRaw | FcHttpEvent | Fc2HttpRequest,
    second?: FcContext | Fc2HttpResponse,
    third?: FcContext,
  ): Promise<FcHttpResult | undefined> => {
    if (isFc2Response(second)) {
      let request: RpcRequest;
      try {
        request = await fromFc2Request(first as Fc2HttpRequest);
      } catch (err) {
        writeFc2Response(unreadableRequestResponse(err, (first as { headers?: Record<string, string> } | null)?.headers), second);
        return undefined;
      }
      writeFc2Response(await serveOnFunction(instance, request, { remainingMs: functionTimeoutMs(third) }), second);
      return undefined;
    }
    let request: RpcRequest;
    try {
      request = readFcEvent(first as FcHttpEventRaw | FcHttpEvent);
    } catch (err) {
      return toFcResult(unreadableRequestResponse(err, (first as { headers?: Record<string, string> } | null)?.headers));
    }
    return toFcResult(await serveOnFunction(instance, request, { remainingMs: functionTimeoutMs(second) }));
  };
  return handler as FcHttpHandler;
}

/** The function's timeout as its context states it (seconds), in milliseconds: the request's whole budget. */
function functionTimeoutMs(context: FcContext | undefined): number | undefined {
  const seconds = context?.function?.timeout;
  return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * {@link fromFcEvent}, refusing what it cannot read as an Alibaba error: a body over
 * MAX_BODY_BYTES (413, as the gateway), an event that is not an HTTP trigger's (400).
 */
function readFcEvent(event: FcHttpEventRaw | FcHttpEvent): RpcRequest {
  let request: RpcRequest;
  try {
    request = fromFcEvent(event);
  } catch {
    throw new MalformedRequestError();
  }
  assertBodyWithinLimit(request);
  return request;
}
