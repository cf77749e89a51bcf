import { createPublicKey, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { openEnvelope, parseEnvelope } from '../../lib/crypto/envelope.js';
import { entryNames } from '../../lib/keyring/records.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN, CONSUMER, createTestService, KEY_ID, type TestService } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { wrapMaterial } from '../../lib/crypto/import-wrap.js';
import { expectError } from './support.js';

/* Bring your own key: CreateKey Origin=EXTERNAL, GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial, expiry. */

type Algorithm = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1' | 'RSAES_PKCS1_V1_5';
const ALGORITHMS: Algorithm[] = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'];
const DAY_MS = 86_400_000;

let clock: number;
let t: TestService;
beforeEach(async () => {
  clock = Date.parse('2026-06-01T10:00:00Z');
  t = await createTestService({ now: () => clock });
});

const call = (action: string, params: Record<string, string>, who = ADMIN) => t.call(signedRpcRequest(who, action, params, { timestamp: isoSeconds(clock) }));
async function ok(action: string, params: Record<string, string> = {}): Promise<Record<string, any>> {
  const r = await call(action, params);
  expect(r.status, `${action}: ${r.raw}`).toBe(200);
  return r.body;
}
const describeKey = async (keyId: string) => (await ok('DescribeKey', { KeyId: keyId })).KeyMetadata as Record<string, string>;
const externalKey = async () => (await ok('CreateKey', { Origin: 'EXTERNAL', Description: 'byok' })).KeyMetadata.KeyId as string;

async function parameters(keyId: string, algorithm: Algorithm = 'RSAES_OAEP_SHA_256') {
  return (await ok('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' })) as {
    KeyId: string;
    ImportToken: string;
    PublicKey: string;
    TokenExpireTime: string;
  };
}

async function importMaterial(keyId: string, material: Buffer, options: { algorithm?: Algorithm; expireUnix?: number } = {}) {
  const p = await parameters(keyId, options.algorithm);
  return call('ImportKeyMaterial', {
    KeyId: keyId,
    ImportToken: p.ImportToken,
    EncryptedKeyMaterial: wrapMaterial(p.PublicKey, options.algorithm ?? 'RSAES_OAEP_SHA_256', material),
    ...(options.expireUnix === undefined ? {} : { KeyMaterialExpireUnix: String(options.expireUnix) }),
  });
}

/** Opens a blob with the material the test imported: proof the key uses exactly that material. */
function openWith(material: Buffer, blob: string): string {
  return openEnvelope(material, parseEnvelope(blob), encodeEncryptionContext(new Map())).toString('utf8');
}

