import { constants, createPublicKey, type KeyObject, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, type EncryptionAlgorithmSpec, GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { action as asymmetricEncrypt } from '../../functions/asymmetric-encrypt.js';
import type { OperationContext } from '../../lib/operation.js';
import { inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure } from '../helpers/kms-calls.js';
import { OpenSsl } from '../helpers/openssl.js';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, KEY_VERSION_ID, type TestService } from '../helpers/service.js';
import { expectError } from './support.js';

/*
 * AsymmetricEncrypt / AsymmetricDecrypt (Alibaba) and AWS Encrypt / Decrypt with RSAES_OAEP_*:
 * RSAES-OAEP with MGF1 = the OAEP hash and an empty label, the bare OAEP output as the ciphertext.
 * Proved against independent implementations: what node:crypto or the openssl command encrypts
 * with the public key opens inside, and what the service encrypts opens with `openssl pkeyutl
 * -decrypt` (the private key taken from the store, in this test only).
 */

type Algorithm = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';
const HASH: Record<Algorithm, string> = { RSAES_OAEP_SHA_256: 'sha256', RSAES_OAEP_SHA_1: 'sha1' };
/** RFC 8017: k − 2·hLen − 2. */
const LIMIT: Record<string, Record<Algorithm, number>> = {
  RSA_2048: { RSAES_OAEP_SHA_256: 190, RSAES_OAEP_SHA_1: 214 },
  RSA_3072: { RSAES_OAEP_SHA_256: 318, RSAES_OAEP_SHA_1: 342 },
  RSA_4096: { RSAES_OAEP_SHA_256: 446, RSAES_OAEP_SHA_1: 470 },
};

interface TestKey {
  keyId: string;
  versionId: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

let t: TestService;
let ali: AlibabaCaller;
let aws: KMSClient;
let openssl: OpenSsl;
const keys: Record<string, TestKey> = {};
const others: Record<string, { keyId: string; versionId: string }> = {};

const firstVersion = async (keyId: string): Promise<string> => (await ali.ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId;
async function testKey(keyId: string): Promise<TestKey> {
  const versionId = await firstVersion(keyId);
  const version = (await t.service.keyring.findVersion(versionId))!;
  return { keyId, versionId, publicKey: version.publicKey!, privateKey: version.privateKey! };
}
const createAlibaba = async (params: Record<string, string>): Promise<string> => (await ali.ok('CreateKey', params)).KeyMetadata.KeyId;

beforeAll(async () => {
  t = await createTestService();
  ali = alibabaCaller(t);
  aws = inProcessKmsClient(t, ADMIN);
  openssl = await OpenSsl.open();
  const [rsa2048, rsa3072, rsa4096] = await Promise.all([
    createAlibaba({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }),
    createAlibaba({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT/DECRYPT' }),
    aws.send(new CreateKeyCommand({ KeySpec: 'RSA_4096', KeyUsage: 'ENCRYPT_DECRYPT' })).then((r) => r.KeyMetadata!.KeyId!),
  ]);
  keys.RSA_2048 = await testKey(rsa2048);
  keys.RSA_3072 = await testKey(rsa3072);
  keys.RSA_4096 = await testKey(rsa4096);
  await ali.ok('CreateAlias', { AliasName: 'alias/rsa-encryption', KeyId: rsa2048 });
  for (const [name, params] of Object.entries<Record<string, string>>({
    'RSA_2048 SIGN/VERIFY': { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' },
    EC_P256: { KeySpec: 'EC_P256' },
    HMAC_256: { KeySpec: 'HMAC_256' },
  })) {
    const keyId = await createAlibaba(params);
    others[name] = { keyId, versionId: await firstVersion(keyId) };
  }
  others.Aliyun_AES_256 = { keyId: KEY_ID, versionId: KEY_VERSION_ID };
});

afterAll(async () => {
  await openssl.close();
});

const encryptAlibaba = async (key: TestKey, algorithm: Algorithm, plaintext: Buffer) =>
  Buffer.from(
    (await ali.ok('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Plaintext: plaintext.toString('base64') }))
      .CiphertextBlob,
    'base64',
  );
const decryptAlibaba = (key: TestKey, algorithm: Algorithm, ciphertext: Buffer, versionId = key.versionId) =>
  ali.call('AsymmetricDecrypt', { KeyId: key.keyId, KeyVersionId: versionId, Algorithm: algorithm, CiphertextBlob: ciphertext.toString('base64') });
const decryptAws = (key: TestKey, algorithm: Algorithm, ciphertext: Buffer) =>
  aws.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }));

const CASES: Array<[string, Algorithm]> = [
  ['RSA_2048', 'RSAES_OAEP_SHA_256'],
  ['RSA_2048', 'RSAES_OAEP_SHA_1'],
  ['RSA_3072', 'RSAES_OAEP_SHA_256'],
  ['RSA_4096', 'RSAES_OAEP_SHA_1'],
];

describe('encrypted outside with the public key, decrypted inside', () => {
  it.each(CASES)('%s %s: node:crypto publicEncrypt (the longest plaintext) opens through both protocols', async (spec, algorithm) => {
    const key = keys[spec]!;
    const plaintext = randomBytes(LIMIT[spec]![algorithm]);
    const ciphertext = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: HASH[algorithm] }, plaintext);
    const r = await decryptAlibaba(key, algorithm, ciphertext);
    expect(r.status, r.raw).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['KeyId', 'KeyVersionId', 'Plaintext', 'RequestId']);
    expect(r.body).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, Plaintext: plaintext.toString('base64') });
    const viaAws = await decryptAws(key, algorithm, ciphertext);
    expect(Buffer.from(viaAws.Plaintext!)).toEqual(plaintext);
    expect(viaAws.EncryptionAlgorithm).toBe(algorithm);
    expect(viaAws.KeyId).toMatch(new RegExp(`^arn:aws:kms:[^:]+:\\d+:key/${key.keyId}$`));
  });

