/**
 * The `code`s Node gives an error when a connection cannot be made or is lost (refused, reset,
 * unresolvable, unreachable): an outage of the other side or the network, never an answer. The
 * AWS clients, the OSS registry and the PostgreSQL store each add what their own stack reports.
 */
export const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
]);
