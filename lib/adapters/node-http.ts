import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestTooLargeError } from '../errors.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';

/** Largest request body accepted: a 6 KiB plaintext and an 8 KiB context, form-encoded, fit well within it. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads a Node request into an RpcRequest. Throws RequestTooLargeError past {@link MAX_BODY_BYTES}. */
export async function fromNodeRequest(req: IncomingMessage): Promise<RpcRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestTooLargeError(MAX_BODY_BYTES);
    chunks.push(chunk as Buffer);
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers,
    body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress,
  };
}

export function writeNodeResponse(res: ServerResponse, response: RpcResponse): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}
