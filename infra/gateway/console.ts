import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where the console is served: `/console/` on the API's own port, under the same TLS. */
export const CONSOLE_PATH = '/console/';

/**
 * The console's files (infra/console/; the build copies them beside the compiled gateway), by the
 * name served. Nothing else under /console/ is served, so no request names a file on disk.
 */
const ASSETS: Record<string, string> = {
  '': 'index.html',
  'index.html': 'index.html',
  'app.mjs': 'app.mjs',
  'api.mjs': 'api.mjs',
  'signing.mjs': 'signing.mjs',
  'console.css': 'console.css',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * Only this origin's own scripts, styles and API; no inline script or style, no frames, no form
 * posts, no other origin. `img-src data:` is for the empty favicon (so the browser asks the API for none).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
}

export type ConsoleAssets = ReadonlyMap<string, Asset>;

/** Reads the console's files once, at start (a few tens of KB). */
export function loadConsoleAssets(directory: URL = new URL('../console/', import.meta.url)): ConsoleAssets {
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(ASSETS)) {
    const extension = file.slice(file.lastIndexOf('.') + 1);
    assets.set(name, { body: readFileSync(new URL(file, directory)), type: TYPES[extension]! });
  }
  return assets;
}

/**
 * Answers `GET`/`HEAD` `/console` (a redirect) and `/console/…` (a console file, or 404), unsigned:
 * they are static files, and every API call the page makes is signed in the page. Returns whether
 * the request was one of them.
 */
export function answerConsole(req: IncomingMessage, res: ServerResponse, assets: ConsoleAssets, secure: boolean, finish: (write: () => void) => void): boolean {
  const url = req.url ?? '/';
  if (!url.startsWith('/console')) return false;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path !== '/console' && !path.startsWith(CONSOLE_PATH)) return false;
  req.resume();
  const headers: Record<string, string> = {
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-cache',
    ...(secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    finish(() => text(res, 405, 'method not allowed', { ...headers, allow: 'GET, HEAD' }));
    return true;
  }
  if (path === '/console') {
    finish(() => text(res, 308, 'moved to /console/', { ...headers, location: CONSOLE_PATH }));
    return true;
  }
  const asset = assets.get(path.slice(CONSOLE_PATH.length));
  if (!asset) {
    finish(() => text(res, 404, 'not found', headers));
    return true;
  }
  finish(() => {
    res.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  return true;
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
