import { constants, createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { CreateKeyCommand, GetPublicKeyCommand, type KMSClient, SignCommand, type SigningAlgorithmSpec, VerifyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog, AuditRecord } from '../../lib/audit/audit-log.js';
import { hashOf, type SigningAlgorithm } from '../../lib/crypto/key-spec.js';
import { inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure, type CallResult } from '../helpers/kms-calls.js';
import { OpenSsl } from '../helpers/openssl.js';
import { ADMIN, createTestService, KEY_ID, KEY_VERSION_ID, type TestService } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';
import { expectError } from './support.js';

/*
 * AsymmetricSign / AsymmetricVerify (AWS Sign / Verify) with RSA and EC keys through both
 * protocols. Every signature the service makes is checked by implementations that are not ours:
 * node:crypto's verify and the `openssl` command, with the public key GetPublicKey returns (PEM
 * through Alibaba, DER through AWS); and signatures made outside with the private key verify inside.
 */

/** Every audit line, as the audit log would write it. */
class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async write(record: AuditRecord): Promise<void> {
    this.records.push(record);
  }
  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}

const logLines: string[] = [];
const audit = new MemoryAuditLog();
/** Every raw answer of the file, searched for private keys at the end. */
const answers: string[] = [];
let t: TestService;
let ali: AlibabaCaller;
let aws: KMSClient;
let openssl: OpenSsl;

/** Alibaba calls, their raw answers kept. */
const call = async (action: string, params: Record<string, string>, who?: Credentials): Promise<CallResult> => {
  const r = await ali.call(action, params, who);
  answers.push(r.raw);
  return r;
};
const ok = async (action: string, params: Record<string, string>) => {
  const r = await call(action, params);
  expect(r.status, `${action} ${JSON.stringify(params)} → ${r.raw}`).toBe(200);
  return r.body;
};

interface Key {
  keyId: string;
  versionId: string;
}

async function createKey(params: Record<string, string>): Promise<Key> {
  const keyId = (await ok('CreateKey', params)).KeyMetadata.KeyId as string;
  return { keyId, versionId: await newestVersion(keyId) };
}

async function newestVersion(keyId: string): Promise<string> {
  const versions = (await ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion as Array<{ KeyVersionId: string }>;
  return versions.at(-1)!.KeyVersionId;
}

/** The version's public key from Alibaba's GetPublicKey (PEM SPKI). */
async function alibabaPublicKey(key: Key, versionId = key.versionId): Promise<KeyObject> {
  const { PublicKey } = await ok('GetPublicKey', { KeyId: key.keyId, KeyVersionId: versionId });
  return createPublicKey(PublicKey as string);
}

/** The key's public key from AWS GetPublicKey (DER SPKI). */
async function awsPublicKey(key: Key): Promise<KeyObject> {
  const { PublicKey } = await aws.send(new GetPublicKeyCommand({ KeyId: key.keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
}

/** node:crypto's options for an algorithm: PSS with a salt exactly as long as the digest, ECDSA as DER. */
function nodeOptions(key: KeyObject, algorithm: SigningAlgorithm) {
  if (algorithm.startsWith('RSASSA_PSS_')) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (algorithm.startsWith('RSASSA_PKCS1_')) return { key, padding: constants.RSA_PKCS1_PADDING };
  return { key, dsaEncoding: 'der' as const };
}

/** Whether node:crypto verifies the signature over the message. */
const nodeVerifies = (publicKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, signature: Buffer) =>
  verify(hashOf(algorithm), message, nodeOptions(publicKey, algorithm), signature);

/** Whether the `openssl` command verifies it (PSS with `rsa_pss_saltlen:-1`, as Alibaba's guide). */
const opensslVerifies = (publicKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, signature: Buffer) =>
  openssl.verify(publicKey, hashOf(algorithm), message, signature, algorithm.startsWith('RSASSA_PSS_'));

const digestOf = (algorithm: SigningAlgorithm, message: Buffer) => createHash(hashOf(algorithm)).update(message).digest();

/** The version's private key, read from the store the way an attacker with the store would (to sign outside, and to look for it in answers). */
async function storedPrivateKey(key: Key, versionId = key.versionId): Promise<{ pkcs8: string; privateKey: KeyObject }> {
  const pkcs8 = (await t.service.keyring.getVersionRecord(key.keyId, versionId))!.material;
  return { pkcs8, privateKey: createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' }) };
}

const keys: Record<string, Key> = {};
beforeAll(async () => {
  t = await createTestService({ logLines, audit });
  ali = alibabaCaller(t);
  aws = inProcessKmsClient(t, ADMIN);
  openssl = await OpenSsl.open();
  const made = await Promise.all([
    createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' }),
    createKey({ KeySpec: 'RSA_3072' }),
    createKey({ KeySpec: 'EC_P256' }),
    createKey({ KeySpec: 'EC_P256K' }),
    aws.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' })).then(async (r) => ({
      keyId: r.KeyMetadata!.KeyId!,
      versionId: await newestVersion(r.KeyMetadata!.KeyId!),
    })),
    createKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }),
    createKey({ KeySpec: 'HMAC_256' }),
  ]);
  [keys.RSA_2048, keys.RSA_3072, keys.EC_P256, keys.EC_P256K, keys.EC_P384, keys.RSA_ENCRYPT, keys.HMAC_256] = made;
}, 60_000);

