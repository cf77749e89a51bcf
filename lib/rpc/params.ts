import { formDecode } from '@alibaba-kms-compatible/client/signing';
import { InvalidParameterError, UnsupportedMediaTypeError } from '../errors.js';
import type { RpcRequest } from './request.js';

/** A decoded parameter list in arrival order; duplicates are refused before anything reads it. */
export type ParamList = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * The request's parameters, decoded once per request.
 * - `query`: only the query string (what the V3 signature covers);
 * - `form`: only an `application/x-www-form-urlencoded` body (pop-core POST);
 * - `all`: both, by name (what the RPC signature covers and operations read).
 */
export interface RpcParams {
  query: ParamList;
  form: ParamList;
  all: ReadonlyMap<string, string>;
}

/**
 * The parsed parameters, on the request under symbols of this module (see lib/middleware/state.ts
 * on why not a WeakMap), with the request they were parsed for: a copy of the request (a spread
 * copies symbol-named members too) is parsed afresh, as a WeakMap would have it.
 */
const PARSED = Symbol('parsed parameters');
const PARSED_FOR = Symbol('parsed parameters of');

type WithParams = RpcRequest & { [PARSED]?: RpcParams; [PARSED_FOR]?: RpcRequest };

/**
 * Parses the query string and a form body. A name given twice (in either place) is refused:
 * a signature over one value must not authorise another.
 *
 * A body is read only as what it must be, form-encoded UTF-8, and anything else is refused rather
 * than ignored: the V3 signature covers the body's bytes but need not cover `content-type`, so a
 * body silently skipped for its content type would drop signed parameters (an EncryptionContext)
 * without failing the signature.
 */
export function rpcParams(request: RpcRequest): RpcParams {
  const own = request as WithParams;
  if (own[PARSED_FOR] === request) return own[PARSED]!;
  const query = parseUrlEncoded(request.rawQuery);
  const form = request.body.length > 0 ? parseUrlEncoded(formBodyText(request)) : [];
  const all = new Map<string, string>();
  addOnce(all, query);
  addOnce(all, form);
  const params: RpcParams = { query, form, all };
  own[PARSED] = params;
  own[PARSED_FOR] = request;
  return params;
}

/** The query string's parameters alone (a name given twice is refused), whatever the body holds. */
export function queryParams(rawQuery: string): ParamList {
  const query = parseUrlEncoded(rawQuery);
  addOnce(new Map(), query);
  return query;
}

function addOnce(all: Map<string, string>, params: ParamList): void {
  for (const [name, value] of params) {
    if (all.has(name)) throw new InvalidParameterError(name, 'The parameter is given more than once.');
    all.set(name, value);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function formBodyText(request: RpcRequest): string {
  const type = request.headers['content-type'];
  if (type === undefined || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw new UnsupportedMediaTypeError();
  try {
    return utf8.decode(request.body);
  } catch {
    throw new UnsupportedMediaTypeError();
  }
}

function parseUrlEncoded(text: string): ParamList {
  const out: Array<[string, string]> = [];
  if (text.length === 0) return out;
  for (const pair of text.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = formDecode(rawName);
    const value = formDecode(rawValue);
    if (name === undefined || value === undefined) {
      throw new InvalidParameterError(name ?? 'query', 'The value is not valid percent-encoding.');
    }
    out.push([detached(name, rawName), detached(value, rawValue)]);
  }
  return out;
}

/** V8 makes a substring at least this long a view on the string it was cut from, not a copy. */
const VIEW_MIN_CHARS = 13;

/**
 * A parameter as a string of its own. A piece cut from the request text (what `split` and `slice`
 * return, and what decoding returns when there was nothing to decode) is a view that keeps the
 * whole text alive: a name or value kept past its request (a cache key, an audit record, the
 * access key id) would keep every other parameter of that request with it — a Plaintext, a
 * SecretData — for as long, and a caller could pin a request body's worth of memory per entry.
 * Flattening a concatenation makes a copy; a decoded value is new already.
 */
function detached(decoded: string, raw: string): string {
  return decoded.length >= VIEW_MIN_CHARS && decoded === raw ? ` ${decoded}`.slice(1) : decoded;
}

/**
 * The operation's view of the parameters: plain values by name, with map parameters that the
 * older official SDK flattens (`EncryptionContext.k=v`) gathered back into one `Map`. Giving a
 * map both as JSON text and flattened is refused.
 *
 * Flattened maps are `Map`s, never objects: an object would turn a pair keyed `__proto__`
 * into a prototype (or drop it) somewhere downstream, and every pair a caller sends must arrive.
 */
export function operationInput(all: ReadonlyMap<string, string>): Record<string, string | Map<string, string>> {
  // A null-prototype object: a parameter named "__proto__" is data, not a prototype.
  const input: Record<string, string | Map<string, string>> = Object.create(null);
  for (const [name, value] of all) {
    const dot = name.indexOf('.');
    if (dot <= 0) {
      if (input[name] instanceof Map) throw new InvalidParameterError(name, 'The map is given both as JSON and flattened.');
      input[name] = value;
      continue;
    }
    const mapName = name.slice(0, dot);
    const existing = input[mapName];
    if (typeof existing === 'string') throw new InvalidParameterError(mapName, 'The map is given both as JSON and flattened.');
    const map = existing ?? new Map<string, string>();
    map.set(name.slice(dot + 1), value);
    input[mapName] = map;
  }
  return input;
}
