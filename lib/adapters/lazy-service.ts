import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../errors.js';
import type { RpcHandler } from '../middleware/stack.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import { answeringProtocolOf } from '../protocol/protocols.js';
import type { Service } from '../service.js';
import { functionInstance } from './function-instance.js';

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
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'service unavailable: it could not be built', error: (err as Error)?.message ?? String(err) })}\n`,
      );
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
      const line = {
        requestId: response.headers['x-acs-request-id'] ?? response.headers['x-amzn-requestid'],
        status: 503,
        code: 'ServiceUnavailableTemporary',
        deadline: true,
      };
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
