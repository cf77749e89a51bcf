import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, createClient, type KmsClient, sdkError } from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { type RawResponse, sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, CONSUMER, KEY_ID, KEY_MATERIAL, KEY_VERSION_ID, OTHER_KEY_ID, PROVIDER, SCOPED, TEST_SEED } from '../helpers/service.js';
import { type Credentials, isoSeconds, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { openSealedDataDir } from '../helpers/store-files.js';

/*
 * Secrets never reach the log: a gateway at KMS_LOG_LEVEL=debug serves a mix of successful and
 * failing calls (bad signatures, malformed blobs, policy denials, internal failures from a
 * corrupted store entry), and then everything it wrote to stdout and stderr is searched for every
 * secret the run handled.
 */

/** An access key used only to corrupt its stored record (an internal failure). */
const CORRUPT: Credentials = { accessKeyId: 'testCorrupt01', accessKeySecret: 'corrupt-secret-0123456789' };
const SEED = {
  keys: TEST_SEED.keys,
  accessKeys: [...TEST_SEED.accessKeys!, { ...CORRUPT, policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } }],
};
/** A window this long of a long-lived secret must not appear either (V8 quotes 10 characters of bad JSON). */
const WINDOW = 10;

let dir: string;
let dataDir: string;
let output = '';
let adminCredentials: Credentials;
const clients: KmsClient[] = [];
/** Per-request secrets: must not appear in full. */
const dataKeys: string[] = [];
const plaintexts: string[] = [];
/** Long-lived secrets: must not appear, nor any 10-character piece of them. */
const longLived: string[] = [];
const responses: Array<{ what: string; status: number; code?: string }> = [];

function client(kind: (typeof CLIENT_KINDS)[number], gateway: ReadyGateway, credentials: Credentials): KmsClient {
  const c = createClient(kind, { port: gateway.port }, credentials);
  clients.push(c);
  return c;
}

async function raw(gateway: ReadyGateway, what: string, request: Parameters<typeof sendRaw>[1]): Promise<RawResponse> {
  const response = await sendRaw(gateway.port, request);
  responses.push({ what, status: response.status, code: response.json.Code as string | undefined });
  return response;
}

function secretPlaintext(label: string): string {
  const p = `top-secret ${label} ✓ ${randomBytes(12).toString('hex')} !'()*~+/=`;
  plaintexts.push(p);
  return p;
}

beforeAll(async () => {
  dir = await makeTempDir();
  dataDir = join(dir, 'data');

  // First start: keys only, so the gateway creates an admin access key.
  const keysOnly = await writeSeedFile(dir, { keys: TEST_SEED.keys }, 'keys-only.json');
  const first = await startGateway({ dataDir, seedFile: keysOnly, logLevel: 'debug' });
  adminCredentials = JSON.parse(await readFile(join(dataDir, 'admin-credentials.json'), 'utf8')) as Credentials;
  const admin = client('openapi-v3', first, adminCredentials);
  const g = await admin.generateDataKey({ KeyId: ALIAS });
  dataKeys.push(g.Plaintext!);
  const e = await admin.encrypt({ KeyId: ALIAS, Plaintext: secretPlaintext('first run') });
  expect((await admin.decrypt({ CiphertextBlob: e.CiphertextBlob! })).Plaintext).toBe(plaintexts[0]);
  await sdkError(() =>
    client('openapi-v3', first, { ...adminCredentials, accessKeySecret: `${adminCredentials.accessKeySecret}x` }).generateDataKey({ KeyId: ALIAS }),
  );
  expect(await first.stop('SIGTERM')).toBe(0);
  output += first.output();

  // Second start: the full seed (access keys with policies), at debug level.
  const gateway = await startGateway({ dataDir, seedFile: await writeSeedFile(dir, SEED), logLevel: 'debug' });
  try {
    await exercise(gateway);
  } finally {
    expect(await gateway.stop('SIGTERM')).toBe(0);
    output += gateway.output();
  }

  // Every key version's material, as stored (the seeded one and the random ones).
  const store = await openSealedDataDir(dataDir);
  for (const name of await store.list('key-versions/')) {
    const entry = await store.get(name).catch(() => undefined); // the entry corrupted on purpose
    if (!entry) continue;
    const record = JSON.parse(entry.value.toString('utf8')) as { material: string };
    longLived.push(record.material, Buffer.from(record.material, 'base64').toString('hex'));
  }
  longLived.push(KEY_MATERIAL, Buffer.from(KEY_MATERIAL, 'base64').toString('hex'));
  for (const key of SEED.accessKeys) longLived.push(key.accessKeySecret);
  longLived.push(adminCredentials.accessKeySecret);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await killAllGateways();
  await removeDir(dir);
});

