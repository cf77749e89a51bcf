import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FileFormatError, FrameAuthenticationError, headerContext, openFile, readHeader, sealFile } from '@alibaba-kms-compatible/client';
import { DEFAULT_FRAME_SIZE, decodeHeader, encodeHeader, FORMAT_VERSION, MAGIC, TAG_BYTES } from '../../packages/client/src/file-envelope/format.js';

/** A fixed data key and blob stand in for GenerateDataKey: the format alone is under test here. */
const DATA_KEY = Buffer.alloc(32, 0x42);
const BLOB = Buffer.concat([Buffer.from('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'), randomBytes(60)]).toString('base64');
const CONTEXT = { tenant: 'acme', purpose: 'backup' };
const FRAME = 1024;

function collector(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** Feeds `bytes` in uneven chunks, so frame boundaries never line up with chunk boundaries. */
function source(bytes: Buffer, chunk = 333): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
    })(),
  );
}

async function seal(plaintext: Buffer, options: { frameSize?: number; context?: Record<string, string>; dataKey?: Buffer } = {}): Promise<Buffer> {
  const out = collector();
  await sealFile(source(plaintext), out.sink, {
    dataKey: Buffer.from(options.dataKey ?? DATA_KEY),
    ciphertextBlob: BLOB,
    context: options.context ?? CONTEXT,
    frameSize: options.frameSize ?? FRAME,
  });
  return out.bytes();
}

async function open(file: Buffer, dataKey: Buffer = DATA_KEY): Promise<Buffer> {
  const out = collector();
  await openFile(source(file, 517), out.sink, { unwrapDataKey: async () => Buffer.from(dataKey) });
  return out.bytes();
}

function headerLength(file: Buffer): number {
  return decodeHeader(file)!.length;
}

/** The sealed frames of a file, split at frame boundaries (the last may be short). */
function frames(file: Buffer, frameSize = FRAME): Buffer[] {
  const body = file.subarray(headerLength(file));
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += frameSize + TAG_BYTES) out.push(body.subarray(at, at + frameSize + TAG_BYTES));
  return out;
}

function withFrames(file: Buffer, replaced: Buffer[]): Buffer {
  return Buffer.concat([file.subarray(0, headerLength(file)), ...replaced]);
}

describe('encrypted-file format: round trips', () => {
  for (const size of [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME, 3 * FRAME + 7]) {
    it(`${size} bytes`, async () => {
      const plaintext = randomBytes(size);
      const file = await seal(plaintext);
      // Header, then ceil(size / frame) frames, and one empty final frame when the size is 0.
      const frameCount = Math.max(1, Math.ceil(size / FRAME));
      expect(file.length).toBe(headerLength(file) + size + frameCount * TAG_BYTES);
      expect((await open(file)).equals(plaintext)).toBe(true);
    });
  }

  it('uses the default frame size (64 KiB) and stores the header fields', async () => {
    const plaintext = randomBytes(DEFAULT_FRAME_SIZE + 1);
    const out = collector();
    await sealFile(source(plaintext, 10_000), out.sink, { dataKey: Buffer.from(DATA_KEY), ciphertextBlob: BLOB, context: { b: '2', a: '1' } });
    const file = out.bytes();
    expect(file.subarray(0, 4).equals(MAGIC)).toBe(true);
    expect(file[4]).toBe(FORMAT_VERSION);
    const { header } = decodeHeader(file)!;
    expect(header.frameSize).toBe(DEFAULT_FRAME_SIZE);
    expect(header.ciphertextBlob).toBe(BLOB);
    expect(header.context).toBe('{"a":"1","b":"2"}');
    expect(headerContext(header)).toEqual({ a: '1', b: '2' });
    expect(frames(file, DEFAULT_FRAME_SIZE)).toHaveLength(2);
    expect((await open(file)).equals(plaintext)).toBe(true);
  });

  it('two encryptions of one plaintext differ (random salt), and the header is what openFile saw', async () => {
    const plaintext = randomBytes(100);
    const [a, b] = [await seal(plaintext), await seal(plaintext)];
    expect(a.equals(b)).toBe(false);
    const out = collector();
    let seen: string | undefined;
    const header = await openFile(source(a), out.sink, {
      unwrapDataKey: async (h) => {
        seen = h.ciphertextBlob;
        return Buffer.from(DATA_KEY);
      },
    });
    expect(seen).toBe(BLOB);
    expect(headerContext(header)).toEqual(CONTEXT);
  });

  it('zeroes the data key it was given, sealing and opening', async () => {
    const sealKey = Buffer.from(DATA_KEY);
    const out = collector();
    await sealFile(source(randomBytes(10)), out.sink, { dataKey: sealKey, ciphertextBlob: BLOB, frameSize: FRAME });
    expect(sealKey.equals(Buffer.alloc(32))).toBe(true);
    const openKey = Buffer.from(DATA_KEY);
    await openFile(source(out.bytes()), collector().sink, { unwrapDataKey: async () => openKey });
    expect(openKey.equals(Buffer.alloc(32))).toBe(true);
  });

  it('streams: the frames stream through with bounded buffering (a 4 MiB file through 4 KiB chunks)', async () => {
    const size = 4 * 1024 * 1024;
    const plaintext = randomBytes(size);
    const sealed = await seal(plaintext, { frameSize: 64 * 1024 });
    const hash = createHash('sha256');
    const sink = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _e, done) {
        hash.update(chunk);
        done();
      },
    });
    await openFile(source(sealed, 4096), sink, { unwrapDataKey: async () => Buffer.from(DATA_KEY) });
    expect(hash.digest('hex')).toBe(createHash('sha256').update(plaintext).digest('hex'));
  });
});

