import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runKms } from '../helpers/cli-process.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { issueServerCertificate, makeCertificates, type TestCertificates } from '../helpers/tls.js';

/*
 * The kms command against gateways with throw-away certificates that it must not trust: it says
 * what is wrong with the certificate and what to do (--ca-file, the host name, --client-cert),
 * exits 3, and shows neither OpenSSL's text nor a stack trace.
 */

let dir: string;
let pki: TestCertificates;
/** HTTPS with the PKI's server certificate, and mutual TLS (client certificates of the PKI's CA). */
let mutual: ReadyGateway;
let selfSigned: ReadyGateway;
let otherHost: ReadyGateway;
let expired: ReadyGateway;
let plainHttp: Server;

beforeAll(async () => {
  dir = await makeTempDir('kms-cli-tls-');
  pki = await makeCertificates(dir);
  const [elsewhere, past] = await Promise.all([
    issueServerCertificate(dir, 'pki', 'elsewhere', { subjectAltName: 'DNS:elsewhere.example' }),
    issueServerCertificate(dir, 'pki', 'expired', { subjectAltName: 'IP:127.0.0.1,DNS:localhost', notBefore: '20200101000000Z', notAfter: '20200102000000Z' }),
  ]);
  const seedFile = await writeSeedFile(dir, TEST_SEED);
  const gateway = (name: string, cert: string, key: string, more: Record<string, string> = {}) =>
    startGateway({ dataDir: join(dir, name), seedFile, logLevel: 'silent', env: { KMS_TLS_CERT: cert, KMS_TLS_KEY: key, ...more } });
  [mutual, selfSigned, otherHost, expired] = await Promise.all([
    gateway('mutual', pki.serverCert, pki.serverKey, { KMS_TLS_CLIENT_CA: pki.caCert }),
    // The CA's own certificate: self-signed.
    gateway('self-signed', pki.caCert, join(dir, 'pki-ca.key')),
    gateway('other-host', elsewhere.cert, elsewhere.key),
    gateway('expired', past.cert, past.key),
  ]);
  plainHttp = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => plainHttp.listen(0, '127.0.0.1', resolve));
}, 90_000);

afterAll(async () => {
  plainHttp?.close();
  await killAllGateways();
  await removeDir(dir);
});

const kms = (endpoint: string, ...args: string[]): Promise<CliRun> => runKms([...args, 'keys', 'describe', KEY_ID], { endpoint, credentials: ADMIN });

/** Exit 3, one line on stderr that matches, nothing on stdout, no OpenSSL text, no stack. */
function refused(run: CliRun, expected: string): void {
  expect(run.code, run.stderr).toBe(3);
  expect(run.stdout).toBe('');
  expect(run.stderr).toBe(`${expected}\n`);
  expect(run.stderr).not.toMatch(/SSL routines|openssl|\.c:\d+|\n\s+at /);
}

const TRUST = 'if it is your gateway, trust its CA (or, for a self-signed certificate, the certificate itself) with --ca-file FILE (PEM; or KMS_CA_FILE)';

describe('kms over TLS: certificate failures say what happened and what to do', { timeout: 60_000 }, () => {
  it('a certificate of a CA not trusted here (no --ca-file, or another CA): says to pass --ca-file', async () => {
    // OpenSSL's code depends on what the server sends: its certificate alone, or the chain up to its root.
    for (const caFile of [[], ['--ca-file', join(dir, 'pki-other-ca.pem')]]) {
      const run = await kms(mutual.url, ...caFile);
      const code = /\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/.exec(run.stderr)?.[1];
      refused(
        run,
        `cannot connect securely to ${mutual.url.slice(0, -1)}: its TLS certificate is issued by a certificate authority this machine does not trust (${code}); ${TRUST}`,
      );
    }
  });

  it('a self-signed certificate: says so, and to pass --ca-file', async () => {
    refused(
      await kms(selfSigned.url),
      `cannot connect securely to ${selfSigned.url.slice(0, -1)}: its TLS certificate is self-signed, so nothing vouches for it here (DEPTH_ZERO_SELF_SIGNED_CERT); ${TRUST}`,
    );
  });

  it('a certificate for another host: names the host and the names the certificate holds, and says to check the host name', async () => {
    refused(
      await kms(otherHost.url, '--ca-file', pki.caCert),
      `cannot connect securely to ${otherHost.url.slice(0, -1)}: its TLS certificate is not for "127.0.0.1" (it names DNS:elsewhere.example); check the host name in --endpoint: use one the certificate names, or have the certificate issued for "127.0.0.1"`,
    );
  });

  it('an expired certificate: says it expired and that the server needs a renewed one', async () => {
    refused(
      await kms(expired.url, '--ca-file', pki.caCert),
      `cannot connect securely to ${expired.url.slice(0, -1)}: its TLS certificate has expired (CERT_HAS_EXPIRED); the server needs a renewed certificate (the gateway takes new files on SIGHUP), and check this machine's clock`,
    );
  });

  it('mutual TLS: no client certificate says to pass one; with the right one the call succeeds', async () => {
    refused(
      await kms(mutual.url, '--ca-file', pki.caCert),
      `cannot connect securely to ${mutual.url.slice(0, -1)}: it requires a client certificate (mutual TLS) (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED); pass --client-cert FILE and --client-key FILE (PEM)`,
    );
    const served = await kms(mutual.url, '--ca-file', pki.caCert, '--client-cert', pki.clientCert, '--client-key', pki.clientKey);
    expect(served.stderr).toBe('');
    expect(JSON.parse(served.stdout).KeyMetadata.KeyId).toBe(KEY_ID);
  });

  it('the wrong protocol: https:// to a plain-HTTP server, http:// to a TLS gateway', async () => {
    const { port } = plainHttp.address() as { port: number };
    refused(
      await kms(`https://127.0.0.1:${port}/`),
      `cannot connect securely to https://127.0.0.1:${port}: it does not speak TLS; if it is a plain-HTTP gateway, use http:// in --endpoint`,
    );
    const plain = await kms(mutual.url.replace('https:', 'http:'));
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/; if the endpoint serves HTTPS, use https:\/\/ in --endpoint\n$/);
  });

  it('a --ca-file or client key pair that is not PEM is a usage error naming the file (exit 2), before any connection', async () => {
    const notPem = join(dir, 'not-a-cert.pem');
    await writeFile(notPem, 'hello, not a certificate\n');
    const ca = await kms(mutual.url, '--ca-file', notPem);
    expect(ca.code).toBe(2);
    expect(ca.stderr).toBe(`--ca-file: ${notPem} holds no PEM certificate\n`);
    const pair = await kms(mutual.url, '--ca-file', pki.caCert, '--client-cert', pki.clientCert, '--client-key', pki.serverKey);
    expect(pair.code).toBe(2);
    expect(pair.stderr).toBe(`--client-cert and --client-key: ${pki.clientCert} and ${pki.serverKey} are not a PEM certificate and its private key\n`);
  });
});
