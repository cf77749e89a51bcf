import { randomUUID } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, CONSUMER, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * The adversarial run's denial of service, against the real gateway process: a valid access key
 * flooding huge signature nonces must not grow memory or the nonce journal, and whatever the
 * journal holds must never stop the next start.
 */

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-adversarial-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

describe('the gateway under a nonce flood', () => {
  it('when a valid key sends 300 requests with 60,000-character nonces (refused by policy or not), each is a 400, the journal stays empty, and a restart is instant', async () => {
    const dataDir = join(root, 'flood');
    const seedFile = await writeSeedFile(root, TEST_SEED, 'flood-seed.json');
    const gateway = await startGateway({ dataDir, seedFile });
    const huge = 'n'.repeat(60_000);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const who = i % 2 === 0 ? CONSUMER : ADMIN;
      const request =
        i % 3 === 0
          ? signedV3Request(who, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce: `${huge.slice(0, 8_000)}${i}` })
          : signedRpcRequest(who, 'GenerateDataKey', { KeyId: KEY_ID }, { method: 'POST', form: true, nonce: `${huge}${i}` });
      const r = await sendRaw(gateway.port, toRecorded(request));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status !== 431) expect(r.json.Code).toBe('IncompleteSignature');
    }
    // 431: Node's own header limit, for V3 nonces beyond it. Never a 5xx, never served.
    expect(
      [...statuses.keys()].every((s) => s === 400 || s === 431),
      JSON.stringify([...statuses]),
    ).toBe(true);
    const journal = join(dataDir, 'nonces.journal');
    expect((await stat(journal).catch(() => ({ size: 0 }))).size).toBeLessThan(1_000);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const again = await startGateway({ dataDir, seedFile });
    const ok = await sendRaw(again.port, toRecorded(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })));
    expect(ok.status).toBe(200);
    expect(await again.stop('SIGTERM')).toBe(0);
  });

  it('when the journal was left holding a 30 MB line and garbage, the gateway still starts, and a request replayed from before the garbage is still refused', async () => {
    const dataDir = join(root, 'damaged');
    const seedFile = await writeSeedFile(root, TEST_SEED, 'damaged-seed.json');
    const gateway = await startGateway({ dataDir, seedFile });
    const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce: randomUUID() });
    expect((await sendRaw(gateway.port, toRecorded(request))).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const journal = join(dataDir, 'nonces.journal');
    const handle = await open(journal, 'a');
    const chunk = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 30; i++) await handle.write(chunk);
    await handle.write('\n\u0000\u0001 garbage\t\t\t\n');
    await handle.close();

    const again = await startGateway({ dataDir, seedFile, timeoutMs: 30_000 });
    const replay = await sendRaw(again.port, toRecorded(request));
    expect(replay.status).toBe(400);
    expect(replay.json.Code).toBe('SignatureNonceUsed');
    expect(await again.stop('SIGTERM')).toBe(0);
    // The damage was compacted away at start.
    expect((await readFile(journal)).length).toBeLessThan(10_000);
  });
});
