import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, createClient, type KmsClient, sdkError } from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { type RecordingProxy, sendRaw, startRecordingProxy, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, CONSUMER, KEY_ID, KEY_VERSION_ID, keyArnOf, PROVIDER, TEST_SEED } from '../helpers/service.js';
import { isoSeconds, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * The official Alibaba Cloud clients against the real gateway process (npm start), over HTTP:
 * `@alicloud/openapi-client` (V3 and v2 signing), `@alicloud/kms20160120`, and `@alicloud/pop-core`
 * (GET and POST). One gateway for the whole file.
 */

/** Non-ASCII, and every character the clients' URL encoders treat differently. */
const PLAINTEXT = "héllo wörld — 日本語 🔑 !'()*~+/= a&b=c%20?#[] end";
const CONTEXT = { app: "naïve !'()*~+/= 日本語 🔑", 'order id': 'a&b=c%2F', tenant: 'ÄÖÜ ~*' };
const OTHER_CONTEXT = { ...CONTEXT, app: "naïve !'()*~+/= 日本語 🔑 " };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Bytes of the blob's header (key version id ‖ IV) before the AES-GCM ciphertext. */
const BLOB_HEADER_BYTES = 36 + 12;

let dir: string;
let gateway: ReadyGateway;
let proxy: RecordingProxy;
const clients: KmsClient[] = [];

function client(kind: ClientKind, credentials = ADMIN, port = gateway.port): KmsClient {
  const c = createClient(kind, { port }, credentials);
  clients.push(c);
  return c;
}

/** The blob with one bit of byte `index` flipped (negative: from the end). */
function flipByte(blob: string, index: number): string {
  const bytes = Buffer.from(blob, 'base64');
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = bytes[i]! ^ 0x01;
  return bytes.toString('base64');
}

async function expectRefusal(c: KmsClient, call: () => Promise<unknown>, code: string, status: number): Promise<void> {
  const err = await sdkError(call);
  expect(err.code, `${c.name}: SDK error code`).toBe(c.sdkCode(code));
  expect(err.data?.Code, `${c.name}: Code in the response body`).toBe(code);
  expect(typeof err.data?.RequestId).toBe('string');
  // openapi-client records the HTTP status in data; the older clients do not.
  if (err.data?.statusCode !== undefined) expect(err.data.statusCode).toBe(status);
}

beforeAll(async () => {
  dir = await makeTempDir();
  const seedFile = await writeSeedFile(dir, TEST_SEED);
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile });
  proxy = await startRecordingProxy(gateway.port);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await proxy?.close();
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  await removeDir(dir);
});

