import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeEncryptionContext } from '../../lib/crypto/encryption-context.js';
import { sealEnvelope } from '../../lib/crypto/envelope.js';
import type { KeyRecord } from '../../lib/keyring/records.js';
import {
  ACCOUNT_ID,
  ADMIN,
  ALIAS,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  OTHER_KEY_ID,
  REGION,
  type TestService,
} from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { BLOB_LAYOUT, blobVersionId, expectError, flipByte, names, parseXml, withVersionId } from './support.js';

const SAMPLES: Array<[label: string, text: string]> = [
  ['ASCII', 'hello, world'],
  ['emoji', 'secret 🔑🙂 with astral-plane characters 𝄞'],
  ['CJK', '密钥管理服务 鍵管理 키 관리'],
  ['Base64 punctuation', 'a+b/c=d==+/='],
  ['a newline', 'line one\nline two\r\nline three\n'],
  ['leading and trailing spaces', '   padded   '],
  ['only spaces', '   '],
  ['JSON and XML specials', '{"a":"b"} <tag attr=\'x\'>&amp; \\ </tag>'],
  ['percent signs and ampersands', '100% & a=b&c=d %20 %'],
  ['a single character', 'x'],
];

/** The five predefined XML entities and numeric character references, decoded. */
function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[entity]!;
  });
}

/** Replaces `keys/<keyId>`'s record through the store's revision-checked update. */
async function writeKeyRecord(t: TestService, keyId: string, change: (record: KeyRecord) => void): Promise<void> {
  const name = `keys/${keyId}`;
  const entry = await t.store.get(name);
  expect(entry).toBeDefined();
  const record = JSON.parse(entry!.value.toString('utf8')) as KeyRecord;
  change(record);
  await t.store.update(name, entry!.revision, Buffer.from(JSON.stringify(record), 'utf8'));
}

