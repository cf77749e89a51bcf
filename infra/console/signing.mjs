// The console's request signing, in the page: Alibaba's RPC signature (HMAC-SHA1, SignatureVersion
// 1.0) computed with WebCrypto, the same algorithm as the server's (packages/client/src/signing/
// rpc.ts; test/unit/console-signing.test.ts holds the two to the same strings and signatures).
// The secret is used here and nowhere else: it never leaves the page.

/** RFC 3986 percent-encoding as Alibaba's signatures define it (`!'()*` encoded too). */
export function percentEncode(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `METHOD&%2F&percentEncode(canonicalQuery)`: every parameter but Signature, sorted by name (code
 * unit order, before encoding, as the official clients sort), encoded, joined.
 */
export function rpcStringToSign(method, params) {
  const names = Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const query = names.map((name) => `${percentEncode(name)}=${percentEncode(params[name])}`).join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(query)}`;
}

/** `base64(HMAC-SHA1(secret + "&", stringToSign))`, with WebCrypto. */
export async function rpcSignature(accessKeySecret, stringToSign, subtle = globalThis.crypto.subtle) {
  const encoder = new TextEncoder();
  const key = await subtle.importKey('raw', encoder.encode(`${accessKeySecret}&`), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(stringToSign)));
  let binary = '';
  for (const byte of mac) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** `2026-12-07T10:00:00Z`: the Timestamp format the RPC protocol signs (UTC, no fraction). */
export function rpcTimestamp(date) {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * The signed query string of a GET for `action` with `params` (strings), as `credentials` (`{ id,
 * secret }`). `now` and `nonce` are for tests; a request otherwise gets the time and a fresh UUID.
 */
export async function signedRpcQuery(action, params, credentials, now = new Date(), nonce = globalThis.crypto.randomUUID()) {
  const all = {
    ...params,
    Action: action,
    Version: '2016-01-20',
    Format: 'JSON',
    AccessKeyId: credentials.id,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: nonce,
    Timestamp: rpcTimestamp(now),
  };
  all.Signature = await rpcSignature(credentials.secret, rpcStringToSign('GET', all));
  return Object.keys(all)
    .map((name) => `${percentEncode(name)}=${percentEncode(all[name])}`)
    .join('&');
}
