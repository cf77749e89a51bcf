import type { ALBEvent, ALBResult, APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { percentEncode } from '@alibaba-kms-compatible/client/signing';
import { MalformedRequestError } from '../errors.js';
import { createDispatcher, createFunctionHandler } from '../middleware/dispatch.js';
import type { RpcHandler } from '../middleware/stack.js';
import type { PowertoolsBackedLogger } from '../logger-powertools.js';
import type { Service } from '../service.js';
import { lazyService, serveOnFunction } from './lazy-service.js';
import { countServerError } from './lambda-metrics.js';
import { assertBodyWithinLimit } from '../rpc/body-limit.js';
import { unreadableRequestResponse } from './unreadable-request.js';
import type { ActionDefinition } from '../action.js';
import { emptyHeaders, type RpcRequest, type RpcResponse } from '../rpc/request.js';

export type LambdaHttpEvent = APIGatewayProxyEventV2 | ALBEvent;
export type LambdaHttpResult = APIGatewayProxyStructuredResultV2 | ALBResult;

export function isAlbEvent(event: LambdaHttpEvent): event is ALBEvent {
  return 'elb' in (event.requestContext ?? {});
}

/**
 * API Gateway (HTTP API, payload 2.0) or ALB event → RpcRequest. An ALB hands over query values as
 * they were sent (not decoded), so its raw query is rebuilt by joining them. serverless-offline's
 * ALB emulation decodes them instead (`albQueryDecoded`): they are encoded again.
 */
export function fromLambdaEvent(event: LambdaHttpEvent, options: { albQueryDecoded?: boolean } = {}): RpcRequest {
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (isAlbEvent(event)) {
    const headers = emptyHeaders();
    if (event.multiValueHeaders) {
      for (const [name, values] of Object.entries(event.multiValueHeaders)) if (values) headers[name.toLowerCase()] = values.join(', ');
    } else {
      for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    const pairs: string[] = [];
    const raw = options.albQueryDecoded ? percentEncode : (text: string) => text;
    if (event.multiValueQueryStringParameters) {
      for (const [name, values] of Object.entries(event.multiValueQueryStringParameters)) for (const v of values ?? []) pairs.push(`${raw(name)}=${raw(v)}`);
    } else {
      for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) pairs.push(`${raw(name)}=${raw(value ?? '')}`);
    }
    return {
      method: event.httpMethod,
      path: event.path,
      rawQuery: pairs.join('&'),
      headers,
      body,
      // The last entry: the one the ALB appended (the peer it saw); earlier ones are the client's word.
      sourceIp: headers['x-forwarded-for']?.split(',').at(-1)?.trim(),
      // The ALB sets X-Forwarded-Proto to its listener's protocol. Only the one exact value counts:
      // a list ("https, http") is not what an ALB sends, so it is not taken as TLS.
      secureTransport: headers['x-forwarded-proto']?.trim().toLowerCase() === 'https',
    };
  }
  const headers = emptyHeaders();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    rawQuery: event.rawQueryString ?? '',
    headers,
    body,
    sourceIp: event.requestContext.http.sourceIp,
    // secureTransport is left unset (false): the payload 2.0 event has no field for the scheme
    // (http.protocol is "HTTP/1.1"), and a header could come from the client.
  };
}

/** RpcResponse → the result shape of the event's source (ALB needs a status description, and multi-value headers when it sent them). */
export function toLambdaResult(event: LambdaHttpEvent, response: RpcResponse): LambdaHttpResult {
  if (isAlbEvent(event)) {
    const result: ALBResult = {
      statusCode: response.statusCode,
      statusDescription: `${response.statusCode} ${STATUS_TEXT[response.statusCode] ?? ''}`.trim(),
      body: response.body,
      isBase64Encoded: false,
    };
    // Header names in canonical case: names are case-insensitive on the wire, and
    // serverless-offline's ALB emulation breaks on a lower-case `content-type` (it hands hapi an array).
    const headers = Object.entries(response.headers).map(([k, v]) => [canonicalHeaderName(k), v] as const);
    if (event.multiValueHeaders) {
      result.multiValueHeaders = Object.fromEntries(headers.map(([k, v]) => [k, [v]]));
    } else {
      result.headers = Object.fromEntries(headers);
    }
    return result;
  }
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/** `content-type` → `Content-Type`. */
function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * An Action as a Lambda handler behind API Gateway or an ALB (with the Actions it also serves:
 * ActionDefinition.alsoServes). The service (key store, caches) is built during the container's
 * init and kept for its life.
 */
export function lambdaHandler(action: ActionDefinition) {
  return lambdaAdapter((service) => createFunctionHandler(service, action));
}

/** Every Action behind one Lambda handler, dispatched by Action (see functions/dispatch.ts). */
export function lambdaDispatcher(actions: Iterable<ActionDefinition>) {
  return lambdaAdapter((service) => createDispatcher(service, actions));
}

function lambdaAdapter(build: (service: Service) => RpcHandler) {
  // On Lambda the service is built during init, not on the first request.
  const instance = lazyService(build, { eager: Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) });
  // serverless-offline marks its emulated functions; its ALB decodes query values, a real one does not.
  const albQueryDecoded = process.env.IS_OFFLINE === 'true';
  return async (event: LambdaHttpEvent, context: Context): Promise<LambdaHttpResult> => {
    let request: RpcRequest;
    try {
      request = readLambdaEvent(event, { albQueryDecoded });
    } catch (err) {
      return toLambdaResult(event, unreadableRequestResponse(err, (event as { headers?: Record<string, string | undefined> } | null)?.headers));
    }
    const response = await serveOnFunction(instance, request, {
      remainingMs: context?.getRemainingTimeInMillis?.(),
      context,
      // Powertools adds the invocation's fields (AWS request id, function, cold start) to every line.
      beforeHandle: (service) => {
        if (context?.awsRequestId) (service.logger as Partial<PowertoolsBackedLogger>).addContext?.(context);
      },
    });
    if (response.statusCode >= 500) countServerError();
    return toLambdaResult(event, response);
  };
}

/**
 * {@link fromLambdaEvent}, refusing what it cannot read as an Alibaba error: a body over
 * MAX_BODY_BYTES (413, as the gateway), an event that is not an HTTP request (400).
 */
function readLambdaEvent(event: LambdaHttpEvent, options: { albQueryDecoded?: boolean }): RpcRequest {
  let request: RpcRequest;
  try {
    request = fromLambdaEvent(event, options);
  } catch {
    throw new MalformedRequestError();
  }
  assertBodyWithinLimit(request);
  return request;
}