  it.each(CASES.slice(0, 2))('%s %s: openssl pkeyutl -encrypt -pubin (MGF1 = OAEP hash) opens inside', async (spec, algorithm) => {
    const key = keys[spec]!;
    const plaintext = randomBytes(32);
    const ciphertext = await openssl.oaepEncrypt(key.publicKey, HASH[algorithm], plaintext);
    expect((await decryptAlibaba(key, algorithm, ciphertext)).body.Plaintext).toBe(plaintext.toString('base64'));
  });

  it('with the public key as GetPublicKey answers it (Alibaba PEM, AWS DER), as a client would encrypt locally', async () => {
    const key = keys.RSA_2048!;
    const pem = (await ali.ok('GetPublicKey', { KeyId: key.keyId, KeyVersionId: key.versionId })).PublicKey as string;
    const der = Buffer.from((await aws.send(new GetPublicKeyCommand({ KeyId: key.keyId }))).PublicKey!);
    for (const [publicKey, algorithm] of [
      [createPublicKey(pem), 'RSAES_OAEP_SHA_256'],
      [createPublicKey({ key: der, format: 'der', type: 'spki' }), 'RSAES_OAEP_SHA_1'],
    ] as const) {
      const plaintext = randomBytes(64);
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: HASH[algorithm] }, plaintext);
      expect((await decryptAlibaba(key, algorithm, ciphertext)).body.Plaintext).toBe(plaintext.toString('base64'));
      expect(Buffer.from((await decryptAws(key, algorithm, ciphertext)).Plaintext!)).toEqual(plaintext);
    }
  });

  it('the key may be named by its alias', async () => {
    const key = keys.RSA_2048!;
    const plaintext = Buffer.from('by alias');
    const ciphertext = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
    const r = await ali.ok('AsymmetricDecrypt', {
      KeyId: 'alias/rsa-encryption',
      KeyVersionId: key.versionId,
      Algorithm: 'RSAES_OAEP_SHA_256',
      CiphertextBlob: ciphertext.toString('base64'),
    });
    expect(r).toMatchObject({ KeyId: key.keyId, Plaintext: plaintext.toString('base64') });
  });
});

