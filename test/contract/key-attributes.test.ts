import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, ALIAS, CONSUMER, createTestService, DISABLED_KEY_ID, KEY_ID, keyArnOf, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError } from './support.js';

/* UpdateKeyDescription and SetDeletionProtection: attributes of a key, shown by DescribeKey. */

let t: TestService;
beforeEach(async () => {
  t = await createTestService();
});
const call = (action: string, params: Record<string, string>, who = ADMIN) => t.call(signedRpcRequest(who, action, params));
const metadata = async (keyId = KEY_ID) => (await call('DescribeKey', { KeyId: keyId })).body.KeyMetadata as Record<string, string>;

describe('UpdateKeyDescription', () => {
  it('when given by id, alias or ARN, it replaces the description; an empty one clears it; non-ASCII survives', async () => {
    for (const [keyId, text] of [
      [KEY_ID, 'by id'],
      [ALIAS, 'by alias — ü 中'],
      [keyArnOf(KEY_ID), 'by arn'],
    ] as const) {
      const r = await call('UpdateKeyDescription', { KeyId: keyId, Description: text });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['RequestId']);
      expect((await metadata()).Description).toBe(text);
    }
    expect((await t.call(signedV3Request(ADMIN, 'UpdateKeyDescription', { KeyId: KEY_ID, Description: '' }))).status).toBe(200);
    expect((await metadata()).Description).toBe('');
  });

  it('works on a Disabled key; a key pending deletion answers 409 Rejected.PendingDeletion and keeps its description', async () => {
    expect((await call('UpdateKeyDescription', { KeyId: DISABLED_KEY_ID, Description: 'disabled too' })).status).toBe(200);
    expect((await metadata(DISABLED_KEY_ID)).Description).toBe('disabled too');
    await call('ScheduleKeyDeletion', { KeyId: OTHER_KEY_ID, PendingWindowInDays: '7' });
    const before = (await metadata(OTHER_KEY_ID)).Description;
    expectError(await call('UpdateKeyDescription', { KeyId: OTHER_KEY_ID, Description: 'x' }), 409, 'Rejected.PendingDeletion');
    expect((await metadata(OTHER_KEY_ID)).Description).toBe(before);
  });

  it.each([
    [{ KeyId: KEY_ID }, 400, 'MissingParameter', 'Description'],
    [{ Description: 'x' }, 400, 'MissingParameter', 'KeyId'],
    [{ KeyId: KEY_ID, Description: 'x'.repeat(8_193) }, 400, 'InvalidParameter', 'Description'],
    [{ KeyId: KEY_ID, Description: 'bell \u0007' }, 400, 'InvalidParameter', 'Description'],
    [{ KeyId: 'key-missingmissingmissing00', Description: 'x' }, 404, 'Forbidden.KeyNotFound', undefined],
  ] as const)('when the parameters are %j, it answers %i %s', async (params, status, code, names) => {
    expectError(await call('UpdateKeyDescription', params as Record<string, string>), status, code, names);
  });

  it('is authorised on the key: a caller allowed only Decrypt is refused and the description stays', async () => {
    const before = (await metadata()).Description;
    expectError(await call('UpdateKeyDescription', { KeyId: KEY_ID, Description: 'hijack' }, CONSUMER), 403, 'Forbidden.NoPermission');
    expect((await metadata()).Description).toBe(before);
  });
});

describe('SetDeletionProtection', () => {
  it('when enabled (by ARN or KeyId), DescribeKey shows it with its description, and ScheduleKeyDeletion is refused with 409 until it is disabled', async () => {
    expect((await metadata()).DeletionProtection).toBe('Disabled');
    const r = await call('SetDeletionProtection', {
      ProtectedResourceArn: keyArnOf(KEY_ID),
      EnableDeletionProtection: 'true',
      DeletionProtectionDescription: 'production data',
    });
    expect(r.status).toBe(200);
    expect(await metadata()).toMatchObject({ DeletionProtection: 'Enabled', DeletionProtectionDescription: 'production data' });
    expectError(await call('ScheduleKeyDeletion', { KeyId: ALIAS, PendingWindowInDays: '7' }), 409, 'Rejected.StateModifiedFailed', 'deletion protection');
    expect((await metadata()).KeyState).toBe('Enabled');
    // Idempotent, and by KeyId as newer SDKs send it.
    expect((await call('SetDeletionProtection', { KeyId: ALIAS, EnableDeletionProtection: 'TRUE', DeletionProtectionDescription: 'still' })).status).toBe(200);
    expect((await metadata()).DeletionProtectionDescription).toBe('still');

    expect((await call('SetDeletionProtection', { KeyId: KEY_ID, EnableDeletionProtection: 'false', DeletionProtectionDescription: 'ignored' })).status).toBe(
      200,
    );
    const off = await metadata();
    expect(off.DeletionProtection).toBe('Disabled');
    expect(off).not.toHaveProperty('DeletionProtectionDescription');
    expect((await call('ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' })).status).toBe(200);
  });

  it('a key pending deletion refuses it (409 Rejected.PendingDeletion); a Disabled key takes it', async () => {
    await call('ScheduleKeyDeletion', { KeyId: OTHER_KEY_ID, PendingWindowInDays: '7' });
    expectError(await call('SetDeletionProtection', { KeyId: OTHER_KEY_ID, EnableDeletionProtection: 'true' }), 409, 'Rejected.PendingDeletion');
    expect((await call('SetDeletionProtection', { KeyId: DISABLED_KEY_ID, EnableDeletionProtection: 'true' })).status).toBe(200);
    expect((await metadata(DISABLED_KEY_ID)).DeletionProtection).toBe('Enabled');
  });

  it.each([
    [{ EnableDeletionProtection: 'true' }, 400, 'MissingParameter', 'ProtectedResourceArn'],
    [{ KeyId: KEY_ID }, 400, 'MissingParameter', 'EnableDeletionProtection'],
    [{ KeyId: KEY_ID, EnableDeletionProtection: 'yes' }, 400, 'InvalidParameter', 'EnableDeletionProtection'],
    [{ ProtectedResourceArn: KEY_ID, EnableDeletionProtection: 'true' }, 400, 'InvalidParameter', 'ProtectedResourceArn'],
    [{ ProtectedResourceArn: `acs:kms:cn-hangzhou:1:alias/test`, EnableDeletionProtection: 'true' }, 400, 'InvalidParameter', 'ProtectedResourceArn'],
    [{ ProtectedResourceArn: keyArnOf(KEY_ID), KeyId: OTHER_KEY_ID, EnableDeletionProtection: 'true' }, 400, 'InvalidParameter', 'different keys'],
    [
      { KeyId: KEY_ID, EnableDeletionProtection: 'true', DeletionProtectionDescription: 'x'.repeat(8_193) },
      400,
      'InvalidParameter',
      'DeletionProtectionDescription',
    ],
  ] as const)('when the parameters are %j, it answers %i %s', async (params, status, code, names) => {
    expectError(await call('SetDeletionProtection', params as Record<string, string>), status, code, names);
    expect((await metadata()).DeletionProtection).toBe('Disabled');
  });

  it('is authorised on the key: a caller allowed only Decrypt is refused, and the key stays unprotected', async () => {
    expectError(await call('SetDeletionProtection', { KeyId: KEY_ID, EnableDeletionProtection: 'true' }, CONSUMER), 403, 'Forbidden.NoPermission');
    expect((await metadata()).DeletionProtection).toBe('Disabled');
  });
});