afterAll(async () => {
  await openssl?.close();
});

interface SigningCase {
  spec: string;
  algorithm: SigningAlgorithm;
  /** Alibaba's name of the algorithm (undefined: AWS only). */
  alibaba?: string;
  openssl?: true;
}

const CASES: SigningCase[] = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', alibaba: 'RSA_PSS_SHA_256', openssl: true },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', alibaba: 'RSA_PKCS1_SHA_256', openssl: true },
  { spec: 'RSA_3072', algorithm: 'RSASSA_PSS_SHA_256', alibaba: 'RSA_PSS_SHA_256' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', alibaba: 'ECDSA_SHA_256', openssl: true },
  { spec: 'EC_P256K', algorithm: 'ECDSA_SHA_256', alibaba: 'ECDSA_SHA_256', openssl: true },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_512' },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384' },
  { spec: 'EC_P384', algorithm: 'ECDSA_SHA_384' },
];
const ALIBABA_CASES = CASES.filter((c) => c.alibaba);

describe('signatures verify with independent implementations and the public key GetPublicKey returns', () => {
  const message = Buffer.from('The quick brown fox jumps over the lazy dog, signed by KMS.');

  it.each(ALIBABA_CASES)('Alibaba AsymmetricSign, $spec with $alibaba: node:crypto and openssl verify it over the message', async (c) => {
    const key = keys[c.spec]!;
    const digest = digestOf(c.algorithm, message);
    const signed = await ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: c.alibaba!, Digest: digest.toString('base64') });
    expect(Object.keys(signed).sort()).toEqual(['KeyId', 'KeyVersionId', 'RequestId', 'Value']);
    expect(signed).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
    const signature = Buffer.from(signed.Value, 'base64');
    // ECDSA as DER (SEQUENCE of two INTEGERs), never raw r‖s.
    if (c.spec.startsWith('EC')) expect(signature[0]).toBe(0x30);
    else expect(signature).toHaveLength(Number(c.spec.slice(4)) / 8);
    const publicKey = await alibabaPublicKey(key);
    expect(nodeVerifies(publicKey, c.algorithm, message, signature)).toBe(true);
    if (c.openssl) expect(await opensslVerifies(publicKey, c.algorithm, message, signature)).toBe(true);
    // And not over another message.
    expect(nodeVerifies(publicKey, c.algorithm, Buffer.from('another message'), signature)).toBe(false);
  });

  it.each(CASES)('AWS Sign, $spec with $algorithm: RAW of m and DIGEST of H(m) both verify over m (node:crypto, openssl)', async (c) => {
    const key = keys[c.spec]!;
    const publicKey = await awsPublicKey(key);
    const raw = await aws.send(new SignCommand({ KeyId: key.keyId, Message: message, SigningAlgorithm: c.algorithm as SigningAlgorithmSpec }));
    const digested = await aws.send(
      new SignCommand({
        KeyId: key.keyId,
        Message: digestOf(c.algorithm, message),
        MessageType: 'DIGEST',
        SigningAlgorithm: c.algorithm as SigningAlgorithmSpec,
      }),
    );
    for (const r of [raw, digested]) {
      expect(r.KeyId).toMatch(new RegExp(`^arn:aws:kms:[^:]+:\\d+:key/${key.keyId}$`));
      expect(r.SigningAlgorithm).toBe(c.algorithm);
      const signature = Buffer.from(r.Signature!);
      expect(nodeVerifies(publicKey, c.algorithm, message, signature)).toBe(true);
      if (c.openssl) expect(await opensslVerifies(publicKey, c.algorithm, message, signature)).toBe(true);
    }
  });

  it.each(CASES)(
    '$spec with $algorithm: a signature made outside with node:crypto.sign verifies inside (Alibaba Value true, AWS SignatureValid true)',
    async (c) => {
      const key = keys[c.spec]!;
      const { privateKey } = await storedPrivateKey(key);
      const signature = sign(hashOf(c.algorithm), message, nodeOptions(privateKey, c.algorithm));
      if (c.alibaba) {
        const verified = await ok('AsymmetricVerify', {
          KeyId: key.keyId,
          KeyVersionId: key.versionId,
          Algorithm: c.alibaba,
          Digest: digestOf(c.algorithm, message).toString('base64'),
          Value: signature.toString('base64'),
        });
        expect(verified).toEqual({ RequestId: expect.any(String), KeyId: key.keyId, KeyVersionId: key.versionId, Value: true });
      }
      const algorithm = c.algorithm as SigningAlgorithmSpec;
      const raw = await aws.send(new VerifyCommand({ KeyId: key.keyId, Message: message, Signature: signature, SigningAlgorithm: algorithm }));
      expect(raw).toMatchObject({ SignatureValid: true, SigningAlgorithm: c.algorithm, KeyId: expect.stringContaining(`:key/${key.keyId}`) });
      const digest = digestOf(c.algorithm, message);
      const digested = await aws.send(
        new VerifyCommand({ KeyId: key.keyId, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: algorithm }),
      );
      expect(digested.SignatureValid).toBe(true);
    },
  );

  it.each(CASES)('$spec with $algorithm: a tampered signature is Value false (Alibaba, HTTP 200) and KMSInvalidSignatureException (AWS)', async (c) => {
    const key = keys[c.spec]!;
    const { Signature } = await aws.send(new SignCommand({ KeyId: key.keyId, Message: message, SigningAlgorithm: c.algorithm as SigningAlgorithmSpec }));
    const tampered = Buffer.from(Signature!);
    tampered[tampered.length - 5]! ^= 0x01;
    const digest = digestOf(c.algorithm, message).toString('base64');
    if (c.alibaba) {
      const params = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: c.alibaba, Digest: digest };
      expect((await ok('AsymmetricVerify', { ...params, Value: Buffer.from(Signature!).toString('base64') })).Value).toBe(true);
      const r = await call('AsymmetricVerify', { ...params, Value: tampered.toString('base64') });
      expect(r.status).toBe(200);
      // A JSON boolean, not the string "false".
      expect(r.raw).toContain('"Value":false');
      // Well-formed Base64 that is no signature at all is not valid either.
      expect((await ok('AsymmetricVerify', { ...params, Value: 'AAAA' })).Value).toBe(false);
    }
    const algorithm = c.algorithm as SigningAlgorithmSpec;
    for (const input of [
      { Message: message, Signature: tampered },
      { Message: Buffer.from('another message'), Signature: Buffer.from(Signature!) },
      { Message: message, Signature: Buffer.from([1, 2, 3]) },
    ]) {
      expect(await awsFailure(aws.send(new VerifyCommand({ KeyId: key.keyId, SigningAlgorithm: algorithm, ...input })))).toMatchObject({
        name: 'KMSInvalidSignatureException',
        status: 400,
      });
    }
  });

  it('Alibaba AsymmetricVerify in XML answers <Value>false</Value> and <Value>true</Value>', async () => {
    const key = keys.EC_P256!;
    const Digest = digestOf('ECDSA_SHA_256', message).toString('base64');
    const params = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest, Format: 'XML' };
    const { Value } = await ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest });
    const good = await call('AsymmetricVerify', { ...params, Value });
    expect(good.status).toBe(200);
    expect(good.raw).toContain('<Value>true</Value>');
    const bad = await call('AsymmetricVerify', { ...params, Value: 'AAAA' });
    expect(bad.status).toBe(200);
    expect(bad.raw).toContain('<Value>false</Value>');
  });
});

