import { constants, generateKeyPairSync, type KeyObject, privateDecrypt } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ALIAS,
  CONSUMER,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  OTHER_KEY_ID,
  PROVIDER,
  type TestService,
} from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { rsaPublicKeyBlob, TEST_RSA_MODULUS } from '../helpers/rsa.js';
import { expectError, names } from './support.js';

/* ExportDataKey and GenerateAndExportDataKey: a data key re-wrapped under the caller's RSA public key. */

let t: TestService;
let recipient: { publicKeyBlob: string; privateKey: KeyObject; pem: string };
let others: { rsa1024: string; rsa3072: string; ec: string };

const spki = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  recipient = { publicKeyBlob: spki(pair.publicKey), privateKey: pair.privateKey, pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
  others = {
    rsa1024: spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
    rsa3072: spki(generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey),
    ec: spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
  };
});
beforeEach(async () => {
  t = await createTestService();
});

const call = (action: string, params: Record<string, string>, who = ADMIN) => t.call(signedRpcRequest(who, action, params));
const wrapping = (algorithm = 'RSAES_OAEP_SHA_256') => ({ PublicKeyBlob: recipient.publicKeyBlob, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' });
const unwrap = (exported: string, hash: 'sha256' | 'sha1' = 'sha256') =>
  privateDecrypt({ key: recipient.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from(exported, 'base64'));

async function decryptedKey(blob: string, context?: string): Promise<Buffer> {
  const d = await call('Decrypt', { CiphertextBlob: blob, ...(context ? { EncryptionContext: context } : {}) });
  expect(d.status).toBe(200);
  return Buffer.from(d.body.Plaintext as string, 'base64');
}

describe('GenerateAndExportDataKey', () => {
  it('returns the data key wrapped under the CMK and under the public key: the raw bytes Decrypt gives back, never the plaintext', async () => {
    const r = await call('GenerateAndExportDataKey', { KeyId: ALIAS, ...wrapping(), EncryptionContext: '{"tenant":"a"}' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['CiphertextBlob', 'ExportedDataKey', 'KeyId', 'KeyVersionId', 'RequestId']);
    expect(r.body.KeyId).toBe(KEY_ID);
    expect(r.body.KeyVersionId).toBe(KEY_VERSION_ID);
    expect(Buffer.from(r.body.ExportedDataKey, 'base64')).toHaveLength(256);
    const exported = unwrap(r.body.ExportedDataKey);
    expect(exported).toHaveLength(32);
    expect(exported.equals(await decryptedKey(r.body.CiphertextBlob, '{"tenant":"a"}'))).toBe(true);
    expectError(await call('Decrypt', { CiphertextBlob: r.body.CiphertextBlob }), 400, 'InvalidCiphertext');
  });

  it.each([
    ['RSAES_OAEP_SHA_1', 'sha1', { NumberOfBytes: '214' }, 214],
    ['RSAES_OAEP_SHA_256', 'sha256', { NumberOfBytes: '190' }, 190],
    ['RSAES_OAEP_SHA_256', 'sha256', { KeySpec: 'AES_128' }, 16],
    ['RSAES_OAEP_SHA_256', 'sha256', { KeySpec: 'AES_128', NumberOfBytes: '7' }, 7],
  ] as const)('with %s and %j, the exported key has the length asked for and opens with that OAEP hash', async (algorithm, hash, length, bytes) => {
    const r = await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(algorithm), ...length });
    expect(r.status).toBe(200);
    const exported = unwrap(r.body.ExportedDataKey, hash);
    expect(exported).toHaveLength(bytes);
    expect(exported.equals(await decryptedKey(r.body.CiphertextBlob))).toBe(true);
    // Each call is a new key, and OAEP output differs even for the same key.
    const again = await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(algorithm), ...length });
    expect(again.body.ExportedDataKey).not.toBe(r.body.ExportedDataKey);
  });

  it.each([
    ['RSAES_OAEP_SHA_256', '191', 'at most 190'],
    ['RSAES_OAEP_SHA_1', '215', 'at most 214'],
    ['RSAES_OAEP_SHA_256', '1024', 'at most 190'],
  ])('with %s, a %s-byte data key does not fit under RSA-2048: 400 InvalidParameter naming NumberOfBytes', async (algorithm, n, message) => {
    expectError(await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(algorithm), NumberOfBytes: n }), 400, 'InvalidParameter', message);
  });

  it('accepts the public key as PEM (armour and newlines), as Alibaba samples build it', async () => {
    const r = await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(), PublicKeyBlob: recipient.pem });
    expect(r.status).toBe(200);
    expect(unwrap(r.body.ExportedDataKey)).toHaveLength(32);
  });

  it('works signed with V3 (ACS3-HMAC-SHA256) too', async () => {
    const r = await t.call(signedV3Request(ADMIN, 'GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping() }));
    expect(r.status).toBe(200);
  });

  it('refuses by key state as GenerateDataKey: a disabled key is 409 Rejected.Disabled, an unknown one 404', async () => {
    expectError(await call('GenerateAndExportDataKey', { KeyId: DISABLED_KEY_ID, ...wrapping() }), 409, 'Rejected.Disabled');
    expectError(await call('GenerateAndExportDataKey', { KeyId: 'alias/missing', ...wrapping() }), 404, 'Forbidden.AliasNotFound');
  });

  it('needs kms:GenerateAndExportDataKey: a provider allowed only GenerateDataKeyWithoutPlaintext gets 403', async () => {
    expectError(await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping() }, PROVIDER), 403, 'Forbidden.NoPermission', 'GenerateAndExportDataKey');
  });

  it('DryRun checks the public key too: 412 when all is well, 400 when the key is not RSA-2048', async () => {
    expectError(await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(), DryRun: 'true' }), 412, 'DryRunOperationError');
    expectError(
      await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping(), PublicKeyBlob: others.rsa1024, DryRun: 'true' }),
      400,
      'InvalidParameter',
      names('PublicKeyBlob'),
    );
  });
});

