import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../functions/actions.js';
import { action as asymmetricSign } from '../../functions/asymmetric-sign.js';
import { action as asymmetricVerify } from '../../functions/asymmetric-verify.js';
import { action as cancelKeyDeletion } from '../../functions/cancel-key-deletion.js';
import { action as decrypt } from '../../functions/decrypt.js';
import { action as encrypt } from '../../functions/encrypt.js';
import { action as reEncrypt } from '../../functions/re-encrypt.js';
import { action as updateRotationPolicy } from '../../functions/update-rotation-policy.js';
import { parseEnvelope } from '../../lib/crypto/envelope.js';
import type { ActionDefinition } from '../../lib/action.js';
import { validateInput } from '../../lib/protocol/alibaba/schema.js';
import type { AwsScope } from '../../lib/protocol/aws/binding.js';
import { operationInput } from '../../lib/rpc/params.js';
import { parameterNamesOf } from '../helpers/fuzz.js';
import { ACCOUNT_ID, KEY_ID, KEY_VERSION_ID, REGION } from '../helpers/service.js';

/*
 * One contract per Action: each protocol it speaks reads a request into the same typed input —
 * Alibaba's parameters (strings) through its schema, AWS's JSON directly (a map is a Map, a blob
 * bytes), never through the other's strings.
 */

const SCOPE: AwsScope = { accountId: ACCOUNT_ID, regions: new Set(['us-east-1', REGION]), alibabaRegion: REGION };
const alibabaInput = <Input>(action: ActionDefinition<Input>, params: Record<string, string>) =>
  validateInput(action.alibaba!.params, operationInput(new Map(Object.entries(params))));
const awsInput = <Input>(action: ActionDefinition<Input>, body: Record<string, unknown>, target = action.name) =>
  action.aws!.find((b) => b.target === target)!.input(body, SCOPE);

/** A blob's layout: a version id, an IV and a tag (nothing here is decrypted). */
const BLOB = Buffer.concat([Buffer.from(KEY_VERSION_ID, 'latin1'), Buffer.alloc(12 + 4 + 16, 1)]);