describe('input rules', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest();

  it('AWS: a Message of 4097 bytes, or a DIGEST of the wrong length, is a ValidationException; 4096 bytes are signed', async () => {
    const { keyId } = keys.EC_P256!;
    const send = (Message: Buffer, MessageType?: 'RAW' | 'DIGEST', SigningAlgorithm: SigningAlgorithmSpec = 'ECDSA_SHA_256') =>
      aws.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm, ...(MessageType ? { MessageType } : {}) }));
    expect((await send(Buffer.alloc(4096, 1))).Signature).toBeDefined();
    expect(await awsFailure(send(Buffer.alloc(4097, 1)))).toMatchObject({ name: 'ValidationException', status: 400 });
    for (const length of [1, 31, 33, 48]) {
      expect(await awsFailure(send(Buffer.alloc(length, 1), 'DIGEST'))).toMatchObject({
        name: 'ValidationException',
        message: expect.stringMatching(/Message/),
      });
    }
    // DIGEST's length is the algorithm's: 48 bytes for SHA-384 (on a key that does not have it: the usage error, after the input is read).
    expect(await awsFailure(send(Buffer.alloc(48, 1), 'DIGEST', 'ECDSA_SHA_384'))).toMatchObject({ name: 'InvalidKeyUsageException' });
    expect(await awsFailure(send(Buffer.alloc(32, 1), 'DIGEST', 'ECDSA_SHA_384'))).toMatchObject({ name: 'ValidationException' });
    expect(await awsFailure(send(Buffer.alloc(8, 1), 'EXTERNAL_MU' as never))).toMatchObject({ name: 'ValidationException' });
    // Verify reads the same way.
    expect(
      await awsFailure(
        aws.send(new VerifyCommand({ KeyId: keyId, Message: Buffer.alloc(4097), Signature: Buffer.alloc(8), SigningAlgorithm: 'ECDSA_SHA_256' })),
      ),
    ).toMatchObject({ name: 'ValidationException' });
    expect(await awsFailure(aws.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m') } as never)))).toMatchObject({ name: 'ValidationException' });
  });

  it('Alibaba: a Digest that is not the algorithm’s digest length, or not Base64, is 400 InvalidParameter naming Digest', async () => {
    const { keyId, versionId } = keys.RSA_2048!;
    const base = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSA_PSS_SHA_256' };
    for (const action of ['AsymmetricSign', 'AsymmetricVerify']) {
      const extra: Record<string, string> = action === 'AsymmetricVerify' ? { Value: 'AAAA' } : {};
      for (const Digest of [Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64'), Buffer.alloc(64).toString('base64'), 'not base64!', '']) {
        expectError(await call(action, { ...base, ...extra, Digest }), 400, 'InvalidParameter', '"Digest"');
      }
      expectError(
        await call(action, { ...base, ...extra, Digest: sha256('m').toString('base64'), Algorithm: 'SM2DSA' }),
        400,
        'InvalidParameter',
        '"Algorithm"',
      );
    }
  });

  it('Alibaba: a Value that is not Base64 is 400 InvalidParameter naming Value', async () => {
    const { keyId, versionId } = keys.EC_P256!;
    for (const Value of ['%%%', 'AAA', '']) {
      expectError(
        await call('AsymmetricVerify', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: sha256('m').toString('base64'), Value }),
        400,
        'InvalidParameter',
        '"Value"',
      );
    }
  });

  it('Alibaba: KeyVersionId is required (400 MissingParameter); a version of another key is 404 Forbidden.KeyVersionNotFound', async () => {
    const Digest = sha256('m').toString('base64');
    const ec = keys.EC_P256!;
    const params = { KeyId: ec.keyId, Algorithm: 'ECDSA_SHA_256', Digest };
    expectError(await call('AsymmetricSign', params), 400, 'MissingParameter', '"KeyVersionId"');
    expectError(await call('AsymmetricVerify', { ...params, Value: 'AAAA' }), 400, 'MissingParameter', '"KeyVersionId"');
    for (const other of [keys.EC_P256K!.versionId, KEY_VERSION_ID, '11111111-1111-4111-8111-111111111111']) {
      expectError(await call('AsymmetricSign', { ...params, KeyVersionId: other }), 404, 'Forbidden.KeyVersionNotFound');
      expectError(await call('AsymmetricVerify', { ...params, KeyVersionId: other, Value: 'AAAA' }), 404, 'Forbidden.KeyVersionNotFound');
    }
  });
});

