import { rename, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NONCE_JOURNAL_FILE } from '../../lib/service-from-env.js';
import { killAllGateways, makeTempDir, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { httpStatus, sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { waitFor } from '../helpers/store-files.js';

/*
 * /health/ready through the gateway when the disk under the replay journal is full: every signed
 * request is then a 503 though the key store still answers reads, so readiness must say 503 too
 * (within seconds, with traffic or without), and 200 again once the disk takes writes, without a
 * restart; /health/live stays 200. With workers, whichever worker takes the probe answers alike.
 *
 * The full disk: the journal's path made a link to /dev/full, whose write(2) fails with ENOSPC from
 * the kernel (the journal opens its path anew when the file there changes), then put back. Unlike
 * a tmpfs mount it needs no privileges, and unlike a nearly full file system it refuses the very
 * first byte.
 */

let root: string;
let seedFile: string;
beforeAll(async () => {
  root = await makeTempDir('kms-readiness-');
  seedFile = await writeSeedFile(root, TEST_SEED);
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

/** Polls (fresh connections: with workers, each may land on another) until `n` answers in a row are `expected`. */
async function readyBecomes(port: number, expected: number, n: number): Promise<void> {
  let streak = 0;
  await waitFor(
    async () => {
      streak = (await httpStatus(port, '/health/ready')) === expected ? streak + 1 : 0;
      return streak >= n;
    },
    15_000,
    `/health/ready to answer ${expected} ${n} times in a row`,
  );
}

const describeKey = (port: number) => sendRaw(port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })));

describe.each([1, 2])('/health/ready when the disk refuses writes, with KMS_WORKERS=%i', (workers) => {
  // Enough answers in a row that, spread round robin, every worker gave some.
  const streak = workers * 3;

  it.each([
    ['while requests fail', true],
    ['with no traffic at all', false],
  ])(
    'goes 503 %s and back to 200 when the disk takes writes again; live stays 200',
    async (_, traffic) => {
      const dataDir = join(root, `data-${workers}-${traffic ? 'traffic' : 'idle'}`);
      const gateway = await startGateway({ dataDir, seedFile, env: { KMS_WORKERS: String(workers) } });
      const journal = join(dataDir, NONCE_JOURNAL_FILE);
      expect((await describeKey(gateway.port)).status).toBe(200);
      await readyBecomes(gateway.port, 200, streak);

      await rename(journal, `${journal}.kept`);
      await symlink('/dev/full', journal);
      if (traffic) {
        const refused = await describeKey(gateway.port);
        expect([refused.status, refused.json.Code]).toEqual([503, 'ServiceUnavailableTemporary']);
      }
      await readyBecomes(gateway.port, 503, streak);
      expect(await httpStatus(gateway.port, '/health/live')).toBe(200);
      // It said so because requests do fail.
      expect((await describeKey(gateway.port)).status).toBe(503);

      await unlink(journal);
      await rename(`${journal}.kept`, journal);
      await readyBecomes(gateway.port, 200, streak);
      expect((await describeKey(gateway.port)).status).toBe(200);
      expect(gateway.hasExited()).toBe(false);
      expect(await gateway.stop('SIGTERM')).toBe(0);
    },
    60_000,
  );
});
