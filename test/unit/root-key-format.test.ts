import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadRootKey } from '../../lib/keystore/root-key.js';
import { decodeRootKey, ROOT_KEY_SEED_INFO } from '../../lib/keystore/root-key-format.js';

/*
 * The root-key secret of an AWS stage is `{"seed":"<64 alphanumerics>"}` (GenerateSecretString);
 * the key is derived from the seed. Earlier forms (Base64 of 32 bytes, 32 binary bytes) keep working.
 */

const SEED = 'k3Q9xZpL2mN8vB4cR7tY1wE6uI0oA5sD9fG3hJ2kL8zX4cV7bN1mQ6wE0rT5yU2i'; // 64 alphanumerics
const FORMS = /must be \{"seed":"<at least 43 characters>"\}, Base64 of 32 bytes, or 32 binary bytes/;

function derived(seed: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'utf8'), Buffer.alloc(0), Buffer.from('alibaba-kms-compatible root key v1', 'utf8'), 32));
}

describe('Function: decodeRootKey', () => {
  it('when the secret is a seed document, the key is HKDF-SHA256(seed, empty salt, the v1 info), 32 bytes', () => {
    const key = decodeRootKey(JSON.stringify({ seed: SEED }), 'secret s');
    expect(key).toHaveLength(32);
    expect(key).toEqual(derived(SEED));
    expect(ROOT_KEY_SEED_INFO).toBe('alibaba-kms-compatible root key v1');
    // A known answer, so that a change of the derivation (info, salt, hash) cannot pass unseen.
    expect(decodeRootKey(`{"seed":"${'a'.repeat(43)}"}`, 's').toString('hex')).toBe(derived('a'.repeat(43)).toString('hex'));
  });

  it.each([
    ['whitespace around the document', `  {"seed":"${SEED}"}\n`, SEED],
    ['other fields beside the seed', JSON.stringify({ seed: SEED, rotatedBy: 'ops' }), SEED],
    ['the shortest seed (43 characters)', JSON.stringify({ seed: 'B'.repeat(43) }), 'B'.repeat(43)],
    ['a seed with punctuation and non-ASCII', JSON.stringify({ seed: `${'x'.repeat(40)}+/=é€` }), `${'x'.repeat(40)}+/=é€`],
  ])('when the seed document has %s, it is accepted', (_, text, seed) => {
    expect(decodeRootKey(text, 's')).toEqual(derived(seed));
  });

  it('when two seeds differ by one character, so do their keys', () => {
    expect(decodeRootKey(JSON.stringify({ seed: `${SEED.slice(0, -1)}j` }), 's')).not.toEqual(decodeRootKey(JSON.stringify({ seed: SEED }), 's'));
  });

  it('when the secret is Base64 of 32 bytes (earlier secrets, root key files) or 32 binary bytes, those are the key', () => {
    const key = Buffer.alloc(32, 7);
    expect(decodeRootKey(key.toString('base64'), 's')).toEqual(key);
    expect(decodeRootKey(` ${key.toString('base64')}\n`, 's')).toEqual(key);
    expect(decodeRootKey(new Uint8Array(key), 's')).toEqual(key);
  });

  const SECRETISH = 'Zq7Wv9Rk2Tn5';
  it.each([
    ['a seed too short', JSON.stringify({ seed: `${SECRETISH}${'c'.repeat(30)}` }), /a seed of 42 characters \(at least 43\)/],
    ['an empty seed', '{"seed":""}', /a seed of 0 characters/],
    ['a seed that is not a string', `{"seed":${'9'.repeat(50)}}`, /without a "seed" string/],
    ['no seed', JSON.stringify({ key: `${SECRETISH}${'d'.repeat(50)}` }), /without a "seed" string/],
    ['an array', JSON.stringify([`${SECRETISH}${'e'.repeat(50)}`]), /neither a JSON seed document/],
    ['JSON that does not parse', `{"seed":"${SECRETISH}${'f'.repeat(50)}"`, /JSON that does not parse/],
    ['JSON with a stray quote', `{"seed":${SECRETISH}"}`, /JSON that does not parse/],
    ['Base64 of 31 bytes', Buffer.alloc(31, 1).toString('base64'), /neither a JSON seed document nor Base64 of 32 bytes/],
    ['Base64 of 40 bytes', Buffer.alloc(40, 1).toString('base64'), /neither a JSON seed document/],
    ['plain text', `${SECRETISH}${SECRETISH}`, /neither a JSON seed document/],
    ['nothing', '', /neither a JSON seed document/],
    ['31 binary bytes', new Uint8Array(31), /a binary secret of 31 bytes/],
    ['33 binary bytes', new Uint8Array(33), /a binary secret of 33 bytes/],
  ])('when the secret holds %s, it is refused, naming the place and the forms and never the value', (_, value, reason) => {
    let error: Error | undefined;
    try {
      decodeRootKey(value, 'AWS Secrets Manager secret kms/prod/root-key');
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/^the root key in AWS Secrets Manager secret kms\/prod\/root-key is malformed/);
    expect(error?.message).toMatch(reason);
    expect(error?.message).toMatch(FORMS);
    expect(error?.message).not.toContain(SECRETISH);
    expect(error?.cause).toBeUndefined();
  });

  it('when the AWS secret is a seed document, loadRootKey derives the key from it', async () => {
    const key = await loadRootKey(
      { kind: 'aws-secrets-manager', secretId: 'kms/prod/root-key' },
      { mayCreate: false, clients: { awsSecret: async () => JSON.stringify({ seed: SEED }) } },
    );
    expect(key).toEqual(derived(SEED));
    await expect(
      loadRootKey({ kind: 'aws-secrets-manager', secretId: 'kms/prod/root-key' }, { mayCreate: false, clients: { awsSecret: async () => '{"seed":"short"}' } }),
    ).rejects.toThrow(/AWS Secrets Manager secret kms\/prod\/root-key is malformed \(a seed of 5 characters/);
  });
});
