/**
 * AWS failures as the SDK v3 throws them, for tests: service exceptions carry `name`, `$fault` and
 * `$metadata`; transport failures are Node errors with a `code`, or smithy's `TimeoutError`.
 */
export function serviceError(name: string, message: string, options: { fault?: 'client' | 'server'; status?: number; throttling?: boolean } = {}): Error {
  const fault = options.fault ?? 'client';
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: options.status ?? (fault === 'server' ? 500 : 400), requestId: 'test-request-id', attempts: 1, totalRetryDelay: 0 },
    ...(options.throttling ? { $retryable: { throttling: true } } : {}),
  });
}

export const awsErrors = {
  throttling: () => serviceError('ThrottlingException', 'Rate exceeded', { throttling: true }),
  accessDenied: () => serviceError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/kms is not authorized to perform this operation'),
  internal: () => serviceError('InternalServiceError', 'An error occurred on the server side.', { fault: 'server' }),
  unavailable503: () => serviceError('ServiceUnavailable', 'Service Unavailable', { fault: 'server', status: 503 }),
  timeout: () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
  network: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  invalidParameter: () => serviceError('InvalidParameterException', 'You provided an invalid value for a parameter.'),
};