describe('ExportDataKey', () => {
  it('re-wraps the data key of a GenerateDataKey blob: the public key opens to the raw bytes of its Plaintext', async () => {
    const generated = await call('GenerateDataKey', { KeyId: KEY_ID, EncryptionContext: '{"p":"1"}' });
    const r = await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, EncryptionContext: '{"p":"1"}', ...wrapping() });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['ExportedDataKey', 'KeyId', 'KeyVersionId', 'RequestId']);
    expect(r.body).toMatchObject({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID });
    expect(unwrap(r.body.ExportedDataKey).toString('base64')).toBe(generated.body.Plaintext);
  });

  it('exports a blob of GenerateDataKeyWithoutPlaintext and of GenerateAndExportDataKey, from a rotated-away version too', async () => {
    const blind = await call('GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID, NumberOfBytes: '16' }, ADMIN);
    await call('CreateKeyVersion', { KeyId: OTHER_KEY_ID });
    const r = await call('ExportDataKey', { CiphertextBlob: blind.body.CiphertextBlob, ...wrapping('RSAES_OAEP_SHA_1') });
    expect(r.status).toBe(200);
    expect(r.body.KeyVersionId).toBe(blind.body.KeyVersionId);
    expect(unwrap(r.body.ExportedDataKey, 'sha1').equals(await decryptedKey(blind.body.CiphertextBlob))).toBe(true);
    const both = await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...wrapping() });
    const again = await call('ExportDataKey', { CiphertextBlob: both.body.CiphertextBlob, ...wrapping() });
    expect(unwrap(again.body.ExportedDataKey).equals(unwrap(both.body.ExportedDataKey))).toBe(true);
  });

  it('needs the EncryptionContext the key was made with: otherwise 400 InvalidCiphertext, as Decrypt', async () => {
    const generated = await call('GenerateDataKey', { KeyId: KEY_ID, EncryptionContext: '{"p":"1"}' });
    expectError(await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, ...wrapping() }), 400, 'InvalidCiphertext');
    expectError(
      await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, EncryptionContext: '{"p":"2"}', ...wrapping() }),
      400,
      'InvalidCiphertext',
    );
  });

  it.each([
    ['text that is not Base64', 'hello world'],
    ['Base64 with non-zero padding bits', 'QR=='],
    ['Base64 without its padding', 'QUJD'.slice(0, 3)],
  ])('refuses a blob from Encrypt that holds %s: 400 InvalidParameter, it holds no data key', async (_what, plaintext) => {
    const e = await call('Encrypt', { KeyId: KEY_ID, Plaintext: plaintext });
    expectError(await call('ExportDataKey', { CiphertextBlob: e.body.CiphertextBlob, ...wrapping() }), 400, 'InvalidParameter', 'does not hold a data key');
  });

  it('refuses a data key longer than the wrapping carries (a 1,024-byte key under SHA-256), naming CiphertextBlob', async () => {
    const big = await call('GenerateDataKey', { KeyId: KEY_ID, NumberOfBytes: '1024' });
    expectError(await call('ExportDataKey', { CiphertextBlob: big.body.CiphertextBlob, ...wrapping() }), 400, 'InvalidParameter', 'at most 190');
  });

  it('refuses by key state and permission as Decrypt: a disabled key 409, a consumer allowed only Decrypt 403', async () => {
    const generated = await call('GenerateDataKey', { KeyId: OTHER_KEY_ID });
    expect((await call('DisableKey', { KeyId: OTHER_KEY_ID })).status).toBe(200);
    expectError(await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, ...wrapping() }), 409, 'Rejected.Disabled');
    await call('EnableKey', { KeyId: OTHER_KEY_ID });
    expectError(await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, ...wrapping() }, CONSUMER), 403, 'Forbidden.NoPermission');
  });

  it('DryRun: 412 when it would succeed, and nothing exported', async () => {
    const generated = await call('GenerateDataKey', { KeyId: KEY_ID });
    const r = await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, ...wrapping(), DryRun: 'true' });
    expectError(r, 412, 'DryRunOperationError');
    expect(r.body.ExportedDataKey).toBeUndefined();
  });
});

