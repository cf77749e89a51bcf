import type { ALBEvent, ALBResult, APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { buildRpcHandler, type RpcHandler } from '../middleware/stack.js';
import type { Operation } from '../operation.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import { serviceFromEnvironment } from '../service-from-env.js';

export type LambdaHttpEvent = APIGatewayProxyEventV2 | ALBEvent;
export type LambdaHttpResult = APIGatewayProxyStructuredResultV2 | ALBResult;

export function isAlbEvent(event: LambdaHttpEvent): event is ALBEvent {
  return 'elb' in (event.requestContext ?? {});
}

/**
 * API Gateway (HTTP API, payload 2.0) or ALB event → RpcRequest. ALB hands over query values as
 * they were sent (not decoded), so its raw query is rebuilt by joining them.
 */
export function fromLambdaEvent(event: LambdaHttpEvent): RpcRequest {
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (isAlbEvent(event)) {
    const headers: Record<string, string> = {};
    if (event.multiValueHeaders) {
      for (const [name, values] of Object.entries(event.multiValueHeaders)) if (values) headers[name.toLowerCase()] = values.join(', ');
    } else {
      for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    const pairs: string[] = [];
    if (event.multiValueQueryStringParameters) {
      for (const [name, values] of Object.entries(event.multiValueQueryStringParameters)) for (const v of values ?? []) pairs.push(`${name}=${v}`);
    } else {
      for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) pairs.push(`${name}=${value ?? ''}`);
    }
    return { method: event.httpMethod, path: event.path, rawQuery: pairs.join('&'), headers, body, sourceIp: headers['x-forwarded-for']?.split(',')[0]?.trim() };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    rawQuery: event.rawQueryString ?? '',
    headers,
    body,
    sourceIp: event.requestContext.http.sourceIp,
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
    if (event.multiValueHeaders) {
      result.multiValueHeaders = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, [v]]));
    } else {
      result.headers = response.headers;
    }
    return result;
  }
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/**
 * An operation as a Lambda handler behind API Gateway or an ALB. The service (key store, caches)
 * is built on the first invocation and kept for the container's life.
 */
export function lambdaHandler(operation: Operation<any, any>) {
  let rpc: Promise<RpcHandler> | undefined;
  return async (event: LambdaHttpEvent, context: Context): Promise<LambdaHttpResult> => {
    rpc ??= serviceFromEnvironment().then((service) => buildRpcHandler(operation, service));
    const response = await (await rpc)(fromLambdaEvent(event), context);
    return toLambdaResult(event, response);
  };
}
