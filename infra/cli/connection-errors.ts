import type { KmsConnectionError } from '@alibaba-kms-compatible/client';

/** Certificate verification codes (OpenSSL's, as Node reports them) and what each means to the user. */
const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT']);
// SELF_SIGNED_CERT_IN_CHAIN: the chain ends in a root (self-signed, as roots are) that is not trusted here.
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_EXPIRED']);
const NOT_YET_VALID = new Set(['CERT_NOT_YET_VALID']);
/** The server asked for a client certificate and got none (TLS 1.3's alert; TLS 1.2 ends the handshake). */
const CLIENT_CERT_REQUIRED = new Set(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']);
/** The server refused the client certificate given. */
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

const TRUST_HINT = 'if it is your gateway, trust its CA (or, for a self-signed certificate, the certificate itself) with --ca-file FILE (PEM; or KMS_CA_FILE)';

/**
 * What a connection failure means and what to do about it, in one line for stderr: a TLS
 * certificate that is not trusted, names another host, has expired; an endpoint that does not
 * speak TLS or wants a client certificate. OpenSSL's own text (library paths, error stacks) is
 * never shown; its code is, for a search. Other failures keep the client's message.
 */
export function describeConnectionFailure(err: KmsConnectionError): string {
  const cause = err.cause as (NodeJS.ErrnoException & { reason?: string; host?: string; cert?: { subjectaltname?: string } }) | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const at = err.endpoint;
  const secure = `cannot connect securely to ${at}`;
  if (SELF_SIGNED.has(code)) return `${secure}: its TLS certificate is self-signed, so nothing vouches for it here (${code}); ${TRUST_HINT}`;
  if (UNKNOWN_ISSUER.has(code))
    return `${secure}: its TLS certificate is issued by a certificate authority this machine does not trust (${code}); ${TRUST_HINT}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = cause?.host ?? new URL(at).hostname;
    const names = cause?.cert?.subjectaltname ? ` (it names ${cause.cert.subjectaltname})` : '';
    return `${secure}: its TLS certificate is not for "${host}"${names}; check the host name in --endpoint: use one the certificate names, or have the certificate issued for "${host}"`;
  }
  if (EXPIRED.has(code))
    return `${secure}: its TLS certificate has expired (${code}); the server needs a renewed certificate (the gateway takes new files on SIGHUP), and check this machine's clock`;
  if (NOT_YET_VALID.has(code)) return `${secure}: its TLS certificate is not valid yet (${code}); check the clocks of this machine and the server`;
  if (CLIENT_CERT_REQUIRED.has(code))
    return `${secure}: it requires a client certificate (mutual TLS) (${code}); pass --client-cert FILE and --client-key FILE (PEM)`;
  if (CLIENT_CERT_REFUSED.has(code))
    return `${secure}: it refused the client certificate (${code}); use one issued by the CA the server trusts (--client-cert, --client-key)`;
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(cause?.message ?? '') && new URL(at).protocol === 'https:') {
    return `${secure}: it does not speak TLS; if it is a plain-HTTP gateway, use http:// in --endpoint`;
  }
  if (/^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_|SELF_SIGNED_)/.test(code) || code === 'EPROTO') {
    return `${secure}: the TLS handshake failed (${code}); check --endpoint, --ca-file and, for mutual TLS, --client-cert and --client-key`;
  }
  if (code === 'ECONNRESET' && new URL(at).protocol === 'http:') return `${err.message}; if the endpoint serves HTTPS, use https:// in --endpoint`;
  return err.message;
}