describe('CreateKey with Origin=EXTERNAL', () => {
  it('makes a key PendingImport, Origin EXTERNAL, with one version and no material expiry; nothing cryptographic works yet', async () => {
    const keyId = await externalKey();
    const m = await describeKey(keyId);
    expect(m).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', MaterialExpireTime: '', AutomaticRotation: 'Disabled', Description: 'byok' });
    expect((await ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion).toEqual([
      { KeyId: keyId, KeyVersionId: m.PrimaryKeyVersion, CreationDate: m.CreationDate },
    ]);
    expect((await ok('DescribeKeyVersion', { KeyId: keyId, KeyVersionId: m.PrimaryKeyVersion! })).KeyVersion.KeyVersionId).toBe(m.PrimaryKeyVersion);
    expectError(await call('GenerateDataKey', { KeyId: keyId }), 409, 'Rejected.PendingImport');
    expectError(await call('Encrypt', { KeyId: keyId, Plaintext: 'x' }), 409, 'Rejected.PendingImport');
    expectError(await call('EnableKey', { KeyId: keyId }), 409, 'Rejected.StateModifiedFailed');
    expectError(await call('DisableKey', { KeyId: keyId }), 409, 'Rejected.StateModifiedFailed');
    expectError(await call('CreateKeyVersion', { KeyId: keyId }), 400, 'Unsupported.Origin');
    expectError(await call('UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: 'true' }), 400, 'Unsupported.Origin');
    expect((await call('UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: 'false' })).status).toBe(200);
  });

  it('refuses automatic rotation for an EXTERNAL key and an unknown Origin (400, no key made)', async () => {
    const before = (await ok('ListKeys', { PageSize: '100' })).TotalCount;
    expectError(await call('CreateKey', { Origin: 'EXTERNAL', EnableAutomaticRotation: 'true' }), 400, 'InvalidParameter', 'EnableAutomaticRotation');
    expectError(await call('CreateKey', { Origin: 'external' }), 400, 'InvalidParameter', 'Origin');
    expect((await ok('ListKeys', { PageSize: '100' })).TotalCount).toBe(before);
  });
});

describe('GetParametersForImport', () => {
  it('returns a fresh RSA-2048 public key (Base64 DER SPKI) and a token valid for 24 hours, different on every call', async () => {
    const keyId = await externalKey();
    const a = await parameters(keyId);
    const b = await parameters(keyId, 'RSAES_PKCS1_V1_5');
    expect(Object.keys(a).sort()).toEqual(['ImportToken', 'KeyId', 'PublicKey', 'RequestId', 'TokenExpireTime']);
    expect(a.KeyId).toBe(keyId);
    expect(a.PublicKey).toMatch(/^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A[A-Za-z0-9+/]+=*$/);
    const key = createPublicKey({ key: Buffer.from(a.PublicKey, 'base64'), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    expect(a.TokenExpireTime).toBe(isoSeconds(clock + DAY_MS));
    expect(b.PublicKey).not.toBe(a.PublicKey);
    expect(b.ImportToken).not.toBe(a.ImportToken);
  });

  it('works in every key state, and by alias', async () => {
    const keyId = await externalKey();
    await ok('CreateAlias', { AliasName: 'alias/byok', KeyId: keyId });
    expect((await parameters('alias/byok')).KeyId).toBe(keyId);
    expect((await importMaterial(keyId, randomBytes(32))).status).toBe(200);
    await ok('DisableKey', { KeyId: keyId });
    await parameters(keyId);
    await ok('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    await parameters(keyId);
  });

  it.each([
    ['a key made by the service', { KeyId: KEY_ID }, 400, 'Unsupported.Origin'],
    ['SM2PKE', { WrappingAlgorithm: 'SM2PKE' }, 400, 'InvalidParameter'],
    ['EC_SM2', { WrappingKeySpec: 'EC_SM2' }, 400, 'InvalidParameter'],
    ['an unknown algorithm', { WrappingAlgorithm: 'RSAES_OAEP_SHA_512' }, 400, 'InvalidParameter'],
    ['no WrappingAlgorithm', { WrappingAlgorithm: undefined }, 400, 'MissingParameter'],
    ['no WrappingKeySpec', { WrappingKeySpec: undefined }, 400, 'MissingParameter'],
    ['an unknown key', { KeyId: 'key-doesnotexist0000000001' }, 404, 'Forbidden.KeyNotFound'],
  ] as const)('refuses %s', async (_what, change, status, code) => {
    const keyId = await externalKey();
    const params = Object.fromEntries(
      Object.entries({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048', ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expectError(await call('GetParametersForImport', params), status, code);
  });
});

describe('ImportKeyMaterial', () => {
  it.each(ALGORITHMS)('with %s, the material becomes the key: Enabled, and its blobs open with exactly that material', async (algorithm) => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    const r = await importMaterial(keyId, material, { algorithm });
    expect(r.status, r.raw).toBe(200);
    expect(Object.keys(r.body)).toEqual(['RequestId']);
    expect(await describeKey(keyId)).toMatchObject({ KeyState: 'Enabled', MaterialExpireTime: '' });
    const e = await ok('Encrypt', { KeyId: keyId, Plaintext: 'bring your own' });
    expect(openWith(material, e.CiphertextBlob)).toBe('bring your own');
    const generated = await ok('GenerateDataKey', { KeyId: keyId });
    expect((await ok('Decrypt', { CiphertextBlob: generated.CiphertextBlob })).Plaintext).toBe(generated.Plaintext);
  });

  it('binds the first material for life: the same material again is accepted (and resets the expiry), other material is refused', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    expect((await importMaterial(keyId, material, { expireUnix: clock / 1000 + 3600 })).status).toBe(200);
    expect((await describeKey(keyId)).MaterialExpireTime).toBe(isoSeconds(clock + 3_600_000));
    expect((await importMaterial(keyId, material, { algorithm: 'RSAES_PKCS1_V1_5' })).status).toBe(200);
    expect((await describeKey(keyId)).MaterialExpireTime).toBe('');
    expectError(await importMaterial(keyId, randomBytes(32)), 400, 'InvalidKeyMaterial');
    // The same material may go into another key, whose blobs are its own.
    const other = await externalKey();
    expect((await importMaterial(other, material)).status).toBe(200);
    const blob = (await ok('Encrypt', { KeyId: keyId, Plaintext: 'x' })).CiphertextBlob;
    expect((await ok('Decrypt', { CiphertextBlob: blob })).KeyId).toBe(keyId);
  });

  it('importing into a Disabled key keeps it Disabled; into a key pending deletion is 409 Rejected.StateModifiedFailed', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    await importMaterial(keyId, material);
    await ok('DisableKey', { KeyId: keyId });
    expect((await importMaterial(keyId, material)).status).toBe(200);
    expect((await describeKey(keyId)).KeyState).toBe('Disabled');
    await ok('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    expectError(await importMaterial(keyId, material), 409, 'Rejected.StateModifiedFailed');
  });

  it('every unwrap failure is the same 400 InvalidKeyMaterial, Code and Message alike (no padding oracle)', async () => {
    const keyId = await externalKey();
    const oaep = await parameters(keyId, 'RSAES_OAEP_SHA_256');
    const pkcs = await parameters(keyId, 'RSAES_PKCS1_V1_5');
    const attempts: Array<[string, string, string]> = [
      ['16 bytes of material', oaep.ImportToken, wrapMaterial(oaep.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(16))],
      ['33 bytes', oaep.ImportToken, wrapMaterial(oaep.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(33))],
      ['SHA-1 under a SHA-256 token', oaep.ImportToken, wrapMaterial(oaep.PublicKey, 'RSAES_OAEP_SHA_1', randomBytes(32))],
      ['PKCS#1 v1.5 under an OAEP token', oaep.ImportToken, wrapMaterial(oaep.PublicKey, 'RSAES_PKCS1_V1_5', randomBytes(32))],
      ['OAEP under a PKCS#1 v1.5 token', pkcs.ImportToken, wrapMaterial(pkcs.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32))],
      ['PKCS#1 v1.5 with 31 bytes', pkcs.ImportToken, wrapMaterial(pkcs.PublicKey, 'RSAES_PKCS1_V1_5', randomBytes(31))],
      ['under another public key', oaep.ImportToken, wrapMaterial(pkcs.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32))],
      ['random bytes', pkcs.ImportToken, randomBytes(256).toString('base64')],
      ['too short', oaep.ImportToken, randomBytes(100).toString('base64')],
    ];
    const messages = new Set<string>();
    for (const [what, token, wrapped] of attempts) {
      const r = await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: wrapped });
      expectError(r, 400, 'InvalidKeyMaterial');
      messages.add(r.body.Message);
      expect(r.raw, what).not.toMatch(/padding|oaep|decrypt/i);
    }
    expect(messages.size).toBe(1);
    expect((await describeKey(keyId)).KeyState).toBe('PendingImport');
  });

  it('refuses a token that is forged, altered, for another key or expired', async () => {
    const keyId = await externalKey();
    const other = await externalKey();
    const p = await parameters(keyId);
    const wrapped = wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32));
    const altered = Buffer.from(p.ImportToken, 'base64');
    altered[altered.length - 40]! ^= 1;
    expectError(
      await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: altered.toString('base64'), EncryptedKeyMaterial: wrapped }),
      400,
      'InvalidImportToken',
    );
    expectError(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: 'not a token', EncryptedKeyMaterial: wrapped }), 400, 'InvalidImportToken');
    expectError(
      await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: randomBytes(300).toString('base64'), EncryptedKeyMaterial: wrapped }),
      400,
      'InvalidImportToken',
    );
    expectError(await call('ImportKeyMaterial', { KeyId: other, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped }), 400, 'InvalidImportToken');
    // A token from another deployment (another import-token key) does not open here.
    const elsewhere = await createTestService({ now: () => clock });
    const foreignKey = (await elsewhere.call(signedRpcRequest(ADMIN, 'CreateKey', { Origin: 'EXTERNAL' }, { timestamp: isoSeconds(clock) }))).body.KeyMetadata
      .KeyId;
    const foreign = (
      await elsewhere.call(
        signedRpcRequest(
          ADMIN,
          'GetParametersForImport',
          { KeyId: foreignKey, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' },
          { timestamp: isoSeconds(clock) },
        ),
      )
    ).body;
    expectError(
      await call('ImportKeyMaterial', {
        KeyId: keyId,
        ImportToken: foreign.ImportToken,
        EncryptedKeyMaterial: wrapMaterial(foreign.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32)),
      }),
      400,
      'InvalidImportToken',
    );
    // Valid for 24 hours, and used as often as needed within them.
    clock += DAY_MS - 1_000;
    expect((await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped })).status).toBe(200);
    expect((await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped })).status).toBe(200);
    clock += 1_000;
    expectError(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped }), 400, 'ExpiredImportToken');
  });

  it.each([
    ['in the past', String(Date.parse('2026-06-01T09:59:00Z') / 1000), 'InvalidParameter'],
    ['the current second (it would expire at once)', String(Date.parse('2026-06-01T10:00:00Z') / 1000), 'InvalidParameter'],
    ['not an integer', '1.5', 'InvalidParameter'],
    ['negative', '-1', 'InvalidParameter'],
    ['milliseconds past the year 9999', '253402300800000', 'InvalidParameter'],
  ])('refuses a KeyMaterialExpireUnix %s', async (_what, value, code) => {
    const keyId = await externalKey();
    const p = await parameters(keyId);
    const r = await call('ImportKeyMaterial', {
      KeyId: keyId,
      ImportToken: p.ImportToken,
      EncryptedKeyMaterial: wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32)),
      KeyMaterialExpireUnix: value,
    });
    expectError(r, 400, code, 'KeyMaterialExpireUnix');
  });

  it('refuses a key made by the service (Unsupported.Origin), a missing parameter, and a caller without kms:ImportKeyMaterial', async () => {
    const keyId = await externalKey();
    const p = await parameters(keyId);
    const wrapped = wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32));
    expectError(await call('ImportKeyMaterial', { KeyId: KEY_ID, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped }), 400, 'Unsupported.Origin');
    expectError(await call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped }), 400, 'MissingParameter', 'ImportToken');
    expectError(await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken }), 400, 'MissingParameter', 'EncryptedKeyMaterial');
    expectError(
      await call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped }, CONSUMER),
      403,
      'Forbidden.NoPermission',
    );
  });
});

