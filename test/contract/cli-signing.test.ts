import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { type Gateway, startGateway } from '../../infra/gateway/server.js';
import { runKmsHere } from '../helpers/cli-in-process.js';
import { alibabaCaller } from '../helpers/kms-calls.js';
import { OpenSsl } from '../helpers/openssl.js';
import { ADMIN, createTestService, KEY_ID, type TestService } from '../helpers/service.js';

/*
 * `kms sign`, `kms verify`, `kms public-key`, `kms mac`, `kms verify-mac` as a user runs them
 * (the program's own `run`, in this process) against an in-process gateway over HTTP. Signatures
 * are checked with the openssl command and the PEM `kms public-key --pem` prints; MACs with
 * node's HMAC and the key's stored material.
 */

let t: TestService;
let gateway: Gateway;
let dir: string;
let openssl: OpenSsl;
let messageFile: string;
const message = Buffer.from('release 1.2.3\n');
const keys = { ec: '', rsa: '', hmac: '' };

const env = () => ({ KMS_ENDPOINT: gateway.url, ALIBABA_CLOUD_ACCESS_KEY_ID: ADMIN.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ADMIN.accessKeySecret });

/** Runs `kms …args`; expects exit 0 and returns the JSON it printed. */
async function ok(args: string[]): Promise<Record<string, any>> {
  const run = await runKmsHere(args, env());
  expect(run.code, `kms ${args.join(' ')}: ${run.stderr}`).toBe(EXIT.OK);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

/** Runs `kms …args`; expects exit `code` with one `Code: Message` line on stderr when refused. */
async function fails(args: string[], code: number, pattern: RegExp) {
  const run = await runKmsHere(args, env());
  expect(run.code, `kms ${args.join(' ')}: ${run.stderr}`).toBe(code);
  expect(run.stderr).toMatch(pattern);
  expect(run.stdout).toBe('');
}

beforeAll(async () => {
  t = await createTestService();
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'kms-cli-signing-'));
  openssl = await OpenSsl.open();
  messageFile = join(dir, 'message.txt');
  await writeFile(messageFile, message);
  const ali = alibabaCaller(t);
  const create = async (params: Record<string, string>) => (await ali.ok('CreateKey', params)).KeyMetadata.KeyId as string;
  keys.ec = await create({ KeySpec: 'EC_P256' });
  keys.rsa = await create({ KeySpec: 'RSA_2048' });
  keys.hmac = await create({ KeySpec: 'HMAC_384' });
});