describe('Action: Encrypt', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });
  const encrypt = (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, 'Encrypt', params));
  const decrypt = (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, 'Decrypt', params));

  it.each(SAMPLES)('when Plaintext is %s, Decrypt returns exactly the same string (RPC)', async (_label, text) => {
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: text });
    expect(e.status).toBe(200);
    const d = await decrypt({ CiphertextBlob: e.body.CiphertextBlob });
    expect(d.status).toBe(200);
    expect(d.body.Plaintext).toBe(text);
  });

  it.each(SAMPLES)('when Plaintext is %s, Decrypt returns exactly the same string (V3)', async (_label, text) => {
    const e = await t.call(signedV3Request(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: text }));
    expect(e.status).toBe(200);
    const d = await t.call(signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: e.body.CiphertextBlob }));
    expect(d.status).toBe(200);
    expect(d.body.Plaintext).toBe(text);
  });

  it.each(SAMPLES)('when Plaintext is %s and the response is XML, the Plaintext element holds exactly that string', async (_label, text) => {
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: text });
    const d = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: e.body.CiphertextBlob }, { format: 'XML' }));
    expect(d.status).toBe(200);
    // Read the element's text directly: a conforming XML parser would fold CR LF to LF, and the
    // official SDK's parser (xml2js) does not, so the raw text is what must be exact.
    const inner = /<Plaintext>([\s\S]*)<\/Plaintext>/.exec(d.raw)?.[1];
    expect(inner).toBeDefined();
    expect(unescapeXml(inner!)).toBe(text);
    expect(inner).not.toMatch(/[<>]/);
    if (!text.includes('\r')) expect(String(parseXml(d.raw).KMS.Plaintext)).toBe(text);
  });

  it('when it succeeds, the body has exactly RequestId, KeyId, KeyVersionId and CiphertextBlob', async () => {
    const e = await encrypt({ KeyId: ALIAS, Plaintext: 'x' });
    expect(e.status).toBe(200);
    expect(Object.keys(e.body).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'RequestId']);
    expect(e.body.KeyId).toBe(KEY_ID);
    expect(e.body.KeyVersionId).toBe(KEY_VERSION_ID);
    expect(blobVersionId(e.body.CiphertextBlob)).toBe(KEY_VERSION_ID);
  });

  it('when the same Plaintext is encrypted twice, the blobs differ', async () => {
    const a = await encrypt({ KeyId: KEY_ID, Plaintext: 'same' });
    const b = await encrypt({ KeyId: KEY_ID, Plaintext: 'same' });
    expect(a.body.CiphertextBlob).not.toBe(b.body.CiphertextBlob);
  });

  it.each([
    ['a key ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:key/${KEY_ID}`, KEY_ID],
    ['an alias ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:alias/test`, KEY_ID],
    ['the alias of a key-… id', 'alias/other', OTHER_KEY_ID],
  ])('when KeyId is %s, it answers with the resolved key id', async (_label, keyId, resolved) => {
    const e = await encrypt({ KeyId: keyId, Plaintext: 'x' });
    expect(e.status).toBe(200);
    expect(e.body.KeyId).toBe(resolved);
    const d = await decrypt({ CiphertextBlob: e.body.CiphertextBlob });
    expect(d.body.KeyId).toBe(resolved);
  });

  it('when Plaintext is exactly 6144 bytes, it is accepted and round-trips', async () => {
    const text = 'a'.repeat(6144);
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: text });
    expect(e.status).toBe(200);
    expect((await decrypt({ CiphertextBlob: e.body.CiphertextBlob })).body.Plaintext).toBe(text);
  });

  it('when Plaintext is 6144 bytes of multi-byte characters, it is accepted', async () => {
    const text = '€'.repeat(2048); // 3 bytes each
    expect(Buffer.byteLength(text)).toBe(6144);
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: text });
    expect(e.status).toBe(200);
    expect((await decrypt({ CiphertextBlob: e.body.CiphertextBlob })).body.Plaintext).toBe(text);
  });

  it.each([
    ['6145 ASCII bytes', 'a'.repeat(6145)],
    ['2049 three-byte characters (6147 bytes, 2049 characters)', '€'.repeat(2049)],
    ['6143 ASCII bytes and one emoji', `${'a'.repeat(6143)}🔑`],
  ])('when Plaintext is %s, it answers 400 InvalidParameter naming Plaintext', async (_label, text) => {
    expectError(await encrypt({ KeyId: KEY_ID, Plaintext: text }), 400, 'InvalidParameter', names('Plaintext'));
  });

  it('when Plaintext is missing, it answers 400 MissingParameter naming Plaintext', async () => {
    expectError(await encrypt({ KeyId: KEY_ID }), 400, 'MissingParameter', names('Plaintext'));
  });

  it('when Plaintext is empty, it answers 400 InvalidParameter naming Plaintext', async () => {
    expectError(await encrypt({ KeyId: KEY_ID, Plaintext: '' }), 400, 'InvalidParameter', names('Plaintext'));
  });

  it('when KeyId is missing, it answers 400 MissingParameter naming KeyId', async () => {
    expectError(await encrypt({ Plaintext: 'x' }), 400, 'MissingParameter', names('KeyId'));
  });

  it('when the key does not exist, it answers 404 Forbidden.KeyNotFound', async () => {
    expectError(await encrypt({ KeyId: '99999999-2222-4333-8444-555555555555', Plaintext: 'x' }), 404, 'Forbidden.KeyNotFound');
  });

  it('when the alias does not exist, it answers 404 Forbidden.AliasNotFound', async () => {
    expectError(await encrypt({ KeyId: 'alias/nope', Plaintext: 'x' }), 404, 'Forbidden.AliasNotFound');
  });

  it('when the key is disabled, it answers 409 Rejected.Disabled', async () => {
    expectError(await encrypt({ KeyId: DISABLED_KEY_ID, Plaintext: 'x' }), 409, 'Rejected.Disabled');
  });

  it('when DryRun=true and the request would succeed, it answers 412 DryRunOperationError and returns no blob', async () => {
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: 'x', DryRun: 'true' });
    expectError(e, 412, 'DryRunOperationError');
    expect(e.body.CiphertextBlob).toBeUndefined();
  });

  it('when an EncryptionContext is given, Decrypt needs an equal one', async () => {
    const e = await encrypt({ KeyId: KEY_ID, Plaintext: 'bound', EncryptionContext: '{"x":"1","y":"2"}' });
    expect(e.status).toBe(200);
    const ok = await decrypt({ CiphertextBlob: e.body.CiphertextBlob, EncryptionContext: '{"y":"2","x":"1"}' });
    expect(ok.body.Plaintext).toBe('bound');
    const flat = await decrypt({ CiphertextBlob: e.body.CiphertextBlob, 'EncryptionContext.x': '1', 'EncryptionContext.y': '2' });
    expect(flat.body.Plaintext).toBe('bound');
    expectError(await decrypt({ CiphertextBlob: e.body.CiphertextBlob }), 400, 'InvalidCiphertext');
    expectError(await decrypt({ CiphertextBlob: e.body.CiphertextBlob, EncryptionContext: '{"x":"1","y":"3"}' }), 400, 'InvalidCiphertext');
  });

  it('when the EncryptionContext is invalid, it answers 400 InvalidParameter naming EncryptionContext', async () => {
    expectError(await encrypt({ KeyId: KEY_ID, Plaintext: 'x', EncryptionContext: '{"a":1}' }), 400, 'InvalidParameter', names('EncryptionContext'));
    expectError(
      await encrypt({ KeyId: KEY_ID, Plaintext: 'x', EncryptionContext: JSON.stringify({ a: 'b'.repeat(8200) }) }),
      400,
      'InvalidParameter',
      names('EncryptionContext'),
    );
  });
});