describe.each(CLIENT_KINDS)('official client %s against the gateway', (kind) => {
  it('GenerateDataKey returns a 32-byte data key, and Decrypt of its blob returns the same Plaintext', async () => {
    const c = client(kind);
    const generated = await c.generateDataKey({ KeyId: ALIAS, EncryptionContext: CONTEXT });
    expect(generated.KeyId).toBe(KEY_ID);
    expect(generated.KeyVersionId).toBe(KEY_VERSION_ID);
    expect(generated.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(generated.Plaintext).toMatch(BASE64);
    expect(Buffer.from(generated.Plaintext!, 'base64')).toHaveLength(32);
    expect(generated.CiphertextBlob).toMatch(BASE64);

    const decrypted = await c.decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: CONTEXT });
    expect(decrypted.Plaintext).toBe(generated.Plaintext);
    expect(decrypted.KeyId).toBe(KEY_ID);
    expect(decrypted.KeyVersionId).toBe(KEY_VERSION_ID);
  });

  it('GenerateDataKey honours NumberOfBytes and KeySpec, by key id and by ARN', async () => {
    const c = client(kind);
    const sixteen = await c.generateDataKey({ KeyId: KEY_ID, KeySpec: 'AES_128' });
    expect(Buffer.from(sixteen.Plaintext!, 'base64')).toHaveLength(16);
    const seven = await c.generateDataKey({ KeyId: keyArnOf(KEY_ID), NumberOfBytes: 7, KeySpec: 'AES_256' });
    expect(seven.KeyId).toBe(KEY_ID);
    expect(Buffer.from(seven.Plaintext!, 'base64')).toHaveLength(7);
    expect((await c.decrypt({ CiphertextBlob: seven.CiphertextBlob! })).Plaintext).toBe(seven.Plaintext);
  });

  it('GenerateDataKeyWithoutPlaintext returns no Plaintext, and Decrypt recovers a 32-byte data key from its blob', async () => {
    const c = client(kind);
    const generated = await c.generateDataKeyWithoutPlaintext({ KeyId: ALIAS, EncryptionContext: CONTEXT });
    expect(generated.KeyId).toBe(KEY_ID);
    expect(generated.KeyVersionId).toBe(KEY_VERSION_ID);
    expect(generated).not.toHaveProperty('Plaintext');
    expect(generated.CiphertextBlob).toMatch(BASE64);

    const decrypted = await c.decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: CONTEXT });
    expect(decrypted.KeyId).toBe(KEY_ID);
    expect(decrypted.Plaintext).toMatch(BASE64);
    expect(Buffer.from(decrypted.Plaintext!, 'base64')).toHaveLength(32);
  });

  it("Encrypt → Decrypt returns the exact string, with non-ASCII and !'()*~+/= in Plaintext and EncryptionContext", async () => {
    const c = client(kind);
    const encrypted = await c.encrypt({ KeyId: ALIAS, Plaintext: PLAINTEXT, EncryptionContext: CONTEXT });
    expect(encrypted.KeyId).toBe(KEY_ID);
    expect(encrypted.KeyVersionId).toBe(KEY_VERSION_ID);
    expect(encrypted).not.toHaveProperty('Plaintext');
    // Key order of the context is irrelevant.
    const reordered = Object.fromEntries(Object.entries(CONTEXT).reverse());
    const decrypted = await c.decrypt({ CiphertextBlob: encrypted.CiphertextBlob!, EncryptionContext: reordered });
    expect(decrypted.Plaintext).toBe(PLAINTEXT);
    expect(decrypted.KeyId).toBe(KEY_ID);
    expect(decrypted.KeyVersionId).toBe(KEY_VERSION_ID);
  });

  it('a wrong AccessKeySecret is refused with SignatureDoesNotMatch', async () => {
    const c = client(kind, { accessKeyId: ADMIN.accessKeyId, accessKeySecret: `${ADMIN.accessKeySecret}x` });
    await expectRefusal(c, () => c.generateDataKey({ KeyId: ALIAS }), 'SignatureDoesNotMatch', 400);
    await expectRefusal(c, () => c.encrypt({ KeyId: ALIAS, Plaintext: PLAINTEXT, EncryptionContext: CONTEXT }), 'SignatureDoesNotMatch', 400);
  });

  it("the caller's policy is enforced: the provider may not GenerateDataKey (Forbidden.NoPermission), only WithoutPlaintext", async () => {
    const provider = client(kind, PROVIDER);
    await expectRefusal(provider, () => provider.generateDataKey({ KeyId: KEY_ID }), 'Forbidden.NoPermission', 403);
    // Through an alias, a denied caller is answered as for a missing alias: it does not learn which key the alias names.
    await expectRefusal(provider, () => provider.generateDataKey({ KeyId: ALIAS }), 'Forbidden.AliasNotFound', 404);
    const wrapped = await provider.generateDataKeyWithoutPlaintext({ KeyId: ALIAS });
    expect(wrapped.KeyId).toBe(KEY_ID);
    // The provider cannot unwrap what it made; the consumer can.
    await expectRefusal(provider, () => provider.decrypt({ CiphertextBlob: wrapped.CiphertextBlob! }), 'Forbidden.NoPermission', 403);
    const consumer = client(kind, CONSUMER);
    expect(Buffer.from((await consumer.decrypt({ CiphertextBlob: wrapped.CiphertextBlob! })).Plaintext!, 'base64')).toHaveLength(32);
  });

  it('a tampered CiphertextBlob is refused with InvalidCiphertext', async () => {
    const c = client(kind);
    const { CiphertextBlob } = await c.encrypt({ KeyId: ALIAS, Plaintext: PLAINTEXT, EncryptionContext: CONTEXT });
    for (const index of [BLOB_HEADER_BYTES, BLOB_HEADER_BYTES - 1, -1]) {
      await expectRefusal(c, () => c.decrypt({ CiphertextBlob: flipByte(CiphertextBlob!, index), EncryptionContext: CONTEXT }), 'InvalidCiphertext', 400);
    }
    // The untampered blob still decrypts.
    expect((await c.decrypt({ CiphertextBlob: CiphertextBlob!, EncryptionContext: CONTEXT })).Plaintext).toBe(PLAINTEXT);
  });

  it('a different or missing EncryptionContext is refused with InvalidCiphertext', async () => {
    const c = client(kind);
    const { CiphertextBlob } = await c.generateDataKey({ KeyId: ALIAS, EncryptionContext: CONTEXT });
    await expectRefusal(c, () => c.decrypt({ CiphertextBlob: CiphertextBlob!, EncryptionContext: OTHER_CONTEXT }), 'InvalidCiphertext', 400);
    await expectRefusal(c, () => c.decrypt({ CiphertextBlob: CiphertextBlob! }), 'InvalidCiphertext', 400);
    const { app: _app, ...fewer } = CONTEXT;
    await expectRefusal(c, () => c.decrypt({ CiphertextBlob: CiphertextBlob!, EncryptionContext: fewer }), 'InvalidCiphertext', 400);
  });

  it('a request this client sent, replayed byte for byte, is refused with SignatureNonceUsed', async () => {
    const c = client(kind, ADMIN, proxy.port);
    const before = proxy.recorded.length;
    const generated = await c.generateDataKey({ KeyId: ALIAS, EncryptionContext: CONTEXT });
    expect(generated.KeyId).toBe(KEY_ID);
    expect(proxy.recorded.length).toBe(before + 1);
    const captured = proxy.recorded[before]!;

    const replay = await sendRaw(gateway.port, captured);
    expect(replay.status).toBe(400);
    expect(replay.json.Code).toBe('SignatureNonceUsed');
    expect(replay.json).not.toHaveProperty('Plaintext');
    // And again: a nonce stays used.
    expect((await sendRaw(gateway.port, captured)).json.Code).toBe('SignatureNonceUsed');
  });
});