afterAll(async () => {
  await gateway?.close(0);
  await openssl?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kms sign, verify, public-key', () => {
  it.each([
    ['ec', 'ECDSA_SHA_256', false],
    ['rsa', 'RSA_PSS_SHA_256', true],
    ['rsa', 'RSA_PKCS1_SHA_256', false],
  ] as const)(
    '%s %s: the signature of --message-file verifies with openssl and the PEM of public-key --pem, and with kms verify',
    async (kind, algorithm, pss) => {
      const keyId = keys[kind];
      const signed = await ok(['sign', '--key-id', keyId, '--algorithm', algorithm, '--message-file', messageFile]);
      const [version] = await t.service.keyring.listVersions(keyId);
      expect(signed).toEqual({ KeyId: keyId, KeyVersionId: version!.keyVersionId, Algorithm: algorithm, Signature: expect.any(String) });
      const pem = await runKmsHere(['public-key', '--key-id', keyId, '--pem'], env());
      expect(pem.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
      expect(await openssl.verify(createPublicKey(pem.stdout), 'sha256', message, Buffer.from(signed.Signature, 'base64'), pss)).toBe(true);
      const digest = createHash('sha256').update(message).digest('base64');
      const verified = await ok(['verify', '--key-id', keyId, '--algorithm', algorithm, '--digest', digest, '--signature', signed.Signature]);
      expect(verified).toEqual({ KeyId: keyId, KeyVersionId: version!.keyVersionId, Algorithm: algorithm, SignatureValid: true });
    },
  );

  it('--key-version-id names an older version; the default is the newest', async () => {
    const [first] = await t.service.keyring.listVersions(keys.ec);
    const newer = (await alibabaCaller(t).ok('CreateKeyVersion', { KeyId: keys.ec })).KeyVersion.KeyVersionId as string;
    expect((await ok(['public-key', '--key-id', keys.ec])).KeyVersionId).toBe(newer);
    const old = await ok(['sign', '--key-id', keys.ec, '--key-version-id', first!.keyVersionId, '--algorithm', 'ECDSA_SHA_256', '--message-file', messageFile]);
    expect(old.KeyVersionId).toBe(first!.keyVersionId);
    const args = ['--key-id', keys.ec, '--algorithm', 'ECDSA_SHA_256', '--message-file', messageFile, '--signature', old.Signature];
    await ok(['verify', ...args, '--key-version-id', first!.keyVersionId]);
    // Against the newest version the old signature does not verify: exit 1, InvalidSignature.
    await fails(['verify', ...args], EXIT.REFUSED, /^InvalidSignature: /);
  });

  it('public-key prints KeyId, KeyVersionId and the PEM as JSON', async () => {
    const shown = await ok(['public-key', '--key-id', keys.rsa]);
    expect(Object.keys(shown)).toEqual(['KeyId', 'KeyVersionId', 'PublicKey']);
    expect(createPublicKey(shown.PublicKey).asymmetricKeyType).toBe('rsa');
  });

  it('refusals: both or neither of --message-file and --digest (usage), a symmetric key (UnsupportedOperation), a missing file (unavailable)', async () => {
    await fails(['sign', '--key-id', keys.ec, '--algorithm', 'ECDSA_SHA_256'], EXIT.USAGE, /exactly one of --message-file and --digest/);
    await fails(
      ['sign', '--key-id', keys.ec, '--algorithm', 'ECDSA_SHA_256', '--digest', 'AAAA', '--message-file', messageFile],
      EXIT.USAGE,
      /cannot be used with/,
    );
    await fails(['sign', '--key-id', keys.ec, '--algorithm', 'SHA1'], EXIT.USAGE, /Allowed choices/);
    await fails(['sign', '--key-id', KEY_ID, '--algorithm', 'ECDSA_SHA_256', '--message-file', messageFile], EXIT.REFUSED, /^UnsupportedOperation: /);
    await fails(['public-key', '--key-id', KEY_ID], EXIT.REFUSED, /^UnsupportedOperation: /);
    await fails(['sign', '--key-id', keys.ec, '--algorithm', 'ECDSA_SHA_256', '--message-file', join(dir, 'absent')], EXIT.UNAVAILABLE, /ENOENT/);
  });
});

describe('kms mac, verify-mac', () => {
  it("the MAC is the HMAC under the key's stored material; the algorithm defaults to the key's; verify-mac accepts it and refuses a changed message", async () => {
    const made = await ok(['mac', '--key-id', keys.hmac, '--message-file', messageFile]);
    expect(made.MacAlgorithm).toBe('HMAC_SHA_384');
    expect(made.KeyId).toMatch(new RegExp(`^arn:aws:kms:us-east-1:\\d+:key/${keys.hmac}$`));
    const [version] = await t.service.keyring.listVersions(keys.hmac);
    const material = Buffer.from((await t.service.keyring.getVersionRecord(keys.hmac, version!.keyVersionId))!.material, 'base64');
    expect(made.Mac).toBe(createHmac('sha384', material).update(message).digest('base64'));
    // --message (Base64) gives the same MAC as the file.
    expect((await ok(['mac', '--key-id', keys.hmac, '--algorithm', 'HMAC_SHA_384', '--message', message.toString('base64')])).Mac).toBe(made.Mac);
    expect(await ok(['verify-mac', '--key-id', keys.hmac, '--message-file', messageFile, '--mac', made.Mac])).toEqual({
      KeyId: keys.hmac,
      MacAlgorithm: 'HMAC_SHA_384',
      MacValid: true,
    });
    await fails(
      ['verify-mac', '--key-id', keys.hmac, '--message', Buffer.from('release 1.2.4\n').toString('base64'), '--mac', made.Mac],
      EXIT.REFUSED,
      /^InvalidMac: /,
    );
  });

  it('refusals: another algorithm (InvalidKeyUsageException), a key that is not an HMAC key, a region the service does not serve', async () => {
    await fails(['mac', '--key-id', keys.hmac, '--algorithm', 'HMAC_SHA_256', '--message-file', messageFile], EXIT.REFUSED, /^InvalidKeyUsageException: /);
    await fails(['mac', '--key-id', keys.ec, '--message-file', messageFile], EXIT.REFUSED, /^UnsupportedOperation: .*not an HMAC key/);
    await fails(['mac', '--key-id', keys.hmac, '--message-file', messageFile, '--aws-region', 'eu-west-1'], EXIT.REFUSED, /^IncompleteSignatureException: /);
  });
});
