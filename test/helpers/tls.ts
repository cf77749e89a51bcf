import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA that signs the server and client certificates. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate of another CA (refused under mutual TLS). */
  strangerCert: string;
  strangerKey: string;
}

/**
 * A throw-away PKI in `dir`, made with the openssl command (EC P-256, one day): a CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate, and a client of another CA.
 * `serial` makes a second server certificate tell itself apart (certificate reload).
 */
export async function makeCertificates(dir: string, name = 'pki'): Promise<TestCertificates> {
  const path = (file: string) => join(dir, `${name}-${file}`);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const key = async (file: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path(file));
  const ca = async (prefix: string) => {
    await key(`${prefix}ca.key`);
    await openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      path(`${prefix}ca.key`),
      '-subj',
      `/CN=${name} ${prefix}test CA`,
      '-days',
      '1',
      '-out',
      path(`${prefix}ca.pem`),
    );
  };
  const issue = async (prefix: string, subject: string, ext: string, file: string) => {
    await key(`${file}.key`);
    await openssl('req', '-new', '-key', path(`${file}.key`), '-subj', `/CN=${subject}`, '-out', path(`${file}.csr`));
    await writeFile(path(`${file}.ext`), ext);
    await openssl(
      'x509',
      '-req',
      '-in',
      path(`${file}.csr`),
      '-CA',
      path(`${prefix}ca.pem`),
      '-CAkey',
      path(`${prefix}ca.key`),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      path(`${file}.ext`),
      '-out',
      path(`${file}.pem`),
    );
  };
  await ca('');
  await ca('other-');
  await issue('', `${name} server`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', 'server');
  await issue('', `${name} client`, 'extendedKeyUsage=clientAuth\n', 'client');
  await issue('other-', `${name} stranger`, 'extendedKeyUsage=clientAuth\n', 'stranger');
  return {
    caCert: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    strangerCert: path('stranger.pem'),
    strangerKey: path('stranger.key'),
  };
}

/**
 * One more server certificate from the CA of `makeCertificates(dir, name)`, made with `openssl ca`
 * (which, unlike `x509 -days`, takes any validity): other names (`subjectAltName`, e.g.
 * `DNS:elsewhere.example`), or a validity in the past (`notBefore`/`notAfter` as YYYYMMDDHHMMSSZ)
 * for an expired one. Returns its certificate and key files.
 */
export async function issueServerCertificate(
  dir: string,
  name: string,
  file: string,
  options: { subjectAltName: string; notBefore?: string; notAfter?: string },
): Promise<{ cert: string; key: string }> {
  const path = (suffix: string) => join(dir, `${name}-${file}${suffix}`);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await writeFile(path('.index'), '');
  await writeFile(path('.serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  await writeFile(
    path('.cnf'),
    `[ca]\ndefault_ca = issuer\n[issuer]\ndatabase = ${path('.index')}\nnew_certs_dir = ${dir}\nserial = ${path('.serial')}\ndefault_md = sha256\npolicy = any\ndefault_days = 1\n[any]\ncommonName = supplied\n`,
  );
  await writeFile(path('.ext'), `subjectAltName=${options.subjectAltName}\nextendedKeyUsage=serverAuth\n`);
  await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path('.key'));
  await openssl('req', '-new', '-key', path('.key'), '-subj', `/CN=${name} ${file}`, '-out', path('.csr'));
  const validity = [...(options.notBefore ? ['-startdate', options.notBefore] : []), ...(options.notAfter ? ['-enddate', options.notAfter] : [])];
  await openssl(
    'ca',
    '-batch',
    '-notext',
    '-config',
    path('.cnf'),
    '-cert',
    join(dir, `${name}-ca.pem`),
    '-keyfile',
    join(dir, `${name}-ca.key`),
    '-in',
    path('.csr'),
    '-out',
    path('.pem'),
    '-extfile',
    path('.ext'),
    ...validity,
  );
  return { cert: path('.pem'), key: path('.key') };
}
