import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/audit/audit-log.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, PROVIDER, SCOPED, type TestService } from '../helpers/service.js';
import { amzDateOf, type Credentials, isoSeconds, signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * Every audit line and every access line names the access key id the request claimed (once its
 * signed fields parse) and whether the signature matched that key's secret: a throttled caller,
 * a wrong secret, an unknown or inactive key, a stale timestamp, a replay, a policy denial.
 */

const NOW = Date.parse('2030-03-04T05:06:07Z');
const STALE = NOW - 16 * 60_000;
const UNKNOWN: Credentials = { accessKeyId: 'LTAIunknownKey0001', accessKeySecret: 'whatever-0123456789' };
const wrongSecret = (c: Credentials): Credentials => ({ ...c, accessKeySecret: 'not-the-secret-0000000000' });

const rpc = (c: Credentials, action: string, params: Record<string, string>, at = NOW) => signedRpcRequest(c, action, params, { timestamp: isoSeconds(at) });
const v3 = (c: Credentials, action: string, params: Record<string, string>, at = NOW) => signedV3Request(c, action, params, { date: isoSeconds(at) });
const aws = (c: Credentials, operation: string, body: unknown, at = NOW, raw?: string | Buffer) =>
  signedAwsRequest(c, operation, body, { amzDate: amzDateOf(at), ...(raw !== undefined ? { body: Buffer.from(raw) } : {}) });

let t: TestService;
let audit: AuditRecord[];
let logLines: string[];

beforeEach(async () => {
  logLines = [];
  // PROVIDER may make one crypto request per second; the clock stands still.
  t = await createTestService({ now: () => NOW, logLines, rateLimits: { testProvider01: { crypto: 1 } } });
  audit = [];
  (t.service as { audit?: unknown }).audit = {
    ready: async () => undefined,
    write: async (r: AuditRecord) => void audit.push(JSON.parse(JSON.stringify(r)) as AuditRecord),
  };
  await t.service.accessKeys.setStatus(SCOPED.accessKeyId, 'Disabled');
});

/** The audit line and the access line of one request, with the answer's status. */
async function lines(request: RpcRequest) {
  const before = { audit: audit.length, log: logLines.length };
  const answer = await t.call(request);
  const auditLines = audit.slice(before.audit);
  const accessLines = logLines
    .slice(before.log)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === 'request');
  expect(auditLines).toHaveLength(1);
  expect(accessLines).toHaveLength(1);
  return { status: answer.status, audit: auditLines[0]!, access: accessLines[0]! };
}

type Case = [name: string, request: () => RpcRequest, code: string, accessKeyId: string, verified: boolean];