describe('encrypted-file format: refusals', () => {
  const plaintext = randomBytes(3 * FRAME + 100);
  let file: Buffer;
  const sealed = async () => (file ??= await seal(plaintext));

  async function refusal(modified: Buffer): Promise<unknown> {
    return open(modified).then(
      () => {
        throw new Error('a modified file was accepted');
      },
      (err: unknown) => err,
    );
  }

  it('truncated at a frame boundary (the last frame dropped)', async () => {
    const f = await sealed();
    const err = await refusal(withFrames(f, frames(f).slice(0, 3)));
    expect(err).toBeInstanceOf(FrameAuthenticationError);
    expect((err as FrameAuthenticationError).frameIndex).toBe(2);
  });

  it('truncated after the header (no frames at all)', async () => {
    const f = await sealed();
    expect(await refusal(f.subarray(0, headerLength(f)))).toBeInstanceOf(FrameAuthenticationError);
  });

  it('truncated mid-frame, and by one byte', async () => {
    const f = await sealed();
    expect(await refusal(f.subarray(0, headerLength(f) + FRAME + TAG_BYTES + 10))).toBeInstanceOf(FrameAuthenticationError);
    expect(await refusal(f.subarray(0, f.length - 1))).toBeInstanceOf(FrameAuthenticationError);
  });

  it('two frames swapped', async () => {
    const f = await sealed();
    const [a, b, c, d] = frames(f);
    const err = await refusal(withFrames(f, [b!, a!, c!, d!]));
    expect(err).toBeInstanceOf(FrameAuthenticationError);
    expect((err as FrameAuthenticationError).frameIndex).toBe(0);
  });

  it('a frame from another file (same key, same frame size) spliced in', async () => {
    const f = await sealed();
    const other = await seal(randomBytes(3 * FRAME + 100));
    const mine = frames(f);
    const theirs = frames(other);
    expect(await refusal(withFrames(f, [mine[0]!, theirs[1]!, mine[2]!, mine[3]!]))).toBeInstanceOf(FrameAuthenticationError);
    // Even the other file's frames after this file's header.
    expect(await refusal(withFrames(f, theirs))).toBeInstanceOf(FrameAuthenticationError);
  });

  it('a bit flipped in a frame, in a tag, or in the last frame', async () => {
    const f = await sealed();
    for (const at of [headerLength(f), headerLength(f) + FRAME + 3, headerLength(f) + FRAME + TAG_BYTES - 1, f.length - 1]) {
      const modified = Buffer.from(f);
      modified[at]! ^= 0x01;
      expect(await refusal(modified)).toBeInstanceOf(FrameAuthenticationError);
    }
  });

  it("a bit flipped in the header's context, blob, salt or frame size", async () => {
    const f = await sealed();
    const text = f.toString('latin1');
    const contextAt = text.indexOf('"tenant"') + 2;
    const blobAt = text.indexOf(BLOB) + 10;
    for (const at of [contextAt, blobAt, 9 /* salt */]) {
      const modified = Buffer.from(f);
      modified[at]! ^= 0x01;
      // The frames are bound to SHA-256 of the header, so even with the right data key they fail.
      expect(await refusal(modified)).toBeInstanceOf(FrameAuthenticationError);
    }
    const frameSize = Buffer.from(f);
    frameSize.writeUInt32BE(FRAME + 1, 5);
    expect(await refusal(frameSize)).toBeInstanceOf(FrameAuthenticationError);
  });

  it('extra bytes appended, or a whole frame appended', async () => {
    const f = await sealed();
    expect(await refusal(Buffer.concat([f, Buffer.from([0])]))).toBeInstanceOf(FrameAuthenticationError);
    expect(await refusal(Buffer.concat([f, randomBytes(FRAME + TAG_BYTES)]))).toBeInstanceOf(FrameAuthenticationError);
    expect(await refusal(Buffer.concat([f, frames(f)[0]!]))).toBeInstanceOf(FrameAuthenticationError);
  });

  it('a different data key', async () => {
    expect(await open(await sealed(), Buffer.alloc(32, 1)).catch((e: unknown) => e)).toBeInstanceOf(FrameAuthenticationError);
  });

  it('writes nothing for a first frame that fails', async () => {
    const f = await sealed();
    const modified = Buffer.from(f);
    modified[headerLength(f) + 5]! ^= 0x80;
    const out = collector();
    await expect(openFile(source(modified), out.sink, { unwrapDataKey: async () => Buffer.from(DATA_KEY) })).rejects.toBeInstanceOf(FrameAuthenticationError);
    expect(out.bytes().length).toBe(0);
  });
});

