import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/actions.js';
import { parseRateLimits, rateOf } from '../../lib/ratelimit/limits.js';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/** A clock the test moves; signatures carry its time. */
function clock() {
  const state = { now: Date.parse('2026-11-28T12:00:00Z') };
  return { state, now: () => state.now };
}

describe('Rate limits: KMS_RATE_LIMITS', () => {
  it("parses the default and per-key entries; a key's own entry overrides the default group by group", () => {
    const limits = parseRateLimits('{"default": {"crypto": 1000, "read": 50, "write": 30}, "testConsumer01": {"crypto": 5}}');
    expect(rateOf(limits, 'testConsumer01', 'crypto')).toBe(5);
    expect(rateOf(limits, 'testConsumer01', 'read')).toBe(50);
    expect(rateOf(limits, 'other0000001', 'crypto')).toBe(1000);
    expect(rateOf({}, 'any', 'crypto')).toBeUndefined();
    expect(rateOf(limits, 'testConsumer01', 'crypto', { crypto: 2 })).toBe(2);
    expect(rateOf({ x0000001: { read: 3 } }, 'x0000001', 'write')).toBeUndefined();
  });

  it.each([
    ['not json', /must be JSON/],
    ['{"default": {"crypto": 0}}', /default\.crypto/],
    ['{"default": {"crypto": -1}}', /default\.crypto/],
    ['{"default": {"sign": 5}}', /default/],
    ['{"default": {"crypto": "5"}}', /default\.crypto/],
    ['{"bad-key!": {"crypto": 5}}', /access key id/],
    ['[1]', /KMS_RATE_LIMITS/],
  ])('refuses %s, naming what is wrong', (text, message) => {
    expect(() => parseRateLimits(text)).toThrow(message);
  });

  it('groups Actions as Alibaba does: crypto, read (Describe*, List*, GetPublicKey), write (the rest), each as its file declares', () => {
    const groupOf = new Map(OPERATIONS.map((action) => [action.name, action.group]));
    const crypto = [
      'GenerateDataKey',
      'GenerateDataKeyWithoutPlaintext',
      'Encrypt',
      'Decrypt',
      'ReEncrypt',
      'GenerateAndExportDataKey',
      'ExportDataKey',
      'AsymmetricSign',
      'AsymmetricVerify',
      'AsymmetricEncrypt',
      'AsymmetricDecrypt',
      'GenerateDataKeyPair',
      'GenerateDataKeyPairWithoutPlaintext',
      'GenerateMac',
      'VerifyMac',
    ];
    for (const action of crypto) expect(groupOf.get(action), action).toBe('crypto');
    for (const action of ['DescribeKey', 'DescribeKeyVersion', 'ListKeys', 'ListAliases', 'ListKeyVersions', 'ListAliasesByKeyId'])
      expect(groupOf.get(action)).toBe('read');
    for (const action of ['CreateKey', 'CreateAlias', 'EnableKey', 'ScheduleKeyDeletion', 'UpdateRotationPolicy']) expect(groupOf.get(action)).toBe('write');
    // Secrets: four groups of their own, as AWS Secrets Manager meters them, the same for both protocols.
    const secrets: Record<string, string> = {
      GetSecretValue: 'secrets-read',
      BatchGetSecretValue: 'secrets-read',
      DescribeSecret: 'secrets-read',
      PutSecretValue: 'secrets-write',
      UpdateSecret: 'secrets-write',
      UpdateSecretVersionStage: 'secrets-write',
      CreateSecret: 'secrets-lifecycle',
      DeleteSecret: 'secrets-lifecycle',
      RestoreSecret: 'secrets-lifecycle',
      ListSecrets: 'secrets-list',
      ListSecretVersionIds: 'secrets-list',
    };
    // The rule, for every Action of the table.
    for (const [name, group] of groupOf)
      expect(group, name).toBe(secrets[name] ?? (crypto.includes(name) ? 'crypto' : /^(Describe|List|GetPublicKey$)/.test(name) ? 'read' : 'write'));
  });
});