describe('encrypted inside, checked outside bit for bit', () => {
  it.each(CASES)('%s %s: the Alibaba ciphertext is bare OAEP that openssl pkeyutl -decrypt and node open', async (spec, algorithm) => {
    const key = keys[spec]!;
    const plaintext = randomBytes(LIMIT[spec]![algorithm]);
    const r = await ali.ok('AsymmetricEncrypt', {
      KeyId: key.keyId,
      KeyVersionId: key.versionId,
      Algorithm: algorithm,
      Plaintext: plaintext.toString('base64'),
    });
    expect(Object.keys(r).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'RequestId']);
    expect(r).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
    const ciphertext = Buffer.from(r.CiphertextBlob, 'base64');
    // No header: exactly the modulus length.
    expect(ciphertext).toHaveLength(Number(spec.slice(4)) / 8);
    expect(await openssl.oaepDecrypt(key.privateKey, HASH[algorithm], ciphertext)).toEqual(plaintext);
    expect(privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: HASH[algorithm] }, ciphertext)).toEqual(plaintext);
    // And inside, through the other protocol.
    expect(Buffer.from((await decryptAws(key, algorithm, ciphertext)).Plaintext!)).toEqual(plaintext);
  });

  it.each(CASES.slice(0, 2))('%s %s: AWS Encrypt answers bare OAEP too, on the key’s newest version', async (spec, algorithm) => {
    const key = keys[spec]!;
    const plaintext = randomBytes(100);
    const r = await aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
    expect(r.EncryptionAlgorithm).toBe(algorithm);
    expect(r.KeyId).toMatch(new RegExp(`:key/${key.keyId}$`));
    const ciphertext = Buffer.from(r.CiphertextBlob!);
    expect(ciphertext).toHaveLength(256);
    expect(await openssl.oaepDecrypt(key.privateKey, HASH[algorithm], ciphertext)).toEqual(plaintext);
    expect((await decryptAlibaba(key, algorithm, ciphertext)).body.Plaintext).toBe(plaintext.toString('base64'));
  });

  it('OAEP is randomised: the same plaintext encrypts differently each time', async () => {
    const key = keys.RSA_2048!;
    const plaintext = Buffer.from('same');
    const [a, b] = [await encryptAlibaba(key, 'RSAES_OAEP_SHA_256', plaintext), await encryptAlibaba(key, 'RSAES_OAEP_SHA_256', plaintext)];
    expect(a.equals(b)).toBe(false);
  });
});

describe('plaintext limits', () => {
  it.each(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const)('RSA_2048 %s: the limit encrypts, one byte more is 400 naming Plaintext', async (algorithm) => {
    const key = keys.RSA_2048!;
    const limit = LIMIT.RSA_2048![algorithm];
    await encryptAlibaba(key, algorithm, randomBytes(limit));
    const over = randomBytes(limit + 1);
    const r = await ali.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Plaintext: over.toString('base64') });
    expectError(r, 400, 'InvalidParameter', new RegExp(`"Plaintext".*at most ${limit} bytes`));
    expect(r.raw).not.toContain(over.toString('base64'));
    expect(await awsFailure(aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: over, EncryptionAlgorithm: algorithm })))).toMatchObject({
      name: 'ValidationException',
      status: 400,
    });
  });

  it('RSA_4096 takes 446 bytes with SHA-256 (AWS), not 447', async () => {
    const key = keys.RSA_4096!;
    await aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: randomBytes(446), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    expect(
      await awsFailure(aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: randomBytes(447), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))),
    ).toMatchObject({ name: 'ValidationException' });
  });

  it('an empty or non-Base64 Plaintext is 400 InvalidParameter', async () => {
    const key = keys.RSA_2048!;
    for (const Plaintext of ['', 'not base64!'])
      expect((await ali.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext })).status).toBe(
        400,
      );
  });
});