describe('the key must fit: usage and algorithm', () => {
  const Digest = createHash('sha256').update('m').digest('base64');

  it.each([
    ['EC_P256', 'RSA_PSS_SHA_256'],
    ['EC_P256K', 'RSA_PKCS1_SHA_256'],
    ['RSA_2048', 'ECDSA_SHA_256'],
  ])('Alibaba: %s with %s is 400 UnsupportedOperation (Sign and Verify)', async (spec, Algorithm) => {
    const { keyId, versionId } = keys[spec]!;
    const params = { KeyId: keyId, KeyVersionId: versionId, Algorithm, Digest };
    expectError(await call('AsymmetricSign', params), 400, 'UnsupportedOperation', new RegExp(`not a signing algorithm of ${spec} keys`));
    expectError(await call('AsymmetricVerify', { ...params, Value: 'AAAA' }), 400, 'UnsupportedOperation');
  });

  it.each<[string, SigningAlgorithmSpec]>([
    ['EC_P256', 'RSASSA_PSS_SHA_256'],
    ['EC_P256', 'ECDSA_SHA_384'],
    ['EC_P384', 'ECDSA_SHA_256'],
    ['RSA_2048', 'ECDSA_SHA_256'],
  ])('AWS: %s with %s is InvalidKeyUsageException (Sign and Verify)', async (spec, SigningAlgorithm) => {
    const { keyId } = keys[spec]!;
    const Message = Buffer.from('m');
    expect(await awsFailure(aws.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm })))).toMatchObject({
      name: 'InvalidKeyUsageException',
      status: 400,
    });
    expect(await awsFailure(aws.send(new VerifyCommand({ KeyId: keyId, Message, Signature: Buffer.alloc(64), SigningAlgorithm })))).toMatchObject({
      name: 'InvalidKeyUsageException',
    });
  });

  it.each(['RSA_ENCRYPT', 'HMAC_256', 'AES'])(
    'a %s key does not sign or verify: 400 UnsupportedOperation (Alibaba), InvalidKeyUsageException (AWS)',
    async (name) => {
      const { keyId, versionId } = name === 'AES' ? { keyId: KEY_ID, versionId: KEY_VERSION_ID } : keys[name]!;
      const params = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSA_PSS_SHA_256', Digest };
      expectError(await call('AsymmetricSign', params), 400, 'UnsupportedOperation', /KeyUsage/);
      expectError(await call('AsymmetricVerify', { ...params, Value: 'AAAA' }), 400, 'UnsupportedOperation');
      const Message = Buffer.from('m');
      expect(await awsFailure(aws.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })))).toMatchObject({
        name: 'InvalidKeyUsageException',
        status: 400,
      });
      expect(
        await awsFailure(aws.send(new VerifyCommand({ KeyId: keyId, Message, Signature: Buffer.alloc(256), SigningAlgorithm: 'RSASSA_PSS_SHA_256' }))),
      ).toMatchObject({ name: 'InvalidKeyUsageException' });
    },
  );
});