describe('Rate limits: token buckets per access key and group', () => {
  async function limited(rateLimits: Parameters<typeof createTestService>[0] extends infer O ? (O extends { rateLimits?: infer R } ? R : never) : never) {
    const c = clock();
    const t = await createTestService({ now: c.now, rateLimits });
    const send = (credentials: typeof ADMIN, action: string, params: Record<string, string>) =>
      t.call(signedRpcRequest(credentials, action, params, { timestamp: new Date(c.state.now).toISOString().replace(/\.\d{3}Z$/, 'Z') }));
    return { t, c, send };
  }

  it('when a key exceeds its rate, it gets 429 Rejected.Throttling saying when to retry, and passes again once the bucket refills', async () => {
    const { c, send } = await limited({ default: { crypto: 2 } });
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
    const refused = await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
    expect(refused.status).toBe(429);
    expect(refused.body.Code).toBe('Rejected.Throttling');
    expect(refused.body.Message).toMatch(/2 crypto request\(s\) per second; retry after 500 ms/);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.Plaintext).toBeUndefined();
    c.state.now += 499;
    expect((await send(ADMIN, 'Decrypt', { CiphertextBlob: 'x' })).status).toBe(429);
    c.state.now += 1;
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
  });

  it('when one group is exhausted, the others and other keys are not', async () => {
    const { send } = await limited({ default: { crypto: 1, read: 1 } });
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(429);
    expect((await send(ADMIN, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(200);
    expect((await send(ADMIN, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(429);
    // write is unlimited: not named.
    for (let i = 0; i < 5; i++) expect((await send(ADMIN, 'CreateKey', {})).status).toBe(200);
    expect((await send(CONSUMER, 'GenerateDataKey', { KeyId: ALIAS })).status).not.toBe(429);
  });

  it("a key's entry overrides the default, and the key's own record (set-rate-limits, a seed) overrides both", async () => {
    const { t, send } = await limited({ default: { crypto: 1 }, [ADMIN.accessKeyId]: { crypto: 3 } });
    for (let i = 0; i < 3; i++) expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(429);
    await t.service.accessKeys.setRateLimits(CONSUMER.accessKeyId, { crypto: 2 });
    const other = await limited({ default: { crypto: 1 } });
    await other.t.service.accessKeys.setRateLimits(CONSUMER.accessKeyId, { crypto: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await other.send(CONSUMER, 'Decrypt', { CiphertextBlob: 'AAAA' })).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(statuses[2]).toBe(429);
  });

  it('a refused request consumes neither its nonce nor anything in the store: the same signed request passes later', async () => {
    const c = clock();
    const t = await createTestService({ now: c.now, rateLimits: { default: { read: 1 } } });
    const timestamp = new Date(c.state.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await t.call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { timestamp }))).status).toBe(200);
    const request = signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { timestamp });
    expect((await t.call(request)).status).toBe(429);
    c.state.now += 1000;
    expect((await t.call(request)).status).toBe(200);
    c.state.now += 1000;
    expect((await t.call(request)).body.Code).toBe('SignatureNonceUsed');
  });

  it("a request that fails its signature takes no token: nobody can drain another key's bucket", async () => {
    const { send } = await limited({ default: { crypto: 1 } });
    for (let i = 0; i < 5; i++)
      expect((await send({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: ALIAS })).body.Code).toBe(
        'SignatureDoesNotMatch',
      );
    expect((await send(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })).status).toBe(200);
  });

  it('applies to both signing versions', async () => {
    const c = clock();
    const t = await createTestService({ now: c.now, rateLimits: { default: { crypto: 1 } } });
    const at = new Date(c.state.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { date: at }))).status).toBe(200);
    expect((await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { date: at }))).status).toBe(429);
  });
});