describe('Action: Decrypt', () => {
  let t: TestService;
  let blob: string;
  let contextBlob: string;
  beforeAll(async () => {
    t = await createTestService();
    const e = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'a plaintext long enough to have several bytes' }));
    blob = e.body.CiphertextBlob;
    const c = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'bound', EncryptionContext: '{"k":"v"}' }));
    contextBlob = c.body.CiphertextBlob;
  });
  const decrypt = (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, 'Decrypt', params));

  it('when it succeeds, the body has exactly RequestId, KeyId, KeyVersionId and Plaintext, with the ids from the blob', async () => {
    const d = await decrypt({ CiphertextBlob: blob });
    expect(d.status).toBe(200);
    expect(Object.keys(d.body).sort()).toEqual(['KeyId', 'KeyVersionId', 'Plaintext', 'RequestId']);
    expect(d.body.KeyId).toBe(KEY_ID);
    expect(d.body.KeyVersionId).toBe(blobVersionId(blob));
  });

  it('when the blob came from GenerateDataKey, it returns exactly that Plaintext string', async () => {
    const variants: Array<Record<string, string>> = [{}, { KeySpec: 'AES_128' }, { NumberOfBytes: '1' }, { NumberOfBytes: '1024' }];
    for (const params of variants) {
      const g = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, ...params }));
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob });
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
      expect(d.body.KeyVersionId).toBe(g.body.KeyVersionId);
    }
  });

  it('when a KeyId parameter is also given, the blob still decides the key', async () => {
    const d = await decrypt({ CiphertextBlob: blob, KeyId: OTHER_KEY_ID });
    expect(d.status).toBe(200);
    expect(d.body.KeyId).toBe(KEY_ID);
  });

  it('when CiphertextBlob is missing, it answers 400 MissingParameter naming CiphertextBlob', async () => {
    expectError(await decrypt({}), 400, 'MissingParameter', names('CiphertextBlob'));
  });

  it('when DryRun=true and the request would succeed, it answers 412 DryRunOperationError and returns no plaintext', async () => {
    const d = await decrypt({ CiphertextBlob: blob, DryRun: 'true' });
    expectError(d, 412, 'DryRunOperationError');
    expect(d.body.Plaintext).toBeUndefined();
  });

  it('when DryRun=true and the blob names an unknown version, it still answers 404 Forbidden.KeyVersionNotFound', async () => {
    expectError(await decrypt({ CiphertextBlob: withVersionId(blob, randomUUID()), DryRun: 'true' }), 404, 'Forbidden.KeyVersionNotFound');
  });

  describe('tampering', () => {
    const CORRUPT_AND_CONTEXT = (message: string) => {
      expect(message).toMatch(/corrupt|tamper|modified|altered|damaged/i);
      expect(message).toContain('EncryptionContext');
    };

    it.each([
      ['the first ciphertext byte', BLOB_LAYOUT.ciphertextStart],
      ['a middle ciphertext byte', BLOB_LAYOUT.ciphertextStart + 10],
      ['the last ciphertext byte', -BLOB_LAYOUT.tagBytes - 1],
      ['the first tag byte', -BLOB_LAYOUT.tagBytes],
      ['the last tag byte', -1],
      ['an IV byte', BLOB_LAYOUT.versionIdBytes + 3],
    ])('when %s is flipped, it answers 400 InvalidCiphertext naming both corruption and EncryptionContext', async (_label, offset) => {
      const d = await decrypt({ CiphertextBlob: flipByte(blob, offset) });
      expectError(d, 400, 'InvalidCiphertext');
      CORRUPT_AND_CONTEXT(d.body.Message);
      expect(d.raw).not.toContain('plaintext long enough');
    });

    it('when the EncryptionContext differs, the answer is the same InvalidCiphertext message', async () => {
      const tampered = await decrypt({ CiphertextBlob: flipByte(contextBlob, -1), EncryptionContext: '{"k":"v"}' });
      const wrongContext = await decrypt({ CiphertextBlob: contextBlob, EncryptionContext: '{"k":"w"}' });
      expectError(tampered, 400, 'InvalidCiphertext');
      expectError(wrongContext, 400, 'InvalidCiphertext');
      expect(wrongContext.body.Message).toBe(tampered.body.Message);
      CORRUPT_AND_CONTEXT(wrongContext.body.Message);
    });

    it('when the blob is truncated by one byte, it answers 400 InvalidCiphertext', async () => {
      const bytes = Buffer.from(blob, 'base64');
      expectError(await decrypt({ CiphertextBlob: bytes.subarray(0, bytes.length - 1).toString('base64') }), 400, 'InvalidCiphertext');
    });

    it('when the blob has a byte appended, it answers 400 InvalidCiphertext', async () => {
      const bytes = Buffer.concat([Buffer.from(blob, 'base64'), Buffer.from([0])]);
      expectError(await decrypt({ CiphertextBlob: bytes.toString('base64') }), 400, 'InvalidCiphertext');
    });

    it('when the header is rewritten to name another existing version, it answers 400 InvalidCiphertext', async () => {
      const key = await t.service.keyring.getKey(OTHER_KEY_ID);
      const d = await decrypt({ CiphertextBlob: withVersionId(blob, key!.primaryKeyVersion) });
      expectError(d, 400, 'InvalidCiphertext');
    });

    it('when the header names a version id in upper case, it does not decrypt under the lower-case version', async () => {
      const d = await decrypt({ CiphertextBlob: withVersionId(blob, KEY_VERSION_ID.toUpperCase()) });
      expect([400, 404]).toContain(d.status);
      expect(d.body.Plaintext).toBeUndefined();
    });
  });

  describe('malformed blobs', () => {
    it.each(['!!!not base64!!!', 'abc', 'YWJj=', 'YW Jj', 'YWJj\n', '====', `${'A'.repeat(100)}*`])(
      'when CiphertextBlob is %j (not Base64), it answers 400 InvalidParameter naming CiphertextBlob',
      async (value) => {
        expectError(await decrypt({ CiphertextBlob: value }), 400, 'InvalidParameter', names('CiphertextBlob'));
      },
    );

    it.each([1, 36, 48, 63])('when CiphertextBlob decodes to %i bytes (too short), it answers 400 InvalidParameter naming CiphertextBlob', async (n) => {
      const value = Buffer.from(blob, 'base64').subarray(0, n).toString('base64');
      const d = await decrypt({ CiphertextBlob: value });
      expectError(d, 400, 'InvalidParameter', names('CiphertextBlob'));
    });

    it('when CiphertextBlob does not start with a version id, it answers 400 InvalidParameter naming CiphertextBlob', async () => {
      const d = await decrypt({ CiphertextBlob: randomBytes(96).toString('base64') });
      expectError(d, 400, 'InvalidParameter', names('CiphertextBlob'));
    });

    it('when a well-formed blob names an unknown version, it answers 404 Forbidden.KeyVersionNotFound', async () => {
      expectError(await decrypt({ CiphertextBlob: withVersionId(blob, randomUUID()) }), 404, 'Forbidden.KeyVersionNotFound');
    });

    it('when CiphertextBlob is longer than the limit, it answers 400 InvalidParameter naming CiphertextBlob', async () => {
      expectError(await decrypt({ CiphertextBlob: 'A'.repeat(20_000) }), 400, 'InvalidParameter', names('CiphertextBlob'));
    });

    it('when CiphertextBlob is any of many garbage strings, it never answers 5xx and never a Plaintext', async () => {
      const garbage: string[] = [
        '',
        ' ',
        '\u0000',
        '%',
        '%%%',
        'null',
        '{}',
        '[]',
        '🔑',
        '密文',
        'A'.repeat(64),
        'A'.repeat(4096),
        '/'.repeat(88),
        '+'.repeat(88),
        Buffer.alloc(64).toString('base64'),
        Buffer.from(`${KEY_VERSION_ID}`).toString('base64'),
        Buffer.concat([Buffer.from(KEY_VERSION_ID), Buffer.alloc(28)]).toString('base64'),
        Buffer.concat([Buffer.from(KEY_VERSION_ID), Buffer.alloc(200)]).toString('base64'),
        Buffer.concat([Buffer.from(randomUUID()), randomBytes(60)]).toString('base64'),
        Buffer.concat([Buffer.from('../../../../etc/passwd-0000-0000-000000'), randomBytes(60)]).toString('base64'),
        blob.slice(0, -4),
        `${blob}${blob}`,
        blob.replace(/[A-Z]/, 'a'),
        blob.toLowerCase(),
        Buffer.from(blob, 'base64').toString('base64url'),
      ];
      for (let i = 0; i < 40; i++) garbage.push(randomBytes(1 + Math.floor(Math.random() * 200)).toString('base64'));
      for (let i = 0; i < 10; i++) garbage.push(randomBytes(1 + Math.floor(Math.random() * 100)).toString('latin1'));
      for (const value of garbage) {
        const d = await decrypt({ CiphertextBlob: value });
        expect(d.status, `CiphertextBlob ${JSON.stringify(value.slice(0, 40))}`).toBeGreaterThanOrEqual(400);
        expect(d.status, `CiphertextBlob ${JSON.stringify(value.slice(0, 40))}`).toBeLessThan(500);
        expect(d.body.Plaintext).toBeUndefined();
        expect(typeof d.body.Code).toBe('string');
      }
    });
  });
});

