import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient } from '@alibaba-kms-compatible/client';
import { runKms } from '../helpers/cli-process.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, runGatewayToExit, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls.js';

/*
 * The gateway as it faces a network (`npm start`): TLS and mutual TLS, refusing plain HTTP off
 * loopback, timeouts and limits, fair service, health and metrics, the audit log, rate limits.
 */

let root: string;
let seedFile: string;
let pki: TestCertificates;
beforeAll(async () => {
  root = await makeTempDir('kms-production-');
  seedFile = await writeSeedFile(root, TEST_SEED);
  pki = await makeCertificates(root);
}, 60_000);
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

let counter = 0;
const dataDir = () => join(root, `data-${++counter}`);

/** One HTTPS GET with the given TLS options; resolves with the status and the server certificate's subject. */
function httpsGet(url: string, path: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; subject: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, url), { ...tls, agent: false }, (res) => {
      const subject = (res.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN ?? '';
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, subject, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function httpGet(
  port: number,
  path: string,
  agent?: HttpAgent,
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  let gateway: ReadyGateway;
  let certFile: string;
  let keyFile: string;
  beforeAll(async () => {
    // Files of its own: the reload test replaces them.
    certFile = join(root, 'live-cert.pem');
    keyFile = join(root, 'live-key.pem');
    await copyFile(pki.serverCert, certFile);
    await copyFile(pki.serverKey, keyFile);
    gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_TLS_CERT: certFile, KMS_TLS_KEY: keyFile } });
  });

  it('serves HTTPS; the library client trusts the CA it is given and round-trips a data key', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const kms = createKmsClient({
      endpoint: gateway.url,
      accessKeyId: ADMIN.accessKeyId,
      accessKeySecret: ADMIN.accessKeySecret,
      tls: { ca: await readFile(pki.caCert) },
    });
    const generated = (await kms.call('GenerateDataKey', { KeyId: ALIAS })) as { CiphertextBlob: string; Plaintext: string };
    expect(((await kms.call('Decrypt', { CiphertextBlob: generated.CiphertextBlob })) as { Plaintext: string }).Plaintext).toBe(generated.Plaintext);
    // Without the CA the certificate is not trusted: nothing is sent.
    const untrusting = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });
    await expect(untrusting.call('ListKeys')).rejects.toMatchObject({ name: 'KmsConnectionError' });
  });

  it('the kms command takes --ca-file for an https endpoint', async () => {
    const run = await runKms(['--ca-file', pki.caCert, 'keys', 'describe', KEY_ID], { endpoint: gateway.url, credentials: ADMIN });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ KeyMetadata: { KeyId: KEY_ID } });
  });

  it('on SIGHUP it loads the certificate files again; new connections get the new certificate', async () => {
    const before = await httpsGet(gateway.url, '/health/live', { ca: await readFile(pki.caCert) });
    expect(before.subject).toBe('pki server');
    const renewed = await makeCertificates(root, 'renewed');
    await copyFile(renewed.serverCert, certFile);
    await copyFile(renewed.serverKey, keyFile);
    gateway.child.kill('SIGHUP');
    const ca = await readFile(renewed.caCert);
    let subject = '';
    for (let i = 0; i < 100 && subject !== 'renewed server'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      subject = (await httpsGet(gateway.url, '/health/live', { ca }).catch(() => ({ subject: '' }))).subject;
    }
    expect(subject).toBe('renewed server');
  });
});

describe('Mutual TLS', () => {
  let gateway: ReadyGateway;
  beforeAll(async () => {
    gateway = await startGateway({
      dataDir: dataDir(),
      seedFile,
      env: { KMS_TLS_CERT: pki.serverCert, KMS_TLS_KEY: pki.serverKey, KMS_TLS_CLIENT_CA: pki.caCert },
    });
  });

  it('a client with a certificate of the CA is served; one without, or of another CA, does not get past the handshake', async () => {
    const ca = await readFile(pki.caCert);
    const ok = await httpsGet(gateway.url, '/health/live', { ca, cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) });
    expect(ok.status).toBe(200);
    await expect(httpsGet(gateway.url, '/health/live', { ca })).rejects.toThrow();
    await expect(httpsGet(gateway.url, '/health/live', { ca, cert: await readFile(pki.strangerCert), key: await readFile(pki.strangerKey) })).rejects.toThrow();
    const kms = createKmsClient({
      endpoint: gateway.url,
      accessKeyId: ADMIN.accessKeyId,
      accessKeySecret: ADMIN.accessKeySecret,
      tls: { ca, cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) },
    });
    expect(await kms.call('DescribeKey', { KeyId: KEY_ID })).toMatchObject({ KeyMetadata: { KeyId: KEY_ID } });
  });
});