describe('official clients interoperate', () => {
  it('a blob made by any client decrypts with every other client, under the same EncryptionContext', async () => {
    const made = await Promise.all(
      CLIENT_KINDS.map(async (kind) => ({
        kind,
        ...(await client(kind).encrypt({ KeyId: ALIAS, Plaintext: `${PLAINTEXT} from ${kind}`, EncryptionContext: CONTEXT })),
      })),
    );
    for (const blob of made) {
      for (const kind of CLIENT_KINDS) {
        const decrypted = await client(kind).decrypt({ CiphertextBlob: blob.CiphertextBlob!, EncryptionContext: CONTEXT });
        expect(decrypted.Plaintext, `${blob.kind} → ${kind}`).toBe(`${PLAINTEXT} from ${blob.kind}`);
      }
    }
  });
});

describe('timestamps over real HTTP', () => {
  const twentyMinutes = 20 * 60_000;

  it('a correctly signed RPC request with a Timestamp 20 minutes old is refused with 400 InvalidTimeStamp.Expired', async () => {
    const stale = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { timestamp: isoSeconds(Date.now() - twentyMinutes) });
    const response = await sendRaw(gateway.port, toRecorded(stale));
    expect(response.status).toBe(400);
    expect(response.json.Code).toBe('InvalidTimeStamp.Expired');
    expect(response.json).not.toHaveProperty('Plaintext');

    // The same request, fresh, is accepted: only the timestamp made the difference.
    const fresh = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
    const ok = await sendRaw(gateway.port, toRecorded(fresh));
    expect(ok.status).toBe(200);
    expect(ok.json.KeyId).toBe(KEY_ID);
  });

  it('a signed POST form request from 20 minutes in the future is refused too', async () => {
    const future = signedRpcRequest(
      ADMIN,
      'Encrypt',
      { KeyId: ALIAS, Plaintext: PLAINTEXT },
      { method: 'POST', form: true, timestamp: isoSeconds(Date.now() + twentyMinutes) },
    );
    const response = await sendRaw(gateway.port, toRecorded(future));
    expect(response.status).toBe(400);
    expect(response.json.Code).toBe('InvalidTimeStamp.Expired');
  });

  it('a V3 request whose x-acs-date is 20 minutes old is refused with 400 InvalidTimeStamp.Expired', async () => {
    const stale = signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { date: isoSeconds(Date.now() - twentyMinutes) });
    const response = await sendRaw(gateway.port, toRecorded(stale));
    expect(response.status).toBe(400);
    expect(response.json.Code).toBe('InvalidTimeStamp.Expired');

    const fresh = signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
    expect((await sendRaw(gateway.port, toRecorded(fresh))).status).toBe(200);
  });
});
