import { randomBytes } from 'node:crypto';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  canonicalContextJson,
  decodeHeader,
  DEFAULT_FRAME_SIZE,
  encodeHeader,
  type FileHeader,
  FileFormatError,
  MAX_FRAME_SIZE,
  SALT_LENGTH,
} from './format.js';
import { FrameOpener, FrameSealer } from './streams.js';

/**
 * Whole-file envelope encryption over streams (format.ts has the layout): the header, then the
 * frames, with constant memory whatever the size. The data key comes from the caller
 * (GenerateDataKey), and goes back to it for unwrapping (Decrypt); both functions zero it when
 * they are done with it, success or not.
 */

export interface SealFileOptions {
  /** The data key's bytes (zeroed when done). */
  dataKey: Buffer;
  /** The data key as encrypted by the KMS; stored in the header. */
  ciphertextBlob: string;
  /** The EncryptionContext the blob was made with; stored in the header. */
  context?: Readonly<Record<string, string>>;
  frameSize?: number;
  /** Stages between the plaintext and the sealer (a progress counter). */
  through?: Transform[];
  signal?: AbortSignal;
}

/**
 * Writes the header and the sealed frames of `input` to `output`, and ends `output`.
 *
 * @example
 * ```ts
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { createKmsClient, sealFile } from '@alibaba-kms-compatible/client';
 * const kms = createKmsClient({ endpoint, accessKeyId, accessKeySecret });
 * const context = { tenant: 'acme' };
 * const { Plaintext, CiphertextBlob } = await kms.call('GenerateDataKey', { KeyId: 'alias/orders', EncryptionContext: JSON.stringify(context) });
 * await sealFile(createReadStream('order.txt'), createWriteStream('order.txt.kms'), {
 *   dataKey: Buffer.from(String(Plaintext), 'base64'), ciphertextBlob: String(CiphertextBlob), context,
 * });
 * ```
 */
export async function sealFile(input: Readable, output: Writable, options: SealFileOptions): Promise<void> {
  try {
    const frameSize = options.frameSize ?? DEFAULT_FRAME_SIZE;
    if (!Number.isInteger(frameSize) || frameSize < 1 || frameSize > MAX_FRAME_SIZE) {
      input.destroy();
      output.destroy();
      throw new RangeError(`the frame size must be 1–${MAX_FRAME_SIZE} bytes`);
    }
    const header: FileHeader = {
      frameSize,
      salt: randomBytes(SALT_LENGTH),
      ciphertextBlob: options.ciphertextBlob,
      context: canonicalContextJson(options.context ?? {}),
    };
    const encoded = encodeHeader(header);
    const sealer = new FrameSealer(options.dataKey, header.salt, encoded, frameSize);
    // The sealer has derived its own key (zeroed when it ends); the caller's is not needed any more.
    options.dataKey.fill(0);
    const withHeader = new HeaderFirst(encoded);
    await pipeline([input, ...(options.through ?? []), sealer, withHeader, output], { signal: options.signal });
  } finally {
    options.dataKey.fill(0);
  }
}

export interface OpenFileOptions {
  /**
   * Returns the data key for a header (Decrypt of its blob, with its context). The returned
   * buffer is zeroed when the file is done.
   */
  unwrapDataKey(header: FileHeader): Promise<Buffer>;
  /** Stages between the opened plaintext and `output`. */
  through?: Transform[];
  signal?: AbortSignal;
}

/**
 * Reads a header from `input`, unwraps its data key, and writes the authenticated plaintext to
 * `output` (which it ends). Rejects with {@link FileFormatError} for a malformed header and
 * FrameAuthenticationError for a frame that does not authenticate (modified, truncated,
 * reordered, spliced, appended to). Frames are written only once verified, but a failure late in
 * the file comes after earlier frames were written: write to a temporary file and keep it only
 * when this resolves.
 *
 * @example
 * ```ts
 * import { headerContext, openFile } from '@alibaba-kms-compatible/client';
 * await openFile(createReadStream('order.txt.kms'), createWriteStream('order.txt.part'), {
 *   unwrapDataKey: async (header) => {
 *     const { Plaintext } = await kms.call('Decrypt', { CiphertextBlob: header.ciphertextBlob, EncryptionContext: JSON.stringify(headerContext(header)) });
 *     return Buffer.from(String(Plaintext), 'base64');
 *   },
 * });
 * ```
 */
export async function openFile(input: Readable, output: Writable, options: OpenFileOptions): Promise<FileHeader> {
  let header: FileHeader;
  let encoded: Buffer;
  let rest: Readable;
  let dataKey: Buffer;
  try {
    ({ header, encoded, rest } = await readHeader(input));
    dataKey = await options.unwrapDataKey(header);
  } catch (err) {
    // No pipeline owns the streams yet: close them here.
    input.destroy();
    output.destroy();
    throw err;
  }
  try {
    const opener = new FrameOpener(dataKey, header.salt, encoded, header.frameSize);
    dataKey.fill(0);
    await pipeline([rest, opener, ...(options.through ?? []), output], { signal: options.signal });
    return header;
  } finally {
    dataKey.fill(0);
  }
}

/** The context stored in a header, as a map; a header whose context is not a string map is malformed. */
export function headerContext(header: FileHeader): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header.context);
  } catch {
    throw new FileFormatError('the header context is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new FileFormatError('the header context is not a map of strings');
  }
  return parsed as Record<string, string>;
}

/**
 * Reads just the header from the start of a stream. Returns it, its encoded bytes, and a stream
 * of everything after it (the frames), which continues reading `input` with backpressure.
 */
export async function readHeader(input: Readable): Promise<{ header: FileHeader; encoded: Buffer; rest: Readable }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let buffered: Buffer = Buffer.alloc(0);
  for (;;) {
    const decoded = decodeHeader(buffered);
    if (decoded) {
      const encoded = Buffer.from(buffered.subarray(0, decoded.length));
      const first = buffered.subarray(decoded.length);
      const rest = Readable.from(
        (async function* () {
          if (first.length > 0) yield first;
          for (;;) {
            const next = await chunks.next();
            if (next.done) return;
            yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
          }
        })(),
        { objectMode: false },
      );
      return { header: decoded.header, encoded, rest };
    }
    const next = await chunks.next();
    if (next.done) {
      throw new FileFormatError(buffered.length === 0 ? 'the file is empty: not a kms encrypted file' : 'the file ends inside its header');
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
  }
}

/** Passes frames through, with the encoded header in front (also for an empty file). */
class HeaderFirst extends Transform {
  #header: Buffer | undefined;

  constructor(header: Buffer) {
    super();
    this.#header = header;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    if (this.#header) {
      this.push(this.#header);
      this.#header = undefined;
    }
    done(null, chunk);
  }

  override _flush(done: (error?: Error | null) => void): void {
    if (this.#header) this.push(this.#header);
    this.#header = undefined;
    done();
  }
}
