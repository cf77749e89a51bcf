import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient } from '@alibaba-kms-compatible/client';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, KEY_ID, KEY_MATERIAL, OTHER_KEY_ID, PROVIDER, TEST_SEED } from '../helpers/service.js';
import { startPostgres } from '../helpers/postgres.js';
import { runKms } from '../helpers/cli-process.js';
import pg from 'pg';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * Several gateway processes on one backend (`npm start` twice): one consistent state. A key created
 * through one is used through the other, a request served by one is refused as a replay by the
 * other, and `kill -9` of one leaves the other serving.
 */

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-instances-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

/** Two gateways on one backend; with `ownDataDirs`, each on a directory of its own (a shared database holds the state). */
async function twoGateways(name: string, env: Record<string, string> = {}, ownDataDirs = false): Promise<[ReadyGateway, ReadyGateway]> {
  const seedFile = await writeSeedFile(root, TEST_SEED, `${name}-seed.json`);
  // What each caches is trusted for ten minutes: only the store's change marker can explain that the other's changes show at once.
  const options = (i: number) => ({ dataDir: join(root, ownDataDirs ? `${name}-${i}` : name), seedFile, env: { KMS_CACHE_TTL_MS: '600000', ...env } });
  return [await startGateway(options(1)), await startGateway(options(2))];
}

const client = (gateway: ReadyGateway) => createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });

function sharedStateSuite(name: string, open: () => Promise<[ReadyGateway, ReadyGateway]>, storeEnv: () => Record<string, string>): void {
  describe(name, () => {
    let a: ReadyGateway;
    let b: ReadyGateway;
    beforeAll(async () => {
      [a, b] = await open();
    }, 120_000);

    it('a key and an alias created through one are used through the other, and the other’s blob decrypts through the first', async () => {
      const created = (await client(a).call('CreateKey', {})) as { KeyMetadata: { KeyId: string } };
      const keyId = created.KeyMetadata.KeyId;
      await client(a).call('CreateAlias', { AliasName: 'alias/shared', KeyId: keyId });
      const generated = (await client(b).call('GenerateDataKey', { KeyId: 'alias/shared', EncryptionContext: '{"via":"b"}' })) as {
        KeyId: string;
        CiphertextBlob: string;
        Plaintext: string;
      };
      expect(generated.KeyId).toBe(keyId);
      const decrypted = (await client(a).call('Decrypt', { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: '{"via":"b"}' })) as {
        Plaintext: string;
      };
      expect(decrypted.Plaintext).toBe(generated.Plaintext);
      await client(b).call('DisableKey', { KeyId: keyId });
      await expect(client(a).call('GenerateDataKey', { KeyId: keyId })).rejects.toMatchObject({ code: 'Rejected.Disabled' });
    });

    it('a change acknowledged through one is what the other answers next, each time, though both cache for ten minutes: key state, deletion and its cancel, aliases', async () => {
      const call = (gateway: ReadyGateway, action: string, params: Record<string, string>) =>
        sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, action, params)));
      for (let round = 0; round < 4; round++) {
        const [writer, reader] = round % 2 ? [b, a] : [a, b];
        // The reader has the key cached as it was.
        expect((await call(reader, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
        expect((await call(writer, 'DisableKey', { KeyId: KEY_ID })).status).toBe(200);
        expect((await call(reader, 'GenerateDataKey', { KeyId: KEY_ID })).json.Code).toBe('Rejected.Disabled');
        expect((await call(writer, 'EnableKey', { KeyId: KEY_ID })).status).toBe(200);
        expect((await call(reader, 'GenerateDataKey', { KeyId: KEY_ID })).status).toBe(200);
        expect((await call(writer, 'ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' })).status).toBe(200);
        expect((await call(reader, 'DescribeKey', { KeyId: KEY_ID })).json.KeyMetadata.KeyState).toBe('PendingDeletion');
        expect((await call(writer, 'CancelKeyDeletion', { KeyId: KEY_ID })).status).toBe(200);
        expect((await call(reader, 'DescribeKey', { KeyId: KEY_ID })).json.KeyMetadata.KeyState).toBe('Enabled');
        const target = round % 2 ? KEY_ID : OTHER_KEY_ID;
        expect((await call(writer, 'UpdateAlias', { AliasName: ALIAS, KeyId: target })).status).toBe(200);
        expect((await call(reader, 'GenerateDataKey', { KeyId: ALIAS })).json.KeyId).toBe(target);
      }
    });

    it('an access key disabled or enabled with `kms access-keys` on the store is refused or accepted at once by both', async () => {
      const provide = async (gateway: ReadyGateway) => {
        const answer = await sendRaw(gateway.port, toRecorded(signedRpcRequest(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID })));
        return answer.status === 200 ? 'OK' : answer.json.Code;
      };
      const cli = async (command: string) => {
        const run = await runKms(['access-keys', command, PROVIDER.accessKeyId], { endpoint: a.url, credentials: null, env: storeEnv() });
        expect(run.code, run.stderr).toBe(0);
      };
      expect([await provide(a), await provide(b)]).toEqual(['OK', 'OK']);
      await cli('disable');
      expect([await provide(a), await provide(b)]).toEqual(['InvalidAccessKeyId.Inactive', 'InvalidAccessKeyId.Inactive']);
      await cli('enable');
      expect([await provide(a), await provide(b)]).toEqual(['OK', 'OK']);
    });

    it('a request served by one is refused as a replay by the other, over both signing versions', async () => {
      for (const request of [
        signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: TEST_SEED.keys![0]!.keyId }),
        signedV3Request(ADMIN, 'DescribeKey', { KeyId: TEST_SEED.keys![0]!.keyId }),
      ]) {
        expect((await sendRaw(a.port, toRecorded(request))).status).toBe(200);
        const replay = await sendRaw(b.port, toRecorded(request));
        expect(replay.status).toBe(400);
        expect(replay.json.Code).toBe('SignatureNonceUsed');
        expect((await sendRaw(a.port, toRecorded(request))).json.Code).toBe('SignatureNonceUsed');
      }
    });

    it('many requests to both at once: each nonce served exactly once', async () => {
      const requests = Array.from({ length: 60 }, (_, i) =>
        signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: TEST_SEED.keys![0]!.keyId }, { nonce: `burst-${i}` }),
      );
      const answers = await Promise.all(requests.flatMap((r) => [sendRaw(a.port, toRecorded(r)), sendRaw(b.port, toRecorded(r))]));
      for (let i = 0; i < requests.length; i++) {
        const pair = answers
          .slice(i * 2, i * 2 + 2)
          .map((x) => x.status)
          .sort();
        expect(pair).toEqual([200, 400]);
      }
    });

    it('kill -9 of one leaves the other serving, writes included', async () => {
      await a.stop('SIGKILL');
      const created = (await client(b).call('CreateKey', { Description: 'after the other died' })) as { KeyMetadata: { KeyId: string } };
      await client(b).call('CreateKeyVersion', { KeyId: created.KeyMetadata.KeyId });
      expect(((await client(b).call('GenerateDataKey', { KeyId: created.KeyMetadata.KeyId })) as { KeyId: string }).KeyId).toBe(created.KeyMetadata.KeyId);
    });
  });
}

sharedStateSuite(
  'two gateways on one file data directory',
  () => twoGateways('file'),
  () => ({ KMS_DATA_DIR: join(root, 'file') }),
);