describe('the plaintext buffer', () => {
  it('is zeroed once encrypted, and when the request is refused for its length', async () => {
    const key = keys.RSA_2048!;
    const resolved = { key: (await t.service.keyring.findKey(key.keyId))!, version: (await t.service.keyring.findVersion(key.versionId))! };
    const plaintext = Buffer.from('zero me after use');
    const input = { KeyId: key.keyId, Algorithm: 'RSAES_OAEP_SHA_256' as const, Plaintext: plaintext };
    const out = await asymmetricEncrypt.execute(input, resolved, {} as OperationContext);
    expect(plaintext.every((b) => b === 0)).toBe(true);
    expect(
      privateDecrypt(
        { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        Buffer.from(out.CiphertextBlob, 'base64'),
      ).toString(),
    ).toBe('zero me after use');
    const long = Buffer.alloc(191, 7);
    const context = { service: t.service, action: 'AsymmetricEncrypt', principal: { policy: { readsResourceTags: false } }, authorize() {}, authorizeAny() {} };
    await expect(asymmetricEncrypt.resolve({ ...input, KeyVersionId: key.versionId, Plaintext: long }, context as unknown as OperationContext)).rejects.toThrow(
      /at most 190 bytes/,
    );
    expect(long.every((b) => b === 0)).toBe(true);
  });
});

describe('ciphertexts that do not open', () => {
  it('an OAEP-SHA-1 ciphertext decrypted as SHA-256 (and the reverse) is InvalidCiphertext', async () => {
    const key = keys.RSA_2048!;
    const sha1 = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('x'));
    expectError(await decryptAlibaba(key, 'RSAES_OAEP_SHA_256', sha1), 400, 'InvalidCiphertext');
    const sha256 = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'));
    expectError(await decryptAlibaba(key, 'RSAES_OAEP_SHA_1', sha256), 400, 'InvalidCiphertext');
    expect(await awsFailure(decryptAws(key, 'RSAES_OAEP_SHA_256', sha1))).toMatchObject({ name: 'InvalidCiphertextException', status: 400 });
  });

  it('a ciphertext of another key is InvalidCiphertext', async () => {
    const ciphertext = publicEncrypt({ key: keys.RSA_3072!.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'));
    expectError(await decryptAlibaba(keys.RSA_2048!, 'RSAES_OAEP_SHA_256', ciphertext), 400, 'InvalidCiphertext');
  });

  it('garbage of any length (1 byte, the modulus length, longer) is 400 InvalidCiphertext, never a 5xx', async () => {
    const key = keys.RSA_2048!;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.uint8Array({ minLength: 256, maxLength: 256 })),
        fc.constantFrom<Algorithm>('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'),
        async (bytes, algorithm) => {
          expectError(await decryptAlibaba(key, algorithm, Buffer.from(bytes)), 400, 'InvalidCiphertext');
        },
      ),
      { numRuns: 25 },
    );
    for (const bytes of [Buffer.alloc(1), Buffer.alloc(256), Buffer.alloc(257, 1), randomBytes(6144)]) {
      expect(await awsFailure(decryptAws(key, 'RSAES_OAEP_SHA_256', bytes))).toMatchObject({ name: 'InvalidCiphertextException', status: 400 });
    }
  });

  it('an empty or non-Base64 CiphertextBlob is 400 InvalidParameter', async () => {
    const key = keys.RSA_2048!;
    for (const CiphertextBlob of ['', '%%%'])
      expectError(
        await ali.call('AsymmetricDecrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob }),
        400,
        'InvalidParameter',
        /"CiphertextBlob"/,
      );
  });
});