describe('DeleteKeyMaterial and expiry', () => {
  it('DeleteKeyMaterial: PendingImport, blobs refused (409) until the same material is back, then they decrypt again; other material never', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    await importMaterial(keyId, material);
    const generated = await ok('GenerateDataKey', { KeyId: keyId });
    expect(Object.keys(await ok('DeleteKeyMaterial', { KeyId: keyId }))).toEqual(['RequestId']);
    expect(await describeKey(keyId)).toMatchObject({ KeyState: 'PendingImport', MaterialExpireTime: '' });
    expect(await t.store.get(entryNames.keyVersion(keyId, (await describeKey(keyId)).PrimaryKeyVersion!))).toBeUndefined();
    expectError(await call('Decrypt', { CiphertextBlob: generated.CiphertextBlob }), 409, 'Rejected.PendingImport');
    expectError(await call('GenerateDataKey', { KeyId: keyId }), 409, 'Rejected.PendingImport');
    // Again: a no-op on a key without material.
    expect((await call('DeleteKeyMaterial', { KeyId: keyId })).status).toBe(200);
    expectError(await importMaterial(keyId, randomBytes(32)), 400, 'InvalidKeyMaterial');
    expect((await importMaterial(keyId, material)).status).toBe(200);
    expect((await ok('Decrypt', { CiphertextBlob: generated.CiphertextBlob })).Plaintext).toBe(generated.Plaintext);
  });

  it('DeleteKeyMaterial on a key pending deletion keeps its state and date; CancelKeyDeletion then returns it to PendingImport', async () => {
    const keyId = await externalKey();
    await importMaterial(keyId, randomBytes(32));
    await ok('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    const before = await describeKey(keyId);
    await ok('DeleteKeyMaterial', { KeyId: keyId });
    expect(await describeKey(keyId)).toMatchObject({ KeyState: 'PendingDeletion', DeleteDate: before.DeleteDate });
    await ok('CancelKeyDeletion', { KeyId: keyId });
    expect((await describeKey(keyId)).KeyState).toBe('PendingImport');
  });

  it('DeleteKeyMaterial on a key made by the service is 400 Unsupported.Origin, and changes nothing', async () => {
    expectError(await call('DeleteKeyMaterial', { KeyId: KEY_ID }), 400, 'Unsupported.Origin');
    expect((await ok('GenerateDataKey', { KeyId: KEY_ID })).KeyId).toBe(KEY_ID);
  });

  it('expiry: at KeyMaterialExpireUnix the key becomes PendingImport, the sweep destroys the material, and the same material brings it back', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    const expireUnix = clock / 1000 + 120;
    expect((await importMaterial(keyId, material, { expireUnix })).status).toBe(200);
    const m = await describeKey(keyId);
    expect(m).toMatchObject({ KeyState: 'Enabled', MaterialExpireTime: isoSeconds(expireUnix * 1000) });
    const blob = (await ok('Encrypt', { KeyId: keyId, Plaintext: 'until then' })).CiphertextBlob;
    clock = expireUnix * 1000 - 1_000;
    expect((await ok('Decrypt', { CiphertextBlob: blob })).Plaintext).toBe('until then');
    clock = expireUnix * 1000;
    expect(await describeKey(keyId)).toMatchObject({ KeyState: 'PendingImport', MaterialExpireTime: '' });
    expectError(await call('Decrypt', { CiphertextBlob: blob }), 409, 'Rejected.PendingImport');
    // Until the sweep the material is still stored, but no request reaches it; the sweep destroys it.
    expect(await t.store.get(entryNames.keyVersion(keyId, m.PrimaryKeyVersion!))).toBeDefined();
    await destroyDueKeys(t.service);
    expect(await t.store.get(entryNames.keyVersion(keyId, m.PrimaryKeyVersion!))).toBeUndefined();
    expectError(await importMaterial(keyId, randomBytes(32)), 400, 'InvalidKeyMaterial');
    expect((await importMaterial(keyId, material)).status).toBe(200);
    expect((await ok('Decrypt', { CiphertextBlob: blob })).Plaintext).toBe('until then');
  });

  it('the sweep leaves material that is not expired, and keys made by the service, alone', async () => {
    const keyId = await externalKey();
    await importMaterial(keyId, randomBytes(32), { expireUnix: clock / 1000 + 3600 });
    const version = (await describeKey(keyId)).PrimaryKeyVersion!;
    await destroyDueKeys(t.service);
    expect(await t.store.get(entryNames.keyVersion(keyId, version))).toBeDefined();
    expect((await ok('GenerateDataKey', { KeyId: keyId })).KeyId).toBe(keyId);
    expect((await ok('GenerateDataKey', { KeyId: KEY_ID })).KeyId).toBe(KEY_ID);
  });

  it('a destroyed EXTERNAL key leaves nothing: its blobs name a version that is gone (404)', async () => {
    const keyId = await externalKey();
    await importMaterial(keyId, randomBytes(32));
    const blob = (await ok('Encrypt', { KeyId: keyId, Plaintext: 'x' })).CiphertextBlob;
    await ok('DeleteKeyMaterial', { KeyId: keyId });
    await ok('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    clock += 8 * DAY_MS;
    expect(await destroyDueKeys(t.service)).toContain(keyId);
    expectError(await call('DescribeKey', { KeyId: keyId }), 404, 'Forbidden.KeyNotFound');
    expectError(await call('Decrypt', { CiphertextBlob: blob }), 404, 'Forbidden.KeyVersionNotFound');
    expect(await t.store.get(entryNames.versionOwner(parseEnvelope(blob).keyVersionId))).toBeUndefined();
  });
});