describe('acs:SecureTransport', () => {
  it('is true over TLS only: a policy requiring it allows the HTTPS request and denies the plain one', async () => {
    const policy = {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['kms:*'], Resource: ['*'], Condition: { Bool: { 'acs:SecureTransport': 'true' } } }],
    };
    const seed = await writeSeedFile(root, { ...TEST_SEED, accessKeys: [{ ...TEST_SEED.accessKeys![0]!, policy }] }, 'secure-seed.json');
    const dir = dataDir();
    const secure = await startGateway({ dataDir: dir, seedFile: seed, env: { KMS_TLS_CERT: pki.serverCert, KMS_TLS_KEY: pki.serverKey } });
    const kms = (endpoint: string) =>
      createKmsClient({
        endpoint,
        accessKeyId: TEST_SEED.accessKeys![0]!.accessKeyId,
        accessKeySecret: TEST_SEED.accessKeys![0]!.accessKeySecret,
        tls: { ca: readFileSync(pki.caCert) },
      });
    await expect(kms(secure.url).call('DescribeKey', { KeyId: KEY_ID })).resolves.toMatchObject({ KeyMetadata: { KeyId: KEY_ID } });
    await secure.stop('SIGTERM');
    const plain = await startGateway({ dataDir: dir, seedFile: seed });
    await expect(kms(plain.url).call('DescribeKey', { KeyId: KEY_ID })).rejects.toMatchObject({ status: 403 });
    await plain.stop('SIGTERM');
  });
});

describe('Plain HTTP off loopback', () => {
  it('is refused at start with a message saying what to set; allowed explicitly, it starts and says so', async () => {
    const refused = await runGatewayToExit({ dataDir: dataDir(), host: '0.0.0.0' });
    expect(refused.ready).toBe(false);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/KMS_TLS_CERT and KMS_TLS_KEY/);
    expect(refused.stderr).toMatch(/KMS_ALLOW_PLAINTEXT_HTTP=true/);
    const allowed = await startGateway({ dataDir: dataDir(), host: '0.0.0.0', env: { KMS_ALLOW_PLAINTEXT_HTTP: 'true' } });
    expect(allowed.stdout()).toMatch(/warning: plain HTTP on 0\.0\.0\.0/);
    expect((await httpGet(allowed.port, '/health/live')).status).toBe(200);
    await allowed.stop('SIGTERM');
    // With TLS, any address.
    const tls = await startGateway({ dataDir: dataDir(), host: '0.0.0.0', env: { KMS_TLS_CERT: pki.serverCert, KMS_TLS_KEY: pki.serverKey } });
    expect(tls.url).toMatch(/^https:/);
    await tls.stop('SIGTERM');
  });

  it.each([
    [{ KMS_TLS_CERT: 'x.pem' }, /KMS_TLS_CERT and KMS_TLS_KEY go together/],
    [{ KMS_TLS_CLIENT_CA: 'ca.pem' }, /KMS_TLS_CLIENT_CA/],
    [{ KMS_TLS_CERT: '/nonexistent/cert.pem', KMS_TLS_KEY: '/nonexistent/key.pem' }, /KMS_TLS_(CERT|KEY): cannot read \/nonexistent/],
    [{ KMS_METRICS_PORT: 'ninety' }, /KMS_METRICS_PORT/],
    [{ KMS_HEADERS_TIMEOUT_MS: '-5' }, /KMS_HEADERS_TIMEOUT_MS/],
    [{ KMS_ALLOW_PLAINTEXT_HTTP: 'yes' }, /KMS_ALLOW_PLAINTEXT_HTTP must be true or false/],
    [{ KMS_RATE_LIMITS: '{"default": {"crypto": 0}}' }, /KMS_RATE_LIMITS/],
  ])('refuses %j at start, naming it', async (env, message) => {
    const result = await runGatewayToExit({ dataDir: dataDir(), env });
    expect(result.ready).toBe(false);
    expect(result.stderr).toMatch(message);
  });
});

describe('Limits and fairness', () => {
  let gateway: ReadyGateway;
  beforeAll(async () => {
    gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_HEADERS_TIMEOUT_MS: '1000', KMS_MAX_CONNECTIONS: '300' } });
  });

  it('a slowloris (connections that never finish their headers) is cut off after the header timeout, and others are served meanwhile', async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = connect(gateway.port, '127.0.0.1');
      socket.on('error', () => undefined);
      // Read what comes (a 408), so that the server's close is seen.
      socket.resume();
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      sockets.push(socket);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    }
    expect((await httpGet(gateway.port, '/health/live')).status).toBe(200);
    const started = Date.now();
    await Promise.all(closed);
    // Within the timeout plus Node's once-a-second check (and some slack on a busy machine).
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('past KMS_MAX_CONNECTIONS, a new connection is closed at once and the open ones keep working', async () => {
    const limited = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_MAX_CONNECTIONS: '3' } });
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 3 });
    await Promise.all([0, 1, 2].map(() => httpGet(limited.port, '/health/live', agent)));
    const extra = connect(limited.port, '127.0.0.1');
    const closedAt = await new Promise<'closed' | 'open'>((resolve) => {
      extra.on('error', () => resolve('closed'));
      extra.once('close', () => resolve('closed'));
      setTimeout(() => resolve('open'), 3_000);
    });
    expect(closedAt).toBe('closed');
    expect((await httpGet(limited.port, '/health/live', agent)).status).toBe(200);
    agent.destroy();
    await limited.stop('SIGTERM');
  });

  it('a client pipelining 20,000 requests on one connection does not make another client wait for them: the other is answered before the pipeline ends', async () => {
    const flood = connect(gateway.port, '127.0.0.1');
    let answered = 0;
    let tail = '';
    flood.setEncoding('latin1').on('data', (chunk: string) => {
      const text = tail + chunk;
      answered += text.split('HTTP/1.1 ').length - 1;
      tail = text.slice(-9);
    });
    const total = 20_000;
    flood.write('GET /?Action=DescribeKey HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(total));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect((await httpGet(gateway.port, '/health/live')).status).toBe(200);
      answers.push(answered);
    }
    expect(answers[4]!).toBeLessThan(total);
    flood.destroy();
  });
});