describe('parameters', () => {
  it.each(['AsymmetricEncrypt', 'AsymmetricDecrypt'])('%s: KeyVersionId and Algorithm are required (400 MissingParameter)', async (action) => {
    const key = keys.RSA_2048!;
    const data: Record<string, string> = action === 'AsymmetricEncrypt' ? { Plaintext: 'AAAA' } : { CiphertextBlob: 'AAAA' };
    expectError(await ali.call(action, { KeyId: key.keyId, Algorithm: 'RSAES_OAEP_SHA_256', ...data }), 400, 'MissingParameter', /"KeyVersionId"/);
    expectError(await ali.call(action, { KeyId: key.keyId, KeyVersionId: key.versionId, ...data }), 400, 'MissingParameter', /"Algorithm"/);
    expectError(
      await ali.call(action, { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_PKCS1_V1_5', ...data }),
      400,
      'InvalidParameter',
      /"Algorithm"/,
    );
  });

  it.each(['AsymmetricEncrypt', 'AsymmetricDecrypt'])('%s: a version of another key, or none, is 404 Forbidden.KeyVersionNotFound', async (action) => {
    const data: Record<string, string> = action === 'AsymmetricEncrypt' ? { Plaintext: 'AAAA' } : { CiphertextBlob: 'AAAA' };
    for (const KeyVersionId of [keys.RSA_3072!.versionId, '00000000-0000-4000-8000-000000000000']) {
      expectError(
        await ali.call(action, { KeyId: keys.RSA_2048!.keyId, KeyVersionId, Algorithm: 'RSAES_OAEP_SHA_256', ...data }),
        404,
        'Forbidden.KeyVersionNotFound',
      );
    }
  });

  it('AWS: an EncryptionContext with an RSAES algorithm is a ValidationException; Decrypt needs the KeyId', async () => {
    const key = keys.RSA_2048!;
    const EncryptionContext = { purpose: 'test' };
    const ciphertext = await encryptAlibaba(key, 'RSAES_OAEP_SHA_256', Buffer.from('x'));
    for (const call of [
      aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext })),
      aws.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext })),
      aws.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ]) {
      expect(await awsFailure(call)).toMatchObject({ name: 'ValidationException', status: 400 });
    }
  });

  it('DryRun: checked, nothing done (Alibaba 412 DryRunOperationError, AWS DryRunOperationException)', async () => {
    const key = keys.RSA_2048!;
    const r = await ali.call('AsymmetricEncrypt', {
      KeyId: key.keyId,
      KeyVersionId: key.versionId,
      Algorithm: 'RSAES_OAEP_SHA_256',
      Plaintext: 'AAAA',
      DryRun: 'true',
    });
    expectError(r, 412, 'DryRunOperationError');
    const dry = aws.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: Buffer.alloc(256), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DryRun: true }));
    expect(await awsFailure(dry)).toMatchObject({ name: 'DryRunOperationException' });
  });
});

describe('keys that do not encrypt this way', () => {
  it.each(['RSA_2048 SIGN/VERIFY', 'EC_P256', 'HMAC_256', 'Aliyun_AES_256'])(
    '%s: 400 UnsupportedOperation (Alibaba), InvalidKeyUsageException (AWS)',
    async (name) => {
      const { keyId, versionId } = others[name]!;
      expectError(
        await ali.call('AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: 'AAAA' }),
        400,
        'UnsupportedOperation',
        /cannot be used this way/,
      );
      expectError(
        await ali.call('AsymmetricDecrypt', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSAES_OAEP_SHA_1', CiphertextBlob: 'AAAA' }),
        400,
        'UnsupportedOperation',
      );
      const algorithm: EncryptionAlgorithmSpec = 'RSAES_OAEP_SHA_256';
      expect(await awsFailure(aws.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: algorithm })))).toMatchObject({
        name: 'InvalidKeyUsageException',
        status: 400,
      });
      expect(await awsFailure(aws.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: Buffer.alloc(256), EncryptionAlgorithm: algorithm })))).toMatchObject(
        {
          name: 'InvalidKeyUsageException',
        },
      );
    },
  );

  it('AWS Encrypt with SYMMETRIC_DEFAULT (or no algorithm) on an RSA key is InvalidKeyUsageException; the symmetric key still encrypts and decrypts', async () => {
    const rsa = keys.RSA_2048!.keyId;
    for (const EncryptionAlgorithm of ['SYMMETRIC_DEFAULT', undefined] as const) {
      expect(await awsFailure(aws.send(new EncryptCommand({ KeyId: rsa, Plaintext: Buffer.from('x'), EncryptionAlgorithm })))).toMatchObject({
        name: 'InvalidKeyUsageException',
      });
      const sealed = await aws.send(new EncryptCommand({ KeyId: ALIAS, Plaintext: Buffer.from('symmetric'), EncryptionAlgorithm }));
      expect(sealed.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
      const opened = await aws.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionAlgorithm }));
      expect(Buffer.from(opened.Plaintext!).toString()).toBe('symmetric');
    }
  });
});

