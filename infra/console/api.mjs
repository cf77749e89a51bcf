// The console's API client: every call is a signed RPC request to this same origin, answered by
// the same stack as any other client's (policies, rate limits, the audit log).
import { signedRpcQuery } from './signing.mjs';

/** sessionStorage only: the tab's session, gone when it closes or on Sign out; never localStorage or a cookie. */
const STORAGE_KEY = 'kms-console-credentials';

/** An answer that was not a success: the API's own Code and Message. */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

export function storedCredentials() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
    return value && typeof value.id === 'string' && typeof value.secret === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function storeCredentials(credentials) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
}

export function forgetCredentials() {
  sessionStorage.clear();
}

/** Calls `action` with `params` as `credentials`; resolves with the answer's JSON, rejects with an ApiError. */
export async function call(credentials, action, params = {}) {
  const strings = Object.fromEntries(
    Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  const query = await signedRpcQuery(action, strings, credentials);
  let response;
  try {
    response = await fetch(`/?${query}`, { method: 'GET', credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    throw new ApiError('NetworkError', `The service could not be reached (${err.message}).`, 0);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError('InvalidResponse', `The service answered ${response.status} without JSON.`, response.status);
  }
  if (!response.ok || typeof body?.Code === 'string') throw new ApiError(body?.Code ?? `HTTP${response.status}`, body?.Message ?? '', response.status);
  return body;
}
