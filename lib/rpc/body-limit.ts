import { RequestTooLargeError } from '../errors.js';
import type { RpcRequest } from './request.js';

/** Largest request body accepted: a 6 KiB plaintext and an 8 KiB context, form-encoded, fit well within it. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Largest body of a request that may carry a secret's value: AWS's SecretString and SecretBinary
 * hold up to 65,536 bytes, which JSON carries as Base64 (4/3 as long) or, text, escaped (botocore
 * writes a non-ASCII character as `\uXXXX`: up to 6 bytes for one); Alibaba's SecretData holds up
 * to 30,720 bytes, form-encoded up to 9 bytes for each (`%XX` per UTF-8 byte).
 */
export const MAX_SECRET_BODY_BYTES = 512 * 1024;

/** The Alibaba Actions that write a secret's value. */
const SECRET_VALUE_ACTIONS: ReadonlySet<string> = new Set(['CreateSecret', 'PutSecretValue', 'UpdateSecret']);

const FORM = 'application/x-www-form-urlencoded';

/**
 * The body limit of a request, from what it says before its body is read: {@link MAX_SECRET_BODY_BYTES}
 * for an AWS Secrets Manager operation, an Alibaba Action that writes a secret's value, or an
 * Alibaba form whose Action is in the body itself (it may be one); {@link MAX_BODY_BYTES} for
 * everything else.
 */
export function bodyLimitOf(headers: Readonly<Record<string, string | undefined>>, rawQuery: string): number {
  const target = headers['x-amz-target'];
  if (target !== undefined) return target.startsWith('secretsmanager.') ? MAX_SECRET_BODY_BYTES : MAX_BODY_BYTES;
  const action = headers['x-acs-action'] ?? queryAction(rawQuery);
  if (action !== undefined) return SECRET_VALUE_ACTIONS.has(action) ? MAX_SECRET_BODY_BYTES : MAX_BODY_BYTES;
  return (headers['content-type'] ?? '').startsWith(FORM) ? MAX_SECRET_BODY_BYTES : MAX_BODY_BYTES;
}

/** The query's `Action`, when it has one (as written: no Action name needs decoding). */
function queryAction(rawQuery: string): string | undefined {
  const at = rawQuery.startsWith('Action=') ? 0 : rawQuery.indexOf('&Action=') + 1;
  if (at === 0 && !rawQuery.startsWith('Action=')) return undefined;
  const start = at + 'Action='.length;
  const end = rawQuery.indexOf('&', start);
  return rawQuery.slice(start, end === -1 ? undefined : end);
}

/** Refuses a request read whole (a function's event) whose body is past its limit. */
export function assertBodyWithinLimit(request: Pick<RpcRequest, 'headers' | 'rawQuery' | 'body'>): void {
  const limit = bodyLimitOf(request.headers, request.rawQuery);
  if (request.body.length > limit) throw new RequestTooLargeError(limit);
}

/**
 * Once a form is read, its Action is known: past {@link MAX_BODY_BYTES}, only an Action that writes
 * a secret's value keeps its body (a form with its Action inside was read under the larger limit).
 */
export function assertFormBodyWithinLimit(action: string | undefined, bodyBytes: number): void {
  if (bodyBytes > MAX_BODY_BYTES && (action === undefined || !SECRET_VALUE_ACTIONS.has(action))) throw new RequestTooLargeError(MAX_BODY_BYTES);
}