describe('Action bindings: one typed input from every protocol', () => {
  it('when Encrypt is read from either protocol, Plaintext is bytes and EncryptionContext a Map (AWS: the JSON object itself, Alibaba: parsed text)', () => {
    const fromAlibaba = alibabaInput(encrypt, { KeyId: 'alias/test', Plaintext: 'hé', EncryptionContext: '{"__proto__":"x","a":"b"}' });
    const fromAws = awsInput(encrypt, JSON.parse('{"KeyId":"alias/test","Plaintext":"aMOp","EncryptionContext":{"__proto__":"x","a":"b"}}'));
    for (const input of [fromAlibaba, fromAws]) {
      expect(Buffer.isBuffer(input.Plaintext)).toBe(true);
      expect(input.Plaintext.toString('utf8')).toBe('hé');
      expect(input.EncryptionContext).toBeInstanceOf(Map);
      expect([...input.EncryptionContext]).toEqual([
        ['__proto__', 'x'],
        ['a', 'b'],
      ]);
      expect(input.KeyId).toBe('alias/test');
    }
  });

  it('when Decrypt and ReEncrypt are read, the blob is its layout (the version it names) from both; only AWS names a key the blob must be under', () => {
    const blob = BLOB.toString('base64');
    const alibaba = alibabaInput(decrypt, { CiphertextBlob: blob, AwsKeyId: 'alias/other' });
    expect(alibaba.CiphertextBlob).toEqual(parseEnvelope(blob));
    expect(alibaba.expectedKey).toBeUndefined();
    const aws = awsInput(decrypt, { CiphertextBlob: blob, KeyId: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${KEY_ID}` });
    expect(aws.CiphertextBlob.keyVersionId).toBe(KEY_VERSION_ID);
    expect(aws.expectedKey).toEqual({ keyId: KEY_ID, parameter: 'KeyId' });

    expect(alibabaInput(reEncrypt, { CiphertextBlob: blob, DestinationKeyId: KEY_ID, AwsSourceKeyId: 'alias/other' }).expectedSourceKey).toBeUndefined();
    expect(awsInput(reEncrypt, { CiphertextBlob: blob, DestinationKeyId: KEY_ID, SourceKeyId: 'alias/other' }).expectedSourceKey).toEqual({
      keyId: 'alias/other',
      parameter: 'SourceKeyId',
    });
  });

  it('when a key is taken out of deletion, each API restores the state it documents (Alibaba: Enabled, AWS: Disabled)', () => {
    expect(alibabaInput(cancelKeyDeletion, { KeyId: KEY_ID }).restoredState).toBe('Enabled');
    expect(awsInput(cancelKeyDeletion, { KeyId: KEY_ID }).restoredState).toBe('Disabled');
  });

  it('when rotation is turned on, the period arrives in seconds from both (AWS: 365 days unless given)', () => {
    expect(alibabaInput(updateRotationPolicy, { KeyId: KEY_ID, EnableAutomaticRotation: 'true', RotationInterval: '90d' })).toEqual({
      KeyId: KEY_ID,
      EnableAutomaticRotation: true,
      seconds: 90 * 86_400,
    });
    expect(awsInput(updateRotationPolicy, { KeyId: KEY_ID, RotationPeriodInDays: 90 }, 'EnableKeyRotation')).toEqual({
      KeyId: KEY_ID,
      EnableAutomaticRotation: true,
      seconds: 90 * 86_400,
    });
    expect(awsInput(updateRotationPolicy, { KeyId: KEY_ID }, 'EnableKeyRotation')).toMatchObject({ seconds: 365 * 86_400 });
    expect(awsInput(updateRotationPolicy, { KeyId: KEY_ID }, 'DisableKeyRotation')).toEqual({ KeyId: KEY_ID, EnableAutomaticRotation: false });
  });

  it('when the Action table is read, no Alibaba parameter belongs to another protocol, and each AWS operation names a field of its own in its errors', () => {
    for (const { operation } of ACTIONS) {
      const names = operation.alibaba ? parameterNamesOf(operation) : [];
      expect(
        names.filter((name) => /^aws/i.test(name)),
        operation.name,
      ).toEqual([]);
    }
    expect(() => awsInput(decrypt, { CiphertextBlob: 'not base64!' })).toThrow(/"CiphertextBlob"/);
    expect(() => awsInput(reEncrypt, { CiphertextBlob: BLOB.toString('base64'), DestinationKeyId: 'arn:aws:s3:::bucket' })).toThrow(/"DestinationKeyId"/);
  });
  it('when a signature is asked for, Alibaba’s Digest and AWS’s DIGEST are a digest (signed as it is), AWS’s RAW a message; the algorithm is AWS’s name', () => {
    const digest = Buffer.alloc(32, 5);
    const fromAlibaba = alibabaInput(asymmetricSign, {
      KeyId: KEY_ID,
      KeyVersionId: KEY_VERSION_ID,
      Algorithm: 'RSA_PKCS1_SHA_256',
      Digest: digest.toString('base64'),
    });
    expect(fromAlibaba).toEqual({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', Digest: digest });
    const digested = awsInput(
      asymmetricSign,
      { KeyId: KEY_ID, Message: digest.toString('base64'), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' },
      'Sign',
    );
    expect(digested).toEqual({ KeyId: KEY_ID, SigningAlgorithm: 'ECDSA_SHA_256', Digest: digest });
    const raw = awsInput(asymmetricSign, { KeyId: KEY_ID, Message: 'bQ==', SigningAlgorithm: 'RSASSA_PSS_SHA_512' }, 'Sign');
    expect(raw).toEqual({ KeyId: KEY_ID, SigningAlgorithm: 'RSASSA_PSS_SHA_512', Message: Buffer.from('m') });
    const verify = alibabaInput(asymmetricVerify, {
      KeyId: KEY_ID,
      KeyVersionId: KEY_VERSION_ID,
      Algorithm: 'RSA_PSS_SHA_256',
      Digest: digest.toString('base64'),
      Value: 'AQID',
    });
    expect(verify).toMatchObject({ SigningAlgorithm: 'RSASSA_PSS_SHA_256', Digest: digest, Signature: Buffer.from([1, 2, 3]) });
    expect(awsInput(asymmetricVerify, { KeyId: KEY_ID, Message: 'bQ==', SigningAlgorithm: 'ECDSA_SHA_256', Signature: 'AQID' }, 'Verify')).toMatchObject({
      Message: Buffer.from('m'),
      Signature: Buffer.from([1, 2, 3]),
    });
  });
});
