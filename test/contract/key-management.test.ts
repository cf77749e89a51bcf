import { randomUUID } from 'node:crypto';
import { XMLValidator } from 'fast-xml-parser';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../functions/actions.js';
import { destroyDueKeys, rotateDueKeys } from '../../lib/operations/scheduled.js';
import {
  ACCOUNT_ID,
  ADMIN,
  ALIAS,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  keyArnOf,
  OTHER_KEY_ID,
  REGION,
  type TestService,
} from '../helpers/service.js';
import { type Credentials, isoSeconds, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { blobVersionId, expectError, flipByte, names, parseXml, XML_DECLARATION } from './support.js';

/*
 * The key-management Actions (reference §3 and §4), in process behind the real dispatcher: keys,
 * versions, rotation, the key-state machine, the deletion window, aliases, ReEncrypt, and which
 * resource each Action is authorised on.
 */

type CallResult = Awaited<ReturnType<TestService['call']>>;
type Params = Record<string, string>;
/** KeyMetadata as the service writes it: every field a string. */
interface KeyMetadata {
  KeyId: string;
  Arn: string;
  KeyState: string;
  KeySpec: string;
  KeyUsage: string;
  Origin: string;
  ProtectionLevel: string;
  CreationDate: string;
  Creator: string;
  Description: string;
  PrimaryKeyVersion: string;
  AutomaticRotation: string;
  RotationInterval: string;
  LastRotationDate: string;
  NextRotationDate: string;
  DeleteDate: string;
  [field: string]: string;
}

const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const aliasArnOf = (aliasName: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:${aliasName}`;
const plus = (iso: string, ms: number) => isoSeconds(Date.parse(iso) + ms);

/** A clock a test moves by hand; requests are signed at its time, so they stay inside the ±15 min window. */
function manualClock(startIso: string) {
  let ms = Date.parse(startIso);
  return {
    now: () => ms,
    advance(byMs: number) {
      ms += byMs;
    },
    set(toMs: number) {
      ms = toMs;
    },
    iso: () => isoSeconds(ms),
  };
}

interface CallOptions {
  format?: 'XML' | 'JSON';
  v3?: boolean;
}

interface Fixture {
  t: TestService;
  /** Calls `action` as `who`, signed at the service's clock. */
  as(who: Credentials, action: string, params?: Params, options?: CallOptions): Promise<CallResult>;
  /** Calls `action` as ADMIN. */
  call(action: string, params?: Params, options?: CallOptions): Promise<CallResult>;
  /** Calls `action` as ADMIN and expects 200; returns the body. */
  ok(action: string, params?: Params): Promise<Record<string, any>>;
  /** CreateKey as ADMIN; returns its KeyMetadata. */
  createKey(params?: Params): Promise<KeyMetadata>;
  /** DescribeKey as ADMIN; returns its KeyMetadata. */
  describeKey(keyId: string): Promise<KeyMetadata>;
}

async function fixture(options: { now?: () => number } = {}): Promise<Fixture> {
  const t = await createTestService({ now: options.now });
  const now = options.now ?? Date.now;
  const as = (who: Credentials, action: string, params: Params = {}, callOptions: CallOptions = {}) =>
    t.call(
      callOptions.v3
        ? signedV3Request(who, action, params, { date: isoSeconds(now()) })
        : signedRpcRequest(who, action, params, { timestamp: isoSeconds(now()), format: callOptions.format }),
    );
  const call = (action: string, params: Params = {}, callOptions: CallOptions = {}) => as(ADMIN, action, params, callOptions);
  const ok = async (action: string, params: Params = {}) => {
    const r = await call(action, params);
    expect(r.status, `${action} ${JSON.stringify(params)} → ${r.raw}`).toBe(200);
    return r.body;
  };
  return {
    t,
    as,
    call,
    ok,
    createKey: async (params: Params = {}) => (await ok('CreateKey', params)).KeyMetadata as KeyMetadata,
    describeKey: async (keyId: string) => (await ok('DescribeKey', { KeyId: keyId })).KeyMetadata as KeyMetadata,
  };
}

/** An access key created in the fixture's store with the given policy statements. */
async function accessKeyWith(
  f: Fixture,
  id: string,
  statements: Array<{ Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: string | string[] }>,
): Promise<Credentials> {
  const credentials: Credentials = { accessKeyId: id, accessKeySecret: `${id}-secret-0123456789` };
  await f.t.service.accessKeys.create({
    ...credentials,
    status: 'Enabled',
    createdAt: new Date().toISOString(),
    policy: { Version: '1', Statement: statements },
  });
  return credentials;
}

/** A 403 naming the action and the resource the caller named: an ARN, or for a ciphertext its key version (never its key). */
function expectForbidden(r: CallResult, action: string, resource: string | { blob: string }): void {
  expectError(r, 403, 'Forbidden.NoPermission');
  expect(r.body.Message).toContain(`"kms:${action}"`);
  if (typeof resource === 'string') {
    expect(r.body.Message).toContain(`"${resource}"`);
  } else {
    expect(r.body.Message).toContain(`key version "${blobVersionId(resource.blob)}"`);
    expect(r.body.Message).not.toContain('key/');
  }
}

/** An alias the caller may not use answers exactly as a missing alias (404), naming no key. */
function expectHiddenAlias(r: CallResult, action: string, alias: string): void {
  expectError(r, 404, 'Forbidden.AliasNotFound');
  expect(r.body.Message).toBe(`The specified alias "${alias}" is not found, or this access key may not use it for "kms:${action}".`);
}

/** A data key under `keyId` and its blob (the blob decrypts to `plaintext`). */
async function dataKey(f: Fixture, keyId: string, context?: Record<string, string>): Promise<{ plaintext: string; blob: string; keyVersionId: string }> {
  const body = await f.ok('GenerateDataKey', { KeyId: keyId, ...(context ? { EncryptionContext: JSON.stringify(context) } : {}) });
  return { plaintext: body.Plaintext, blob: body.CiphertextBlob, keyVersionId: body.KeyVersionId };
}

async function allKeyIds(f: Fixture): Promise<string[]> {
  return ((await f.ok('ListKeys', { PageSize: '100' })).Keys.Key as Array<{ KeyId: string }>).map((k) => k.KeyId);
}

// ---------------------------------------------------------------------------------------------

describe('Action: CreateKey', () => {
  const clock = manualClock('2031-03-04T05:06:07.891Z');
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({ now: clock.now });
  });

  it('when called with no parameters, it returns the KeyMetadata of a new Enabled Aliyun_AES_256 key', async () => {
    const body = await f.ok('CreateKey');
    expect(typeof body.RequestId).toBe('string');
    const m = body.KeyMetadata as KeyMetadata;
    expect(m.KeyId).toMatch(/^key-[a-z0-9]{24}$/);
    expect(m.Arn).toBe(`acs:kms:cn-hangzhou:1234567890123456:key/${m.KeyId}`);
    expect(m).toMatchObject({
      KeyState: 'Enabled',
      KeySpec: 'Aliyun_AES_256',
      KeyUsage: 'ENCRYPT/DECRYPT',
      Origin: 'Aliyun_KMS',
      ProtectionLevel: 'SOFTWARE',
      Description: '',
      Creator: ACCOUNT_ID,
      AutomaticRotation: 'Disabled',
      DeleteDate: '',
    });
    // UTC, whole seconds, no milliseconds, even though the clock has them.
    expect(m.CreationDate).toMatch(ISO_SECONDS);
    expect(m.CreationDate).toBe('2031-03-04T05:06:07Z');
    expect(m.PrimaryKeyVersion).toMatch(UUID);
    expect(m.NextRotationDate ?? '').toBe('');
  });

  it('when called, its one version is the primary version, and DescribeKey returns the same metadata', async () => {
    const created = await f.createKey({ Description: 'described' });
    const versions = (await f.ok('ListKeyVersions', { KeyId: created.KeyId })).KeyVersions.KeyVersion;
    expect(versions).toEqual([{ KeyId: created.KeyId, KeyVersionId: created.PrimaryKeyVersion, CreationDate: created.CreationDate }]);
    expect(await f.describeKey(created.KeyId)).toEqual(created);
  });

  it('when called twice, it creates two keys with different ids and versions', async () => {
    const a = await f.createKey();
    const b = await f.createKey();
    expect(a.KeyId).not.toBe(b.KeyId);
    expect(a.PrimaryKeyVersion).not.toBe(b.PrimaryKeyVersion);
    const ids = await allKeyIds(f);
    expect(ids).toContain(a.KeyId);
    expect(ids).toContain(b.KeyId);
  });

  it('when given a Description (non-ASCII, up to 8,192 characters), it keeps it exactly', async () => {
    const text = 'Schlüssel für “Zahlungen” — 日本語 🔑 <&>';
    expect((await f.createKey({ Description: text })).Description).toBe(text);
    const long = 'd'.repeat(8192);
    const created = await f.createKey({ Description: long });
    expect((await f.describeKey(created.KeyId)).Description).toBe(long);
  });

  it('when the Description is longer than 8,192 characters, it answers 400 InvalidParameter naming Description', async () => {
    expectError(await f.call('CreateKey', { Description: 'd'.repeat(8193) }), 400, 'InvalidParameter', names('Description'));
  });

  it('when the supported KeySpec, KeyUsage, Origin and ProtectionLevel are given explicitly, it accepts them', async () => {
    const m = await f.createKey({ KeySpec: 'Aliyun_AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Origin: 'Aliyun_KMS', ProtectionLevel: 'SOFTWARE' });
    expect(m).toMatchObject({ KeySpec: 'Aliyun_AES_256', KeyUsage: 'ENCRYPT/DECRYPT', Origin: 'Aliyun_KMS', ProtectionLevel: 'SOFTWARE' });
  });

  it.each([
    ['KeySpec', 'Aliyun_AES_128'],
    ['KeySpec', 'Aliyun_SM4'],
    ['KeySpec', 'EC_SM2'],
    ['KeySpec', 'RSA_1024'],
    ['KeySpec', 'aliyun_aes_256'],
    ['KeyUsage', 'SIGN/VERIFY'],
    ['KeyUsage', 'ENCRYPT'],
    ['Origin', 'External'],
    ['ProtectionLevel', 'HSM'],
  ])('when %s is %s, it answers 400 InvalidParameter naming it and creates nothing', async (parameter, value) => {
    const before = (await f.ok('ListKeys')).TotalCount;
    expectError(await f.call('CreateKey', { [parameter]: value }), 400, 'InvalidParameter', names(parameter));
    expect((await f.ok('ListKeys')).TotalCount).toBe(before);
  });

  it.each(['30d', '2592000s'])(
    'when EnableAutomaticRotation=true and RotationInterval=%s, AutomaticRotation is Enabled, RotationInterval "2592000s" and NextRotationDate creation + 30 days',
    async (interval) => {
      const m = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: interval });
      expect(m.AutomaticRotation).toBe('Enabled');
      expect(m.RotationInterval).toBe('2592000s');
      expect(m.NextRotationDate).toMatch(ISO_SECONDS);
      expect(m.NextRotationDate).toBe(plus(m.CreationDate, 30 * DAY_MS));
      expect(await f.describeKey(m.KeyId)).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '2592000s', NextRotationDate: m.NextRotationDate });
    },
  );

  it.each([
    ['7d', '604800s'],
    ['604800s', '604800s'],
    ['730d', '63072000s'],
    ['63072000s', '63072000s'],
  ])('when RotationInterval is the bound %s, it is accepted as %s', async (interval, expected) => {
    const m = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: interval });
    expect(m.RotationInterval).toBe(expected);
    expect(Date.parse(m.NextRotationDate) - Date.parse(m.CreationDate)).toBe(Number.parseInt(expected, 10) * 1000);
  });

  it('when EnableAutomaticRotation=true without RotationInterval, the interval is 365 days', async () => {
    const m = await f.createKey({ EnableAutomaticRotation: 'TRUE' });
    expect(m).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '31536000s' });
    expect(m.NextRotationDate).toBe(plus(m.CreationDate, 365 * DAY_MS));
  });

  it('when EnableAutomaticRotation=false with a RotationInterval, automatic rotation stays Disabled', async () => {
    const m = await f.createKey({ EnableAutomaticRotation: 'false', RotationInterval: '30d' });
    expect(m.AutomaticRotation).toBe('Disabled');
    expect(m.NextRotationDate ?? '').toBe('');
  });

  it.each(['6d', '731d', 'abc', '30', '30h', '604799s', '63072001s', '-7d', '7.5d', '0d'])(
    'when RotationInterval is %s, it answers 400 InvalidParameter naming RotationInterval and creates nothing',
    async (interval) => {
      const before = (await f.ok('ListKeys')).TotalCount;
      expectError(
        await f.call('CreateKey', { EnableAutomaticRotation: 'true', RotationInterval: interval }),
        400,
        'InvalidParameter',
        names('RotationInterval'),
      );
      expectError(await f.call('CreateKey', { RotationInterval: interval }), 400, 'InvalidParameter', names('RotationInterval'));
      expect((await f.ok('ListKeys')).TotalCount).toBe(before);
    },
  );

  it('when EnableAutomaticRotation is not a boolean, it answers 400 InvalidParameter naming it', async () => {
    expectError(await f.call('CreateKey', { EnableAutomaticRotation: 'yes' }), 400, 'InvalidParameter', names('EnableAutomaticRotation'));
  });

  it('when DryRun=true, it answers 412 DryRunOperationError and creates nothing', async () => {
    const before = (await f.ok('ListKeys')).TotalCount;
    expectError(await f.call('CreateKey', { DryRun: 'true' }), 412, 'DryRunOperationError');
    expect((await f.ok('ListKeys')).TotalCount).toBe(before);
  });

  it('when a key was just created, it is usable at once: GenerateDataKey under its primary version, then Decrypt', async () => {
    const m = await f.createKey();
    const generated = await f.ok('GenerateDataKey', { KeyId: m.KeyId });
    expect(generated.KeyId).toBe(m.KeyId);
    expect(generated.KeyVersionId).toBe(m.PrimaryKeyVersion);
    const decrypted = await f.ok('Decrypt', { CiphertextBlob: generated.CiphertextBlob });
    expect(decrypted).toMatchObject({ KeyId: m.KeyId, KeyVersionId: m.PrimaryKeyVersion, Plaintext: generated.Plaintext });
    const encrypted = await f.ok('Encrypt', { KeyId: m.Arn, Plaintext: 'hello' });
    expect((await f.ok('Decrypt', { CiphertextBlob: encrypted.CiphertextBlob })).Plaintext).toBe('hello');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: DescribeKey', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it.each([
    ['its id', KEY_ID],
    ['its alias', ALIAS],
    ['its key ARN', keyArnOf(KEY_ID)],
    ['its alias ARN', aliasArnOf(ALIAS)],
  ])('when the key is named by %s, it returns the KeyMetadata of the key', async (_how, keyId) => {
    const m = await f.describeKey(keyId);
    expect(m).toMatchObject({
      KeyId: KEY_ID,
      Arn: keyArnOf(KEY_ID),
      KeyState: 'Enabled',
      Description: 'test key',
      PrimaryKeyVersion: KEY_VERSION_ID,
      KeySpec: 'Aliyun_AES_256',
    });
  });

  it('when a created key is named by a new alias, it returns that key', async () => {
    const created = await f.createKey();
    await f.ok('CreateAlias', { AliasName: 'alias/describe-me', KeyId: created.KeyId });
    expect(await f.describeKey('alias/describe-me')).toEqual(created);
    expect(await f.describeKey(aliasArnOf('alias/describe-me'))).toEqual(created);
  });

  it('when the key is Disabled, it still describes it with KeyState Disabled', async () => {
    expect((await f.describeKey(DISABLED_KEY_ID)).KeyState).toBe('Disabled');
  });

  it('when the key does not exist, it answers 404 Forbidden.KeyNotFound', async () => {
    expectError(await f.call('DescribeKey', { KeyId: '99999999-2222-4333-8444-555555555555' }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DescribeKey', { KeyId: 'key-doesnotexist0000000000' }), 404, 'Forbidden.KeyNotFound');
  });

  it('when the ARN names another region or account, it answers 404 Forbidden.KeyNotFound', async () => {
    expectError(await f.call('DescribeKey', { KeyId: `acs:kms:cn-shanghai:${ACCOUNT_ID}:key/${KEY_ID}` }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DescribeKey', { KeyId: `acs:kms:${REGION}:9999999999999999:key/${KEY_ID}` }), 404, 'Forbidden.KeyNotFound');
  });

  it('when the alias does not exist, it answers 404 Forbidden.AliasNotFound', async () => {
    expectError(await f.call('DescribeKey', { KeyId: 'alias/nope' }), 404, 'Forbidden.AliasNotFound');
  });

  it('when KeyId is missing, it answers 400 MissingParameter', async () => {
    expectError(await f.call('DescribeKey'), 400, 'MissingParameter', names('KeyId'));
  });

  it('when called over V3 (ACS3-HMAC-SHA256), it answers the same', async () => {
    const r = await f.call('DescribeKey', { KeyId: ALIAS }, { v3: true });
    expect(r.status).toBe(200);
    expect(r.body.KeyMetadata.KeyId).toBe(KEY_ID);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: ListKeys', () => {
  let f: Fixture;
  const created: string[] = [];
  const seeded = [KEY_ID, DISABLED_KEY_ID, OTHER_KEY_ID];
  beforeAll(async () => {
    f = await fixture();
    for (let i = 0; i < 25; i++) created.push((await f.createKey()).KeyId);
  });

  it('when called without paging, it returns page 1 of 10 with TotalCount, each key as {KeyId, KeyArn}', async () => {
    const body = await f.ok('ListKeys');
    expect(body).toMatchObject({ PageNumber: 1, PageSize: 10, TotalCount: 28 });
    expect(body.Keys.Key).toHaveLength(10);
    for (const key of body.Keys.Key) {
      expect(Object.keys(key).sort()).toEqual(['KeyArn', 'KeyId']);
      expect(key.KeyArn).toBe(keyArnOf(key.KeyId));
    }
  });

  it('when paged through 10 at a time, every key appears exactly once', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const body = await f.ok('ListKeys', { PageNumber: String(page), PageSize: '10' });
      expect(body).toMatchObject({ PageNumber: page, PageSize: 10, TotalCount: 28 });
      sizes.push(body.Keys.Key.length);
      seen.push(...body.Keys.Key.map((k: { KeyId: string }) => k.KeyId));
    }
    expect(sizes).toEqual([10, 10, 8]);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...created, ...seeded].sort());
  });

  it.each([1, 3, 7, 27, 28, 100])('when paged through with PageSize %i, every key appears exactly once', async (size) => {
    const seen: string[] = [];
    for (let page = 1; page <= Math.ceil(28 / size); page++) {
      const body = await f.ok('ListKeys', { PageNumber: String(page), PageSize: String(size) });
      expect(body.Keys.Key.length).toBe(Math.min(size, 28 - (page - 1) * size));
      seen.push(...body.Keys.Key.map((k: { KeyId: string }) => k.KeyId));
    }
    expect([...seen].sort()).toEqual([...created, ...seeded].sort());
  });

  it.each([
    ['PageSize', '0'],
    ['PageSize', '101'],
    ['PageSize', '-1'],
    ['PageSize', 'ten'],
    ['PageNumber', '0'],
    ['PageNumber', '1.5'],
  ])('when %s is %s, it answers 400 InvalidParameter naming it', async (parameter, value) => {
    expectError(await f.call('ListKeys', { [parameter]: value }), 400, 'InvalidParameter', names(parameter));
  });

  it.each(['4', '1000'])('when PageNumber %s is past the end, it answers an empty page with TotalCount', async (page) => {
    const body = await f.ok('ListKeys', { PageNumber: page, PageSize: '10' });
    expect(body).toMatchObject({ PageNumber: Number(page), PageSize: 10, TotalCount: 28 });
    expect(body.Keys.Key).toEqual([]);
  });

  it('when a key is Disabled or PendingDeletion, it is still listed', async () => {
    await f.ok('ScheduleKeyDeletion', { KeyId: created[0]!, PendingWindowInDays: '7' });
    const ids = await allKeyIds(f);
    expect(ids).toContain(DISABLED_KEY_ID);
    expect(ids).toContain(created[0]);
    await f.ok('CancelKeyDeletion', { KeyId: created[0]! });
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: CreateKeyVersion, ListKeyVersions, DescribeKeyVersion', () => {
  const clock = manualClock('2031-06-01T00:00:00.250Z');
  let f: Fixture;
  let key: KeyMetadata;
  beforeAll(async () => {
    f = await fixture({ now: clock.now });
    key = await f.createKey();
    await f.ok('CreateAlias', { AliasName: 'alias/versions', KeyId: key.KeyId });
  });

  it('when called, it returns the new KeyVersion, which becomes the primary; old blobs still decrypt and new ones use it', async () => {
    const before = await dataKey(f, key.KeyId, { purpose: 'old' });
    expect(before.keyVersionId).toBe(key.PrimaryKeyVersion);

    clock.advance(1000);
    const body = await f.ok('CreateKeyVersion', { KeyId: key.KeyId });
    const version = body.KeyVersion;
    expect(Object.keys(version).sort()).toEqual(['CreationDate', 'KeyId', 'KeyVersionId']);
    expect(version.KeyId).toBe(key.KeyId);
    expect(version.KeyVersionId).toMatch(UUID);
    expect(version.KeyVersionId).not.toBe(key.PrimaryKeyVersion);
    expect(version.CreationDate).toBe(clock.iso());

    const described = await f.describeKey(key.KeyId);
    expect(described.PrimaryKeyVersion).toBe(version.KeyVersionId);
    expect(described.LastRotationDate).toBe(version.CreationDate);
    expect(described.CreationDate).toBe(key.CreationDate);

    const old = await f.ok('Decrypt', { CiphertextBlob: before.blob, EncryptionContext: JSON.stringify({ purpose: 'old' }) });
    expect(old).toMatchObject({ KeyId: key.KeyId, KeyVersionId: key.PrimaryKeyVersion, Plaintext: before.plaintext });

    const after = await dataKey(f, key.KeyId);
    expect(after.keyVersionId).toBe(version.KeyVersionId);
    expect(await f.ok('Decrypt', { CiphertextBlob: after.blob })).toMatchObject({ KeyVersionId: version.KeyVersionId, Plaintext: after.plaintext });
  });

  it('when the key is named by alias, the version is added to the key it names', async () => {
    clock.advance(1000);
    const version = (await f.ok('CreateKeyVersion', { KeyId: 'alias/versions' })).KeyVersion;
    expect(version.KeyId).toBe(key.KeyId);
    expect((await f.describeKey(key.KeyId)).PrimaryKeyVersion).toBe(version.KeyVersionId);
  });

  it('when versions were added, ListKeyVersions lists them all, oldest first, with paging', async () => {
    clock.advance(1000);
    const last = (await f.ok('CreateKeyVersion', { KeyId: key.KeyId })).KeyVersion;
    const body = await f.ok('ListKeyVersions', { KeyId: key.KeyId, PageSize: '100' });
    expect(body).toMatchObject({ TotalCount: 4, PageNumber: 1, PageSize: 100 });
    const versions = body.KeyVersions.KeyVersion as Array<{ KeyId: string; KeyVersionId: string; CreationDate: string }>;
    expect(versions).toHaveLength(4);
    expect(versions[0]!.KeyVersionId).toBe(key.PrimaryKeyVersion);
    expect(versions[3]).toEqual(last);
    const dates = versions.map((v) => v.CreationDate);
    expect(dates).toEqual([...dates].sort());
    expect(new Set(dates).size).toBe(4);
    for (const v of versions) expect(v.KeyId).toBe(key.KeyId);

    const page2 = await f.ok('ListKeyVersions', { KeyId: 'alias/versions', PageSize: '3', PageNumber: '2' });
    expect(page2).toMatchObject({ TotalCount: 4, PageNumber: 2, PageSize: 3 });
    expect(page2.KeyVersions.KeyVersion).toEqual([versions[3]]);
    expect((await f.ok('ListKeyVersions', { KeyId: key.KeyId })).PageSize).toBe(10);
    expectError(await f.call('ListKeyVersions', { KeyId: key.KeyId, PageSize: '101' }), 400, 'InvalidParameter', names('PageSize'));
  });

  it('when several versions are created within one second, ListKeyVersions still lists them in creation order', async () => {
    clock.set(Date.parse('2031-06-02T00:00:00.100Z'));
    const k = await f.createKey();
    const made = [k.PrimaryKeyVersion];
    for (let i = 0; i < 6; i++) {
      clock.advance(100);
      made.push((await f.ok('CreateKeyVersion', { KeyId: k.KeyId })).KeyVersion.KeyVersionId);
    }
    const listed = (await f.ok('ListKeyVersions', { KeyId: k.KeyId })).KeyVersions.KeyVersion as Array<{ KeyVersionId: string; CreationDate: string }>;
    expect(listed.map((v) => v.CreationDate)).toEqual(Array(7).fill('2031-06-02T00:00:00Z'));
    expect(listed.map((v) => v.KeyVersionId)).toEqual(made);
    expect((await f.describeKey(k.KeyId)).PrimaryKeyVersion).toBe(made[6]);
  });

  it('when the seeded key is listed, its one seeded version is returned', async () => {
    const body = await f.ok('ListKeyVersions', { KeyId: KEY_ID });
    expect(body.TotalCount).toBe(1);
    expect(body.KeyVersions.KeyVersion).toEqual([{ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, CreationDate: expect.stringMatching(ISO_SECONDS) }]);
  });

  it('when DescribeKeyVersion names a version of the key, it returns {KeyId, KeyVersionId, CreationDate}', async () => {
    const versions = (await f.ok('ListKeyVersions', { KeyId: key.KeyId })).KeyVersions.KeyVersion as Array<Record<string, string>>;
    for (const v of versions) {
      expect((await f.ok('DescribeKeyVersion', { KeyId: key.KeyId, KeyVersionId: v.KeyVersionId! })).KeyVersion).toEqual(v);
      expect((await f.ok('DescribeKeyVersion', { KeyId: 'alias/versions', KeyVersionId: v.KeyVersionId! })).KeyVersion).toEqual(v);
    }
  });

  it('when DescribeKeyVersion names an unknown version, it answers 404 Forbidden.KeyVersionNotFound', async () => {
    expectError(await f.call('DescribeKeyVersion', { KeyId: key.KeyId, KeyVersionId: randomUUID() }), 404, 'Forbidden.KeyVersionNotFound');
    expectError(await f.call('DescribeKeyVersion', { KeyId: key.KeyId, KeyVersionId: 'not-a-version' }), 404, 'Forbidden.KeyVersionNotFound');
  });

  it('when DescribeKeyVersion names a version of another key, it answers 404 Forbidden.KeyVersionNotFound', async () => {
    expectError(await f.call('DescribeKeyVersion', { KeyId: key.KeyId, KeyVersionId: KEY_VERSION_ID }), 404, 'Forbidden.KeyVersionNotFound');
  });

  it('when a required parameter is missing, it answers 400 MissingParameter', async () => {
    expectError(await f.call('DescribeKeyVersion', { KeyId: key.KeyId }), 400, 'MissingParameter', names('KeyVersionId'));
    expectError(await f.call('CreateKeyVersion'), 400, 'MissingParameter', names('KeyId'));
    expectError(await f.call('ListKeyVersions'), 400, 'MissingParameter', names('KeyId'));
  });

  it('when the key does not exist, each answers 404 Forbidden.KeyNotFound', async () => {
    const missing = 'key-missing000000000000000';
    expectError(await f.call('CreateKeyVersion', { KeyId: missing }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('ListKeyVersions', { KeyId: missing }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DescribeKeyVersion', { KeyId: missing, KeyVersionId: KEY_VERSION_ID }), 404, 'Forbidden.KeyNotFound');
  });

  it('when the key is PendingDeletion, CreateKeyVersion answers 409 Rejected.PendingDeletion and adds nothing', async () => {
    const doomed = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: doomed.KeyId, PendingWindowInDays: '7' });
    expectError(await f.call('CreateKeyVersion', { KeyId: doomed.KeyId }), 409, 'Rejected.PendingDeletion');
    expect((await f.ok('ListKeyVersions', { KeyId: doomed.KeyId })).TotalCount).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: UpdateRotationPolicy', () => {
  const clock = manualClock('2031-07-01T12:00:00.000Z');
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({ now: clock.now });
  });

  it('when turned on with RotationInterval 30d, DescribeKey shows Enabled, "2592000s" and NextRotationDate creation + 30 days', async () => {
    const key = await f.createKey();
    clock.advance(5000);
    const body = await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    expect(Object.keys(body)).toEqual(['RequestId']);
    expect(await f.describeKey(key.KeyId)).toMatchObject({
      AutomaticRotation: 'Enabled',
      RotationInterval: '2592000s',
      NextRotationDate: plus(key.CreationDate, 30 * DAY_MS),
    });
  });

  it('when turned on after a rotation, NextRotationDate counts from the last rotation', async () => {
    const key = await f.createKey();
    clock.advance(3 * DAY_MS);
    const version = (await f.ok('CreateKeyVersion', { KeyId: key.KeyId })).KeyVersion;
    await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '604800s' });
    const m = await f.describeKey(key.KeyId);
    expect(m.LastRotationDate).toBe(version.CreationDate);
    expect(m.NextRotationDate).toBe(plus(version.CreationDate, 7 * DAY_MS));
  });

  it('when turned off, AutomaticRotation is Disabled with no NextRotationDate; turned on again without an interval, it keeps the interval', async () => {
    const key = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '45d' });
    await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'false' });
    const off = await f.describeKey(key.KeyId);
    expect(off.AutomaticRotation).toBe('Disabled');
    expect(off.NextRotationDate ?? '').toBe('');
    expect(off.KeyState).toBe('Enabled');

    await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true' });
    const on = await f.describeKey(key.KeyId);
    expect(on).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: `${45 * 86400}s`, NextRotationDate: plus(key.CreationDate, 45 * DAY_MS) });
  });

  it('when turned on without an interval on a key that never had one, the interval is 365 days', async () => {
    const key = await f.createKey();
    await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true' });
    expect(await f.describeKey(key.KeyId)).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '31536000s' });
  });

  it('when the interval changes, the new interval applies', async () => {
    const key = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    await f.ok('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: '10d' });
    expect(await f.describeKey(key.KeyId)).toMatchObject({ RotationInterval: '864000s', NextRotationDate: plus(key.CreationDate, 10 * DAY_MS) });
  });

  it.each(['6d', '731d', 'abc'])(
    'when RotationInterval is %s, it answers 400 InvalidParameter naming RotationInterval and changes nothing',
    async (interval) => {
      const key = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '30d' });
      expectError(
        await f.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true', RotationInterval: interval }),
        400,
        'InvalidParameter',
        names('RotationInterval'),
      );
      expect(await f.describeKey(key.KeyId)).toEqual(key);
    },
  );

  it('when EnableAutomaticRotation is missing or not a boolean, it answers 400 naming it', async () => {
    expectError(await f.call('UpdateRotationPolicy', { KeyId: KEY_ID }), 400, 'MissingParameter', names('EnableAutomaticRotation'));
    expectError(
      await f.call('UpdateRotationPolicy', { KeyId: KEY_ID, EnableAutomaticRotation: '1' }),
      400,
      'InvalidParameter',
      names('EnableAutomaticRotation'),
    );
  });

  it('when the key is Disabled, the policy can still be changed', async () => {
    await f.ok('UpdateRotationPolicy', { KeyId: DISABLED_KEY_ID, EnableAutomaticRotation: 'true', RotationInterval: '7d' });
    expect(await f.describeKey(DISABLED_KEY_ID)).toMatchObject({ KeyState: 'Disabled', AutomaticRotation: 'Enabled', RotationInterval: '604800s' });
  });

  it('when the key is PendingDeletion, it answers 409 Rejected.PendingDeletion', async () => {
    const key = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    expectError(await f.call('UpdateRotationPolicy', { KeyId: key.KeyId, EnableAutomaticRotation: 'true' }), 409, 'Rejected.PendingDeletion');
    expect((await f.describeKey(key.KeyId)).AutomaticRotation).toBe('Disabled');
  });
});

// ---------------------------------------------------------------------------------------------

/** Every cryptographic call on a key, expected to be refused with one code. */
async function expectCryptoRefused(f: Fixture, keyId: string, blob: string, status: number, code: string): Promise<void> {
  expectError(await f.call('GenerateDataKey', { KeyId: keyId }), status, code);
  expectError(await f.call('GenerateDataKeyWithoutPlaintext', { KeyId: keyId }), status, code);
  expectError(await f.call('Encrypt', { KeyId: keyId, Plaintext: 'x' }), status, code);
  expectError(await f.call('Decrypt', { CiphertextBlob: blob }), status, code);
  // As the source of a ReEncrypt, and as its destination.
  expectError(await f.call('ReEncrypt', { CiphertextBlob: blob, DestinationKeyId: KEY_ID }), status, code);
  const other = (await f.ok('Encrypt', { KeyId: KEY_ID, Plaintext: 'x' })).CiphertextBlob;
  expectError(await f.call('ReEncrypt', { CiphertextBlob: other, DestinationKeyId: keyId }), status, code);
}

describe('Action: EnableKey / DisableKey', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it('when a key is disabled, every cryptographic call on it (Decrypt too) answers 409 Rejected.Disabled', async () => {
    const key = await f.createKey();
    const { blob } = await dataKey(f, key.KeyId);
    expect(Object.keys(await f.ok('DisableKey', { KeyId: key.KeyId }))).toEqual(['RequestId']);
    expect((await f.describeKey(key.KeyId)).KeyState).toBe('Disabled');
    await expectCryptoRefused(f, key.KeyId, blob, 409, 'Rejected.Disabled');
  });

  it('when a disabled key is enabled again, its old blobs decrypt and it encrypts again', async () => {
    const key = await f.createKey();
    const before = await dataKey(f, key.KeyId);
    await f.ok('DisableKey', { KeyId: key.KeyId });
    expectError(await f.call('Decrypt', { CiphertextBlob: before.blob }), 409, 'Rejected.Disabled');
    await f.ok('EnableKey', { KeyId: key.KeyId });
    expect((await f.describeKey(key.KeyId)).KeyState).toBe('Enabled');
    expect((await f.ok('Decrypt', { CiphertextBlob: before.blob })).Plaintext).toBe(before.plaintext);
    const after = await dataKey(f, key.KeyId);
    expect((await f.ok('Decrypt', { CiphertextBlob: after.blob })).Plaintext).toBe(after.plaintext);
  });

  it('when EnableKey or DisableKey is repeated, each repeat answers 200 and the state stays', async () => {
    const key = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    await f.ok('EnableKey', { KeyId: key.KeyId });
    await f.ok('EnableKey', { KeyId: key.KeyId });
    expect(await f.describeKey(key.KeyId)).toEqual(key);
    await f.ok('DisableKey', { KeyId: key.KeyId });
    await f.ok('DisableKey', { KeyId: key.KeyId });
    // Only the state changed; the rotation policy and everything else is kept.
    expect(await f.describeKey(key.KeyId)).toEqual({ ...key, KeyState: 'Disabled' });
  });

  it('when the seeded Disabled key is enabled, it can be used', async () => {
    await f.ok('EnableKey', { KeyId: 'alias/disabled' });
    expect((await f.describeKey(DISABLED_KEY_ID)).KeyState).toBe('Enabled');
    await dataKey(f, DISABLED_KEY_ID);
    await f.ok('DisableKey', { KeyId: DISABLED_KEY_ID });
  });

  it('when a key is disabled, the management Actions that do not use it still work on it', async () => {
    const key = await f.createKey();
    await f.ok('DisableKey', { KeyId: key.KeyId });
    await f.ok('CreateAlias', { AliasName: 'alias/on-disabled', KeyId: key.KeyId });
    expect((await f.describeKey('alias/on-disabled')).KeyState).toBe('Disabled');
    expect((await f.ok('ListKeyVersions', { KeyId: key.KeyId })).TotalCount).toBe(1);
  });

  it('when the key does not exist, it answers 404 Forbidden.KeyNotFound', async () => {
    expectError(await f.call('EnableKey', { KeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DisableKey', { KeyId: 'alias/missing' }), 404, 'Forbidden.AliasNotFound');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: ScheduleKeyDeletion', () => {
  const clock = manualClock('2031-08-01T08:30:15.500Z');
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({ now: clock.now });
  });

  it.each([7, 30, 366])('when PendingWindowInDays is %i, the key is PendingDeletion with DeleteDate now + that many days', async (days) => {
    const key = await f.createKey();
    clock.advance(60_000);
    const body = await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: String(days) });
    expect(Object.keys(body)).toEqual(['RequestId']);
    const m = await f.describeKey(key.KeyId);
    expect(m.KeyState).toBe('PendingDeletion');
    expect(m.DeleteDate).toMatch(ISO_SECONDS);
    expect(m.DeleteDate).toBe(isoSeconds(clock.now() + days * DAY_MS));
  });

  it.each(['6', '367', '0', '-7', 'seven', '7.5'])(
    'when PendingWindowInDays is %s, it answers 400 InvalidParameter naming it and the key stays Enabled',
    async (value) => {
      const key = await f.createKey();
      expectError(await f.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: value }), 400, 'InvalidParameter', names('PendingWindowInDays'));
      expect((await f.describeKey(key.KeyId)).KeyState).toBe('Enabled');
    },
  );

  it('when PendingWindowInDays is missing, it answers 400 MissingParameter naming it', async () => {
    const key = await f.createKey();
    expectError(await f.call('ScheduleKeyDeletion', { KeyId: key.KeyId }), 400, 'MissingParameter', names('PendingWindowInDays'));
    expect((await f.describeKey(key.KeyId)).KeyState).toBe('Enabled');
  });

  it('when the key is PendingDeletion, every cryptographic call (Decrypt too) answers 409 Rejected.PendingDeletion', async () => {
    const key = await f.createKey();
    const { blob } = await dataKey(f, key.KeyId);
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    await expectCryptoRefused(f, key.KeyId, blob, 409, 'Rejected.PendingDeletion');
  });

  it('when the key is PendingDeletion, EnableKey and DisableKey answer 409 Rejected.StateModifiedFailed and change nothing', async () => {
    const key = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '10' });
    const pending = await f.describeKey(key.KeyId);
    expectError(await f.call('EnableKey', { KeyId: key.KeyId }), 409, 'Rejected.StateModifiedFailed');
    expectError(await f.call('DisableKey', { KeyId: key.KeyId }), 409, 'Rejected.StateModifiedFailed');
    expect(await f.describeKey(key.KeyId)).toEqual(pending);
  });

  it('when the key is already PendingDeletion, scheduling again answers 409 and keeps the first DeleteDate', async () => {
    const key = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    const first = (await f.describeKey(key.KeyId)).DeleteDate;
    clock.advance(DAY_MS);
    expectError(await f.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '30' }), 409, 'Rejected.StateModifiedFailed');
    expect((await f.describeKey(key.KeyId)).DeleteDate).toBe(first);
  });

  it('when the key is PendingDeletion, CreateAlias and UpdateAlias to it answer 409 Rejected.PendingDeletion', async () => {
    const key = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    expectError(await f.call('CreateAlias', { AliasName: 'alias/to-pending', KeyId: key.KeyId }), 409, 'Rejected.PendingDeletion');
    await f.ok('CreateAlias', { AliasName: 'alias/to-pending', KeyId: KEY_ID });
    expectError(await f.call('UpdateAlias', { AliasName: 'alias/to-pending', KeyId: key.KeyId }), 409, 'Rejected.PendingDeletion');
    expect((await f.describeKey('alias/to-pending')).KeyId).toBe(KEY_ID);
  });

  it('when a Disabled key is scheduled, it becomes PendingDeletion', async () => {
    const key = await f.createKey();
    await f.ok('DisableKey', { KeyId: key.KeyId });
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    expect((await f.describeKey(key.KeyId)).KeyState).toBe('PendingDeletion');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: CancelKeyDeletion', () => {
  const clock = manualClock('2031-09-01T00:00:00.000Z');
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({ now: clock.now });
  });

  it('when an Enabled key pending deletion is cancelled, it is Enabled again, without DeleteDate, and its blobs decrypt', async () => {
    const key = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    const before = await dataKey(f, key.KeyId);
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    clock.advance(6 * DAY_MS);
    expect(Object.keys(await f.ok('CancelKeyDeletion', { KeyId: key.KeyId }))).toEqual(['RequestId']);
    const m = await f.describeKey(key.KeyId);
    expect(m).toEqual({ ...key, DeleteDate: '' });
    expect((await f.ok('Decrypt', { CiphertextBlob: before.blob })).Plaintext).toBe(before.plaintext);
    await dataKey(f, key.KeyId);
  });

  it('when a Disabled key pending deletion is cancelled, it is Enabled, as Alibaba documents ("the CMK returns to the Enabled state")', async () => {
    const key = await f.createKey();
    await f.ok('DisableKey', { KeyId: key.KeyId });
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    await f.ok('CancelKeyDeletion', { KeyId: key.KeyId });
    expect(await f.describeKey(key.KeyId)).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
  });

  it.each(['Enabled', 'Disabled'])('when the key is %s (not pending deletion), it answers 409 Rejected.StateModifiedFailed', async (state) => {
    const key = await f.createKey();
    if (state === 'Disabled') await f.ok('DisableKey', { KeyId: key.KeyId });
    expectError(await f.call('CancelKeyDeletion', { KeyId: key.KeyId }), 409, 'Rejected.StateModifiedFailed');
    expect((await f.describeKey(key.KeyId)).KeyState).toBe(state);
  });

  it('when the key was scheduled and cancelled, it can be scheduled again', async () => {
    const key = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '7' });
    await f.ok('CancelKeyDeletion', { KeyId: key.KeyId });
    await f.ok('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: '8' });
    expect((await f.describeKey(key.KeyId)).DeleteDate).toBe(isoSeconds(clock.now() + 8 * DAY_MS));
  });

  it('when the key does not exist, it answers 404 Forbidden.KeyNotFound', async () => {
    expectError(await f.call('CancelKeyDeletion', { KeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Deletion window: destroyDueKeys (the scheduled deletion)', () => {
  const clock = manualClock('2032-01-10T10:00:00.000Z');
  let f: Fixture;
  let doomed: KeyMetadata;
  let later: KeyMetadata;
  let doomedBlob: { plaintext: string; blob: string };
  let keptBlob: { plaintext: string; blob: string };
  let deleteDate: string;

  beforeAll(async () => {
    f = await fixture({ now: clock.now });
    doomed = await f.createKey();
    await f.ok('CreateKeyVersion', { KeyId: doomed.KeyId });
    await f.ok('CreateAlias', { AliasName: 'alias/doomed', KeyId: doomed.KeyId });
    await f.ok('CreateAlias', { AliasName: 'alias/doomed-too', KeyId: doomed.KeyId });
    doomedBlob = await dataKey(f, doomed.KeyId);
    keptBlob = await dataKey(f, KEY_ID);
    later = await f.createKey();
    await f.ok('ScheduleKeyDeletion', { KeyId: doomed.KeyId, PendingWindowInDays: '7' });
    await f.ok('ScheduleKeyDeletion', { KeyId: later.KeyId, PendingWindowInDays: '30' });
    deleteDate = (await f.describeKey(doomed.KeyId)).DeleteDate;
  });

  it('when the delete date has not come, nothing is destroyed', async () => {
    clock.set(Date.parse(deleteDate) - 1000);
    expect(await destroyDueKeys(f.t.service)).toEqual([]);
    expect((await f.describeKey(doomed.KeyId)).KeyState).toBe('PendingDeletion');
    expect((await f.describeKey('alias/doomed')).KeyId).toBe(doomed.KeyId);
    expect((await f.ok('ListKeyVersions', { KeyId: doomed.KeyId })).TotalCount).toBe(2);
  });

  it('when the delete date has passed, CancelKeyDeletion is refused', async () => {
    clock.set(Date.parse(deleteDate) + 60_000);
    expectError(await f.call('CancelKeyDeletion', { KeyId: doomed.KeyId }), 409, 'Rejected.PendingDeletion');
    expect((await f.describeKey(doomed.KeyId)).KeyState).toBe('PendingDeletion');
  });

  it('when the delete date has passed, the key, its versions and its aliases are destroyed; other keys are untouched', async () => {
    clock.set(Date.parse(deleteDate) + 120_000);
    expect(await destroyDueKeys(f.t.service)).toEqual([doomed.KeyId]);

    expectError(await f.call('DescribeKey', { KeyId: doomed.KeyId }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DescribeKey', { KeyId: 'alias/doomed' }), 404, 'Forbidden.AliasNotFound');
    expectError(await f.call('ListKeyVersions', { KeyId: doomed.KeyId }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('CancelKeyDeletion', { KeyId: doomed.KeyId }), 404, 'Forbidden.KeyNotFound');
    const decrypt = await f.call('Decrypt', { CiphertextBlob: doomedBlob.blob });
    expect(decrypt.status).toBe(404);
    expect(decrypt.body.Plaintext).toBeUndefined();
    expect(await allKeyIds(f)).not.toContain(doomed.KeyId);
    const aliases = ((await f.ok('ListAliases', { PageSize: '100' })).Aliases.Alias as Array<{ AliasName: string }>).map((a) => a.AliasName);
    expect(aliases).not.toContain('alias/doomed');
    expect(aliases).not.toContain('alias/doomed-too');
    // Nothing of it is left in the store.
    for (const prefix of [`keys/${doomed.KeyId}`, `key-versions/${doomed.KeyId}/`, 'aliases/doomed']) expect(await f.t.store.list(prefix)).toEqual([]);

    // Other keys: the seeded key still decrypts, the later one is still pending, aliases of others remain.
    expect((await f.ok('Decrypt', { CiphertextBlob: keptBlob.blob })).Plaintext).toBe(keptBlob.plaintext);
    expect((await f.describeKey(later.KeyId)).KeyState).toBe('PendingDeletion');
    expect(aliases).toContain(ALIAS);
    expect(await allKeyIds(f)).toEqual(expect.arrayContaining([KEY_ID, DISABLED_KEY_ID, OTHER_KEY_ID, later.KeyId]));
  });

  it('when run again, it destroys nothing more; the alias name is free again', async () => {
    expect(await destroyDueKeys(f.t.service)).toEqual([]);
    await f.ok('CreateAlias', { AliasName: 'alias/doomed', KeyId: KEY_ID });
    expect((await f.describeKey('alias/doomed')).KeyId).toBe(KEY_ID);
  });

  it('when the later key’s date passes too, it is destroyed in turn', async () => {
    clock.set(Date.parse((await f.describeKey(later.KeyId)).DeleteDate) + 1000);
    expect(await destroyDueKeys(f.t.service)).toEqual([later.KeyId]);
    expectError(await f.call('DescribeKey', { KeyId: later.KeyId }), 404, 'Forbidden.KeyNotFound');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Automatic rotation: rotateDueKeys (the scheduled rotation)', () => {
  const clock = manualClock('2032-03-01T00:00:00.000Z');
  let f: Fixture;
  let due: KeyMetadata;
  let notYet: KeyMetadata;
  let manual: KeyMetadata;
  let disabled: KeyMetadata;
  let pending: KeyMetadata;
  let dueBlob: { plaintext: string; blob: string };

  beforeAll(async () => {
    f = await fixture({ now: clock.now });
    due = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '7d' });
    notYet = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    manual = await f.createKey();
    disabled = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '7d' });
    await f.ok('DisableKey', { KeyId: disabled.KeyId });
    pending = await f.createKey({ EnableAutomaticRotation: 'true', RotationInterval: '7d' });
    await f.ok('ScheduleKeyDeletion', { KeyId: pending.KeyId, PendingWindowInDays: '30' });
    dueBlob = await dataKey(f, due.KeyId);
  });

  const versionCount = async (keyId: string) => (await f.ok('ListKeyVersions', { KeyId: keyId })).TotalCount as number;

  it('when no key is due, nothing is rotated', async () => {
    clock.advance(7 * DAY_MS - 1000);
    expect(await rotateDueKeys(f.t.service)).toEqual([]);
    expect(await versionCount(due.KeyId)).toBe(1);
  });

  it('when a key’s NextRotationDate has passed, only that Enabled key is rotated and its dates move on', async () => {
    clock.set(Date.parse(due.CreationDate) + 8 * DAY_MS);
    expect(await rotateDueKeys(f.t.service)).toEqual([due.KeyId]);

    const m = await f.describeKey(due.KeyId);
    const versions = (await f.ok('ListKeyVersions', { KeyId: due.KeyId })).KeyVersions.KeyVersion;
    expect(versions).toHaveLength(2);
    expect(m.PrimaryKeyVersion).toBe(versions[1].KeyVersionId);
    expect(m.PrimaryKeyVersion).not.toBe(due.PrimaryKeyVersion);
    expect(m.LastRotationDate).toBe(clock.iso());
    expect(m.NextRotationDate).toBe(isoSeconds(clock.now() + 7 * DAY_MS));
    expect(m).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '604800s', KeyState: 'Enabled', CreationDate: due.CreationDate });

    // New data keys use the new version; the old blob still decrypts.
    expect((await dataKey(f, due.KeyId)).keyVersionId).toBe(m.PrimaryKeyVersion);
    expect((await f.ok('Decrypt', { CiphertextBlob: dueBlob.blob })).Plaintext).toBe(dueBlob.plaintext);

    // The others are left alone.
    for (const other of [notYet, manual, disabled, pending]) {
      expect(await versionCount(other.KeyId)).toBe(1);
      const described = await f.describeKey(other.KeyId);
      expect(described.PrimaryKeyVersion).toBe(other.PrimaryKeyVersion);
      expect(described.LastRotationDate).toBe(other.LastRotationDate);
      expect(described.NextRotationDate).toBe(other.NextRotationDate);
    }
  });

  it('when run again before the next date, it rotates nothing', async () => {
    clock.advance(DAY_MS);
    expect(await rotateDueKeys(f.t.service)).toEqual([]);
    expect(await versionCount(due.KeyId)).toBe(2);
  });

  it('when a Disabled key whose rotation is overdue is enabled, the next run catches up on it', async () => {
    await f.ok('EnableKey', { KeyId: disabled.KeyId });
    expect(await rotateDueKeys(f.t.service)).toEqual([disabled.KeyId]);
    expect(await versionCount(disabled.KeyId)).toBe(2);
    expect((await f.describeKey(disabled.KeyId)).NextRotationDate).toBe(isoSeconds(clock.now() + 7 * DAY_MS));
  });

  it('when the longer interval passes too, both due keys rotate, and a key with rotation turned off never does', async () => {
    clock.set(Date.parse(notYet.CreationDate) + 31 * DAY_MS);
    expect((await rotateDueKeys(f.t.service)).sort()).toEqual([due.KeyId, notYet.KeyId, disabled.KeyId].sort());
    expect(await versionCount(manual.KeyId)).toBe(1);
    expect(await versionCount(pending.KeyId)).toBe(1);
    await f.ok('UpdateRotationPolicy', { KeyId: due.KeyId, EnableAutomaticRotation: 'false' });
    clock.advance(60 * DAY_MS);
    const rotated = await rotateDueKeys(f.t.service);
    expect(rotated).not.toContain(due.KeyId);
    expect(await versionCount(due.KeyId)).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: CreateAlias', () => {
  let f: Fixture;
  let key: KeyMetadata;
  beforeAll(async () => {
    f = await fixture();
    key = await f.createKey();
  });

  it('when called, the alias names the key for DescribeKey and cryptographic calls', async () => {
    const body = await f.ok('CreateAlias', { AliasName: 'alias/payments', KeyId: key.KeyId });
    expect(Object.keys(body)).toEqual(['RequestId']);
    expect((await f.describeKey('alias/payments')).KeyId).toBe(key.KeyId);
    expect((await f.ok('GenerateDataKey', { KeyId: 'alias/payments' })).KeyId).toBe(key.KeyId);
  });

  it('when KeyId is itself an alias or an ARN, the new alias names the key it resolves to', async () => {
    await f.ok('CreateAlias', { AliasName: 'alias/via-alias', KeyId: ALIAS });
    await f.ok('CreateAlias', { AliasName: 'alias/via-arn', KeyId: keyArnOf(OTHER_KEY_ID) });
    expect((await f.describeKey('alias/via-alias')).KeyId).toBe(KEY_ID);
    expect((await f.describeKey('alias/via-arn')).KeyId).toBe(OTHER_KEY_ID);
  });

  it.each(['alias/a', `alias/${'x'.repeat(255)}`, 'alias/team_1/app-2/DB', 'alias/acsx', 'alias/my/acs'])(
    'when AliasName is %s, it is accepted',
    async (name) => {
      await f.ok('CreateAlias', { AliasName: name, KeyId: key.KeyId });
      expect((await f.describeKey(name)).KeyId).toBe(key.KeyId);
    },
  );

  it.each(['alias/acs', 'alias/acs/x', 'alias/acs/kms/key'])(
    'when AliasName is the reserved %s, it answers 400 InvalidParameter naming AliasName',
    async (name) => {
      expectError(await f.call('CreateAlias', { AliasName: name, KeyId: key.KeyId }), 400, 'InvalidParameter', names('AliasName'));
      expectError(await f.call('DescribeKey', { KeyId: name }), 404, 'Forbidden.AliasNotFound');
    },
  );

  it.each(['alias/', 'payments', 'Alias/x', 'alias/with space', 'alias/naïve', 'alias/a.b', 'alias/a*', 'alias/a:b', `alias/${'x'.repeat(256)}`])(
    'when AliasName is %s, it answers 400 InvalidParameter naming AliasName',
    async (name) => {
      expectError(await f.call('CreateAlias', { AliasName: name, KeyId: key.KeyId }), 400, 'InvalidParameter', names('AliasName'));
    },
  );

  it('when the alias exists, it answers 400 AliasAlreadyExists and the alias keeps its key', async () => {
    await f.ok('CreateAlias', { AliasName: 'alias/taken', KeyId: key.KeyId });
    expectError(await f.call('CreateAlias', { AliasName: 'alias/taken', KeyId: OTHER_KEY_ID }), 400, 'AliasAlreadyExists');
    expectError(await f.call('CreateAlias', { AliasName: 'alias/taken', KeyId: key.KeyId }), 400, 'AliasAlreadyExists');
    expectError(await f.call('CreateAlias', { AliasName: ALIAS, KeyId: key.KeyId }), 400, 'AliasAlreadyExists');
    expect((await f.describeKey('alias/taken')).KeyId).toBe(key.KeyId);
    expect((await f.describeKey(ALIAS)).KeyId).toBe(KEY_ID);
  });

  it('when a key gets several aliases, each names it', async () => {
    const k = await f.createKey();
    for (const name of ['alias/multi-1', 'alias/multi-2', 'alias/multi-3']) await f.ok('CreateAlias', { AliasName: name, KeyId: k.KeyId });
    const listed = (await f.ok('ListAliasesByKeyId', { KeyId: k.KeyId })).Aliases.Alias.map((a: { AliasName: string }) => a.AliasName);
    expect(listed).toEqual(['alias/multi-1', 'alias/multi-2', 'alias/multi-3']);
  });

  it('when a parameter is missing, it answers 400 MissingParameter naming it', async () => {
    expectError(await f.call('CreateAlias', { KeyId: key.KeyId }), 400, 'MissingParameter', names('AliasName'));
    expectError(await f.call('CreateAlias', { AliasName: 'alias/no-key' }), 400, 'MissingParameter', names('KeyId'));
  });

  it('when the key does not exist, it answers 404 Forbidden.KeyNotFound and creates no alias', async () => {
    expectError(await f.call('CreateAlias', { AliasName: 'alias/orphan', KeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('DescribeKey', { KeyId: 'alias/orphan' }), 404, 'Forbidden.AliasNotFound');
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: UpdateAlias', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it('when called, it rebinds the alias to the other key for every later call', async () => {
    const a = await f.createKey();
    const b = await f.createKey();
    await f.ok('CreateAlias', { AliasName: 'alias/moving', KeyId: a.KeyId });
    expect((await f.ok('GenerateDataKey', { KeyId: 'alias/moving' })).KeyId).toBe(a.KeyId);

    expect(Object.keys(await f.ok('UpdateAlias', { AliasName: 'alias/moving', KeyId: b.KeyId }))).toEqual(['RequestId']);
    expect((await f.describeKey('alias/moving')).KeyId).toBe(b.KeyId);
    expect((await f.ok('GenerateDataKey', { KeyId: 'alias/moving' })).KeyId).toBe(b.KeyId);
    expect((await f.ok('ListAliasesByKeyId', { KeyId: a.KeyId })).TotalCount).toBe(0);
    expect((await f.ok('ListAliasesByKeyId', { KeyId: b.KeyId })).Aliases.Alias).toEqual([
      { AliasName: 'alias/moving', KeyId: b.KeyId, AliasArn: aliasArnOf('alias/moving') },
    ]);
    // Both keys themselves are untouched.
    expect(await f.describeKey(a.KeyId)).toEqual(a);
    expect(await f.describeKey(b.KeyId)).toEqual(b);
  });

  it('when the alias does not exist, it answers 404 Forbidden.AliasNotFound and creates nothing', async () => {
    expectError(await f.call('UpdateAlias', { AliasName: 'alias/never', KeyId: KEY_ID }), 404, 'Forbidden.AliasNotFound');
    expectError(await f.call('DescribeKey', { KeyId: 'alias/never' }), 404, 'Forbidden.AliasNotFound');
  });

  it('when the new key does not exist, it answers 404 Forbidden.KeyNotFound and the alias keeps its key', async () => {
    expectError(await f.call('UpdateAlias', { AliasName: ALIAS, KeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
    expect((await f.describeKey(ALIAS)).KeyId).toBe(KEY_ID);
  });

  it('when the AliasName is reserved or malformed, it answers 400 InvalidParameter naming AliasName', async () => {
    expectError(await f.call('UpdateAlias', { AliasName: 'alias/acs/x', KeyId: KEY_ID }), 400, 'InvalidParameter', names('AliasName'));
    expectError(await f.call('UpdateAlias', { AliasName: 'nope', KeyId: KEY_ID }), 400, 'InvalidParameter', names('AliasName'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: DeleteAlias', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it('when called, the alias is gone and the key is untouched', async () => {
    const key = await f.createKey();
    await f.ok('CreateAlias', { AliasName: 'alias/short-lived', KeyId: key.KeyId });
    await f.ok('CreateAlias', { AliasName: 'alias/stays', KeyId: key.KeyId });
    const blob = await dataKey(f, 'alias/short-lived');

    expect(Object.keys(await f.ok('DeleteAlias', { AliasName: 'alias/short-lived' }))).toEqual(['RequestId']);
    expectError(await f.call('DescribeKey', { KeyId: 'alias/short-lived' }), 404, 'Forbidden.AliasNotFound');
    expectError(await f.call('GenerateDataKey', { KeyId: 'alias/short-lived' }), 404, 'Forbidden.AliasNotFound');
    expect(await f.describeKey(key.KeyId)).toEqual(key);
    expect((await f.describeKey('alias/stays')).KeyId).toBe(key.KeyId);
    expect((await f.ok('Decrypt', { CiphertextBlob: blob.blob })).Plaintext).toBe(blob.plaintext);
  });

  it('when the alias was deleted, deleting it again answers 404 Forbidden.AliasNotFound and the name can be reused', async () => {
    await f.ok('CreateAlias', { AliasName: 'alias/again', KeyId: KEY_ID });
    await f.ok('DeleteAlias', { AliasName: 'alias/again' });
    expectError(await f.call('DeleteAlias', { AliasName: 'alias/again' }), 404, 'Forbidden.AliasNotFound');
    await f.ok('CreateAlias', { AliasName: 'alias/again', KeyId: OTHER_KEY_ID });
    expect((await f.describeKey('alias/again')).KeyId).toBe(OTHER_KEY_ID);
  });

  it('when AliasName is missing or malformed, it answers 400', async () => {
    expectError(await f.call('DeleteAlias'), 400, 'MissingParameter', names('AliasName'));
    expectError(await f.call('DeleteAlias', { AliasName: 'alias/acs' }), 400, 'InvalidParameter', names('AliasName'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: ListAliases / ListAliasesByKeyId', () => {
  let f: Fixture;
  let key: KeyMetadata;
  const ownNames = Array.from({ length: 12 }, (_, i) => `alias/k${String(i).padStart(2, '0')}`);
  const seededNames = ['alias/disabled', 'alias/other', ALIAS];
  beforeAll(async () => {
    f = await fixture();
    key = await f.createKey();
    // Created out of order: the listing sorts by name.
    for (const name of [...ownNames].reverse()) await f.ok('CreateAlias', { AliasName: name, KeyId: key.KeyId });
  });

  it('when ListAliases is called without paging, it returns page 1 of 10, by name, as {AliasName, KeyId, AliasArn}', async () => {
    const body = await f.ok('ListAliases');
    expect(body).toMatchObject({ TotalCount: 15, PageNumber: 1, PageSize: 10 });
    const page = body.Aliases.Alias as Array<Record<string, string>>;
    expect(page.map((a) => a.AliasName)).toEqual([...ownNames, ...seededNames].sort().slice(0, 10));
    for (const alias of page) {
      expect(Object.keys(alias).sort()).toEqual(['AliasArn', 'AliasName', 'KeyId']);
      expect(alias.AliasArn).toBe(`acs:kms:cn-hangzhou:1234567890123456:${alias.AliasName}`);
    }
  });

  it('when the seeded alias is listed, its AliasArn is acs:kms:cn-hangzhou:1234567890123456:alias/test', async () => {
    const all = (await f.ok('ListAliases', { PageSize: '100' })).Aliases.Alias as Array<Record<string, string>>;
    expect(all.find((a) => a.AliasName === ALIAS)).toEqual({ AliasName: ALIAS, KeyId: KEY_ID, AliasArn: 'acs:kms:cn-hangzhou:1234567890123456:alias/test' });
  });

  it('when paged through 4 at a time, every alias appears exactly once, in name order', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const body = await f.ok('ListAliases', { PageNumber: String(page), PageSize: '4' });
      expect(body.TotalCount).toBe(15);
      seen.push(...body.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName));
    }
    expect(seen).toEqual([...ownNames, ...seededNames].sort());
  });

  it('when the page is past the end, it answers an empty page with TotalCount', async () => {
    const body = await f.ok('ListAliases', { PageNumber: '5', PageSize: '4' });
    expect(body).toMatchObject({ TotalCount: 15, PageNumber: 5, PageSize: 4 });
    expect(body.Aliases.Alias).toEqual([]);
  });

  it.each(['0', '101'])('when PageSize is %s, both answer 400 InvalidParameter naming PageSize', async (size) => {
    expectError(await f.call('ListAliases', { PageSize: size }), 400, 'InvalidParameter', names('PageSize'));
    expectError(await f.call('ListAliasesByKeyId', { KeyId: key.KeyId, PageSize: size }), 400, 'InvalidParameter', names('PageSize'));
  });

  it('when ListAliasesByKeyId is called, it lists only that key’s aliases, by name, paged', async () => {
    const first = await f.ok('ListAliasesByKeyId', { KeyId: key.KeyId });
    expect(first).toMatchObject({ TotalCount: 12, PageNumber: 1, PageSize: 10 });
    expect(first.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual(ownNames.slice(0, 10));
    for (const a of first.Aliases.Alias) expect(a).toEqual({ AliasName: a.AliasName, KeyId: key.KeyId, AliasArn: aliasArnOf(a.AliasName) });
    const third = await f.ok('ListAliasesByKeyId', { KeyId: key.KeyId, PageSize: '5', PageNumber: '3' });
    expect(third.Aliases.Alias.map((a: { AliasName: string }) => a.AliasName)).toEqual(ownNames.slice(10));
    const byAlias = await f.ok('ListAliasesByKeyId', { KeyId: ALIAS });
    expect(byAlias).toMatchObject({ TotalCount: 1, Aliases: { Alias: [{ AliasName: ALIAS, KeyId: KEY_ID, AliasArn: aliasArnOf(ALIAS) }] } });
  });

  it('when the key has no alias, ListAliasesByKeyId answers an empty page', async () => {
    const bare = await f.createKey();
    const body = await f.ok('ListAliasesByKeyId', { KeyId: bare.KeyId });
    expect(body).toMatchObject({ TotalCount: 0, PageNumber: 1, PageSize: 10 });
    expect(body.Aliases.Alias).toEqual([]);
  });

  it('when the key does not exist or KeyId is missing, ListAliasesByKeyId answers 404 / 400', async () => {
    expectError(await f.call('ListAliasesByKeyId', { KeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('ListAliasesByKeyId'), 400, 'MissingParameter', names('KeyId'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('Action: ReEncrypt', () => {
  let f: Fixture;
  const SOURCE = { tenant: 'a', purpose: 'files' };
  const DESTINATION = { tenant: 'b' };
  beforeAll(async () => {
    f = await fixture();
  });

  it('when a blob is re-encrypted to another key and context, the result decrypts there to the same Plaintext', async () => {
    const source = await dataKey(f, KEY_ID, SOURCE);
    const body = await f.ok('ReEncrypt', {
      CiphertextBlob: source.blob,
      SourceEncryptionContext: JSON.stringify(SOURCE),
      DestinationKeyId: 'alias/other',
      DestinationEncryptionContext: JSON.stringify(DESTINATION),
    });
    expect(body.Plaintext).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain(source.plaintext);
    const otherPrimary = (await f.describeKey(OTHER_KEY_ID)).PrimaryKeyVersion;
    expect(body).toMatchObject({ KeyId: OTHER_KEY_ID, KeyVersionId: otherPrimary });
    expect(body.CiphertextBlob).not.toBe(source.blob);

    const decrypted = await f.ok('Decrypt', { CiphertextBlob: body.CiphertextBlob, EncryptionContext: JSON.stringify(DESTINATION) });
    expect(decrypted).toMatchObject({ KeyId: OTHER_KEY_ID, KeyVersionId: otherPrimary, Plaintext: source.plaintext });
    // The new blob is bound to the new context only.
    expectError(await f.call('Decrypt', { CiphertextBlob: body.CiphertextBlob, EncryptionContext: JSON.stringify(SOURCE) }), 400, 'InvalidCiphertext');
    expectError(await f.call('Decrypt', { CiphertextBlob: body.CiphertextBlob }), 400, 'InvalidCiphertext');
    // The old blob is unchanged and still decrypts under the old key.
    expect((await f.ok('Decrypt', { CiphertextBlob: source.blob, EncryptionContext: JSON.stringify(SOURCE) })).Plaintext).toBe(source.plaintext);
  });

  it('when an Encrypt blob is re-encrypted to the same key after a new version, it moves to the new primary version', async () => {
    const key = await f.createKey();
    const encrypted = await f.ok('Encrypt', { KeyId: key.KeyId, Plaintext: 'exact text ✓' });
    const version = (await f.ok('CreateKeyVersion', { KeyId: key.KeyId })).KeyVersion;
    const body = await f.ok('ReEncrypt', { CiphertextBlob: encrypted.CiphertextBlob, DestinationKeyId: key.Arn });
    expect(body).toMatchObject({ KeyId: key.KeyId, KeyVersionId: version.KeyVersionId });
    expect(await f.ok('Decrypt', { CiphertextBlob: body.CiphertextBlob })).toMatchObject({ KeyVersionId: version.KeyVersionId, Plaintext: 'exact text ✓' });
  });

  it('when the SourceEncryptionContext is wrong or missing, it answers 400 InvalidCiphertext', async () => {
    const source = await dataKey(f, KEY_ID, SOURCE);
    for (const context of [{ tenant: 'a' }, { ...SOURCE, tenant: 'A' }, DESTINATION]) {
      const r = await f.call('ReEncrypt', { CiphertextBlob: source.blob, SourceEncryptionContext: JSON.stringify(context), DestinationKeyId: OTHER_KEY_ID });
      expectError(r, 400, 'InvalidCiphertext');
      expect(r.raw).not.toContain(source.plaintext);
    }
    expectError(await f.call('ReEncrypt', { CiphertextBlob: source.blob, DestinationKeyId: OTHER_KEY_ID }), 400, 'InvalidCiphertext');
  });

  it('when the blob is tampered with, it answers 400 InvalidCiphertext', async () => {
    const source = await dataKey(f, KEY_ID);
    expectError(await f.call('ReEncrypt', { CiphertextBlob: flipByte(source.blob, -1), DestinationKeyId: OTHER_KEY_ID }), 400, 'InvalidCiphertext');
  });

  it('when a parameter is missing, it answers 400 MissingParameter naming it', async () => {
    const source = await dataKey(f, KEY_ID);
    expectError(await f.call('ReEncrypt', { CiphertextBlob: source.blob }), 400, 'MissingParameter', names('DestinationKeyId'));
    expectError(await f.call('ReEncrypt', { DestinationKeyId: KEY_ID }), 400, 'MissingParameter', names('CiphertextBlob'));
  });

  it('when the destination key does not exist, it answers 404', async () => {
    const source = await dataKey(f, KEY_ID);
    expectError(await f.call('ReEncrypt', { CiphertextBlob: source.blob, DestinationKeyId: 'key-missing000000000000000' }), 404, 'Forbidden.KeyNotFound');
    expectError(await f.call('ReEncrypt', { CiphertextBlob: source.blob, DestinationKeyId: 'alias/missing' }), 404, 'Forbidden.AliasNotFound');
  });

  it('when DryRun=true, it answers 412 DryRunOperationError and returns no blob', async () => {
    const source = await dataKey(f, KEY_ID);
    const r = await f.call('ReEncrypt', { CiphertextBlob: source.blob, DestinationKeyId: OTHER_KEY_ID, DryRun: 'true' });
    expectError(r, 412, 'DryRunOperationError');
    expect(r.body.CiphertextBlob).toBeUndefined();
  });

  describe('permission on both keys', () => {
    let keyBlob: string;
    let otherBlob: string;
    let onlyKey: Credentials;
    let both: Credentials;
    let decryptEncrypt: Credentials;
    beforeAll(async () => {
      keyBlob = (await dataKey(f, KEY_ID)).blob;
      otherBlob = (await dataKey(f, OTHER_KEY_ID)).blob;
      onlyKey = await accessKeyWith(f, 'testReOnlyKey01', [{ Effect: 'Allow', Action: 'kms:ReEncrypt', Resource: keyArnOf(KEY_ID) }]);
      both = await accessKeyWith(f, 'testReBoth0001', [{ Effect: 'Allow', Action: 'kms:ReEncrypt', Resource: [keyArnOf(KEY_ID), keyArnOf(OTHER_KEY_ID)] }]);
      decryptEncrypt = await accessKeyWith(f, 'testDecEnc0001', [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*' }]);
    });

    it('when the caller may ReEncrypt only on the source key, re-encrypting to another key answers 403 naming the destination', async () => {
      const r = await f.as(onlyKey, 'ReEncrypt', { CiphertextBlob: keyBlob, DestinationKeyId: OTHER_KEY_ID });
      expectForbidden(r, 'ReEncrypt', keyArnOf(OTHER_KEY_ID));
      expect(r.body.CiphertextBlob).toBeUndefined();
    });

    it('when the caller may ReEncrypt only on the destination key, re-encrypting a blob of another key answers 403 naming the source blob’s version', async () => {
      expectForbidden(await f.as(onlyKey, 'ReEncrypt', { CiphertextBlob: otherBlob, DestinationKeyId: KEY_ID }), 'ReEncrypt', { blob: otherBlob });
    });

    it('when the caller may ReEncrypt on the one key involved, or on both keys, it is allowed', async () => {
      expect((await f.as(onlyKey, 'ReEncrypt', { CiphertextBlob: keyBlob, DestinationKeyId: KEY_ID })).status).toBe(200);
      expect((await f.as(both, 'ReEncrypt', { CiphertextBlob: keyBlob, DestinationKeyId: OTHER_KEY_ID })).status).toBe(200);
      expect((await f.as(both, 'ReEncrypt', { CiphertextBlob: otherBlob, DestinationKeyId: KEY_ID })).status).toBe(200);
    });

    it('when the caller may Decrypt and Encrypt but not ReEncrypt, it answers 403 naming kms:ReEncrypt', async () => {
      expectForbidden(await f.as(decryptEncrypt, 'ReEncrypt', { CiphertextBlob: keyBlob, DestinationKeyId: OTHER_KEY_ID }), 'ReEncrypt', { blob: keyBlob });
    });
  });
});

// ---------------------------------------------------------------------------------------------

/** Resources an Action is authorised on, and the fewest parameters that make the call valid. */
interface PolicyCase {
  /** How a denied caller is answered: a 403 naming `*` or the key's ARN, or for a blob its version; or for an alias as if it did not exist. */
  denied: string | 'blob' | { alias: string };
  params(blob: string): Params;
  /** ADMIN's status for the same call when not 200 (an import Action on a key made by the service). */
  allowed?: number;
  /** ADMIN's Code then (default Unsupported.Origin; UnsupportedOperation for an asymmetric Action on the seeded AES key). */
  allowedCode?: string;
}

/** The seeded AES key's version with a SHA-256 digest: the signing Actions get past authorisation to the usage check. */
const SIGNING_ON_AES = { KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSA_PSS_SHA_256', Digest: Buffer.alloc(32, 7).toString('base64') };

const EXPORT_WRAPPING = { PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' };

const POLICY_CASES: Record<string, PolicyCase> = {
  GenerateDataKey: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  GenerateDataKeyWithoutPlaintext: { denied: { alias: ALIAS }, params: () => ({ KeyId: ALIAS }) },
  Encrypt: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, Plaintext: 'x' }) },
  Decrypt: { denied: 'blob', params: (blob) => ({ CiphertextBlob: blob }) },
  ReEncrypt: { denied: 'blob', params: (blob) => ({ CiphertextBlob: blob, DestinationKeyId: OTHER_KEY_ID }) },
  CreateKey: { denied: '*', params: () => ({}) },
  DescribeKey: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  ListKeys: { denied: '*', params: () => ({}) },
  CreateKeyVersion: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  ListKeyVersions: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  DescribeKeyVersion: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID }) },
  UpdateRotationPolicy: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, EnableAutomaticRotation: 'true' }) },
  EnableKey: { denied: keyArnOf(DISABLED_KEY_ID), params: () => ({ KeyId: DISABLED_KEY_ID }) },
  DisableKey: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  ScheduleKeyDeletion: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, PendingWindowInDays: '7' }) },
  CancelKeyDeletion: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  CreateAlias: { denied: keyArnOf(KEY_ID), params: () => ({ AliasName: 'alias/new', KeyId: KEY_ID }) },
  UpdateAlias: { denied: { alias: ALIAS }, params: () => ({ AliasName: ALIAS, KeyId: OTHER_KEY_ID }) },
  DeleteAlias: { denied: { alias: ALIAS }, params: () => ({ AliasName: ALIAS }) },
  ListAliases: { denied: '*', params: () => ({}) },
  ListAliasesByKeyId: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  UpdateKeyDescription: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, Description: 'new' }) },
  SetDeletionProtection: { denied: keyArnOf(KEY_ID), params: () => ({ ProtectedResourceArn: keyArnOf(KEY_ID), EnableDeletionProtection: 'true' }) },
  TagResource: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, Tags: '[{"TagKey":"a","TagValue":"b"}]' }) },
  UntagResource: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, TagKeys: '["a"]' }) },
  ListResourceTags: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }) },
  GetRandomPassword: { denied: '*', params: () => ({}) },
  DescribeRegions: { denied: '*', params: () => ({}) },
  DescribeService: { denied: '*', params: () => ({}) },
  // This fixture keeps no audit records (as the cloud functions): allowed, ADMIN learns that.
  ListAuditEvents: { denied: '*', params: () => ({}), allowed: 400, allowedCode: 'UnsupportedOperation' },
  // The caller's own access key (with the RPC signature AccessKeyId is always the signer's).
  DescribeAccessKey: { denied: `acs:kms:${REGION}:${ACCOUNT_ID}:accesskey/testNothing001`, params: () => ({}) },
  // Secrets: authorised on the secret's ARN (CreateSecret on the name being created) before the store is read;
  // this fixture has no secret, so ADMIN learns it is not there.
  CreateSecret: { denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`, params: () => ({ SecretName: 's', VersionId: 'v1', SecretData: 'x' }) },
  GetSecretValue: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  PutSecretValue: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's', VersionId: 'v2', SecretData: 'x' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  DescribeSecret: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  ListSecrets: { denied: '*', params: () => ({}) },
  ListSecretVersionIds: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  UpdateSecret: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's', Description: 'd' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  UpdateSecretVersionStage: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's', VersionStage: 'x', MoveToVersion: 'v1' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  DeleteSecret: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  RestoreSecret: {
    denied: `acs:kms:${REGION}:${ACCOUNT_ID}:secret/s`,
    params: () => ({ SecretName: 's' }),
    allowed: 404,
    allowedCode: 'Forbidden.ResourceNotFound',
  },
  ExportDataKey: { denied: 'blob', params: (blob) => ({ CiphertextBlob: blob, ...EXPORT_WRAPPING }) },
  GenerateAndExportDataKey: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, ...EXPORT_WRAPPING }) },
  // The seeded keys are Aliyun_KMS: ADMIN's call reaches the origin check (400), a denied one is 403 first.
  GetParametersForImport: {
    denied: keyArnOf(KEY_ID),
    params: () => ({ KeyId: KEY_ID, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
    allowed: 400,
  },
  ImportKeyMaterial: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID, EncryptedKeyMaterial: 'AAAA', ImportToken: 'AAAA' }), allowed: 400 },
  DeleteKeyMaterial: { denied: keyArnOf(KEY_ID), params: () => ({ KeyId: KEY_ID }), allowed: 400 },
  GenerateRandom: { denied: '*', params: () => ({ NumberOfBytes: '16' }) },
  AsymmetricSign: { denied: keyArnOf(KEY_ID), params: () => SIGNING_ON_AES, allowed: 400, allowedCode: 'UnsupportedOperation' },
  AsymmetricVerify: { denied: keyArnOf(KEY_ID), params: () => ({ ...SIGNING_ON_AES, Value: 'AAAA' }), allowed: 400, allowedCode: 'UnsupportedOperation' },
  GetPublicKey: {
    denied: keyArnOf(KEY_ID),
    params: () => ({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID }),
    allowed: 400,
    allowedCode: 'UnsupportedOperation',
  },
  // The seeded keys are symmetric: ADMIN's call reaches the usage check (400), a denied one is 403 first.
  AsymmetricEncrypt: {
    denied: keyArnOf(KEY_ID),
    params: () => ({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: 'AAAA' }),
    allowed: 400,
    allowedCode: 'UnsupportedOperation',
  },
  AsymmetricDecrypt: {
    denied: keyArnOf(KEY_ID),
    params: () => ({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: 'AAAA' }),
    allowed: 400,
    allowedCode: 'UnsupportedOperation',
  },
};

