import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient } from '@alibaba-kms-compatible/client';
import { killAllGateways, makeTempDir, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, KEY_MATERIAL, TEST_SEED } from '../helpers/service.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import { openKeyStoreFromEnvironment } from '../../lib/service-from-env.js';

/*
 * Keys at rest: after a gateway seeded with known key material and access-key secrets has served
 * requests, no file of its data directory holds any of them, in any encoding.
 */

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-at-rest-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else out.push(path);
  }
  return out;
}

/** A secret's forms that could sit in a file: as text, Base64 of its text, and (for key material) its bytes, hex and Base64. */
function forms(secret: string, isMaterial = false): Buffer[] {
  const text = Buffer.from(secret, 'utf8');
  const out = [text, Buffer.from(text.toString('base64'))];
  if (isMaterial) {
    const bytes = Buffer.from(secret, 'base64');
    out.push(
      bytes,
      Buffer.from(bytes.toString('hex')),
      Buffer.from(
        Buffer.from(JSON.stringify({ material: secret }))
          .toString('base64')
          .slice(0, 24),
      ),
    );
  }
  return out;
}

describe('the data directory at rest', () => {
  it('holds no seeded key material and no access-key secret, in any form, after serving requests', async () => {
    const dataDir = join(root, 'data');
    const gateway = await startGateway({ dataDir, seedFile: await writeSeedFile(root, TEST_SEED) });
    const kms = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });
    const { CiphertextBlob } = (await kms.call('GenerateDataKey', { KeyId: ALIAS })) as { CiphertextBlob: string };
    await kms.call('Decrypt', { CiphertextBlob });
    await kms.call('CreateKey', { Description: 'made at run time' });
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const secrets = [...forms(KEY_MATERIAL, true), ...TEST_SEED.accessKeys!.flatMap((k) => forms(k.accessKeySecret))];
    const admin = JSON.parse(await readFile(join(dataDir, 'admin-credentials.json'), 'utf8').catch(() => '{}')) as { accessKeySecret?: string };
    const files = (await allFiles(dataDir)).filter((f) => !f.endsWith('admin-credentials.json') && !f.endsWith('root.key'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const bytes = await readFile(file);
      // An entry file is JSON with its value in Base64: look through that encoding too.
      let decoded = Buffer.alloc(0);
      try {
        decoded = Buffer.from((JSON.parse(bytes.toString('utf8')) as { value: string }).value, 'base64');
      } catch {
        // Not an entry file (the journal): its bytes are checked as they are.
      }
      for (const content of [bytes, decoded]) {
        for (const secret of secrets) expect(content.includes(secret), `${file} holds a secret`).toBe(false);
        if (admin.accessKeySecret) expect(content.includes(Buffer.from(admin.accessKeySecret))).toBe(false);
      }
    }
  });
});

