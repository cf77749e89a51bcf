import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, CONSUMER, KEY_ID, KEY_MATERIAL, OTHER_KEY_ID, TEST_SEED } from '../helpers/service.js';
import { type Credentials, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * Every line a gateway writes — diagnostic log at debug, the audit log, stderr — over a run that
 * calls every Action, with successes and every kind of failure (denied, malformed, bad signature,
 * replay, throttled, tampered ciphertext, DryRun), is scanned for what must never appear in one:
 * data keys, plaintexts sent to Encrypt, key material, access-key secrets, signatures, and
 * EncryptionContext values.
 */

let root: string;
let gateway: ReadyGateway;
const secrets = new Set<string>();
let requests = 0;

beforeAll(async () => {
  root = await makeTempDir('kms-log-scan-');
  gateway = await startGateway({
    dataDir: join(root, 'data'),
    seedFile: await writeSeedFile(root, TEST_SEED),
    env: { KMS_LOG_LEVEL: 'debug', KMS_RATE_LIMITS: `{"${CONSUMER.accessKeyId}": {"crypto": 3}}` },
  });
  for (const key of TEST_SEED.keys ?? []) for (const version of key.versions ?? []) if (version.material) remember(version.material);
  for (const accessKey of TEST_SEED.accessKeys ?? []) remember(accessKey.accessKeySecret);
  remember(KEY_MATERIAL);
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

/** A secret in every form a log could show it: as sent, and Base64 decoded to hex and text. */
function remember(value: string | undefined): void {
  if (!value || value.length < 8) return;
  secrets.add(value);
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length >= 8) secrets.add(bytes.toString('hex'));
  }
}

async function call(credentials: Credentials, action: string, params: Record<string, string>, v3 = requests % 2 === 0): Promise<Record<string, any>> {
  requests++;
  const request = v3 ? signedV3Request(credentials, action, params) : signedRpcRequest(credentials, action, params);
  // The signature itself: the V3 Authorization header's, or the RPC query's.
  const signature = v3 ? /Signature=([0-9a-f]+)/.exec(request.headers.authorization!)?.[1] : new URLSearchParams(request.rawQuery).get('Signature');
  remember(signature ?? undefined);
  const answer = await sendRaw(gateway.port, toRecorded(request));
  remember(answer.json.Plaintext);
  return answer.json;
}

describe('Logs never hold a secret', () => {
  it('after every Action, succeeding and failing in every way, no line of stdout or stderr holds a data key, material, secret, signature or context value', async () => {
    const context = JSON.stringify({ tenant: 'tenant-secret-context-value', order: 'order-4711-context' });
    remember('tenant-secret-context-value');
    remember('order-4711-context');
    const plaintext = Buffer.from('a plaintext the caller encrypts, never to be logged').toString('base64');
    remember(plaintext);

    const generated = await call(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: context });
    await call(ADMIN, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS, EncryptionContext: context });
    await call(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, NumberOfBytes: '64' });
    const encrypted = await call(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: plaintext, EncryptionContext: context });
    await call(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context });
    await call(ADMIN, 'Decrypt', { CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context });
    await call(ADMIN, 'Decrypt', { CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: '{"tenant":"wrong-context-value-x"}' });
    const tampered = Buffer.from(encrypted.CiphertextBlob, 'base64');
    tampered[tampered.length - 1]! ^= 1;
    await call(ADMIN, 'Decrypt', { CiphertextBlob: tampered.toString('base64'), EncryptionContext: context });
    await call(ADMIN, 'ReEncrypt', {
      CiphertextBlob: encrypted.CiphertextBlob,
      SourceEncryptionContext: context,
      DestinationKeyId: OTHER_KEY_ID,
      DestinationEncryptionContext: context,
    });
    await call(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, DryRun: 'true', EncryptionContext: context });
    const created = await call(ADMIN, 'CreateKey', { Description: 'log scan' });
    const keyId = created.KeyMetadata.KeyId as string;
    await call(ADMIN, 'CreateKeyVersion', { KeyId: keyId });
    await call(ADMIN, 'ListKeyVersions', { KeyId: keyId });
    await call(ADMIN, 'DescribeKeyVersion', { KeyId: KEY_ID, KeyVersionId: TEST_SEED.keys![0]!.versions![0]!.keyVersionId! });
    await call(ADMIN, 'DescribeKey', { KeyId: keyId });
    await call(ADMIN, 'ListKeys', {});
    await call(ADMIN, 'UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: 'true', RotationInterval: '604800s' });
    await call(ADMIN, 'CreateAlias', { AliasName: 'alias/log-scan', KeyId: keyId });
    await call(ADMIN, 'UpdateAlias', { AliasName: 'alias/log-scan', KeyId: KEY_ID });
    await call(ADMIN, 'ListAliases', {});
    await call(ADMIN, 'ListAliasesByKeyId', { KeyId: KEY_ID });
    await call(ADMIN, 'DeleteAlias', { AliasName: 'alias/log-scan' });
    await call(ADMIN, 'DisableKey', { KeyId: keyId });
    await call(ADMIN, 'GenerateDataKey', { KeyId: keyId, EncryptionContext: context });
    await call(ADMIN, 'EnableKey', { KeyId: keyId });
    await call(ADMIN, 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    await call(ADMIN, 'CancelKeyDeletion', { KeyId: keyId });
    // Refusals of every kind.
    await call(CONSUMER, 'CreateKey', {});
    for (let i = 0; i < 5; i++) await call(CONSUMER, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: context });
    await call({ ...ADMIN, accessKeySecret: 'a-wrong-secret-that-is-long-enough' }, 'Decrypt', {
      CiphertextBlob: generated.CiphertextBlob,
      EncryptionContext: context,
    });
    await call(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'not base64 !!! but secret-ish text' });
    await call(ADMIN, 'NoSuchAction', { Plaintext: plaintext });
    const replayed = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: plaintext, EncryptionContext: context });
    remember(new URLSearchParams(replayed.rawQuery).get('Signature') ?? undefined);
    await sendRaw(gateway.port, toRecorded(replayed));
    expect((await sendRaw(gateway.port, toRecorded(replayed))).json.Code).toBe('SignatureNonceUsed');

    expect(await gateway.stop('SIGTERM')).toBe(0);
    const output = gateway.output();
    const lines = output.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.includes('"audit":true')).length).toBeGreaterThanOrEqual(requests);
    expect(lines.some((l) => l.includes('"level":"debug"') || l.includes('"level":"info"'))).toBe(true);
    for (const secret of secrets) expect(output.includes(secret), `a log line holds ${secret.slice(0, 6)}…`).toBe(false);
    expect(secrets.size).toBeGreaterThan(40);
  }, 60_000);
});
