import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestTooLargeError } from '../errors.js';
import { emptyHeaders, type RpcRequest, type RpcResponse } from '../rpc/request.js';

/** Largest request body accepted: a 6 KiB plaintext and an 8 KiB context, form-encoded, fit well within it. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads a Node request into an RpcRequest. Rejects with RequestTooLargeError past {@link MAX_BODY_BYTES}. */
export function fromNodeRequest(req: IncomingMessage): Promise<RpcRequest> {
  return new Promise((resolve, reject) => {
    // Events rather than async iteration: it is the request path, and iterators cost more per request.
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestTooLargeError(MAX_BODY_BYTES));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const headers = emptyHeaders();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      resolve({
        method: req.method ?? 'GET',
        path: q === -1 ? url : url.slice(0, q),
        rawQuery: q === -1 ? '' : url.slice(q + 1),
        headers,
        body: chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
        sourceIp: req.socket.remoteAddress,
        // An https.Server's sockets are TLSSockets; a plain one's have no `encrypted`.
        secureTransport: (req.socket as { encrypted?: boolean }).encrypted === true,
      });
    });
  });
}

const EMPTY = Buffer.alloc(0);

export function writeNodeResponse(res: ServerResponse, response: RpcResponse): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}