/** The mix of calls, successful and failing. */
async function exercise(gateway: ReadyGateway): Promise<void> {
  const context = { tenant: 'acme ✓', 'a b': "!'()*" };
  // Successes, through every official client.
  for (const kind of CLIENT_KINDS) {
    const admin = client(kind, gateway, ADMIN);
    const generated = await admin.generateDataKey({ KeyId: ALIAS, EncryptionContext: context });
    dataKeys.push(generated.Plaintext!);
    expect((await admin.decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: context })).Plaintext).toBe(generated.Plaintext);
    const wrapped = await client(kind, gateway, PROVIDER).generateDataKeyWithoutPlaintext({ KeyId: ALIAS, NumberOfBytes: 48 });
    const unwrapped = await client(kind, gateway, CONSUMER).decrypt({ CiphertextBlob: wrapped.CiphertextBlob! });
    dataKeys.push(unwrapped.Plaintext!);
    const plaintext = secretPlaintext(kind);
    const encrypted = await admin.encrypt({ KeyId: KEY_ID, Plaintext: plaintext, EncryptionContext: context });
    expect((await admin.decrypt({ CiphertextBlob: encrypted.CiphertextBlob!, EncryptionContext: context })).Plaintext).toBe(plaintext);
    const asAdmin = client(kind, gateway, adminCredentials);
    dataKeys.push((await asAdmin.generateDataKey({ KeyId: KEY_ID, KeySpec: 'AES_128' })).Plaintext!);

    // Refusals.
    await sdkError(() =>
      client(kind, gateway, { ...ADMIN, accessKeySecret: `${ADMIN.accessKeySecret}!` }).encrypt({ KeyId: ALIAS, Plaintext: secretPlaintext('bad signature') }),
    );
    await sdkError(() =>
      client(kind, gateway, { accessKeyId: 'noSuchKey0001', accessKeySecret: 'unknown-secret-0123456789' }).generateDataKey({ KeyId: ALIAS }),
    );
    await sdkError(() => client(kind, gateway, PROVIDER).generateDataKey({ KeyId: ALIAS }));
    await sdkError(() => client(kind, gateway, SCOPED).decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: context }));
    await sdkError(() => admin.decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: { ...context, tenant: 'other' } }));
    await sdkError(() => admin.generateDataKey({ KeyId: 'alias/disabled' }));
    await sdkError(() => admin.encrypt({ KeyId: ALIAS, Plaintext: `${secretPlaintext('too long')}${'x'.repeat(7000)}` }));
  }
  longLived.push('unknown-secret-0123456789');

  const admin = client('pop-core-post', gateway, ADMIN);
  const generated = await admin.generateDataKey({ KeyId: ALIAS });
  dataKeys.push(generated.Plaintext!);
  const blob = Buffer.from(generated.CiphertextBlob!, 'base64');
  const tampered = Buffer.from(blob);
  tampered[60] = tampered[60]! ^ 0xff;
  const badBlobs = [
    'not base64 !!!',
    ADMIN.accessKeySecret, // a secret pasted where a blob belongs
    Buffer.from('short').toString('base64'),
    tampered.toString('base64'),
    Buffer.concat([Buffer.from(KEY_VERSION_ID), randomBytes(60)]).toString('base64'),
    Buffer.concat([Buffer.from('99999999-bbbb-4ccc-8ddd-eeeeeeeeeeee'), randomBytes(60)]).toString('base64'),
    Buffer.concat([randomBytes(36), blob.subarray(36)]).toString('base64'),
  ];
  for (const bad of badBlobs) await sdkError(() => admin.decrypt({ CiphertextBlob: bad }));

  // Raw requests the clients would not send.
  const badContext = `{"tenant": "${secretPlaintext('in a broken context')}"`;
  await raw(gateway, 'broken EncryptionContext', toRecorded(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: badContext })));
  await raw(gateway, 'unknown action', toRecorded(signedRpcRequest(ADMIN, 'ExportKeyMaterial', { KeyId: ALIAS, Secret: secretPlaintext('unknown action') })));
  await raw(gateway, 'dry run', toRecorded(signedV3Request(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: secretPlaintext('dry run'), DryRun: 'true' })));
  const stale = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: secretPlaintext('stale') }, { timestamp: isoSeconds(Date.now() - 20 * 60_000) });
  await raw(gateway, 'stale', toRecorded(stale));
  const once = toRecorded(signedV3Request(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: secretPlaintext('replayed') }));
  await raw(gateway, 'first', once);
  await raw(gateway, 'replay', once);
  const forged = signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob! }, { afterSigning: (p) => (p.CiphertextBlob = badBlobs[3]!) });
  await raw(gateway, 'altered after signing', toRecorded(forged));
  await raw(gateway, 'bad percent-encoding', {
    method: 'GET',
    url: `/?Action=Encrypt&Plaintext=${encodeURIComponent(secretPlaintext('bad encoding'))}%E0%A4%A`,
    headers: {},
    body: Buffer.alloc(0),
  });
  await raw(gateway, 'unsigned', {
    method: 'GET',
    url: `/?Action=Encrypt&KeyId=${ALIAS}&Plaintext=${encodeURIComponent(secretPlaintext('unsigned'))}`,
    headers: {},
    body: Buffer.alloc(0),
  });
  const huge = signedRpcRequest(
    ADMIN,
    'Encrypt',
    { KeyId: ALIAS, Plaintext: `${secretPlaintext('huge')}${'y'.repeat(70_000)}` },
    { method: 'POST', form: true },
  );
  await raw(gateway, 'too large', toRecorded(huge)).catch(() => undefined);

  // Internal failures: stored entries corrupted on disk, with secrets right where a JSON parser would quote them.
  await writeFile(join(dataDir, 'access-keys', SCOPED.accessKeyId), `${SCOPED.accessKeySecret} corrupted`);
  const corruptRecord = Buffer.from(`${CORRUPT.accessKeySecret} {"accessKeyId":"${CORRUPT.accessKeyId}"`).toString('base64');
  await writeFile(join(dataDir, 'access-keys', CORRUPT.accessKeyId), JSON.stringify({ revision: 1, writeOnce: false, value: corruptRecord }));
  const otherVersion = (await readdir(join(dataDir, 'key-versions'))).find((f) => f.startsWith(`${OTHER_KEY_ID}!`))!;
  const otherPath = join(dataDir, 'key-versions', otherVersion);
  const otherEntry = await (await openSealedDataDir(dataDir)).get(`key-versions/${otherVersion.replace('!', '/')}`);
  const otherMaterial = (JSON.parse(otherEntry!.value.toString('utf8')) as { material: string }).material;
  longLived.push(otherMaterial, Buffer.from(otherMaterial, 'base64').toString('hex'));
  await writeFile(otherPath, `${otherMaterial} corrupted`);
  // Past the access-key cache's lifetime (KMS_CACHE_TTL_MS, 1 s by default): the next lookups read the disk.
  await new Promise((resolve) => setTimeout(resolve, 1_200));

  for (const [what, credentials, action, params] of [
    ['corrupt access key file', SCOPED, 'GenerateDataKey', { KeyId: KEY_ID }],
    ['corrupt access key record', CORRUPT, 'GenerateDataKey', { KeyId: KEY_ID }],
    ['corrupt key version', ADMIN, 'GenerateDataKey', { KeyId: 'alias/other' }],
  ] as const) {
    const response = await raw(gateway, what, toRecorded(signedRpcRequest(credentials, action, params)));
    expect(response.status, what).toBe(500);
    expect(response.json.Code, what).toBe('InternalFailure');
    expect(response.text).not.toContain(credentials.accessKeySecret.slice(0, WINDOW));
    expect(response.text).not.toContain(otherMaterial.slice(0, WINDOW));
  }
}