describe('versions, key state and policy', () => {
  it('after CreateKeyVersion, old ciphertexts decrypt with their KeyVersionId (Alibaba); AWS uses the newest version only', async () => {
    const key = await testKey(await createAlibaba({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }));
    const old = await encryptAlibaba(key, 'RSAES_OAEP_SHA_256', Buffer.from('old'));
    const newVersionId = (await ali.ok('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion.KeyVersionId as string;
    expect((await decryptAlibaba(key, 'RSAES_OAEP_SHA_256', old)).body.Plaintext).toBe(Buffer.from('old').toString('base64'));
    expectError(await decryptAlibaba(key, 'RSAES_OAEP_SHA_256', old, newVersionId), 400, 'InvalidCiphertext');
    // AWS names no version: Encrypt and Decrypt use the newest, whose public key differs.
    const viaAws = Buffer.from(
      (await aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('new'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).CiphertextBlob!,
    );
    expect((await decryptAlibaba(key, 'RSAES_OAEP_SHA_256', viaAws, newVersionId)).body.Plaintext).toBe(Buffer.from('new').toString('base64'));
    expect(await awsFailure(decryptAws(key, 'RSAES_OAEP_SHA_256', old))).toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('a Disabled key: Alibaba 409 Rejected.Disabled, AWS DisabledException', async () => {
    const key = await testKey(await createAlibaba({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }));
    const ciphertext = await encryptAlibaba(key, 'RSAES_OAEP_SHA_1', Buffer.from('x'));
    await ali.ok('DisableKey', { KeyId: key.keyId });
    expectError(await decryptAlibaba(key, 'RSAES_OAEP_SHA_1', ciphertext), 409, 'Rejected.Disabled');
    expectError(
      await ali.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_1', Plaintext: 'AAAA' }),
      409,
      'Rejected.Disabled',
    );
    expect(await awsFailure(decryptAws(key, 'RSAES_OAEP_SHA_1', ciphertext))).toMatchObject({ name: 'DisabledException' });
    expect(
      await awsFailure(aws.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))),
    ).toMatchObject({ name: 'DisabledException' });
  });

  it('the RAM actions are kms:AsymmetricEncrypt / kms:AsymmetricDecrypt, also for AWS Encrypt / Decrypt: kms:Decrypt alone does not allow them', async () => {
    const key = keys.RSA_2048!;
    const ciphertext = await encryptAlibaba(key, 'RSAES_OAEP_SHA_256', Buffer.from('x'));
    const r = await ali.call(
      'AsymmetricDecrypt',
      { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: ciphertext.toString('base64') },
      CONSUMER,
    );
    expectError(r, 403, 'Forbidden.NoPermission', /kms:AsymmetricDecrypt/);
    const consumer = inProcessKmsClient(t, CONSUMER);
    expect(
      await awsFailure(consumer.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))),
    ).toMatchObject({ name: 'AccessDeniedException', status: 400 });
  });
});
