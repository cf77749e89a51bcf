import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../errors.js';
import type { RpcHandler } from '../middleware/stack.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import { answeringProtocolOf } from '../protocol/protocols.js';
import { serviceFromEnvironment } from '../service-from-env.js';
import type { Service } from '../service.js';

export interface FunctionInstance<T> {
  /** The built service and what was built on it; a build that failed is retried on the next call. */
  (): Promise<{ service: Service; built: T }>;
}

/**
 * The service as a cloud function instance keeps it: built from the environment once, then reused
 * for the instance's life. With `eager` (the adapter runs on its platform), the build starts when
 * the module loads — during the platform's init phase, not on the first request. A build that
 * fails is not kept, so the next call tries again.
 */
export function functionInstance<T>(build: (service: Service) => T, options: { eager?: boolean } = {}): FunctionInstance<T> {
  let pending: Promise<{ service: Service; built: T }> | undefined;
  const instance = () => {
    pending ??= serviceFromEnvironment()
      .then((service) => ({ service, built: build(service) }))
      .catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
    return pending;
  };
  // The failure of an eager build is reported by the first request that needs the service.
  if (options.eager) instance().catch(() => undefined);
  return instance;
}

/** The RPC handler of a function instance, as the HTTP adapters use it. */
export function lazyService(build: (service: Service) => RpcHandler, options: { eager?: boolean } = {}) {
  const instance = functionInstance(build, options);
  return async () => {
    const { service, built } = await instance();
    return { service, handle: built };
  };
}

/** How long before the platform would cut a request off the service answers it itself (503). */
export const DEADLINE_MARGIN_MS = 1_000;

/**
 * Serves one request on a cloud function: builds (or reuses) the instance's service and runs the
 * stack, but answers `503 ServiceUnavailableTemporary` — never a platform 5xx such as an ALB 502 —
 * when the service cannot be built (a backend unreachable at start; the reason goes to stderr) or
 * when the answer is not ready `DEADLINE_MARGIN_MS` before the function's timeout. `remainingMs` is
 * what the platform says is left when the handler is entered; the deadline covers the build (a
 * cold start) and the request alike.
 */
export async function serveOnFunction(
  instance: () => Promise<{ service: Service; handle: RpcHandler }>,
  request: RpcRequest,
  options: { remainingMs?: number | undefined; beforeHandle?: (service: Service) => void; context?: Parameters<RpcHandler>[1] } = {},
): Promise<RpcResponse> {
  let service: Service | undefined;
  const answer = (async () => {
    let ready: { service: Service; handle: RpcHandler };
    try {
      ready = await instance();
    } catch (err) {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'service unavailable: it could not be built', error: (err as Error)?.message ?? String(err) })}\n`);
      return unavailable(request);
    }
    service = ready.service;
    options.beforeHandle?.(ready.service);
    return ready.handle(request, options.context);
  })();
  if (options.remainingMs === undefined || !Number.isFinite(options.remainingMs)) return answer;
  const budget = Math.max(0, options.remainingMs - DEADLINE_MARGIN_MS);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<RpcResponse>((resolve) => {
    timer = setTimeout(() => {
      const response = unavailable(request);
      const line = { requestId: response.headers['x-acs-request-id'] ?? response.headers['x-amzn-requestid'], status: 503, code: 'ServiceUnavailableTemporary', deadline: true };
      if (service) service.logger.access('request', line);
      else process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'request', ...line, building: true })}\n`);
      resolve(response);
    }, budget);
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

function unavailable(request: RpcRequest): RpcResponse {
  return answeringProtocolOf(request.headers).fail({ requestId: randomUUID().toUpperCase() }, new ServiceUnavailableError());
}