describe('encrypted-file format: header parse errors', () => {
  const header = () => encodeHeader({ frameSize: FRAME, salt: Buffer.alloc(32, 9), ciphertextBlob: BLOB, context: '{"a":"b"}' });

  async function headerError(bytes: Buffer): Promise<string> {
    const err = await readHeader(source(bytes, 7)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileFormatError);
    return (err as Error).message;
  }

  it('decodes what it encodes, and asks for more bytes while incomplete', () => {
    const h = header();
    expect(decodeHeader(h)?.length).toBe(h.length);
    for (const n of [0, 3, 4, 20, 44, h.length - 1]) expect(decodeHeader(h.subarray(0, n))).toBeUndefined();
  });

  it('an empty file', async () => {
    expect(await headerError(Buffer.alloc(0))).toMatch(/empty/);
  });

  it('bad magic (a plaintext file)', async () => {
    expect(await headerError(Buffer.from('hello world, this is not encrypted'))).toMatch(/bad magic/);
  });

  it('an unknown format version', async () => {
    const h = header();
    h[4] = 2;
    expect(await headerError(h)).toMatch(/unsupported format version 2/);
  });

  it('a frame size of 0 or over the maximum', async () => {
    const zero = header();
    zero.writeUInt32BE(0, 5);
    expect(await headerError(zero)).toMatch(/invalid frame size/);
    const huge = header();
    huge.writeUInt32BE(0xffffffff, 5);
    expect(await headerError(huge)).toMatch(/invalid frame size/);
  });

  it('a file that ends inside the header', async () => {
    const h = header();
    expect(await headerError(h.subarray(0, h.length - 1))).toMatch(/ends inside its header/);
    expect(await headerError(h.subarray(0, 10))).toMatch(/ends inside its header/);
  });

  it('an oversized context length', async () => {
    const h = header();
    const contextLengthAt = h.length - '{"a":"b"}'.length - 4;
    h.writeUInt32BE(1 << 20, contextLengthAt);
    expect(await headerError(h)).toMatch(/context is too long/);
  });

  it('a context that is not a map of strings', () => {
    const base = { frameSize: FRAME, salt: Buffer.alloc(32), ciphertextBlob: BLOB };
    expect(() => headerContext({ ...base, context: '{"a":' })).toThrow(FileFormatError);
    expect(() => headerContext({ ...base, context: '{"a":1}' })).toThrow(FileFormatError);
    expect(() => headerContext({ ...base, context: '["a"]' })).toThrow(FileFormatError);
    expect(headerContext({ ...base, context: '{}' })).toEqual({});
  });

  it('readHeader leaves the frames to read', async () => {
    const f = await seal(randomBytes(FRAME * 2));
    const { encoded, rest } = await readHeader(source(f, 5));
    const tail = new PassThrough();
    const chunks: Buffer[] = [];
    tail.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) => rest.pipe(tail).on('finish', resolve).on('error', reject));
    expect(Buffer.concat([encoded, ...chunks]).equals(f)).toBe(true);
  });
});