describe('Action: Decrypt (key state)', () => {
  it('when the blob was sealed under a disabled key’s primary version, it answers 409 Rejected.Disabled', async () => {
    const t = await createTestService();
    const key = await t.service.keyring.getKey(DISABLED_KEY_ID);
    expect(key?.state).toBe('Disabled');
    const version = (await t.service.keyring.findVersion(key!.primaryKeyVersion))!;
    const blob = sealEnvelope(version.material, version.keyVersionId, Buffer.from('sealed while enabled'), encodeEncryptionContext(new Map()));
    const d = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob }));
    expectError(d, 409, 'Rejected.Disabled');
    expect(d.raw).not.toContain('sealed while enabled');
  });

  it('when a key is disabled after a blob was made, Decrypt answers 409 Rejected.Disabled once the cache expired, and works again when re-enabled', async () => {
    let clock = Date.now();
    const t = await createTestService({ now: () => clock });
    const pastCacheTtl = () => {
      clock += 1500;
    };

    await writeKeyRecord(t, DISABLED_KEY_ID, (r) => {
      r.state = 'Enabled';
    });
    pastCacheTtl();
    const g = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: DISABLED_KEY_ID }));
    expect(g.status).toBe(200);

    await writeKeyRecord(t, DISABLED_KEY_ID, (r) => {
      r.state = 'Disabled';
    });
    pastCacheTtl();
    expectError(await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob })), 409, 'Rejected.Disabled');
    expectError(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: DISABLED_KEY_ID })), 409, 'Rejected.Disabled');

    await writeKeyRecord(t, DISABLED_KEY_ID, (r) => {
      r.state = 'Enabled';
    });
    pastCacheTtl();
    const d = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }));
    expect(d.status).toBe(200);
    expect(d.body.Plaintext).toBe(g.body.Plaintext);
  });

  it('when the key is pending deletion, Encrypt and Decrypt answer 409 Rejected.PendingDeletion', async () => {
    let clock = Date.now();
    const t = await createTestService({ now: () => clock });
    const e = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }));
    expect(e.status).toBe(200);
    await writeKeyRecord(t, KEY_ID, (r) => {
      r.state = 'PendingDeletion';
    });
    clock += 1500;
    expectError(await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: e.body.CiphertextBlob })), 409, 'Rejected.PendingDeletion');
    expectError(await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' })), 409, 'Rejected.PendingDeletion');
  });
});