describe('Health and metrics', () => {
  it('answers /health/live and /health/ready unsigned, with nothing else in them; /metrics only on its own listener', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_METRICS_PORT: '0' } });
    const live = await httpGet(gateway.port, '/health/live');
    const ready = await httpGet(gateway.port, '/health/ready');
    expect([live.status, JSON.parse(live.body)]).toEqual([200, { status: 'live' }]);
    expect([ready.status, JSON.parse(ready.body)]).toEqual([200, { status: 'ready' }]);
    expect((await httpGet(gateway.port, '/health/live?verbose=1')).body).toBe('{"status":"live"}');
    const metricsUrl = /kms metrics at (http:\/\/\S+)/.exec(gateway.stdout())![1]!;
    await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })));
    const metrics = await httpGet(Number(new URL(metricsUrl).port), '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/kms_requests_total\{action="DescribeKey",code="OK"\} [1-9]/);
    expect(metrics.body).toMatch(/process_resident_memory_bytes/);
    expect(metrics.body).not.toContain(ADMIN.accessKeyId);
    // Not on the API port: there it is just an unsigned request.
    const onApi = await httpGet(gateway.port, '/metrics');
    expect(onApi.body).not.toContain('kms_requests_total');
    await gateway.stop('SIGTERM');
  });
});

describe('Audit log and rate limits through the gateway', () => {
  it('KMS_AUDIT_LOG=<file> gets one line per request; KMS_RATE_LIMITS throttles with 429', async () => {
    // The directory must exist: none is created for a log.
    await mkdir(join(root, 'audit'));
    const audit = join(root, 'audit', 'kms-audit.log');
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_AUDIT_LOG: audit, KMS_RATE_LIMITS: '{"default": {"read": 2}}' } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const lines = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.action, l.code])).toEqual([
      ['DescribeKey', 'OK'],
      ['DescribeKey', 'OK'],
      ['DescribeKey', 'Rejected.Throttling'],
    ]);
    expect(gateway.stdout()).not.toContain('"audit":true');
    await gateway.stop('SIGTERM');
  });
});

describe('Graceful shutdown under load', () => {
  it('SIGTERM to `npm start` reaches the gateway: it drains, exits 0, npm exits 0, and nothing is left listening', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, viaNpm: true });
    expect((await httpGet(gateway.port, '/health/live')).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(gateway.stdout()).toContain('"signal":"SIGTERM"');
    // No orphaned server holds the port.
    await expect(httpGet(gateway.port, '/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('on SIGTERM, 64 keep-alive clients in a loop see no reset and no 5xx: requests on open connections are answered with Connection: close, then it exits 0', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_SHUTDOWN_GRACE_MS: '5000' } });
    const failures: string[] = [];
    let answered = 0;
    let closesAnnounced = 0;
    let stop = false;
    const client = async () => {
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stop) {
          const request = signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID });
          const outcome = await new Promise<'ok' | 'refused'>((resolve) => {
            const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: `/?${request.rawQuery}`, agent, headers: { host: '127.0.0.1' } }, (res) => {
              res.resume();
              res.on('end', () => {
                if ((res.statusCode ?? 0) >= 500) failures.push(`HTTP ${res.statusCode}`);
                if (res.headers.connection === 'close') closesAnnounced++;
                answered++;
                resolve('ok');
              });
            });
            req.on('error', (err: NodeJS.ErrnoException) => {
              // A new connection refused after the listener closed is not a request lost on an open one.
              if (err.code === 'ECONNREFUSED') resolve('refused');
              else {
                failures.push(`${err.code ?? err.message} (reused socket: ${String((req as unknown as { reusedSocket: boolean }).reusedSocket)})`);
                resolve('refused');
              }
            });
            req.end();
          });
          if (outcome === 'refused') break;
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: 64 }, () => client());
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = answered;
    const code = gateway.stop('SIGTERM', 20_000);
    await Promise.race([Promise.all(clients), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    stop = true;
    await Promise.all(clients);
    expect(await code).toBe(0);
    expect(before).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(closesAnnounced).toBeGreaterThan(0);
  }, 60_000);
});
