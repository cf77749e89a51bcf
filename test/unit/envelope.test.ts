import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from '../../lib/crypto/envelope.js';
import { InvalidCiphertextError, InvalidParameterError } from '../../lib/errors.js';

const VERSION_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const MATERIAL = Buffer.alloc(32, 7);
const OTHER_MATERIAL = Buffer.alloc(32, 8);
const PLAINTEXT = Buffer.from('attack at dawn, 中文', 'utf8');
const CONTEXT = encodeEncryptionContext(new Map([['tenant', 'acme']]));
const NO_CONTEXT = encodeEncryptionContext(new Map());

/** The documented layout's offsets. */
const ID = 36;
const IV = 12;
const TAG = 16;

const open = (blob: string, material = MATERIAL, context = CONTEXT) => openEnvelope(material, parseEnvelope(blob), context);

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe('Module: envelope', () => {
  describe('function sealEnvelope', () => {
    it('when sealing, it returns Base64 of version id (36 ASCII bytes) ‖ IV (12) ‖ ciphertext (plaintext length) ‖ tag (16)', () => {
      const blob = sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT);
      expect(blob).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      const bytes = Buffer.from(blob, 'base64');
      expect(bytes.length).toBe(ID + IV + PLAINTEXT.length + TAG);
      expect(bytes.subarray(0, ID).toString('ascii')).toBe(VERSION_ID);
      // AES-GCM is a stream mode: no plaintext byte appears in place.
      expect(bytes.subarray(ID + IV, ID + IV + PLAINTEXT.length).equals(PLAINTEXT)).toBe(false);
    });

    it('when called twice with the same input, it uses a fresh IV and the blobs differ', () => {
      const a = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), 'base64');
      const b = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), 'base64');
      expect(a.equals(b)).toBe(false);
      expect(a.subarray(ID, ID + IV).equals(b.subarray(ID, ID + IV))).toBe(false);
      expect(a.subarray(0, ID).equals(b.subarray(0, ID))).toBe(true);
    });

    it('when sealing 200 times, no IV repeats', () => {
      const ivs = new Set<string>();
      for (let i = 0; i < 200; i++)
        ivs.add(
          Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), 'base64')
            .subarray(ID, ID + IV)
            .toString('hex'),
        );
      expect(ivs.size).toBe(200);
    });
  });

  describe('function parseEnvelope', () => {
    it('when given a sealed blob, it returns the version id it names and the whole decoded bytes', () => {
      const blob = sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT);
      const parsed = parseEnvelope(blob);
      expect(parsed.keyVersionId).toBe(VERSION_ID);
      expect(parsed.bytes.equals(Buffer.from(blob, 'base64'))).toBe(true);
    });

    it.each([
      ['not Base64 at all', 'this is not base64!'],
      ['Base64url alphabet', Buffer.alloc(70, 0xfb).toString('base64url')],
      ['missing padding', Buffer.alloc(65, 1).toString('base64').replace(/=+$/, '')],
      ['whitespace inside', `${Buffer.alloc(66, 1).toString('base64').slice(0, 20)} ${Buffer.alloc(66, 1).toString('base64').slice(20)}`],
      ['empty', ''],
      ['too short: 63 bytes (header + tag needs 64)', Buffer.concat([Buffer.from(VERSION_ID, 'ascii'), Buffer.alloc(27)]).toString('base64')],
      ['a header that is not a UUID', Buffer.concat([Buffer.from('x'.repeat(36), 'ascii'), Buffer.alloc(40)]).toString('base64')],
      ['a UUID without dashes in the header', Buffer.concat([Buffer.from(`${'a'.repeat(32)}0000`, 'ascii'), Buffer.alloc(40)]).toString('base64')],
    ])('when given %s, it throws InvalidParameterError (400, InvalidParameter) naming CiphertextBlob', (_what, blob) => {
      let error: unknown;
      try {
        parseEnvelope(blob);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidParameterError);
      expect((error as InvalidParameterError).statusCode).toBe(400);
      expect((error as InvalidParameterError).code).toBe('InvalidParameter');
      expect((error as InvalidParameterError).parameter).toBe('CiphertextBlob');
    });

    it('when a parameter name is given, the error names it', () => {
      expect(() => parseEnvelope('!!', 'SourceCiphertextBlob')).toThrow(/"SourceCiphertextBlob"/);
    });

    it('when the blob is exactly header + tag (empty ciphertext), it is accepted', () => {
      const blob = sealEnvelope(MATERIAL, VERSION_ID, Buffer.alloc(0), CONTEXT);
      expect(Buffer.from(blob, 'base64').length).toBe(ID + IV + TAG);
      expect(open(blob).length).toBe(0);
    });
  });

  describe('function openEnvelope', () => {
    it('when given what sealEnvelope returned, with the same material and context, it returns the plaintext', () => {
      expect(open(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT)).equals(PLAINTEXT)).toBe(true);
    });

    it('when the plaintext is large (64 KiB of random bytes), it round-trips', () => {
      const big = randomBytes(65_536);
      expect(open(sealEnvelope(MATERIAL, VERSION_ID, big, NO_CONTEXT), MATERIAL, NO_CONTEXT).equals(big)).toBe(true);
    });

    it('when any single bit of the blob is flipped, it throws InvalidCiphertextError (or InvalidParameterError while parsing a broken header)', () => {
      const bytes = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, Buffer.from('8 bytes!'), CONTEXT), 'base64');
      const outcomes = { invalidCiphertext: 0, invalidParameter: 0 };
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = flipBit(bytes, bit);
        // Decrypting the flipped bytes, whatever the header now says, always fails authentication.
        expect(() => openEnvelope(MATERIAL, { keyVersionId: VERSION_ID, bytes: flipped }, CONTEXT)).toThrow(InvalidCiphertextError);
        // Through the parser, a header that is no longer a UUID is refused first.
        try {
          open(flipped.toString('base64'));
          throw new Error(`bit ${bit} flipped and the blob still opened`);
        } catch (e) {
          if (e instanceof InvalidCiphertextError) outcomes.invalidCiphertext++;
          else if (e instanceof InvalidParameterError && bit < ID * 8) outcomes.invalidParameter++;
          else throw e;
        }
      }
      expect(outcomes.invalidCiphertext + outcomes.invalidParameter).toBe(bytes.length * 8);
      expect(outcomes.invalidCiphertext).toBeGreaterThan((bytes.length - ID) * 8 - 1);
    });

    it('when the tag or ciphertext is truncated by one byte, it throws InvalidCiphertextError', () => {
      const bytes = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), 'base64');
      expect(() => open(bytes.subarray(0, bytes.length - 1).toString('base64'))).toThrow(InvalidCiphertextError);
    });

    it("when the material is another version's, it throws InvalidCiphertextError", () => {
      expect(() => open(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), OTHER_MATERIAL)).toThrow(InvalidCiphertextError);
    });

    it('when the context differs (or is left out), it throws InvalidCiphertextError', () => {
      const blob = sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT);
      expect(() => open(blob, MATERIAL, encodeEncryptionContext(new Map([['tenant', 'Acme']])))).toThrow(InvalidCiphertextError);
      expect(() => open(blob, MATERIAL, NO_CONTEXT)).toThrow(InvalidCiphertextError);
    });

    it('when the header is rewritten to name another version, it throws InvalidCiphertextError (the version id is authenticated)', () => {
      const bytes = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, CONTEXT), 'base64');
      Buffer.from('bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'ascii').copy(bytes, 0);
      const parsed = parseEnvelope(bytes.toString('base64'));
      expect(parsed.keyVersionId).toBe('bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee');
      expect(() => openEnvelope(MATERIAL, parsed, CONTEXT)).toThrow(InvalidCiphertextError);
    });

    describe('when authentication fails', () => {
      const decipherProto = Object.getPrototypeOf(createDecipheriv('aes-256-gcm', MATERIAL, Buffer.alloc(IV))) as { update: (...args: unknown[]) => Buffer };
      const realUpdate = decipherProto.update;
      afterEach(() => {
        decipherProto.update = realUpdate;
      });

      it('no partial plaintext leaves: the error carries none, and every buffer GCM produced is zeroed', () => {
        const secret = Buffer.from('TOP-SECRET-PLAINTEXT-0123456789', 'utf8');
        const bytes = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, secret, CONTEXT), 'base64');
        bytes[bytes.length - 1]! ^= 1; // Only the tag is wrong: GCM would decrypt the ciphertext correctly.
        const produced: Buffer[] = [];
        decipherProto.update = function (this: unknown, ...args: unknown[]) {
          const out = realUpdate.apply(this, args);
          produced.push(out);
          return out;
        };
        let error: unknown;
        try {
          openEnvelope(MATERIAL, parseEnvelope(bytes.toString('base64')), CONTEXT);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InvalidCiphertextError);
        expect(produced.length).toBeGreaterThan(0);
        for (const buffer of produced) expect(buffer.every((b) => b === 0)).toBe(true);
        const serialized = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).stack)}`;
        expect(serialized).not.toContain('TOP-SECRET');
      });
    });
  });

  describe('the documented format, checked with node:crypto directly', () => {
    it('when a blob is decrypted by hand (AAD = version id ASCII ‖ encoded context), it yields the plaintext', () => {
      const context = new Map([
        ['b', '2'],
        ['a', '1'],
      ]);
      const bytes = Buffer.from(sealEnvelope(MATERIAL, VERSION_ID, PLAINTEXT, encodeEncryptionContext(context)), 'base64');
      // The canonical encoding of {"a":"1","b":"2"}, written out byte by byte.
      const aadContext = Buffer.from([0, 0, 0, 2, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x31, 0, 0, 0, 1, 0x62, 0, 0, 0, 1, 0x32]);
      const decipher = createDecipheriv('aes-256-gcm', MATERIAL, bytes.subarray(ID, ID + IV), { authTagLength: TAG });
      decipher.setAAD(Buffer.concat([Buffer.from(VERSION_ID, 'ascii'), aadContext]));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
      const plaintext = Buffer.concat([decipher.update(bytes.subarray(ID + IV, bytes.length - TAG)), decipher.final()]);
      expect(plaintext.equals(PLAINTEXT)).toBe(true);
    });

    it('when a blob is built by hand in the documented layout, openEnvelope decrypts it', () => {
      const iv = randomBytes(IV);
      const cipher = createCipheriv('aes-256-gcm', MATERIAL, iv);
      cipher.setAAD(Buffer.concat([Buffer.from(VERSION_ID, 'ascii'), Buffer.from([0, 0, 0, 0])]));
      const ciphertext = Buffer.concat([cipher.update(PLAINTEXT), cipher.final()]);
      const blob = Buffer.concat([Buffer.from(VERSION_ID, 'ascii'), iv, ciphertext, cipher.getAuthTag()]).toString('base64');
      expect(openEnvelope(MATERIAL, parseEnvelope(blob), NO_CONTEXT).equals(PLAINTEXT)).toBe(true);
    });
  });
});
