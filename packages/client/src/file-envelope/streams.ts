import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { deriveFileKey, frameAad, frameNonce, headerDigest, TAG_BYTES } from './format.js';

/** Chunks received but not yet framed; `take` cuts the first n bytes off. */
class PendingBytes {
  #chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = n < all.length ? [all.subarray(n)] : [];
    this.length = all.length - n;
    return all.subarray(0, n);
  }
}

/**
 * What sealing and opening share: the file key derived from the data key (zeroed when the stream
 * ends or is destroyed), the header digest, the frame counter, and the bytes not yet framed. A
 * subclass frames `frameBytes` at a time, holding one frame back until the end shows whether it
 * is the last.
 */
abstract class FrameTransform extends Transform {
  protected readonly key: Buffer;
  protected readonly digest: Buffer;
  protected readonly pending = new PendingBytes();
  protected index = 0;

  constructor(
    dataKey: Buffer,
    salt: Buffer,
    encodedHeader: Buffer,
    private readonly frameBytes: number,
  ) {
    super();
    this.key = deriveFileKey(dataKey, salt);
    this.digest = headerDigest(encodedHeader);
  }

  /** Seals or opens one frame and pushes the result. */
  protected abstract frame(bytes: Buffer, final: boolean): void;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    try {
      while (this.pending.length > this.frameBytes) this.frame(this.pending.take(this.frameBytes), false);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.frame(this.pending.take(this.pending.length), true);
      done();
    } catch (err) {
      done(err as Error);
    } finally {
      this.key.fill(0);
    }
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.key.fill(0);
    done(error);
  }
}

/**
 * Seals a plaintext stream into frames (see format.ts). Holds at most one frame of plaintext plus
 * one incoming chunk, whatever the file's size. The header is written by the caller before these
 * frames; `encodedHeader` is what it wrote. The derived file key is zeroed at the end.
 */
export class FrameSealer extends FrameTransform {
  constructor(dataKey: Buffer, salt: Buffer, encodedHeader: Buffer, frameSize: number) {
    super(dataKey, salt, encodedHeader, frameSize);
  }

  protected frame(plaintext: Buffer, final: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, frameNonce(this.index));
    cipher.setAAD(frameAad(this.digest, this.index, final));
    const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    this.index++;
    this.push(out);
  }
}

/** A frame failed authentication, or the frames end wrongly: the file was modified, truncated, reordered or spliced. */
export class FrameAuthenticationError extends Error {
  constructor(readonly frameIndex: number) {
    super(`frame ${frameIndex} failed authentication: the file is corrupt, truncated, reordered or was modified`);
    this.name = 'FrameAuthenticationError';
  }
}

/**
 * Opens frames sealed by {@link FrameSealer}. A frame's plaintext is pushed only after its tag
 * verified; the last frame is the one the stream ends with, and it must have been sealed as final.
 * Callers write to a temporary file and keep it only when the stream ends without error.
 */
export class FrameOpener extends FrameTransform {
  constructor(dataKey: Buffer, salt: Buffer, encodedHeader: Buffer, frameSize: number) {
    super(dataKey, salt, encodedHeader, frameSize + TAG_BYTES);
  }

  protected frame(sealed: Buffer, final: boolean): void {
    if (sealed.length < TAG_BYTES) throw new FrameAuthenticationError(this.index);
    const decipher = createDecipheriv('aes-256-gcm', this.key, frameNonce(this.index), { authTagLength: TAG_BYTES });
    decipher.setAAD(frameAad(this.digest, this.index, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      plaintext.fill(0);
      throw new FrameAuthenticationError(this.index);
    }
    this.index++;
    this.push(plaintext);
  }
}