/** Ways a secret could be written: as is, and JSON-escaped. */
function forms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1)])];
}

function windows(secret: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + WINDOW <= secret.length; i++) out.add(secret.slice(i, i + WINDOW));
  return [...out];
}

describe('the log at KMS_LOG_LEVEL=debug', () => {
  it('was written, and recorded the failures (so the search below searched something)', () => {
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(80);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const codes = new Set(records.map((r) => r.code).filter(Boolean));
    for (const code of [
      'SignatureDoesNotMatch',
      'InvalidAccessKeyId.NotFound',
      'Forbidden.NoPermission',
      'InvalidCiphertext',
      'InvalidParameter',
      'SignatureNonceUsed',
      'InvalidTimeStamp.Expired',
      'InternalFailure',
    ]) {
      expect(codes, code).toContain(code);
    }
    expect(records.filter((r) => r.message === 'internal failure')).toHaveLength(3);
    expect(output).toContain('created an admin access key');
    expect(responses.find((r) => r.what === 'replay')?.code).toBe('SignatureNonceUsed');
  });

  it('contains no data-key Plaintext, in Base64 or hex', () => {
    expect(dataKeys.length).toBeGreaterThanOrEqual(15);
    for (const key of dataKeys) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(Buffer.from(key, 'base64').toString('hex'));
      expect(output).not.toContain(Buffer.from(key, 'base64').toString('hex').toUpperCase());
    }
  });

  it('contains no Encrypt plaintext, nor any piece of one', () => {
    expect(plaintexts.length).toBeGreaterThan(10);
    for (const p of plaintexts) {
      for (const form of forms(p)) expect(output).not.toContain(form);
      // The random part of each one.
      expect(output).not.toContain(p.match(/[0-9a-f]{24}/)![0]!.slice(0, WINDOW));
    }
  });

  it('contains no key material (seeded or generated, Base64 or hex), no access key secret and not the admin secret — not even a piece', () => {
    expect(longLived).toContain(adminCredentials.accessKeySecret);
    expect(longLived).toContain(KEY_MATERIAL);
    for (const secret of longLived) {
      expect(output).not.toContain(secret);
      for (const piece of windows(secret)) expect(output.includes(piece), `a piece of a secret: ${piece}`).toBe(false);
    }
  });
});