describe('private keys and HMAC keys at rest', () => {
  it('no file of the data directory holds an RSA or EC private key (PKCS #8) or an HMAC key, in any form', async () => {
    const dataDir = join(root, 'asymmetric');
    const gateway = await startGateway({ dataDir, seedFile: await writeSeedFile(root, TEST_SEED) });
    const kms = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });
    const versions: Array<{ keyId: string; keyVersionId: string }> = [];
    const kinds: Array<Record<string, string>> = [
      { KeySpec: 'RSA_2048' },
      { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' },
      { KeySpec: 'EC_P256' },
      { KeySpec: 'HMAC_256' },
    ];
    for (const params of kinds) {
      const { KeyMetadata } = (await kms.call('CreateKey', params)) as { KeyMetadata: { KeyId: string } };
      const listed = (await kms.call('ListKeyVersions', { KeyId: KeyMetadata.KeyId })) as { KeyVersions: { KeyVersion: Array<{ KeyVersionId: string }> } };
      for (const v of listed.KeyVersions.KeyVersion) versions.push({ keyId: KeyMetadata.KeyId, keyVersionId: v.KeyVersionId });
    }
    expect(await gateway.stop('SIGTERM')).toBe(0);

    // The material as the service reads it (through the seal, with the root key), to look for in the files.
    const { store, close } = await openKeyStoreFromEnvironment({ KMS_KEY_STORE: 'file', KMS_DATA_DIR: dataDir }, undefined, { mustExist: true });
    const keyring = new Keyring(store, { region: 'cn-hangzhou', accountId: '1234567890123456', cacheTtlMs: 0 });
    const materials: string[] = [];
    for (const v of versions) materials.push((await keyring.getVersionRecord(v.keyId, v.keyVersionId))!.material);
    await close();
    expect(materials).toHaveLength(4);
    const secrets = materials.flatMap((m) => {
      const bytes = Buffer.from(m, 'base64');
      // The private key's own bytes are past the PKCS #8 header: look for a run from its middle too.
      const middle = bytes.subarray(Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 16);
      return [...forms(m, true), middle, Buffer.from(middle.toString('hex'))];
    });
    for (const file of (await allFiles(dataDir)).filter((f) => !f.endsWith('admin-credentials.json') && !f.endsWith('root.key'))) {
      const bytes = await readFile(file);
      let decoded = Buffer.alloc(0);
      try {
        decoded = Buffer.from((JSON.parse(bytes.toString('utf8')) as { value: string }).value, 'base64');
      } catch {
        // Not an entry file.
      }
      for (const content of [bytes, decoded]) for (const secret of secrets) expect(content.includes(secret), `${file} holds key material`).toBe(false);
    }
  });
});

describe('secret values at rest', () => {
  it('no file of the data directory holds a secret value (text or binary), in any form', async () => {
    const dataDir = join(root, 'secrets');
    const gateway = await startGateway({ dataDir, seedFile: await writeSeedFile(root, TEST_SEED) });
    const kms = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });
    const TEXT = 'recognisable-secret-value-4b1d-at-rest';
    const BYTES = Buffer.from('recognisable binary secret at rest \u0000\u0001\u0002');
    await kms.call('CreateSecret', { SecretName: 'rest/text', VersionId: 'v1', SecretData: TEXT });
    await kms.call('PutSecretValue', { SecretName: 'rest/text', VersionId: 'v2', SecretData: `${TEXT}-2` });
    await kms.call('CreateSecret', { SecretName: 'rest/keyed', VersionId: 'v1', SecretData: `${TEXT}-keyed`, EncryptionKeyId: ALIAS });
    await kms.call('CreateSecret', { SecretName: 'rest/binary', VersionId: 'v1', SecretData: BYTES.toString('base64'), SecretDataType: 'binary' });
    const read = (await kms.call('GetSecretValue', { SecretName: 'rest/text' })) as { SecretData: string };
    expect(read.SecretData).toBe(`${TEXT}-2`);
    expect(((await kms.call('GetSecretValue', { SecretName: 'rest/binary' })) as { SecretData: string }).SecretData).toBe(BYTES.toString('base64'));
    expect(((await kms.call('GetSecretValue', { SecretName: 'rest/keyed' })) as { SecretData: string }).SecretData).toBe(`${TEXT}-keyed`);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const values = [...forms(TEXT), BYTES, Buffer.from(BYTES.toString('base64')), Buffer.from(BYTES.toString('hex'))];
    const files = (await allFiles(dataDir)).filter((f) => !f.endsWith('admin-credentials.json') && !f.endsWith('root.key'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const bytes = await readFile(file);
      let decoded = Buffer.alloc(0);
      try {
        decoded = Buffer.from((JSON.parse(bytes.toString('utf8')) as { value: string }).value, 'base64');
      } catch {
        // Not an entry file.
      }
      for (const content of [bytes, decoded]) for (const value of values) expect(content.includes(value), `${file} holds a secret value`).toBe(false);
    }
  });
});
