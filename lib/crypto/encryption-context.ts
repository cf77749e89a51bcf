import { InvalidParameterError } from '../errors.js';

/** Alibaba's limit on the EncryptionContext JSON text. */
export const MAX_ENCRYPTION_CONTEXT_CHARS = 8192;

export type EncryptionContext = ReadonlyMap<string, string>;

const EMPTY: EncryptionContext = new Map();

/**
 * Reads an EncryptionContext parameter: JSON text of an object of string → string, or the map
 * the older SDK sends flattened (`EncryptionContext.k=v`). Arrays, numbers, nesting and text over
 * 8,192 characters are refused. Absent and `{}` are the same empty context.
 */
export function parseEncryptionContext(value: unknown, parameter = 'EncryptionContext'): EncryptionContext {
  if (value === undefined) return EMPTY;
  let object: unknown;
  if (typeof value === 'string') {
    if (value.length > MAX_ENCRYPTION_CONTEXT_CHARS) {
      throw new InvalidParameterError(parameter, `It must be at most ${MAX_ENCRYPTION_CONTEXT_CHARS} characters.`);
    }
    if (value.trim() === '') return EMPTY;
    try {
      object = JSON.parse(value);
    } catch {
      throw new InvalidParameterError(parameter, 'It must be a JSON object of string keys and string values.');
    }
  } else {
    object = value;
    if (JSON.stringify(object).length > MAX_ENCRYPTION_CONTEXT_CHARS) {
      throw new InvalidParameterError(parameter, `It must be at most ${MAX_ENCRYPTION_CONTEXT_CHARS} characters.`);
    }
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new InvalidParameterError(parameter, 'It must be a JSON object of string keys and string values.');
  }
  const context = new Map<string, string>();
  for (const [k, v] of Object.entries(object)) {
    if (typeof v !== 'string') throw new InvalidParameterError(parameter, 'Every value must be a string.');
    context.set(k, v);
  }
  return context;
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