describe('Action: Decrypt (key versions)', () => {
  it('when the key has a new primary version, new blobs use it and old blobs still decrypt under the version they name', async () => {
    let clock = Date.now();
    const t = await createTestService({ now: () => clock });
    const old = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'old' }));
    expect(old.body.KeyVersionId).toBe(KEY_VERSION_ID);

    const newVersion = await t.service.keyring.addVersion(KEY_ID, {});
    await writeKeyRecord(t, KEY_ID, (r) => {
      r.primaryKeyVersion = newVersion;
    });
    clock += 1500;

    const fresh = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'new' }));
    expect(fresh.status).toBe(200);
    expect(fresh.body.KeyVersionId).toBe(newVersion);
    expect(blobVersionId(fresh.body.CiphertextBlob)).toBe(newVersion);

    const dOld = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: old.body.CiphertextBlob }));
    expect(dOld.status).toBe(200);
    expect(dOld.body).toMatchObject({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID, Plaintext: 'old' });
    const dNew = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: fresh.body.CiphertextBlob }));
    expect(dNew.body).toMatchObject({ KeyId: KEY_ID, KeyVersionId: newVersion, Plaintext: 'new' });

    // The old blob's header rewritten to the new version does not decrypt: the version is authenticated.
    expectError(
      await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: withVersionId(old.body.CiphertextBlob, newVersion) })),
      400,
      'InvalidCiphertext',
    );
  });
});