const cases: Case[] = [
  ['success (RPC)', () => rpc(ADMIN, 'DescribeKey', { KeyId: KEY_ID }), 'OK', ADMIN.accessKeyId, true],
  ['success (ACS3)', () => v3(ADMIN, 'DescribeKey', { KeyId: KEY_ID }), 'OK', ADMIN.accessKeyId, true],
  ['success (AWS)', () => aws(ADMIN, 'DescribeKey', { KeyId: KEY_ID }), 'OK', ADMIN.accessKeyId, true],
  ['policy denial (RPC)', () => rpc(CONSUMER, 'CreateKeyVersion', { KeyId: KEY_ID }), 'Forbidden.NoPermission', CONSUMER.accessKeyId, true],
  ['policy denial (AWS)', () => aws(CONSUMER, 'DisableKey', { KeyId: KEY_ID }), 'Forbidden.NoPermission', CONSUMER.accessKeyId, true],
  ['wrong secret (RPC)', () => rpc(wrongSecret(ADMIN), 'DescribeKey', { KeyId: KEY_ID }), 'SignatureDoesNotMatch', ADMIN.accessKeyId, false],
  ['wrong secret (ACS3)', () => v3(wrongSecret(ADMIN), 'DescribeKey', { KeyId: KEY_ID }), 'SignatureDoesNotMatch', ADMIN.accessKeyId, false],
  ['wrong secret (AWS)', () => aws(wrongSecret(ADMIN), 'DescribeKey', { KeyId: KEY_ID }), 'SignatureDoesNotMatch', ADMIN.accessKeyId, false],
  ['unknown access key (RPC)', () => rpc(UNKNOWN, 'DescribeKey', { KeyId: KEY_ID }), 'InvalidAccessKeyId.NotFound', UNKNOWN.accessKeyId, false],
  ['unknown access key (ACS3)', () => v3(UNKNOWN, 'DescribeKey', { KeyId: KEY_ID }), 'InvalidAccessKeyId.NotFound', UNKNOWN.accessKeyId, false],
  ['unknown access key (AWS)', () => aws(UNKNOWN, 'DescribeKey', { KeyId: KEY_ID }), 'InvalidAccessKeyId.NotFound', UNKNOWN.accessKeyId, false],
  ['inactive access key (RPC)', () => rpc(SCOPED, 'DescribeKey', { KeyId: KEY_ID }), 'InvalidAccessKeyId.Inactive', SCOPED.accessKeyId, true],
  ['inactive access key (AWS)', () => aws(SCOPED, 'DescribeKey', { KeyId: KEY_ID }), 'InvalidAccessKeyId.Inactive', SCOPED.accessKeyId, true],
  [
    'inactive access key, wrong secret (RPC)',
    () => rpc(wrongSecret(SCOPED), 'DescribeKey', { KeyId: KEY_ID }),
    'SignatureDoesNotMatch',
    SCOPED.accessKeyId,
    false,
  ],
  ['expired timestamp (RPC)', () => rpc(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, STALE), 'InvalidTimeStamp.Expired', ADMIN.accessKeyId, false],
  ['expired timestamp (ACS3)', () => v3(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, STALE), 'InvalidTimeStamp.Expired', ADMIN.accessKeyId, false],
  ['expired timestamp (AWS)', () => aws(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, STALE), 'InvalidTimeStamp.Expired', ADMIN.accessKeyId, false],
  // Refused for a later part of the claim than the id: still named.
  [
    'a region not served (AWS)',
    () => signedAwsRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { amzDate: amzDateOf(NOW), region: 'xx-nowhere-1' }),
    'IncompleteSignature',
    ADMIN.accessKeyId,
    false,
  ],
  ['no signature (RPC)', () => unsignedRpc(ADMIN), 'IncompleteSignature', ADMIN.accessKeyId, false],
  // An AWS body that cannot be the operation's input is answered after the signature, like an Alibaba parameter.
  [
    'a key given twice in the body (AWS)',
    () => aws(ADMIN, 'GenerateRandom', undefined, NOW, '{"NumberOfBytes":8,"NumberOfBytes":9}'),
    'MalformedRequest',
    ADMIN.accessKeyId,
    true,
  ],
  [
    'invalid UTF-8 in the body (AWS)',
    () => aws(ADMIN, 'GenerateRandom', undefined, NOW, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    'MalformedRequest',
    ADMIN.accessKeyId,
    true,
  ],
  ['a parameter of the wrong type (AWS)', () => aws(ADMIN, 'GenerateRandom', { NumberOfBytes: 'x' }), 'InvalidParameter', ADMIN.accessKeyId, true],
  [
    'a bad body with a wrong secret (AWS): the signature is answered first',
    () => aws(wrongSecret(ADMIN), 'GenerateRandom', undefined, NOW, '{"a":1,"a":2}'),
    'SignatureDoesNotMatch',
    ADMIN.accessKeyId,
    false,
  ],
];

/** An RPC request whose Signature was left out. */
function unsignedRpc(c: Credentials): RpcRequest {
  const request = rpc(c, 'DescribeKey', { KeyId: KEY_ID });
  return {
    ...request,
    rawQuery: request.rawQuery
      .split('&')
      .filter((pair) => !pair.startsWith('Signature='))
      .join('&'),
  };
}