describe('key state, versions, DryRun and policy', () => {
  const message = Buffer.from('versioned');
  const digest = createHash('sha256').update(message).digest('base64');

  it('a Disabled key is 409 Rejected.Disabled (Alibaba), DisabledException (AWS); pending deletion is 409 Rejected.PendingDeletion, KMSInvalidStateException', async () => {
    const key = await createKey({ KeySpec: 'EC_P256' });
    const params = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest };
    const { Value } = await ok('AsymmetricSign', params);
    await ok('DisableKey', { KeyId: key.keyId });
    expectError(await call('AsymmetricSign', params), 409, 'Rejected.Disabled');
    expectError(await call('AsymmetricVerify', { ...params, Value }), 409, 'Rejected.Disabled');
    expect(await awsFailure(aws.send(new SignCommand({ KeyId: key.keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({
      name: 'DisabledException',
    });
    await ok('EnableKey', { KeyId: key.keyId });
    await ok('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: '7' });
    expectError(await call('AsymmetricSign', params), 409, 'Rejected.PendingDeletion');
    expect(
      await awsFailure(
        aws.send(new VerifyCommand({ KeyId: key.keyId, Message: message, Signature: Buffer.from(Value, 'base64'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      ),
    ).toMatchObject({ name: 'KMSInvalidStateException' });
  });

  it.each(['RSA_2048', 'EC_P256'])(
    '%s: after CreateKeyVersion the old version’s signatures still verify with its own public key, and AWS Sign uses the new version',
    async (spec) => {
      const key = await createKey({ KeySpec: spec });
      const [algorithm, alibaba]: [SigningAlgorithm, string] =
        spec === 'EC_P256' ? ['ECDSA_SHA_256', 'ECDSA_SHA_256'] : ['RSASSA_PSS_SHA_256', 'RSA_PSS_SHA_256'];
      const old = await ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alibaba, Digest: digest });
      const oldPublic = await alibabaPublicKey(key);
      const newVersionId = (await ok('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion.KeyVersionId as string;
      expect(newVersionId).not.toBe(key.versionId);
      const newPublic = await alibabaPublicKey(key, newVersionId);
      expect(newPublic.export({ type: 'spki', format: 'der' })).not.toEqual(oldPublic.export({ type: 'spki', format: 'der' }));

      const oldSignature = Buffer.from(old.Value, 'base64');
      expect(nodeVerifies(oldPublic, algorithm, message, oldSignature)).toBe(true);
      const verifyAs = (KeyVersionId: string) =>
        ok('AsymmetricVerify', { KeyId: key.keyId, KeyVersionId, Algorithm: alibaba, Digest: digest, Value: old.Value }).then((b) => b.Value);
      expect(await verifyAs(key.versionId)).toBe(true);
      expect(await verifyAs(newVersionId)).toBe(false);

      // AWS: the newest version signs, and GetPublicKey gives its public key.
      const { Signature } = await aws.send(new SignCommand({ KeyId: key.keyId, Message: message, SigningAlgorithm: algorithm as SigningAlgorithmSpec }));
      expect(nodeVerifies(newPublic, algorithm, message, Buffer.from(Signature!))).toBe(true);
      expect(nodeVerifies(oldPublic, algorithm, message, Buffer.from(Signature!))).toBe(false);
      expect((await awsPublicKey(key)).export({ type: 'spki', format: 'der' })).toEqual(newPublic.export({ type: 'spki', format: 'der' }));
      // The old version still signs when named (Alibaba).
      const again = await ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alibaba, Digest: digest });
      expect(nodeVerifies(oldPublic, algorithm, message, Buffer.from(again.Value, 'base64'))).toBe(true);
    },
  );

  it('DryRun: 412 DryRunOperationError (Alibaba), DryRunOperationException (AWS); a dry run that would fail fails as the real call', async () => {
    const { keyId, versionId } = keys.EC_P256!;
    const params = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest, DryRun: 'true' };
    expectError(await call('AsymmetricSign', params), 412, 'DryRunOperationError');
    expectError(await call('AsymmetricVerify', { ...params, Value: 'AAAA' }), 412, 'DryRunOperationError');
    expectError(await call('AsymmetricSign', { ...params, Algorithm: 'RSA_PSS_SHA_256' }), 400, 'UnsupportedOperation');
    for (const command of [
      new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true }),
      new VerifyCommand({ KeyId: keyId, Message: message, Signature: Buffer.alloc(8), SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true }),
    ]) {
      expect(await awsFailure(aws.send(command as SignCommand))).toMatchObject({ name: 'DryRunOperationException', status: 412 });
    }
  });

  it('an access key allowed only kms:AsymmetricVerify may verify but not sign (403 Forbidden.NoPermission, AccessDeniedException)', async () => {
    const verifier: Credentials = { accessKeyId: 'testVerifyOnly01', accessKeySecret: 'testVerifyOnly01-secret-0123456789' };
    await t.service.accessKeys.create({
      ...verifier,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:AsymmetricVerify', Resource: '*' }] },
    });
    const { keyId, versionId } = keys.EC_P256!;
    const params = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest };
    const { Value } = await ok('AsymmetricSign', params);
    const denied = await call('AsymmetricSign', params, verifier);
    expectError(denied, 403, 'Forbidden.NoPermission', '"kms:AsymmetricSign"');
    expect(denied.body.Value).toBeUndefined();
    const allowed = await call('AsymmetricVerify', { ...params, Value }, verifier);
    expect(allowed.status).toBe(200);
    expect(allowed.body.Value).toBe(true);
    const awsVerifier = inProcessKmsClient(t, verifier);
    expect(await awsFailure(awsVerifier.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({
      name: 'AccessDeniedException',
    });
    const { Signature } = await aws.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    const verified = await awsVerifier.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(verified.SignatureValid).toBe(true);
    // GetPublicKey is its own permission.
    expectError(await call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId }, verifier), 403, 'Forbidden.NoPermission', '"kms:GetPublicKey"');
  });
});

describe('private keys never leave', () => {
  it('no answer, log line or audit line of this file holds a private key of any version', async () => {
    const sign = (key: Key) =>
      ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: Buffer.alloc(32, 3).toString('base64') });
    await sign(keys.EC_P256!);
    await sign(keys.EC_P256K!);
    // The audit lines name the Action, the key and the version, and nothing of the material.
    const signLine = audit.records.find((r) => r.action === 'AsymmetricSign' && r.code === 'OK' && r.keyVersionId === keys.EC_P256K!.versionId);
    expect(signLine).toMatchObject({ keyArn: expect.stringContaining(keys.EC_P256K!.keyId), status: 200 });
    expect(audit.records.some((r) => r.awsOperation === 'Sign' && r.code === 'OK')).toBe(true);
    // A signature AWS Verify refuses is audited as the refusal it is.
    expect(audit.records.some((r) => r.awsOperation === 'Verify' && r.code === 'InvalidSignature' && r.status === 400)).toBe(true);
    const everything = [...answers, ...logLines, ...audit.records.map((r) => JSON.stringify(r))].join('\n');
    expect(answers.length).toBeGreaterThan(50);
    const names = Object.keys(keys).filter((name) => !name.startsWith('HMAC'));
    for (const name of names) {
      const key = keys[name]!;
      const versions = (await t.service.keyring.versions.list(key.keyId)).map((v) => v.keyVersionId);
      for (const versionId of versions) {
        const { pkcs8 } = await storedPrivateKey(key, versionId);
        // A stretch inside the second line of its PEM too: neither form appears.
        for (const at of [70, Math.floor(pkcs8.length / 2), pkcs8.length - 60]) {
          const stretch = pkcs8.slice(at, at + 48);
          expect(stretch).toHaveLength(48);
          expect(everything).not.toContain(stretch);
        }
      }
    }
  });
});
