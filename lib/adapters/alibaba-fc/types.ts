/**
 * Alibaba Cloud Function Compute 3.0: what a built-in runtime (nodejs20) hands an event handler
 * behind an HTTP trigger, and what it turns back into the HTTP response.
 * https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function
 */

/** The HTTP trigger event, once parsed (payload version `v1`). */
export interface FcHttpEvent {
  version: string;
  /** The path as sent (still percent-encoded); `requestContext.http.path` is the decoded one. */
  rawPath: string;
  /** Base64 when `isBase64Encoded` (binary content types), else the text as sent. */
  body?: string;
  isBase64Encoded: boolean;
  /** A header given more than once arrives once, its values joined with ",". */
  headers?: Record<string, string>;
  /**
   * Query parameters, already percent-decoded. A name given more than once arrives once, its values
   * joined with "," — indistinguishable from one value holding a comma, so values are taken whole.
   */
  queryParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix?: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    stage?: string;
    time: string;
    timeEpoch: string;
  };
}

/** How the runtime delivers the event: the JSON above as a Buffer (a string from some invokers). */
export type FcHttpEventRaw = Buffer | string;

/** The handler's result, mapped by Function Compute onto the HTTP response. */
export interface FcHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The part of the invocation context this service reads (the runtime passes more). */
export interface FcContext {
  requestId?: string;
  region?: string;
  accountId?: string;
  function?: { name?: string; handler?: string; memory?: number; timeout?: number };
  [field: string]: unknown;
}

/**
 * Function Compute 2.0 "HTTP functions" (functions created through the FC 2.0 API) are called as
 * `(request, response, context)` instead: the request is a readable body stream with these fields,
 * the response is written through these methods.
 * https://www.alibabacloud.com/help/en/functioncompute/fc-2-0/user-guide/http-trigger-overview
 */
export interface Fc2HttpRequest extends AsyncIterable<Buffer | string> {
  method: string;
  path: string;
  /** Header names lower-case; a repeated header as an array. */
  headers: Record<string, string | string[] | undefined>;
  /** Query parameters, decoded; a repeated one as an array. */
  queries?: Record<string, string | string[] | undefined>;
  clientIP?: string;
}

export interface Fc2HttpResponse {
  setStatusCode(code: number): void;
  setHeader(name: string, value: string): void;
  send(body: string | Buffer): void;
}