describe('on one PostgreSQL', () => {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await killAllGateways();
    await postgres?.stop();
  });

  const env = () => ({ KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: postgres.url, KMS_ROOT_KEY_FILE: join(root, 'pg-root.key') });
  sharedStateSuite('two gateways on one PostgreSQL (each with a data directory of its own)', () => twoGateways('pg', env(), true), env);

  it('one machine grows into a cluster: `kms store copy` moves a file store into PostgreSQL (twice: idempotent), where a gateway decrypts the blobs made before and knows the same access keys', async () => {
    const seedFile = await writeSeedFile(root, TEST_SEED, 'grow-seed.json');
    const dataDir = join(root, 'grow');
    const single = await startGateway({ dataDir, seedFile });
    const created = (await client(single).call('CreateKey', { Description: 'made on one machine' })) as { KeyMetadata: { KeyId: string } };
    await client(single).call('CreateAlias', { AliasName: 'alias/grown', KeyId: created.KeyMetadata.KeyId });
    await client(single).call('CreateKeyVersion', { KeyId: created.KeyMetadata.KeyId });
    const blob = (await client(single).call('GenerateDataKey', { KeyId: 'alias/grown', EncryptionContext: '{"m":"1"}' })) as {
      CiphertextBlob: string;
      Plaintext: string;
    };
    await single.stop('SIGTERM');

    const to = ['--to', 'KMS_KEY_STORE=postgres', '--to', `KMS_POSTGRES_URL=${postgres.url}`, '--to', 'KMS_POSTGRES_SCHEMA=grown'];
    const cli = (args: string[]) => runKms(['store', 'copy', '--data-dir', dataDir, ...args], { endpoint: 'http://127.0.0.1:9', credentials: null });
    const first = await cli(to);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const copied = JSON.parse(first.stdout) as { Copied: number; AlreadyPresent: number; Conflicts: string[] };
    expect(copied.Copied).toBeGreaterThan(10);
    expect(copied.Conflicts).toEqual([]);
    const again = JSON.parse((await cli(to)).stdout) as { Copied: number; AlreadyPresent: number };
    expect(again).toMatchObject({ Copied: 0, AlreadyPresent: copied.Copied });
    expect((await cli(['--to', 'KMS_POSTGRES_URL=x'])).code).toBe(2);

    // No seed: everything it knows came through the copy (the root key is the data directory's).
    const cluster = await startGateway({ dataDir, env: { KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: postgres.url, KMS_POSTGRES_SCHEMA: 'grown' } });
    const decrypted = (await client(cluster).call('Decrypt', { CiphertextBlob: blob.CiphertextBlob, EncryptionContext: '{"m":"1"}' })) as { Plaintext: string };
    expect(decrypted.Plaintext).toBe(blob.Plaintext);
    const versions = (await client(cluster).call('ListKeyVersions', { KeyId: created.KeyMetadata.KeyId })) as { TotalCount: number };
    expect(versions.TotalCount).toBe(2);
    await cluster.stop('SIGTERM');
  }, 120_000);

  it('the database holds no seeded key material and no access-key secret: every value is sealed', async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; value: Buffer }>('SELECT name, value FROM kms.entries');
      expect(rows.length).toBeGreaterThan(10);
      const secrets = [KEY_MATERIAL, Buffer.from(KEY_MATERIAL, 'base64').toString('hex'), ...TEST_SEED.accessKeys!.map((k) => k.accessKeySecret)].map((t) =>
        Buffer.from(t),
      );
      secrets.push(Buffer.from(KEY_MATERIAL, 'base64'));
      for (const row of rows) {
        expect(row.value.subarray(0, 4).toString(), row.name).toBe('KMSS');
        for (const secret of secrets) expect(row.value.includes(secret), row.name).toBe(false);
      }
    } finally {
      await client.end();
    }
  });

  it('when the database goes away, /health/ready says 503 and requests answer 503; when it is back, both recover without a restart', async () => {
    const gateway = await startGateway({
      dataDir: join(root, 'ready'),
      seedFile: await writeSeedFile(root, TEST_SEED, 'ready-seed.json'),
      env: { ...env(), KMS_POSTGRES_SCHEMA: 'readiness', KMS_CACHE_TTL_MS: '0' },
    });
    const ready = async () => (await fetch(new URL('/health/ready', gateway.url))).status;
    expect(await ready()).toBe(200);
    await postgres.stopServer();
    try {
      expect(await ready()).toBe(503);
      const answer = await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: TEST_SEED.keys![0]!.keyId })));
      expect(answer.status).toBe(503);
      expect(answer.json.Code).toBe('ServiceUnavailableTemporary');
      expect((await fetch(new URL('/health/live', gateway.url))).status).toBe(200);
    } finally {
      await postgres.startServer();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await ready();
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
    expect((await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: TEST_SEED.keys![0]!.keyId })))).status).toBe(200);
    await gateway.stop('SIGTERM');
  }, 60_000);
});
