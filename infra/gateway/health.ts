import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../../lib/service.js';

/** How long the readiness probe waits for the key store. */
export const READY_PROBE_TIMEOUT_MS = 2_000;

/**
 * `GET /health/live` (the process answers) and `GET /health/ready` (within 2 s, this process can
 * serve: the key store answers a read under the root key it was opened with, and takes writes —
 * see Service.probe and lib/readiness.ts), unsigned, for load balancers and orchestrators. They
 * reveal nothing else: no version, no key, no store details. Returns whether the request was one
 * of them: at once, or once the readiness probe is answered.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, service: Service, finish: (write: () => void) => void): boolean | Promise<true> {
  // Decided at once for every other request (no promise to wait on): the probe alone is awaited.
  const url = req.url ?? '/';
  if (!url.startsWith('/health/')) return false;
  const path = url.split('?', 1)[0];
  if (path !== '/health/live' && path !== '/health/ready') return false;
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    finish(() => answer(res, 405, { status: 'method not allowed' }, { allow: 'GET, HEAD' }));
    return true;
  }
  if (path === '/health/live') {
    finish(() => answer(res, 200, { status: 'live' }));
    return true;
  }
  return withTimeout(service.probe(), READY_PROBE_TIMEOUT_MS)
    .then(
      () => true,
      () => false,
    )
    .then((ready) => {
      finish(() => answer(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' }));
      return true;
    });
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<void>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