describe('the wrapping parameters (both Actions)', () => {
  const cases: Array<[string, Record<string, string>, string, string | undefined]> = [
    ['no PublicKeyBlob', { PublicKeyBlob: '' }, 'MissingParameter', undefined],
    ['no WrappingAlgorithm', { WrappingAlgorithm: '' }, 'MissingParameter', undefined],
    ['no WrappingKeySpec', { WrappingKeySpec: '' }, 'MissingParameter', undefined],
    ['RSAES_PKCS1_V1_5 (not offered for export)', { WrappingAlgorithm: 'RSAES_PKCS1_V1_5' }, 'InvalidParameter', 'not offered for export'],
    ['SM2PKE', { WrappingAlgorithm: 'SM2PKE' }, 'InvalidParameter', 'SM2PKE'],
    ['an unknown algorithm', { WrappingAlgorithm: 'rsaes_oaep_sha_256' }, 'InvalidParameter', names('WrappingAlgorithm')],
    ['EC_SM2', { WrappingKeySpec: 'EC_SM2' }, 'InvalidParameter', 'EC_SM2'],
    ['RSA_4096', { WrappingKeySpec: 'RSA_4096' }, 'InvalidParameter', names('WrappingKeySpec')],
    ['a 1024-bit RSA key', { PublicKeyBlob: 'rsa1024' }, 'InvalidParameter', 'RSA 2048-bit'],
    ['a 3072-bit RSA key', { PublicKeyBlob: 'rsa3072' }, 'InvalidParameter', 'RSA 2048-bit'],
    ['an EC key', { PublicKeyBlob: 'ec' }, 'InvalidParameter', 'RSA 2048-bit'],
    ['text that is not Base64', { PublicKeyBlob: 'not a key!' }, 'InvalidParameter', names('PublicKeyBlob')],
    ['Base64 that is not a key', { PublicKeyBlob: Buffer.from('not a key at all').toString('base64') }, 'InvalidParameter', 'SubjectPublicKeyInfo'],
    ['a PublicKeyBlob over 8,192 characters', { PublicKeyBlob: 'A'.repeat(8200) }, 'InvalidParameter', '8,192'],
    [
      'an RSA key with exponent 1 (it would hide nothing)',
      { PublicKeyBlob: rsaPublicKeyBlob(TEST_RSA_MODULUS, Buffer.from([1])) },
      'InvalidParameter',
      'not a usable RSA public key',
    ],
    [
      'an RSA key with an even exponent',
      { PublicKeyBlob: rsaPublicKeyBlob(TEST_RSA_MODULUS, Buffer.from([1, 0, 0])) },
      'InvalidParameter',
      'not a usable RSA public key',
    ],
    [
      'an RSA key whose exponent is its modulus',
      { PublicKeyBlob: rsaPublicKeyBlob(TEST_RSA_MODULUS, TEST_RSA_MODULUS) },
      'InvalidParameter',
      'not a usable RSA public key',
    ],
    [
      'an RSA key with an even modulus',
      {
        PublicKeyBlob: rsaPublicKeyBlob(
          Buffer.concat([TEST_RSA_MODULUS.subarray(0, 255), Buffer.from([TEST_RSA_MODULUS[255]! & 0xfe])]),
          Buffer.from([1, 0, 1]),
        ),
      },
      'InvalidParameter',
      'not a usable RSA public key',
    ],
  ];

  it.each(cases)('%s: 400 %s, and nothing is made', async (_what, change, code, message) => {
    const resolved = Object.fromEntries(
      Object.entries({ ...wrapping(), ...change })
        .filter(([, v]) => v !== '')
        .map(([k, v]) => [k, k === 'PublicKeyBlob' && v in others ? others[v as keyof typeof others] : v]),
    );
    const generated = await call('GenerateDataKey', { KeyId: KEY_ID });
    for (const r of [
      await call('GenerateAndExportDataKey', { KeyId: KEY_ID, ...resolved }),
      await call('ExportDataKey', { CiphertextBlob: generated.body.CiphertextBlob, ...resolved }),
    ]) {
      expectError(r, 400, code, message);
      expect(r.body.ExportedDataKey).toBeUndefined();
      expect(r.raw).not.toContain(recipient.publicKeyBlob.slice(40, 80));
    }
  });
});
