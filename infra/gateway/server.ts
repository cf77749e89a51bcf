import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { fromNodeRequest, writeNodeResponse } from '../../lib/adapters/node-http.js';
import { unreadableRequestResponse } from '../../lib/adapters/unreadable-request.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import type { Service } from '../../lib/service.js';
import { OPERATIONS } from '../../functions/actions.js';
import { GATEWAY_DEFAULTS } from './config.js';
import { Connections } from './connections.js';
import { answerConsole, loadConsoleAssets } from './console.js';
import { FairScheduler } from './fair-scheduler.js';
import { answerHealth } from './health.js';
import type { TlsOptions } from './tls.js';

/**
 * The request line and headers together may not exceed this (Node answers 431 beyond it): with the
 * body limits (lib/rpc/body-limit.ts), no request makes the service hold or sign more than this
 * much text. Alibaba's typed clients send every parameter in the query, a secret's SecretData
 * (30,720 bytes, up to 9 characters each percent-encoded) too.
 */
export const MAX_HEADER_BYTES = 128 * 1024;

/** Requests in service at once, across connections (each connection has at most one). */
export const MAX_IN_SERVICE = 256;

/** While draining, a keep-alive connection idle this long is closed (see Connections.closeIdle). */
const DRAIN_IDLE_CLOSE_MS = 1_000;

export interface GatewayOptions {
  service: Service;
  host: string;
  port: number;
  /** TLS (and mutual TLS); plain HTTP without. */
  tls?: TlsOptions;
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export interface Gateway {
  /** `http(s)://host:port/` */
  url: string;
  server: Server;
  /** Replaces the certificate, key and client CA for new connections (SIGHUP). */
  reloadTls(options: TlsOptions): void;
  /**
   * Stops accepting connections; requests that arrive on connections already open are still
   * answered (with `Connection: close`) for `graceMs`, or until every connection has closed; a
   * keep-alive connection idle for a second is closed; when `graceMs` is up whatever is left is
   * closed. Resolves when no connection is left.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * The local gateway: a node:http (or https) server that hands every request to the same
 * dispatcher, middleware stack and operations the cloud functions run, with what a server facing
 * a network needs: TLS, bounded time to send headers and a request (slowloris), bounded
 * connections and headers, fair service between connections (a pipelined flood waits its turn),
 * unsigned health probes, and a drain on shutdown that no open connection sees as a reset.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const dispatch = createDispatcher(options.service, OPERATIONS);
  const scheduler = new FairScheduler({ maxInService: MAX_IN_SERVICE });
  const consoleAssets = loadConsoleAssets();
  let closing = false;

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    // Checked when answering, not on arrival: a request in flight at close must not keep its connection alive.
    const finish = (write: () => void) => {
      if (closing) res.setHeader('connection', 'close');
      write();
    };
    try {
      if (answerConsole(req, res, consoleAssets, options.tls !== undefined, finish)) return;
      const health = answerHealth(req, res, options.service, finish);
      if (health !== false) {
        await health;
        return;
      }
      const response = await dispatch(await fromNodeRequest(req));
      finish(() => writeNodeResponse(res, response));
    } catch (err) {
      // Only reading the body can fail here (the stack never throws): too large, or aborted.
      if (!res.headersSent) finish(() => writeNodeResponse(res, unreadableRequestResponse(err, req.headers)));
    }
  };

  const connections = new Connections();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    connections.requestBegun(socket);
    // One listener for both: the connection's count, and the end of the request's turn in service.
    let ended: (() => void) | undefined;
    res.once('close', () => {
      connections.requestEnded(socket);
      ended?.();
    });
    const lane = scheduler.lane(socket, socketFlow);
    scheduler.enqueue(lane, () => {
      if (socket.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        ended = resolve;
        void serve(req, res);
      });
    });
  };

  const serverOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: options.headersTimeoutMs ?? GATEWAY_DEFAULTS.KMS_HEADERS_TIMEOUT_MS,
    requestTimeout: options.requestTimeoutMs ?? GATEWAY_DEFAULTS.KMS_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? GATEWAY_DEFAULTS.KMS_KEEP_ALIVE_TIMEOUT_MS,
    // How often the two timeouts above are enforced (Node's default, 30 s, lets a slow client stay far longer).
    connectionsCheckingInterval: 1_000,
  };
  const server: Server = options.tls
    ? // A TLS handshake must finish within the header timeout too.
      createHttpsServer({ ...serverOptions, ...options.tls, handshakeTimeout: serverOptions.headersTimeout }, onRequest)
    : createHttpServer(serverOptions, onRequest);
  server.maxConnections = options.maxConnections ?? GATEWAY_DEFAULTS.KMS_MAX_CONNECTIONS;

  // The socket requests arrive on: over TLS, the TLS socket (known once its handshake is done),
  // and the TCP socket under it, so that one stuck in its handshake is closed at the end of a drain.
  if (options.tls) {
    server.on('secureConnection', (socket: Socket) => connections.accepted(socket));
    server.on('connection', (socket: Socket) => connections.transportAccepted(socket));
  } else {
    server.on('connection', (socket: Socket) => connections.accepted(socket));
  }
  // A client that breaks the TLS handshake (wrong CA, no certificate) is only disconnected.
  server.on('tlsClientError', (_err, socket) => socket.destroy());

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
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}/`,
    server,
    reloadTls(tls) {
      (server as unknown as { setSecureContext(options: TlsOptions): void }).setSecureContext(tls);
    },
    close(graceMs = 0) {
      closing = true;
      return new Promise<void>((resolve) => {
        // net.Server's close, not http.Server's: that one would also close idle keep-alive
        // connections at once, and a client writing a request on one at that moment sees a reset.
        const stopped = new Promise<void>((done) => Object.getPrototypeOf(Object.getPrototypeOf(server)).close.call(server, () => done()));
        const drained = new Promise<void>((done) => {
          const check = setInterval(() => {
            connections.closeIdle(DRAIN_IDLE_CLOSE_MS);
            if (connections.size === 0) {
              clearInterval(check);
              done();
            }
          }, 20);
          setTimeout(() => {
            clearInterval(check);
            connections.destroyAll();
            done();
          }, graceMs).unref();
        });
        void Promise.all([stopped, drained]).then(() => resolve());
      });
    },
  };
}

/** Pausing and resuming reading a connection, in step with the HTTP server's own flow control. */
function socketFlow(socket: Socket): { pause(): void; resume(): void } {
  const internal = socket as Socket & { _paused?: boolean; parser?: { pause?(): void; resume?(): void } | null };
  return {
    pause() {
      // The server's own flag: it then also stops its parser, and does not resume on its own
      // when a request's body is read.
      internal._paused = true;
      socket.pause();
    },
    resume() {
      internal._paused = false;
      internal.parser?.resume?.();
      socket.resume();
    },
  };
}
