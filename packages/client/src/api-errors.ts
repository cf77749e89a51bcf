/** The service answered with an error body (Alibaba's `Code`, or AWS's `__type` on an AWS-protocol call), or at least an error status. */
export class KmsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'KmsApiError';
  }
}

/** No answer: the endpoint could not be reached, the connection broke, or the request timed out. */
export class KmsConnectionError extends Error {
  readonly code = 'ServiceUnreachable';
  constructor(
    readonly endpoint: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${endpoint}: ${detail}`, options);
    this.name = 'KmsConnectionError';
  }
}
