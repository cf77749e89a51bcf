import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, removeDir } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { type Credentials, isoSeconds, signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';

/*
 * The benchmark's minimal server (test/bench/support/minimal-server.mjs) is the baseline the
 * gateway is held to, so it must really do the essential work: verify both signatures, keep the
 * time window, refuse a replayed nonce (in every process, and after a restart when journaled),
 * and wrap and unwrap data keys for real. Here, through its HTTP port, with the repository's own
 * signing helpers.
 */

const KEY: Credentials = { accessKeyId: 'minimalTest01', accessKeySecret: 'minimal-test-secret-0123' };
const started: ChildProcess[] = [];
let dir: string;

async function startMinimal(env: Record<string, string> = {}): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'test/bench/support/minimal-server.mjs')], {
    env: { PATH: process.env.PATH, MINIMAL_ACCESS_KEY_ID: KEY.accessKeyId, MINIMAL_ACCESS_KEY_SECRET: KEY.accessKeySecret, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`minimal server exited: ${out}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const rpc = (port: number, action: string, params: Record<string, string>, options?: Parameters<typeof signedRpcRequest>[3]) =>
  sendRaw(port, toRecorded(signedRpcRequest(KEY, action, params, options)));

beforeAll(async () => {
  dir = await makeTempDir('kms-minimal-');
});
afterAll(async () => {
  for (const child of started) child.kill('SIGKILL');
  await removeDir(dir);
});

describe('the minimal server (the benchmark baseline)', () => {
  let port: number;
  beforeAll(async () => {
    port = (await startMinimal()).port;
  });

  it('when GenerateDataKey is correctly signed, it answers a data key whose blob Decrypt unwraps to the same plaintext', async () => {
    const generated = await rpc(port, 'GenerateDataKey', { KeyId: 'alias/any' });
    expect(generated.status, generated.text).toBe(200);
    expect(Object.keys(generated.json).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'Plaintext', 'RequestId']);
    expect(Buffer.from(generated.json.Plaintext, 'base64')).toHaveLength(32);
    const decrypted = await rpc(port, 'Decrypt', { CiphertextBlob: generated.json.CiphertextBlob });
    expect(decrypted.status, decrypted.text).toBe(200);
    expect(decrypted.json.Plaintext).toBe(generated.json.Plaintext);
    // A data key each time, and a blob that does not hold it in clear.
    const again = await rpc(port, 'GenerateDataKey', { KeyId: 'alias/any' });
    expect(again.json.Plaintext).not.toBe(generated.json.Plaintext);
    expect(Buffer.from(generated.json.CiphertextBlob, 'base64').includes(Buffer.from(generated.json.Plaintext, 'base64'))).toBe(false);
  });

  it('when GenerateDataKeyWithoutPlaintext is asked, it answers only the blob, which Decrypt unwraps; a changed blob is refused', async () => {
    const generated = await rpc(port, 'GenerateDataKeyWithoutPlaintext', { KeyId: 'alias/any' });
    expect(generated.status, generated.text).toBe(200);
    expect(generated.json.Plaintext).toBeUndefined();
    const blob = Buffer.from(generated.json.CiphertextBlob, 'base64');
    expect((await rpc(port, 'Decrypt', { CiphertextBlob: blob.toString('base64') })).status).toBe(200);
    blob[blob.length - 1]! ^= 1;
    const tampered = await rpc(port, 'Decrypt', { CiphertextBlob: blob.toString('base64') });
    expect([tampered.status, tampered.json.Code]).toEqual([400, 'InvalidCiphertext']);
  });

  it('when the signature, the timestamp or the nonce is wrong, it refuses the request with a JSON error', async () => {
    const wrongSecret = await sendRaw(port, toRecorded(signedRpcRequest({ ...KEY, accessKeySecret: 'other' }, 'GenerateDataKey', { KeyId: 'k' })));
    expect([wrongSecret.status, wrongSecret.json.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    const changed = await rpc(port, 'GenerateDataKey', { KeyId: 'k' }, { afterSigning: (p) => (p.KeyId = 'other') });
    expect([changed.status, changed.json.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    const expired = await rpc(port, 'GenerateDataKey', { KeyId: 'k' }, { timestamp: isoSeconds(Date.now() - 16 * 60_000) });
    expect([expired.status, expired.json.Code]).toEqual([400, 'IllegalTimestamp']);
    const otherKey = await sendRaw(port, toRecorded(signedRpcRequest({ ...KEY, accessKeyId: 'someoneElse' }, 'GenerateDataKey', { KeyId: 'k' })));
    expect(otherKey.json.Code).toBe('InvalidAccessKeyId.NotFound');

    const request = toRecorded(signedRpcRequest(KEY, 'GenerateDataKey', { KeyId: 'k' }));
    expect((await sendRaw(port, request)).status).toBe(200);
    const replayed = await sendRaw(port, request);
    expect([replayed.status, replayed.json.Code]).toEqual([400, 'SignatureNonceUsed']);
    // A refused signature does not use the nonce up.
    const nonce = 'nonce-after-bad-signature';
    await sendRaw(port, toRecorded(signedRpcRequest({ ...KEY, accessKeySecret: 'other' }, 'GenerateDataKey', { KeyId: 'k' }, { nonce })));
    expect((await rpc(port, 'GenerateDataKey', { KeyId: 'k' }, { nonce })).status).toBe(200);
  });

  it('when GenerateDataKey comes over the AWS protocol signed with SigV4, it answers; a changed body or a replayed attempt is refused', async () => {
    const signed = () => signedAwsRequest(KEY, 'GenerateDataKey', { KeyId: 'alias/any', KeySpec: 'AES_256' }, { sdkRequest: 'attempt=1; max=3' });
    const request = toRecorded(signed());
    const answered = await sendRaw(port, request);
    expect(answered.status, answered.text).toBe(200);
    expect(answered.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(Object.keys(answered.json).sort()).toEqual(['CiphertextBlob', 'KeyId', 'Plaintext']);
    // The same wrap as the RPC side: Decrypt over RPC unwraps it.
    const decrypted = await rpc(port, 'Decrypt', { CiphertextBlob: answered.json.CiphertextBlob });
    expect(decrypted.json.Plaintext).toBe(answered.json.Plaintext);

    const replayed = await sendRaw(port, request);
    expect(replayed.status).toBe(400);
    const nextAttempt = toRecorded(
      signedAwsRequest(
        KEY,
        'GenerateDataKey',
        { KeyId: 'alias/any' },
        { invocationId: String(request.headers['amz-sdk-invocation-id']), sdkRequest: 'attempt=2; max=3' },
      ),
    );
    expect((await sendRaw(port, nextAttempt)).status).toBe(200);

    const tampered = toRecorded(signed());
    tampered.body = Buffer.from(JSON.stringify({ KeyId: 'alias/other', KeySpec: 'AES_256' }));
    const refused = await sendRaw(port, tampered);
    expect([refused.status, refused.json.__type]).toEqual([400, 'InvalidSignatureException']);
    const wrongSecret = await sendRaw(port, toRecorded(signedAwsRequest({ ...KEY, accessKeySecret: 'other' }, 'GenerateDataKey', { KeyId: 'k' })));
    expect(wrongSecret.json.__type).toBe('InvalidSignatureException');
    const otherRegion = await sendRaw(port, toRecorded(signedAwsRequest(KEY, 'GenerateDataKey', { KeyId: 'k' }, { region: 'eu-west-1' })));
    expect(otherRegion.status).toBe(400);
  });
});

describe('the minimal server with a nonce journal and with several processes', () => {
  it('when MINIMAL_JOURNAL is set, every nonce is in the journal once its answer has left, and a restart still refuses the replay', async () => {
    const journal = join(dir, 'nonces.journal');
    const first = await startMinimal({ MINIMAL_JOURNAL: journal });
    const requests = Array.from({ length: 5 }, () => signedRpcRequest(KEY, 'GenerateDataKey', { KeyId: 'k' }));
    const answers = await Promise.all(requests.map((r) => sendRaw(first.port, toRecorded(r))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const aws = signedAwsRequest(KEY, 'GenerateDataKey', { KeyId: 'k' }, { sdkRequest: 'attempt=1; max=3' });
    expect((await sendRaw(first.port, toRecorded(aws))).status).toBe(200);
    // Read before the server stops: what is there was synced before the answers left.
    const lines = (await readFile(journal, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string);
    const nonceOf = (r: (typeof requests)[number]) => new URLSearchParams(r.rawQuery).get('SignatureNonce');
    expect(lines.sort()).toEqual(
      [...requests.map((r) => `${KEY.accessKeyId} ${nonceOf(r)}`), `${KEY.accessKeyId} amz-sdk ${aws.headers['amz-sdk-invocation-id']} 1`].sort(),
    );
    await first.stop();

    const second = await startMinimal({ MINIMAL_JOURNAL: journal });
    const replayed = await sendRaw(second.port, toRecorded(requests[0]!));
    expect([replayed.status, replayed.json.Code]).toEqual([400, 'SignatureNonceUsed']);
    await second.stop();
  });

  it('when MINIMAL_WORKERS is 2, a replay is refused whichever process gets it, and any process unwraps any blob', async () => {
    const { port, stop } = await startMinimal({ MINIMAL_WORKERS: '2' });
    const requests = Array.from({ length: 4 }, () => toRecorded(signedRpcRequest(KEY, 'GenerateDataKey', { KeyId: 'k' })));
    const answers = await Promise.all(requests.map((r) => sendRaw(port, r)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // Each replay on a connection of its own (the primary hands connections out in turn).
    for (const request of requests) expect((await sendRaw(port, request)).json.Code).toBe('SignatureNonceUsed');
    for (const answer of answers) {
      const decrypted = await rpc(port, 'Decrypt', { CiphertextBlob: answer.json.CiphertextBlob });
      expect(decrypted.json.Plaintext).toBe(answer.json.Plaintext);
    }
    await stop();
  });
});