/** The Actions the Alibaba protocol serves (AWS-only ones, such as GenerateDataKeyPair, are denied in their own suites). */
const ALIBABA_ACTIONS = ACTIONS.filter((a) => a.operation.alibaba).map((a) => a.action);

/** A policy that allows nothing this service serves. */
// Allowed nothing (only actions of this service may be named, so a Deny of all says it).
const NOTHING_STATEMENTS = [{ Effect: 'Deny' as const, Action: '*', Resource: '*' }];

describe('Policy coverage: every Action is authorised', () => {
  it('when the table of Actions changes, this suite covers every Action in it', () => {
    expect(Object.keys(POLICY_CASES).sort()).toEqual([...ALIBABA_ACTIONS].sort());
  });

  describe.each(ALIBABA_ACTIONS)('Action: %s', (action) => {
    let f: Fixture;
    let nothing: Credentials;
    let blob: string;
    beforeEach(async () => {
      f = await fixture();
      nothing = await accessKeyWith(f, 'testNothing001', NOTHING_STATEMENTS);
      blob = (await dataKey(f, KEY_ID)).blob;
    });

    it.each(['rpc', 'v3'])(
      'when a caller whose policy allows nothing calls it (%s), it is refused without learning what the key is, and changes nothing',
      async (signing) => {
        const c = POLICY_CASES[action]!;
        const keysBefore = await allKeyIds(f);
        const keyBefore = await f.describeKey(KEY_ID);
        const r = await f.as(nothing, action, c.params(blob), { v3: signing === 'v3' });
        if (typeof c.denied === 'object') expectHiddenAlias(r, action, c.denied.alias);
        else expectForbidden(r, action, c.denied === 'blob' ? { blob } : c.denied);
        expect(r.body.Plaintext).toBeUndefined();
        expect(r.body.KeyMetadata).toBeUndefined();
        expect(await allKeyIds(f)).toEqual(keysBefore);
        expect(await f.describeKey(KEY_ID)).toEqual(keyBefore);
        expect((await f.describeKey(ALIAS)).KeyId).toBe(KEY_ID);
      },
    );

    it('when ADMIN makes the same call, it is allowed (the parameters are valid)', async () => {
      const c = POLICY_CASES[action]!;
      if (action === 'CancelKeyDeletion') await f.ok('ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' });
      const r = await f.call(action, c.params(blob));
      expect(r.status, r.raw).toBe(c.allowed ?? 200);
      if (c.allowed) expect(r.body.Code).toBe(c.allowedCode ?? 'Unsupported.Origin');
    });
  });

  describe('resources: key Actions on the key ARN, CreateKey/ListKeys/ListAliases on *', () => {
    let f: Fixture;
    let keyOnly: Credentials;
    let allKeys: Credentials;
    let createOnly: Credentials;
    beforeAll(async () => {
      f = await fixture();
      keyOnly = await accessKeyWith(f, 'testKeyOnly001', [{ Effect: 'Allow', Action: 'kms:*', Resource: `acs:kms:*:*:key/${KEY_ID}` }]);
      allKeys = await accessKeyWith(f, 'testAllKeys001', [{ Effect: 'Allow', Action: 'kms:*', Resource: 'acs:kms:*:*:key/*' }]);
      createOnly = await accessKeyWith(f, 'testCreateOnly1', [{ Effect: 'Allow', Action: ['kms:CreateKey', 'kms:ListKeys'], Resource: '*' }]);
    });

    it('when a policy allows kms:* on one key ARN, it may DescribeKey that key (by id or alias) but not another', async () => {
      expect((await f.as(keyOnly, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(200);
      expect((await f.as(keyOnly, 'DescribeKey', { KeyId: ALIAS })).status).toBe(200);
      expectForbidden(await f.as(keyOnly, 'DescribeKey', { KeyId: OTHER_KEY_ID }), 'DescribeKey', keyArnOf(OTHER_KEY_ID));
      expectHiddenAlias(await f.as(keyOnly, 'DescribeKey', { KeyId: 'alias/other' }), 'DescribeKey', 'alias/other');
    });

    it('when a policy allows kms:* on one key ARN, it may manage that key but not another', async () => {
      expect((await f.as(keyOnly, 'CreateKeyVersion', { KeyId: KEY_ID })).status).toBe(200);
      expect((await f.as(keyOnly, 'ListKeyVersions', { KeyId: KEY_ID })).status).toBe(200);
      expect((await f.as(keyOnly, 'ListAliasesByKeyId', { KeyId: KEY_ID })).status).toBe(200);
      expect((await f.as(keyOnly, 'CreateAlias', { AliasName: 'alias/key-only', KeyId: KEY_ID })).status).toBe(200);
      expectForbidden(await f.as(keyOnly, 'CreateKeyVersion', { KeyId: OTHER_KEY_ID }), 'CreateKeyVersion', keyArnOf(OTHER_KEY_ID));
      expectForbidden(await f.as(keyOnly, 'DisableKey', { KeyId: OTHER_KEY_ID }), 'DisableKey', keyArnOf(OTHER_KEY_ID));
      expectHiddenAlias(await f.as(keyOnly, 'DeleteAlias', { AliasName: 'alias/other' }), 'DeleteAlias', 'alias/other');
      // UpdateAlias needs the permission on both the alias's key and the new key.
      expectForbidden(await f.as(keyOnly, 'UpdateAlias', { AliasName: 'alias/key-only', KeyId: OTHER_KEY_ID }), 'UpdateAlias', keyArnOf(OTHER_KEY_ID));
      expectHiddenAlias(await f.as(keyOnly, 'UpdateAlias', { AliasName: 'alias/other', KeyId: KEY_ID }), 'UpdateAlias', 'alias/other');
      expect((await f.describeKey('alias/key-only')).KeyId).toBe(KEY_ID);
      expect((await f.describeKey('alias/other')).KeyId).toBe(OTHER_KEY_ID);
    });

    it.each(['CreateKey', 'ListKeys', 'ListAliases'])('when a policy allows kms:* only on key ARNs, %s answers 403 naming resource *', async (action) => {
      expectForbidden(await f.as(keyOnly, action), action, '*');
      expectForbidden(await f.as(allKeys, action), action, '*');
    });

    it('when a policy allows CreateKey on *, it may create a key but not describe it', async () => {
      const r = await f.as(createOnly, 'CreateKey');
      expect(r.status).toBe(200);
      const keyId = r.body.KeyMetadata.KeyId as string;
      expect((await f.as(createOnly, 'ListKeys', { PageSize: '100' })).body.Keys.Key.map((k: { KeyId: string }) => k.KeyId)).toContain(keyId);
      expectForbidden(await f.as(createOnly, 'DescribeKey', { KeyId: keyId }), 'DescribeKey', keyArnOf(keyId));
      expect((await f.as(allKeys, 'DescribeKey', { KeyId: keyId })).status).toBe(200);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('XML output of nested responses', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
    for (let i = 0; i < 4; i++) await f.createKey();
  });

  const xml = async (action: string, params: Params = {}) => {
    const r = await f.call(action, params, { format: 'XML' });
    expect(r.status, r.raw).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/xml/);
    expect(r.raw.startsWith(XML_DECLARATION)).toBe(true);
    expect(XMLValidator.validate(r.raw)).toBe(true);
    return parseXml(r.raw).KMS as Record<string, any>;
  };

  it('when DescribeKey answers in XML, KeyMetadata is one well-formed element with the same fields as the JSON', async () => {
    const json = await f.describeKey(KEY_ID);
    const kms = await xml('DescribeKey', { KeyId: KEY_ID });
    expect(typeof kms.RequestId).toBe('string');
    expect(kms.KeyMetadata).toEqual(json);
  });

  it('when CreateKey answers in XML, markup characters in the Description are escaped and round-trip', async () => {
    const description = `a <b>&amp; "c" 'd' ]]> </KeyMetadata>`;
    const kms = await xml('CreateKey', { Description: description, EnableAutomaticRotation: 'true', RotationInterval: '30d' });
    expect(kms.KeyMetadata.Description).toBe(description);
    expect(kms.KeyMetadata.RotationInterval).toBe('2592000s');
    expect(await f.describeKey(kms.KeyMetadata.KeyId)).toMatchObject({ Description: description });
  });

  it('when ListKeys answers in XML, Keys.Key is a list of {KeyId, KeyArn} elements with the paging fields', async () => {
    const total = (await f.ok('ListKeys')).TotalCount as number;
    expect(total).toBeGreaterThan(3);
    const kms = await xml('ListKeys', { PageSize: '3' });
    expect(kms).toMatchObject({ TotalCount: String(total), PageNumber: '1', PageSize: '3' });
    expect(kms.Keys.Key).toHaveLength(3);
    const json = (await f.ok('ListKeys', { PageSize: '3' })).Keys.Key;
    expect(kms.Keys.Key).toEqual(json);
  });

  it('when ListKeys answers an empty page in XML, the document is still well-formed', async () => {
    const total = (await f.ok('ListKeys')).TotalCount as number;
    const kms = await xml('ListKeys', { PageNumber: '9' });
    expect(kms.TotalCount).toBe(String(total));
    expect(kms.Keys?.Key ?? []).toEqual([]);
  });

  it('when CreateKeyVersion, ListKeyVersions and DescribeKeyVersion answer in XML, KeyVersion elements are well-formed', async () => {
    const created = await xml('CreateKeyVersion', { KeyId: KEY_ID });
    expect(created.KeyVersion.KeyId).toBe(KEY_ID);
    expect(created.KeyVersion.KeyVersionId).toMatch(UUID);
    const listed = await xml('ListKeyVersions', { KeyId: KEY_ID });
    expect(listed.TotalCount).toBe('2');
    expect(listed.KeyVersions.KeyVersion).toHaveLength(2);
    expect(listed.KeyVersions.KeyVersion[1]).toEqual(created.KeyVersion);
    const described = await xml('DescribeKeyVersion', { KeyId: KEY_ID, KeyVersionId: created.KeyVersion.KeyVersionId });
    expect(described.KeyVersion).toEqual(created.KeyVersion);
  });

  it('when ListAliases and ListAliasesByKeyId answer in XML, Aliases.Alias elements carry AliasName, KeyId, AliasArn', async () => {
    const all = await xml('ListAliases');
    expect(all.TotalCount).toBe('3');
    expect(all.Aliases.Alias).toContainEqual({ AliasName: ALIAS, KeyId: KEY_ID, AliasArn: aliasArnOf(ALIAS) });
    const one = await xml('ListAliasesByKeyId', { KeyId: KEY_ID });
    expect(one.Aliases.Alias).toEqual({ AliasName: ALIAS, KeyId: KEY_ID, AliasArn: aliasArnOf(ALIAS) });
  });

  it('when a management Action with no fields answers in XML, it is a well-formed <KMS> with a RequestId', async () => {
    const kms = await xml('EnableKey', { KeyId: KEY_ID });
    expect(Object.keys(kms)).toEqual(['RequestId']);
  });
});
