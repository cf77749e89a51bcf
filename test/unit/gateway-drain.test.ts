import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../infra/gateway/server.js';
import { readTlsOptions } from '../../infra/gateway/tls.js';
import { createTestService } from '../helpers/service.js';
import { makeCertificates } from '../helpers/tls.js';

describe('Gateway drain', () => {
  it('when a TCP connection is still in its TLS handshake at shutdown, it is closed when the grace is up, not when the handshake times out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-drain-'));
    try {
      const pki = await makeCertificates(dir);
      const { service } = await createTestService();
      const tls = await readTlsOptions({ certFile: pki.serverCert, keyFile: pki.serverKey });
      const gateway = await startGateway({ service, host: '127.0.0.1', port: 0, tls, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
      const raw = connect(Number(new URL(gateway.url).port), '127.0.0.1'); // never sends a ClientHello
      await new Promise((resolve) => raw.once('connect', resolve));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      const took = await Promise.race([
        gateway.close(300).then(() => Date.now() - started),
        new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5_000)),
      ]);
      raw.destroy();
      expect(took).toBeLessThan(2_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
