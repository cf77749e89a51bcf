import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromNodeRequest, writeNodeResponse } from '../../lib/adapters/node-http.js';
import { unreadableRequestResponse } from '../../lib/adapters/unreadable-request.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import type { Service } from '../../lib/service.js';
import { OPERATIONS } from '../../functions/actions.js';

/**
 * The request line and headers together may not exceed this (Node answers 431 beyond it): with the
 * 64 KiB body limit, no request makes the service hold or sign more than this much text.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface Gateway {
  /** `http://host:port/` */
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

/**
 * The local gateway: a plain node:http server that hands every request to the same dispatcher,
 * middleware stack and operations the cloud functions run.
 */
export async function startGateway(options: { service: Service; host: string; port: number }): Promise<Gateway> {
  const dispatch = createDispatcher(options.service, OPERATIONS);
  let closing = false;
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, async (req, res) => {
    try {
      const response = await dispatch(await fromNodeRequest(req));
      // Checked when answering, not on arrival: a request in flight at close must not keep its connection alive.
      if (closing) res.setHeader('connection', 'close');
      writeNodeResponse(res, response);
    } catch (err) {
      // Only reading the body can fail here (the stack never throws): too large, or aborted.
      if (!res.headersSent) {
        if (closing) res.setHeader('connection', 'close');
        writeNodeResponse(res, unreadableRequestResponse(err));
      }
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
