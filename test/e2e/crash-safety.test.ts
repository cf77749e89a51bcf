import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient, KmsApiError, KmsConnectionError } from '@alibaba-kms-compatible/client';
import { killAllGateways, makeTempDir, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, TEST_SEED } from '../helpers/service.js';

/*
 * Nothing acknowledged is lost: the gateway is killed with SIGKILL, again and again, while clients
 * create keys, versions and aliases and take data keys; after every restart each write it had
 * acknowledged is there, and each data key it had handed out decrypts.
 */

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const WRITERS = 6;

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-crash-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

interface Acknowledged {
  keys: string[];
  versions: Array<{ keyId: string; keyVersionId: string }>;
  aliases: Array<{ alias: string; keyId: string }>;
  dataKeys: Array<{ keyId: string; ciphertext: string; plaintext: string; context: string }>;
}

describe('Crash safety: SIGKILL in a loop', () => {
  it(`after ${ROUNDS} kills during writes, every acknowledged key, version and alias is there and every data key decrypts`, async () => {
    const dataDir = join(root, 'data');
    const seedFile = await writeSeedFile(root, TEST_SEED);
    const acknowledged: Acknowledged = { keys: [], versions: [], aliases: [], dataKeys: [] };
    let aliasCounter = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const gateway = await startGateway({ dataDir, seedFile, env: { KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'error', KMS_CACHE_TTL_MS: '0' } });
      const kms = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret, timeoutMs: 5_000 });

      // Everything acknowledged so far must have survived the previous kill.
      await verify(kms, acknowledged);

      let killed = false;
      const writer = async () => {
        while (!killed) {
          try {
            const created = (await kms.call('CreateKey', { Description: `round ${round}` })) as { KeyMetadata: { KeyId: string } };
            const keyId = created.KeyMetadata.KeyId;
            acknowledged.keys.push(keyId);
            const alias = `alias/crash-${round}-${aliasCounter++}`;
            await kms.call('CreateAlias', { AliasName: alias, KeyId: keyId });
            acknowledged.aliases.push({ alias, keyId });
            const version = (await kms.call('CreateKeyVersion', { KeyId: keyId })) as { KeyVersion: { KeyVersionId: string } };
            acknowledged.versions.push({ keyId, keyVersionId: version.KeyVersion.KeyVersionId });
            const context = JSON.stringify({ round: String(round) });
            const dataKey = (await kms.call('GenerateDataKey', { KeyId: alias, EncryptionContext: context })) as { CiphertextBlob: string; Plaintext: string };
            acknowledged.dataKeys.push({ keyId, ciphertext: dataKey.CiphertextBlob, plaintext: dataKey.Plaintext, context });
          } catch (err) {
            // The kill cuts requests short: unacknowledged, so nothing is expected of them.
            if (err instanceof KmsConnectionError || (err instanceof KmsApiError && killed)) break;
            throw err;
          }
        }
      };
      const before = acknowledged.dataKeys.length;
      const writers = Array.from({ length: WRITERS }, () => writer());
      // Each round gets a data key acknowledged first (however slow the machine), so that every
      // round has something of its own to lose; then it is killed at a different moment, mid-write.
      const firstDataKey = async () => {
        while (acknowledged.dataKeys.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      // A writer that fails ends the wait (and the test, below) rather than leaving it spinning.
      await Promise.race([firstDataKey(), Promise.all(writers)]);
      await new Promise((resolve) => setTimeout(resolve, 100 + ((round * 137) % 500)));
      killed = true;
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await Promise.all(writers);
    }

    const last = await startGateway({ dataDir, seedFile, env: { KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'error' } });
    await verify(createKmsClient({ endpoint: last.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret }), acknowledged);
    expect(acknowledged.dataKeys.length).toBeGreaterThan(ROUNDS);
    console.log(
      `crash-safety: ${ROUNDS} SIGKILLs; ${acknowledged.keys.length} keys, ${acknowledged.versions.length} versions, ${acknowledged.aliases.length} aliases, ${acknowledged.dataKeys.length} data keys acknowledged, all present after restart`,
    );
    await last.stop('SIGTERM');
  }, 180_000);
});

async function verify(kms: ReturnType<typeof createKmsClient>, acknowledged: Acknowledged): Promise<void> {
  for (const keyId of acknowledged.keys) {
    expect(((await kms.call('DescribeKey', { KeyId: keyId })) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId).toBe(keyId);
  }
  for (const { alias, keyId } of acknowledged.aliases) {
    expect(((await kms.call('DescribeKey', { KeyId: alias })) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId).toBe(keyId);
  }
  for (const { keyId, keyVersionId } of acknowledged.versions) {
    const listed = (await kms.call('ListKeyVersions', { KeyId: keyId, PageSize: '100' })) as { KeyVersions: { KeyVersion: Array<{ KeyVersionId: string }> } };
    expect(listed.KeyVersions.KeyVersion.map((v) => v.KeyVersionId)).toContain(keyVersionId);
  }
  for (const { ciphertext, plaintext, context } of acknowledged.dataKeys) {
    expect(((await kms.call('Decrypt', { CiphertextBlob: ciphertext, EncryptionContext: context })) as { Plaintext: string }).Plaintext).toBe(plaintext);
  }
}
