import { describe, expect, it } from 'vitest';
import { InvalidCiphertextError, KeyDisabledError, KeyPendingDeletionError } from '../../lib/errors.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import {
  decodeSecretRecord,
  decodeValueRecord,
  digestOf,
  encodeSecretRecord,
  encodeValueRecord,
  type SecretRecord,
  secretEntryNames,
} from '../../lib/secrets/records.js';
import { openWithVersion, type SealBinding, SecretSealer, sealWithVersion } from '../../lib/secrets/seal.js';
import { assertEntryName } from '../../lib/keystore/key-store.js';
import { entryPartition, namespaceOf } from '../../lib/keystore/dynamodb/items.js';
import { MATERIAL_PARTITIONS } from '../../infra/serverless/iam.js';

const scope = { region: 'cn-hangzhou', accountId: '1234567890123456', cacheTtlMs: 0 };

async function setup() {
  const store = new MemoryKeyStore();
  const keyring = new Keyring(store, scope);
  const key = await keyring.createKey({});
  const version = await keyring.primaryVersion(key);
  return { store, keyring, key, version, sealer: new SecretSealer(keyring) };
}

const binding: SealBinding = { arn: 'acs:kms:cn-hangzhou:1234567890123456:secret/db/pass', suffix: 'AbC123', versionId: 'v1' };

describe('Module: secret records', () => {
  it('a secret record and a value record round-trip through their encoding', () => {
    const record: SecretRecord = {
      name: 'db/pass+1=@',
      suffix: 'AbC123',
      uid: '0b5c0c3e-1111-4222-8333-444455556666',
      description: 'd',
      kmsKeyId: 'key-abc',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-02T00:00:00Z',
      plannedDeleteAt: '2026-02-01T00:00:00Z',
      tags: [['a', 'b']],
      versions: [{ versionId: 'v 1/ü', createdAt: '2026-01-01T00:00:00Z', createdAtMs: 1, labels: ['ACSCurrent'], type: 'binary', keyId: 'k', entry: 'e' }],
    };
    expect(decodeSecretRecord(encodeSecretRecord(record))).toEqual(record);
    const value = { versionId: 'v', keyId: 'k', type: 'text' as const, wrappedKey: 'AA==', ciphertext: 'BB==' };
    expect(decodeValueRecord(encodeValueRecord(value))).toEqual(value);
    expect(() => decodeSecretRecord(Buffer.from('{"name":1}'))).toThrow('not a secret');
    expect(() => decodeValueRecord(Buffer.from('nope'))).toThrow('not valid JSON');
  });

  it('entry names are valid store names in the secrets namespace, outside the material partitions, whatever the secret name', () => {
    for (const name of ['a', 'A', 'x'.repeat(192), 'a..b', '+=@/.-_', 'Secret', 'secret']) {
      for (const entry of [secretEntryNames.meta(name), secretEntryNames.value('0b5c0c3e-1111-4222-8333-444455556666', 'f'.repeat(36))]) {
        expect(() => assertEntryName(entry)).not.toThrow();
        expect(namespaceOf(entry)).toBe('secrets');
        expect(MATERIAL_PARTITIONS).not.toContain(entryPartition(namespaceOf(entry)));
        // The file store keeps the rest of the name as one file name.
        expect(entry.length - 'secrets/'.length).toBeLessThan(255);
      }
    }
    // Case-sensitive names never share an entry, even on a case-insensitive file system.
    expect(secretEntryNames.meta('Secret').toLowerCase()).not.toBe(secretEntryNames.meta('secret').toLowerCase());
    expect(digestOf('a')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('Module: secret sealing', () => {
  it('a sealed value opens with its binding, and the stored blobs hold no plaintext', async () => {
    const { version } = await setup();
    const plaintext = Buffer.from('correct horse battery staple');
    const sealed = sealWithVersion(version, binding, plaintext);
    expect(openWithVersion(version, binding, sealed).toString()).toBe('correct horse battery staple');
    const stored = Buffer.from(JSON.stringify(sealed));
    expect(stored.includes(plaintext)).toBe(false);
    expect(stored.includes(Buffer.from(plaintext.toString('base64')))).toBe(false);
    // A fresh data key per version: the same value seals differently each time.
    expect(sealWithVersion(version, binding, plaintext).ciphertext).not.toBe(sealed.ciphertext);
    expect(sealWithVersion(version, binding, plaintext).wrappedKey).not.toBe(sealed.wrappedKey);
  });

  it.each([
    ['another ARN', { ...binding, arn: 'acs:kms:cn-hangzhou:1234567890123456:secret/db/other' }],
    ['another ARN suffix (a re-created secret)', { ...binding, suffix: 'XyZ789' }],
    ['another version id', { ...binding, versionId: 'v2' }],
  ])('opening under %s fails', async (_what, other) => {
    const { version } = await setup();
    const sealed = sealWithVersion(version, binding, Buffer.from('s3cret'));
    expect(() => openWithVersion(version, other, sealed)).toThrow(InvalidCiphertextError);
  });

  it('a tampered ciphertext or wrapped key, or swapped blobs of two versions, fail', async () => {
    const { version } = await setup();
    const sealed = sealWithVersion(version, binding, Buffer.from('s3cret'));
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[at] = bytes[at]! ^ 1;
      return bytes.toString('base64');
    };
    const len = Buffer.from(sealed.ciphertext, 'base64').length;
    for (const at of [40, len - 1, len - 20]) expect(() => openWithVersion(version, binding, { ...sealed, ciphertext: flip(sealed.ciphertext, at) })).toThrow();
    expect(() => openWithVersion(version, binding, { ...sealed, wrappedKey: flip(sealed.wrappedKey, 50) })).toThrow(InvalidCiphertextError);
    const other = sealWithVersion(version, binding, Buffer.from('s3cret'));
    expect(() => openWithVersion(version, binding, { ...sealed, wrappedKey: other.wrappedKey })).toThrow(InvalidCiphertextError);
  });

  it.each([
    ['Disabled', KeyDisabledError],
    ['PendingDeletion', KeyPendingDeletionError],
  ] as const)('a %s key neither seals nor opens', async (state, error) => {
    const { keyring, key, sealer } = await setup();
    const sealed = await sealer.seal(key.keyId, binding, Buffer.from('s3cret'));
    expect((await sealer.open(binding, sealed)).toString()).toBe('s3cret');
    await keyring.updateKey(key.keyId, (r) => ({ ...r, state }));
    await expect(sealer.seal(key.keyId, binding, Buffer.from('x'))).rejects.toThrow(error);
    await expect(sealer.open(binding, sealed)).rejects.toThrow(error);
  });

  it('a value sealed before a key rotation opens after it (old key versions decrypt forever)', async () => {
    const { keyring, key, sealer } = await setup();
    const sealed = await sealer.seal(key.keyId, binding, Buffer.from('before'));
    await keyring.createVersion(key);
    const after = await sealer.seal(key.keyId, binding, Buffer.from('after'));
    expect((await sealer.open(binding, sealed)).toString()).toBe('before');
    expect((await sealer.open(binding, after)).toString()).toBe('after');
  });
});
