import { InvalidParameterError } from '../errors.js';
import { duplicateJsonKey } from '../strict-json.js';

/** Alibaba's limit on the EncryptionContext JSON text. */
export const MAX_ENCRYPTION_CONTEXT_CHARS = 8192;

export type EncryptionContext = ReadonlyMap<string, string>;

const EMPTY: EncryptionContext = new Map();

/** A string → string object that is not a Map: what library callers and tests may pass. */
type ContextObject = Readonly<Record<string, unknown>>;

const INVALID = 'It must be a JSON object of string keys and string values.';
/** A lone surrogate (in a `u` regex, a well-formed pair is one code point and does not match). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Reads an EncryptionContext parameter: JSON text of an object of string → string, or the map
 * the older SDK sends flattened (`EncryptionContext.k=v`, gathered into a `Map`). Absent and `{}`
 * are the same empty context.
 *
 * Every pair the caller sent is bound, or the request is refused: arrays, numbers, nesting, text
 * over 8,192 characters, a key given twice in the JSON, and keys or values that are not valid
 * Unicode (a lone surrogate would be encoded as U+FFFD, making several contexts one) are all
 * InvalidParameter.
 */
export function parseEncryptionContext(value: unknown, parameter = 'EncryptionContext'): EncryptionContext {
  if (value === undefined) return EMPTY;
  let entries: Iterable<readonly [string, unknown]>;
  if (typeof value === 'string') {
    if (value.length > MAX_ENCRYPTION_CONTEXT_CHARS) throw tooLong(parameter);
    if (value.trim() === '') return EMPTY;
    let object: unknown;
    try {
      object = JSON.parse(value);
    } catch {
      throw new InvalidParameterError(parameter, INVALID);
    }
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new InvalidParameterError(parameter, INVALID);
    if (duplicateJsonKey(value) !== undefined) throw new InvalidParameterError(parameter, 'A key is given more than once.');
    entries = Object.entries(object);
  } else if (value instanceof Map) {
    entries = value as ReadonlyMap<string, unknown>;
    if (JSON.stringify(Object.fromEntries(value)).length > MAX_ENCRYPTION_CONTEXT_CHARS) throw tooLong(parameter);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    entries = Object.entries(value as ContextObject);
    if (JSON.stringify(value).length > MAX_ENCRYPTION_CONTEXT_CHARS) throw tooLong(parameter);
  } else {
    throw new InvalidParameterError(parameter, INVALID);
  }
  const context = new Map<string, string>();
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new InvalidParameterError(parameter, 'Every value must be a string.');
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw new InvalidParameterError(parameter, 'Keys and values must be valid Unicode text.');
    context.set(k, v);
  }
  return context;
}

function tooLong(parameter: string): InvalidParameterError {
  return new InvalidParameterError(parameter, `It must be at most ${MAX_ENCRYPTION_CONTEXT_CHARS} characters.`);
}

/**
 * The canonical, unambiguous byte encoding of a context, bound as AES-GCM additional data:
 *
 *     u32be(count) ‖ for each pair in key order: u32be(len k) ‖ k ‖ u32be(len v) ‖ v
 *
 * with keys and values as UTF-8 and pairs sorted by the UTF-8 bytes of the key. Lengths make
 * `{"ab":"c"}` and `{"a":"bc"}` differ; no separators means no value can imitate one
 * (`{"a":"b&c=d"}` ≠ `{"a":"b","c":"d"}`); sorting makes key order irrelevant; the empty context
 * encodes as four zero bytes whether it was absent or `{}`.
 */
export function encodeEncryptionContext(context: EncryptionContext): Buffer {
  const pairs = [...context].map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [k, v] of pairs) parts.push(u32(k.length), k, u32(v.length), v);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}
