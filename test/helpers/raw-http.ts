import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RpcRequest } from '../../lib/rpc/request.js';

/** An HTTP request exactly as a client sent it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or {} when it is not JSON. */
  json: Record<string, any>;
}

/**
 * Sends one request over a fresh connection (no keep-alive), with exactly the given method, URL,
 * headers (including `host`) and body.
 */
export function sendRaw(port: number, req: RecordedRequest, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'connection' || name === 'keep-alive') continue;
      headers[name] = value;
    }
    headers['content-length'] = String(req.body.length);
    headers.connection = 'close';
    const r = httpRequest({ host, port, method: req.method, path: req.url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, any> = {};
        try {
          json = JSON.parse(text) as Record<string, any>;
        } catch {
          json = {};
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** A request built by test/helpers/sign.ts, as it goes on the wire. */
export function toRecorded(request: RpcRequest): RecordedRequest {
  return {
    method: request.method,
    url: request.rawQuery ? `${request.path}?${request.rawQuery}` : request.path,
    headers: { ...request.headers },
    body: request.body,
  };
}

export interface RecordingProxy {
  port: number;
  /** Every request that passed through, in arrival order. */
  recorded: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A tiny reverse proxy in front of the gateway: clients are pointed at it, it records each request
 * byte for byte (headers as received, `host` included) and forwards it unchanged.
 */
export async function startRecordingProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RecordingProxy> {
  const recorded: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, body: Buffer.concat(chunks) };
      recorded.push(entry);
      sendRaw(targetPort, entry, targetHost).then(
        (response) => {
          const headers = { ...response.headers };
          delete headers['transfer-encoding'];
          delete headers.connection;
          headers['content-length'] = String(Buffer.byteLength(response.text));
          res.writeHead(response.status, headers);
          res.end(response.text);
        },
        (err: Error) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy: ${err.message}`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    recorded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The status of a plain `GET path` (a health probe), on a connection of its own. */
export function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
