import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeEach, describe, expect, it } from 'vitest';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { ADMIN, KEY_ID, createTestService, keyArnOf, type TestService } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

// What a request sends must not outlive it through a name or value something keeps: a cache key
// (access key, key id, alias), an audit record (the access key id), a memo. V8 cuts substrings of
// 13 or more characters as views on the whole text, so one kept identifier would keep every other
// parameter of its request — a Plaintext, a SecretData — and a caller could pin a body's worth of
// memory per entry.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Whether any string in the heap holds `text` (written after the snapshot, so the search string itself is not found). */
function heapHolds(textOf: () => string): boolean {
  gc();
  const file = v8.writeHeapSnapshot(join(tmpdir(), `retention-${randomUUID()}.heapsnapshot`));
  try {
    const snapshot = readFileSync(file, 'utf8');
    return snapshot.includes(textOf());
  } finally {
    rmSync(file, { force: true });
  }
}

const heapBytes = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

let t: TestService;
beforeEach(async () => {
  t = await createTestService({ recentAudit: new RecentAuditRecords() });
});

/** An Encrypt of a fresh secret plaintext, answered 200; returns how to spell the plaintext again, the request gone. */
async function encryptOnce(options: { form: boolean; keyId: string }): Promise<() => string> {
  const seed = randomBytes(24);
  const plaintextOf = () => `SECRET${seed.toString('hex')}`;
  const answer = await t.call(
    signedRpcRequest(ADMIN, 'Encrypt', { KeyId: options.keyId, Plaintext: plaintextOf() }, options.form ? { method: 'POST', form: true } : {}),
  );
  expect(answer.status).toBe(200);
  return plaintextOf;
}

describe('Request texts do not outlive their requests', () => {
  it.each([
    { form: true, keyId: KEY_ID, what: 'a form body, KeyId a key id' },
    { form: false, keyId: KEY_ID, what: 'a query, KeyId a key id' },
    { form: true, keyId: keyArnOf(KEY_ID), what: 'a form body, KeyId an ARN' },
  ])(
    'when a signed Encrypt comes as $what, its Plaintext is nowhere in the heap once it is answered (caches, audit records and all)',
    async ({ form, keyId }) => {
      const plaintext = await encryptOnce({ form, keyId });
      // Later requests, as traffic goes on: the caches and the audit ring keep what the first one left.
      for (let i = 0; i < 20; i++) expect((await t.call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: keyId }))).status).toBe(200);
      expect(heapHolds(plaintext)).toBe(false);
    },
  );

  it('when many refused requests each carry a large body and a fresh long value, the memory they leave behind stays small', async () => {
    const body = 'A'.repeat(256 * 1024);
    const send = async (i: number) => {
      const request = signedRpcRequest(
        ADMIN,
        'CreateSecret',
        { SecretName: `retention-${i}`, SecretData: body, EncryptionKeyId: randomUUID() },
        {
          method: 'POST',
          form: true,
          afterSigning: (params) => {
            params.Signature = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
          },
        },
      );
      const answer = await t.call(request);
      expect(answer.status).toBe(400);
    };
    await send(-1);
    const before = heapBytes();
    for (let i = 0; i < 80; i++) await send(i);
    // 80 bodies of 256 KiB would be 20 MiB held.
    expect(heapBytes() - before).toBeLessThan(4 * 1024 * 1024);
  });
});
