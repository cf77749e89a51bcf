import type { ALBEvent, ALBResult } from 'aws-lambda';
import type { RpcRequest, RpcResponse } from '../../lib/rpc/request.js';

/** The event an Application Load Balancer hands a Lambda function for a request (query values still percent-encoded, as an ALB passes them). */
export function albEventOf(request: RpcRequest): ALBEvent {
  const query: Record<string, string> = {};
  for (const pair of request.rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    query[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/kms-test/1' } },
    httpMethod: request.method,
    path: request.path,
    queryStringParameters: query,
    headers: { ...request.headers } as Record<string, string>,
    body: request.body.toString('utf8'),
    isBase64Encoded: false,
  };
}

/** A function's ALB result as the response the client gets. */
export function responseOfAlbResult(result: ALBResult): RpcResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  return { statusCode: result.statusCode, headers, body: result.body ?? '' };
}
