/**
 * The one shape every platform adapter produces: an HTTP request reduced to what the RPC protocol
 * reads. Header names are lower-case; a repeated header is joined with ", ".
 */
export interface RpcRequest {
  method: string;
  path: string;
  /** The raw query string, without the leading "?", exactly as received (signatures need it). */
  rawQuery: string;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
  sourceIp?: string;
  /**
   * True only when the platform says the request reached it over TLS (policy key
   * `acs:SecureTransport`); absent or false otherwise, including when the platform does not say.
   */
  secureTransport?: boolean;
}

/**
 * An empty header record for an adapter to fill. Null-prototype: header names are the caller's
 * (and the V3 signature names which ones it covers), so `constructor` or `__proto__` must find
 * nothing but what was sent.
 */
export function emptyHeaders(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** What every adapter turns back into its platform's response. */
export interface RpcResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
