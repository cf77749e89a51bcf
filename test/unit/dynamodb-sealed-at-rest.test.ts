import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImportToken } from '../../lib/crypto/import-token.js';
import { wrapMaterial } from '../../lib/crypto/import-wrap.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import { openDynamoDbBackend } from '../../lib/keystore/dynamodb/dynamodb-backend.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { RootKeyMismatchError } from '../../lib/keystore/sealed-store.js';
import { UnsealedStoreError } from '../../lib/keystore/sealed-store.js';
import { openKeyStoreFromEnvironment, serviceFromEnvironment } from '../../lib/service-from-env.js';
import { itemBytes, type SealedStage, secretForms, startSealedStage } from '../helpers/sealed-dynamodb.js';
import { ADMIN, CONSUMER, createTestService, KEY_ID, KEY_MATERIAL, PROVIDER, SCOPED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * Proof that the `dynamodb` backend keeps no secret in the clear: everything the service writes
 * through the real backend (dynalite, the real SDK) is read back RAW with a plain client and
 * searched for every secret the scenario produced, in every form it could be stored in. The same
 * search over a table written unsealed (the layout before) finds them: the search itself works.
 * Then: a wrong root key is refused and changes nothing; two instances sealing an earlier table at
 * once both open it; nothing ever seals a table under a root key file it would have to invent.
 */

let stage: SealedStage;

beforeAll(async () => {
  stage = await startSealedStage();
});

afterAll(async () => {
  await stage.stop();
});

/** What a scenario wrote that must never lie in the table in the clear, by what it is. */
type Secrets = Array<[string, Buffer]>;

/**
 * Writes through the service what a stage holds: the seed's keys (fixed material) and access
 * keys (secrets), new keys and versions, a data key, an import token (whose private key is sealed
 * under the import-token key, kept in the store), imported material. Returns every secret seen.
 */
async function writeEverything(store: KeyStore): Promise<Secrets> {
  const t = await createTestService({ store });
  const call = async (action: string, params: Record<string, string>) => {
    const r = await t.call(signedRpcRequest(ADMIN, action, params, { timestamp: isoSeconds(Date.now()) }));
    expect(r.status, `${action}: ${r.raw}`).toBe(200);
    return r.body;
  };
  const secrets: Secrets = [
    ['seed key material', Buffer.from(KEY_MATERIAL, 'base64')],
    ...[ADMIN, PROVIDER, CONSUMER, SCOPED].map((c): [string, Buffer] => [`access-key secret of ${c.accessKeyId}`, Buffer.from(c.accessKeySecret)]),
  ];
  const created = (await call('CreateKey', {})).KeyMetadata.KeyId as string;
  await call('CreateKeyVersion', { KeyId: created });
  const keyring = new Keyring(store, { region: 'cn-hangzhou', accountId: '1', cacheTtlMs: 0 });
  for (const version of await keyring.listVersions(created)) {
    secrets.push([`material of ${version.keyVersionId}`, Buffer.from((await keyring.versions.find(version.keyVersionId))!.material)]);
  }
  for (const keyId of [KEY_ID, created]) {
    const dataKey = await call('GenerateDataKey', { KeyId: keyId, NumberOfBytes: '32' });
    secrets.push([`data key of ${keyId}`, Buffer.from(dataKey.Plaintext as string, 'base64')]);
  }
  const external = (await call('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
  const params = await call('GetParametersForImport', { KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  const tokenKey = await t.service.keyring.importTokenKey();
  secrets.push(['import-token key', Buffer.from(tokenKey)]);
  secrets.push(['import private key (PKCS#8 DER)', openImportToken(tokenKey, params.ImportToken as string)!.privateKey]);
  const imported = randomBytes(32);
  await call('ImportKeyMaterial', {
    KeyId: external,
    ImportToken: params.ImportToken as string,
    EncryptedKeyMaterial: wrapMaterial(params.PublicKey as string, 'RSAES_OAEP_SHA_256', imported),
  });
  secrets.push(['imported material', imported]);
  return secrets;
}

/** The secrets found in the raw items (named with the item that holds each). */
function foundIn(items: Array<Record<string, AttributeValue>>, secrets: Secrets): string[] {
  const raw = items.map((item) => ({ sk: item.sk?.S ?? item.pk?.S, bytes: itemBytes(item) }));
  const found: string[] = [];
  for (const [what, secret] of secrets) {
    for (const form of secretForms(secret)) {
      const hit = raw.find((item) => item.bytes.includes(form));
      if (hit) {
        found.push(`${what} in ${hit.sk}`);
        break;
      }
    }
  }
  return found;
}

describe('KMS_KEY_STORE=dynamodb at rest', () => {
  it('when a stage writes keys, versions, access keys, a data key, an import token and imported material, the raw table holds none of their secrets in any form', async () => {
    const table = await stage.newTable();
    const opened = await openKeyStoreFromEnvironment(stage.env(table));
    const secrets = await writeEverything(opened.store);
    await opened.close();
    expect(secrets.length).toBeGreaterThanOrEqual(12);
    const items = await stage.rawItems(table);
    expect(items.length).toBeGreaterThan(20);
    expect(foundIn(items, secrets)).toEqual([]);
    // Every entry's value is sealed (nothing is left for a search to miss in some other encoding).
    const entries = items.filter((item) => item.kind?.S === 'entry');
    for (const item of entries) expect(Buffer.from(item.value!.B!).subarray(0, 5).toString('latin1'), item.sk?.S).toBe('KMSS\x01');
  });

  it('when the same is written to a table without the seal (the layout before), the search finds the secrets: it would catch a leak', async () => {
    const table = await stage.newTable();
    const raw = await openDynamoDbBackend({ tableName: table, region: 'us-east-1' });
    const secrets = await writeEverything(raw.store);
    await raw.close();
    const found = foundIn(await stage.rawItems(table), secrets);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^access-key secret of testAdmin0001 in access-keys\//),
        expect.stringMatching(/^seed key material in key-versions\//),
      ]),
    );
    expect(found.some((f) => f.startsWith('import-token key in meta/import-token-key'))).toBe(true);
  });

  it('when a sealed table is opened under another root key, it is refused with RootKeyMismatchError and not one item changes', async () => {
    const table = await stage.newTable();
    const opened = await openKeyStoreFromEnvironment(stage.env(table));
    await writeEverything(opened.store);
    await opened.close();
    const before = await stage.rawItems(table);
    const other = 'kms/test/other-root-key';
    stage.fakeSm.createSecret({ Name: other, SecretString: JSON.stringify({ seed: 'Z'.repeat(64) }) });
    for (const source of [`aws-secrets-manager:${other}`, 'file:/nonexistent/root.key']) {
      const error = await openKeyStoreFromEnvironment(stage.env(table, { KMS_ROOT_KEY_SOURCE: source })).catch((err: unknown) => err);
      expect(error, source).toBeInstanceOf(Error);
      if (source.startsWith('aws')) expect(error).toBeInstanceOf(RootKeyMismatchError);
      else expect((error as Error).message).toMatch(/does not exist, and none is made/);
    }
    await expect(
      (async () => {
        const dir = await mkdtemp(join(tmpdir(), 'kms-wrong-root-'));
        try {
          await writeFile(join(dir, 'root.key'), `${randomBytes(32).toString('base64')}\n`);
          await openKeyStoreFromEnvironment(stage.env(table, { KMS_ROOT_KEY_SOURCE: `file:${join(dir, 'root.key')}` }));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      })(),
    ).rejects.toBeInstanceOf(RootKeyMismatchError);
    expect(await stage.rawItems(table)).toEqual(before);
  });

  it('when two operators seal a table of an earlier release (unsealed) at once, both finish and both read every value; afterwards nothing is in the clear', async () => {
    const table = await stage.newTable();
    const raw = await openDynamoDbBackend({ tableName: table, region: 'us-east-1' });
    const secrets = await writeEverything(raw.store);
    await raw.close();
    expect(foundIn(await stage.rawItems(table), secrets)).not.toEqual([]);
    // Without the operator's request it is refused, and left as it is.
    const before = await stage.rawItems(table);
    await expect(openKeyStoreFromEnvironment(stage.env(table))).rejects.toBeInstanceOf(UnsealedStoreError);
    expect(await stage.rawItems(table)).toEqual(before);
    const sealing = { mustExist: true, sealInPlace: true };
    const [a, b] = await Promise.all([
      openKeyStoreFromEnvironment(stage.env(table), undefined, sealing),
      openKeyStoreFromEnvironment(stage.env(table), undefined, sealing),
    ]);
    expect(foundIn(await stage.rawItems(table), secrets)).toEqual([]);
    for (const opened of [a, b]) {
      const names = await opened.store.list('');
      expect(names.length).toBeGreaterThan(10);
      for (const name of names) expect(await opened.store.get(name), name).toBeDefined();
      const keyring = new Keyring(opened.store, { region: 'cn-hangzhou', accountId: '1', cacheTtlMs: 0 });
      const seedVersion = (await keyring.listVersions(KEY_ID))[0]!;
      expect((await keyring.versions.find(seedVersion.keyVersionId))?.material.toString('base64')).toBe(KEY_MATERIAL);
      await opened.close();
    }
  });

  it.each([
    ['a table of an earlier release (entries, no seal)', true],
    ['a new, empty table', false],
  ])(
    'when a tool or a gateway finds %s and no root key, it makes no root key file and leaves the table as it is; a file made by hand is used',
    async (_, earlier) => {
      const dir = await mkdtemp(join(tmpdir(), 'kms-dynamodb-root-'));
      try {
        const table = await stage.newTable();
        if (earlier) {
          const raw = await openDynamoDbBackend({ tableName: table, region: 'us-east-1' });
          await writeEverything(raw.store);
          await raw.close();
        }
        const before = await stage.rawItems(table);
        // A workstation: the stage's table, but no KMS_ROOT_KEY_SOURCE (so the default root key file).
        const env: Record<string, string> = { ...stage.env(table), KMS_DATA_DIR: dir };
        delete env.KMS_ROOT_KEY_SOURCE;
        const refusal = /root key file .*root\.key does not exist, and none is made for a store shared beyond this machine .*set KMS_ROOT_KEY_SOURCE/;
        await expect(openKeyStoreFromEnvironment(env, undefined, { mustExist: earlier })).rejects.toThrow(refusal);
        await expect(serviceFromEnvironment(env)).rejects.toThrow(refusal);
        expect(await readdir(dir)).toEqual([]);
        expect(await stage.rawItems(table)).toEqual(before);
        // A local table, with a root key made on purpose: sealed under it (an earlier one when the
        // operator asks).
        await writeFile(join(dir, 'root.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
        const opened = await openKeyStoreFromEnvironment(env, undefined, { sealInPlace: earlier });
        await opened.close();
        expect((await stage.rawItems(table)).some((item) => item.sk?.S === 'meta/root-key-check')).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
