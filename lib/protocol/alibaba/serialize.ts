import { XMLBuilder } from 'fast-xml-parser';
import { InvalidParameterError, type KmsError } from '../../errors.js';
import { XML_UNSAFE } from '../../operations/stored-text.js';
import type { RpcResponse } from '../../rpc/request.js';

export type ResponseFormat = 'JSON' | 'XML';

const xml = new XMLBuilder({ ignoreAttributes: true, format: false, suppressEmptyNode: false });
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const CONTENT_TYPE: Record<ResponseFormat, string> = {
  JSON: 'application/json;charset=utf-8',
  XML: 'text/xml;charset=utf-8',
};

/** `Format` is JSON (default) or XML, in any case. Anything else: undefined. */
export function parseFormat(value: string | undefined): ResponseFormat | undefined {
  if (value === undefined || value === '') return 'JSON';
  const upper = value.toUpperCase();
  return upper === 'JSON' || upper === 'XML' ? upper : undefined;
}

/**
 * A success body: JSON, or XML under `<KMS>` as Alibaba writes it. A value XML 1.0 cannot carry
 * (a decrypted plaintext holding a control character) makes a Format=XML answer an
 * InvalidParameter naming Format, never invalid XML; stored text never holds one (input refuses it).
 */
export function successResponse(format: ResponseFormat, requestId: string, fields: Record<string, unknown>): RpcResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': CONTENT_TYPE[format], 'x-acs-request-id': requestId },
    body: format === 'JSON' ? jsonBody(requestId, fields) : xmlBody(requestId, fields),
  };
}

/**
 * `JSON.stringify({ RequestId, ...fields })`, byte for byte, without copying `fields` into a new
 * object first (the answer of every JSON request: the copy cost more than the text).
 */
function jsonBody(requestId: string, fields: Record<string, unknown> | undefined): string {
  // Written directly only for a plain object (no array, class instance, Date or boxed value) that
  // the copy would not order or read otherwise: no RequestId or toJSON of its own or inherited,
  // no integer-like name (which an object lists before RequestId).
  if (!isPlainObject(fields) || Object.hasOwn(fields, 'RequestId') || 'toJSON' in fields || hasIndexLikeName(fields)) {
    return JSON.stringify({ RequestId: requestId, ...fields });
  }
  const rest = JSON.stringify(fields);
  return `{"RequestId":${JSON.stringify(requestId)}${rest === '{}' ? '' : ','}${rest.slice(1)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function hasIndexLikeName(fields: Record<string, unknown>): boolean {
  for (const name of Object.keys(fields)) {
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57) return true;
  }
  return false;
}

function xmlBody(requestId: string, fields: Record<string, unknown>): string {
  const body = { RequestId: requestId, ...fields };
  if (holdsXmlUnsafe(body)) throw new InvalidParameterError('Format', 'The response holds characters XML 1.0 cannot carry; ask for Format=JSON.');
  return `${XML_DECLARATION}${xml.build({ KMS: body })}`;
}

/** An error body with the status of its error class: `RequestId, HostId, Code, Message, Recommend`. */
export function errorResponse(format: ResponseFormat, requestId: string, hostId: string, error: KmsError): RpcResponse {
  const body = { RequestId: requestId, HostId: hostId, Code: error.code, Message: error.message, Recommend: error.recommend };
  const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
  return {
    statusCode: error.statusCode,
    headers: {
      'content-type': CONTENT_TYPE[format],
      'x-acs-request-id': requestId,
      // Throttled: when to retry, in whole seconds as HTTP says (the Message has the milliseconds).
      ...(typeof retryAfterMs === 'number' ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {}),
    },
    body: format === 'JSON' ? JSON.stringify(body) : `${XML_DECLARATION}${xml.build({ Error: body })}`,
  };
}

function holdsXmlUnsafe(value: unknown): boolean {
  if (typeof value === 'string') return XML_UNSAFE.test(value);
  if (Array.isArray(value)) return value.some(holdsXmlUnsafe);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(holdsXmlUnsafe);
  return false;
}
