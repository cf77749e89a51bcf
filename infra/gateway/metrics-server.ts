import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, registry } from '../../lib/metrics/prometheus.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` in the Prometheus text format on a listener of its own (KMS_METRICS_HOST, default
 * 127.0.0.1, and KMS_METRICS_PORT), never on the API's port: what the service does, in numbers, is
 * for the operator's scraper, not for the callers. `collect` replaces this process's registry (the
 * gateway's primary gathers its workers').
 */
export async function startMetricsServer(host: string, port: number, collect?: () => Promise<string>): Promise<MetricsServer> {
  collectProcessMetrics();
  const server: Server = createServer(async (req, res) => {
    if ((req.url ?? '').split('?', 1)[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const text = await (collect ? collect() : registry.metrics());
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