describe('concurrent imports, deletions and sweeps', () => {
  it('two first imports of different material at once: one binds, the other is refused, and the stored material is the bound one', async () => {
    for (let round = 0; round < 5; round++) {
      const keyId = await externalKey();
      const [m1, m2] = [randomBytes(32), randomBytes(32)];
      const results = await Promise.all([importMaterial(keyId, m1), importMaterial(keyId, m2)]);
      const won = results.map((r) => r.status === 200);
      expect(won.filter(Boolean)).toHaveLength(1);
      expectError(results[won[0] ? 1 : 0]!, 400, 'InvalidKeyMaterial');
      const winner = won[0] ? m1 : m2;
      const blob = (await ok('Encrypt', { KeyId: keyId, Plaintext: 'who won' })).CiphertextBlob;
      expect(openWith(winner, blob)).toBe('who won');
    }
  });

  it('imports racing deletions and the sweep never leave a key Enabled without its material, nor material the record says is gone', async () => {
    const keyId = await externalKey();
    const material = randomBytes(32);
    await importMaterial(keyId, material);
    const version = (await describeKey(keyId)).PrimaryKeyVersion!;
    for (let round = 0; round < 8; round++) {
      const settled = await Promise.allSettled([
        importMaterial(keyId, material),
        call('DeleteKeyMaterial', { KeyId: keyId }),
        destroyDueKeys(t.service),
        importMaterial(keyId, material),
      ]);
      for (const s of settled) expect(s.status).toBe('fulfilled');
      const state = (await describeKey(keyId)).KeyState;
      const stored = await t.store.get(entryNames.keyVersion(keyId, version));
      if (state === 'Enabled') {
        expect(stored, `round ${round}`).toBeDefined();
        expect(openWith(material, (await ok('Encrypt', { KeyId: keyId, Plaintext: 'x' })).CiphertextBlob)).toBe('x');
      } else {
        expect(state).toBe('PendingImport');
        await destroyDueKeys(t.service);
        expect(await t.store.get(entryNames.keyVersion(keyId, version))).toBeUndefined();
      }
    }
  });

  it('an import whose last step is slow, racing a deletion: the deletion waits for it (the material lease), so the key never ends Enabled without material', async () => {
    // The import's final record write (the one that says Enabled) is held back 40 ms, the window in
    // which, without the lease, a deletion's record change and destroy would land.
    const slowEnable = new SlowUpdates(
      new MemoryKeyStore(),
      (name, value) => name.startsWith('keys/') && value.includes('"state":"Enabled"') && value.includes('"fingerprint"'),
    );
    const s = await createTestService({ now: () => clock, store: slowEnable });
    const { keyring } = s.service;
    const key = await keyring.createKey({ keyId: 'key-leasetest0000000000001', external: true });
    const material = randomBytes(32);
    const importing = keyring.importMaterial(key.keyId, material, undefined);
    await sleep(10);
    const deleting = keyring.deleteMaterial(key.keyId);
    await Promise.all([importing, deleting]);
    const after = (await keyring.getKey(key.keyId))!;
    const stored = await slowEnable.get(entryNames.keyVersion(key.keyId, key.primaryKeyVersion));
    // The deletion came second: no material, and the record says so.
    expect(after.state).toBe('PendingImport');
    expect(stored).toBeUndefined();
    expect(after.external?.leaseUntilMs).toBeUndefined();
  });

  it('DryRun on an Action that does not declare it (DeleteKeyMaterial, ScheduleKeyDeletion) does nothing and answers 412', async () => {
    const keyId = await externalKey();
    await importMaterial(keyId, randomBytes(32));
    expectError(await call('DeleteKeyMaterial', { KeyId: keyId, DryRun: 'true' }), 412, 'DryRunOperationError');
    expectError(await call('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7', DryRun: 'TRUE' }), 412, 'DryRunOperationError');
    expectError(await call('DeleteKeyMaterial', { KeyId: keyId, DryRun: 'yes' }), 400, 'InvalidParameter', 'DryRun');
    expect((await describeKey(keyId)).KeyState).toBe('Enabled');
    expect((await call('DeleteKeyMaterial', { KeyId: keyId, DryRun: 'false' })).status).toBe(200);
    expect((await describeKey(keyId)).KeyState).toBe('PendingImport');
  });
});

/** A store whose updates matching `slow` take 40 ms: to hold a step of one request while another runs. */
class SlowUpdates extends MemoryKeyStore {
  constructor(
    private readonly inner: MemoryKeyStore,
    private readonly slow: (name: string, value: string) => boolean,
  ) {
    super();
  }
  override create(name: string, value: Uint8Array, options: { writeOnce: boolean }) {
    return this.inner.create(name, value, options);
  }
  override get(name: string) {
    return this.inner.get(name);
  }
  override async update(name: string, expectedRevision: number, value: Uint8Array) {
    if (this.slow(name, Buffer.from(value).toString('utf8'))) await sleep(40);
    return this.inner.update(name, expectedRevision, value);
  }
  override delete(name: string, expectedRevision: number) {
    return this.inner.delete(name, expectedRevision);
  }
  override destroy(name: string) {
    return this.inner.destroy(name);
  }
  override list(prefix: string) {
    return this.inner.list(prefix);
  }
}