describe('Audit and access lines name the access key the request claimed, and whether it was verified', () => {
  it.each(cases)('%s', async (_name, request, code, accessKeyId, verified) => {
    const { audit: line, access } = await lines(request());
    expect(line).toMatchObject({ code, accessKeyId, accessKeyVerified: verified });
    expect(access).toMatchObject({ accessKeyId, accessKeyVerified: verified });
    expect(access.code).toBe(code === 'OK' ? undefined : code);
  });

  it('a replayed nonce (RPC and ACS3): the first use and the replay are both verified, the replay refused', async () => {
    for (const request of [rpc(ADMIN, 'DescribeKey', { KeyId: KEY_ID }), v3(ADMIN, 'DescribeKey', { KeyId: KEY_ID })]) {
      const first = await lines(request);
      const replay = await lines(request);
      expect(first.audit).toMatchObject({ code: 'OK', accessKeyId: ADMIN.accessKeyId, accessKeyVerified: true });
      expect(replay.audit).toMatchObject({ code: 'SignatureNonceUsed', accessKeyId: ADMIN.accessKeyId, accessKeyVerified: true });
      expect(replay.access).toMatchObject({ code: 'SignatureNonceUsed', accessKeyId: ADMIN.accessKeyId, accessKeyVerified: true });
    }
  });

  it('a throttled request (Alibaba and AWS protocols) names the caller, verified', async () => {
    const first = await lines(rpc(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS }));
    expect(first.audit).toMatchObject({ code: 'OK', accessKeyId: PROVIDER.accessKeyId, accessKeyVerified: true });
    // AWS answers ThrottlingException with 400.
    const refusals: Array<[RpcRequest, number]> = [
      [rpc(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS }), 429],
      [aws(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID, KeySpec: 'AES_256' }), 400],
    ];
    for (const [request, status] of refusals) {
      const throttled = await lines(request);
      expect(throttled.status).toBe(status);
      expect(throttled.audit).toMatchObject({ code: 'Rejected.Throttling', accessKeyId: PROVIDER.accessKeyId, accessKeyVerified: true, status });
      expect(throttled.access).toMatchObject({ code: 'Rejected.Throttling', accessKeyId: PROVIDER.accessKeyId, accessKeyVerified: true });
    }
  });

  it('a request that never named an access key has neither field; an oversized id is not recorded', async () => {
    const unsigned = rpc(ADMIN, 'DescribeKey', { KeyId: KEY_ID });
    unsigned.rawQuery = unsigned.rawQuery.replace(/(^|&)AccessKeyId=[^&]*/, '');
    const oversized = rpc({ ...ADMIN, accessKeyId: 'A'.repeat(65) }, 'DescribeKey', { KeyId: KEY_ID });
    const noCredential = signedAwsRequest(
      ADMIN,
      'DescribeKey',
      { KeyId: KEY_ID },
      {
        amzDate: amzDateOf(NOW),
        afterSigning: (request) => {
          request.headers.authorization = 'AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00';
        },
      },
    );
    for (const request of [unsigned, oversized, noCredential]) {
      const { status, audit: line, access } = await lines(request);
      expect(status).toBe(400);
      expect(line).not.toHaveProperty('accessKeyId');
      expect(line).not.toHaveProperty('accessKeyVerified');
      expect(access.accessKeyId).toBeUndefined();
      expect(access.accessKeyVerified).toBeUndefined();
    }
  });

  it('no line carries a signature, a secret or anything else of the credential but the id', async () => {
    const requests = [
      rpc(wrongSecret(ADMIN), 'DescribeKey', { KeyId: KEY_ID }),
      v3(UNKNOWN, 'DescribeKey', { KeyId: KEY_ID }),
      aws(wrongSecret(CONSUMER), 'DescribeKey', { KeyId: KEY_ID }),
    ];
    const signatures = [
      new URLSearchParams(requests[0]!.rawQuery).get('Signature')!,
      /Signature=([0-9a-f]+)/.exec(requests[1]!.headers.authorization!)![1]!,
      /Signature=([0-9a-f]+)/.exec(requests[2]!.headers.authorization!)![1]!,
    ];
    for (const request of requests) await lines(request);
    const text = JSON.stringify(audit) + logLines.join('');
    for (const secret of [...signatures, 'not-the-secret-0000000000', UNKNOWN.accessKeySecret, ADMIN.accessKeySecret, '/aws4_request', 'SignedHeaders']) {
      expect(text).not.toContain(secret);
    }
  });
});
