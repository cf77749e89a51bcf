import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestTooLargeError } from '../errors.js';
import { bodyLimitOf } from '../rpc/body-limit.js';
import { emptyHeaders, type RpcRequest, type RpcResponse } from '../rpc/request.js';

/** Reads a Node request into an RpcRequest. Rejects with RequestTooLargeError past its body limit (lib/rpc/body-limit.ts). */
export function fromNodeRequest(req: IncomingMessage): Promise<RpcRequest> {
  return new Promise((resolve, reject) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const limit = bodyLimitOf(req.headers as Record<string, string | undefined>, q === -1 ? '' : url.slice(q + 1));
    // Events rather than async iteration: it is the request path, and iterators cost more per request.
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return;
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
