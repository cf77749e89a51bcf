import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/actions.js';
import type { AuditLog, AuditRecord } from '../../lib/audit/audit-log.js';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { rotateDueKeys } from '../../lib/operations/scheduled.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { ACCOUNT_ID, ADMIN, CONSUMER, createTestService, KEY_ID, keyArnOf, PROVIDER, REGION, SCOPED, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';
import { expectError, parseXml } from './support.js';

/*
 * ListAuditEvents: the recent audit records, newest first, where the deployment keeps them (the
 * local gateway), for a web console.
 */

/** The only members an event may have. */
const EVENT_FIELDS = [
  'Time',
  'Type',
  'RequestId',
  'Action',
  'AwsOperation',
  'AccessKeyId',
  'AccessKeyVerified',
  'SourceIp',
  'KeyArn',
  'KeyVersionId',
  'Result',
  'HttpStatus',
  'LatencyMs',
];

let t: TestService;
let recent: RecentAuditRecords;
beforeEach(async () => {
  recent = new RecentAuditRecords();
  t = await createTestService({ recentAudit: recent });
});

const call = (credentials: Credentials, action: string, params: Record<string, string> = {}) => t.call(signedRpcRequest(credentials, action, params));
const events = async (params: Record<string, string> = {}, credentials: Credentials = ADMIN) => {
  const result = await call(credentials, 'ListAuditEvents', params);
  expect(result.status, result.raw).toBe(200);
  return result.body as { RequestId: string; TotalCount: number; PageNumber: number; PageSize: number; AuditEvents: { AuditEvent: Record<string, any>[] } };
};

describe('ListAuditEvents', () => {
  it('answers the requests served, newest first, each with the fields its record has and nothing else', async () => {
    const sent: string[] = [];
    for (const [action, params] of [
      ['DescribeKey', { KeyId: KEY_ID }],
      ['ListKeys', {}],
      ['Encrypt', { KeyId: KEY_ID, Plaintext: Buffer.from('hello').toString('base64'), EncryptionContext: '{"tenant":"t1"}' }],
    ] as const) {
      const result = await call(ADMIN, action, params);
      expect(result.status, result.raw).toBe(200);
      sent.push(result.body.RequestId as string);
    }
    const body = await events({ PageSize: '100' });
    expect(Object.keys(body).sort()).toEqual(['AuditEvents', 'PageNumber', 'PageSize', 'RequestId', 'TotalCount']);
    expect(body.TotalCount).toBe(3);
    const list = body.AuditEvents.AuditEvent;
    expect(list.map((e) => e.RequestId)).toEqual([...sent].reverse());
    expect(list.map((e) => e.Action)).toEqual(['Encrypt', 'ListKeys', 'DescribeKey']);
    for (const event of list) {
      expect(EVENT_FIELDS).toEqual(expect.arrayContaining(Object.keys(event)));
      expect(event).toMatchObject({ Type: 'request', AccessKeyId: ADMIN.accessKeyId, AccessKeyVerified: true, Result: 'OK', HttpStatus: 200 });
      expect(event.Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof event.LatencyMs).toBe('number');
    }
    const encrypt = list[0]!;
    expect(encrypt.KeyArn).toBe(keyArnOf(KEY_ID));
    expect(typeof encrypt.KeyVersionId).toBe('string');
    // The record holds the EncryptionContext's keys; the answer does not. (The newest record is the ListAuditEvents just answered.)
    expect(recent.snapshot()[1]!.encryptionContextKeys).toEqual(['tenant']);
    expect(JSON.stringify(list)).not.toContain('tenant');
    // Times never go up down the list.
    const times = list.map((e) => e.Time as string);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('answers failed requests with their Result code and status, and the requests of other access keys', async () => {
    const tampered = await t.call(signedRpcRequest(PROVIDER, 'DescribeKey', { KeyId: KEY_ID }, { afterSigning: (p) => (p.Signature = `x${p.Signature}`) }));
    expectError(tampered, 400, 'SignatureDoesNotMatch');
    const denied = await call(CONSUMER, 'ListKeys');
    expectError(denied, 403, 'Forbidden.NoPermission');
    const scoped = await call(SCOPED, 'DescribeKey', { KeyId: KEY_ID });
    expect(scoped.status).toBe(200);

    const list = (await events()).AuditEvents.AuditEvent;
    expect(list.map((e) => e.RequestId)).toEqual([scoped.body.RequestId, denied.body.RequestId, tampered.body.RequestId]);
    expect(list[0]).toMatchObject({ AccessKeyId: SCOPED.accessKeyId, AccessKeyVerified: true, Action: 'DescribeKey', Result: 'OK', HttpStatus: 200 });
    expect(list[1]).toMatchObject({
      AccessKeyId: CONSUMER.accessKeyId,
      AccessKeyVerified: true,
      Action: 'ListKeys',
      Result: 'Forbidden.NoPermission',
      HttpStatus: 403,
    });
    // A signature that did not match names whose key someone tried, as unverified.
    expect(list[2]).toMatchObject({ AccessKeyId: PROVIDER.accessKeyId, AccessKeyVerified: false, Result: 'SignatureDoesNotMatch', HttpStatus: 400 });
  });

  it('answers the scheduled jobs too (type job)', async () => {
    await t.service.keyring.updateKey(KEY_ID, (r) => ({
      ...r,
      automaticRotation: 'Enabled',
      rotationInterval: 7 * 86_400,
      nextRotationDate: new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }));
    expect(await rotateDueKeys(t.service)).toEqual([KEY_ID]);
    const [job] = (await events()).AuditEvents.AuditEvent;
    expect(job).toMatchObject({ Type: 'job', Action: 'RotateKey', KeyArn: keyArnOf(KEY_ID), Result: 'OK' });
    expect(typeof job!.KeyVersionId).toBe('string');
    expect(job).not.toHaveProperty('RequestId');
    expect(job).not.toHaveProperty('HttpStatus');
  });

  it('pages: TotalCount, PageNumber and PageSize, 10 by default, an empty page past the last', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) sent.push((await call(ADMIN, 'DescribeKey', { KeyId: KEY_ID })).body.RequestId as string);
    const newest = [...sent].reverse();

    const first = await events();
    expect(first).toMatchObject({ TotalCount: 25, PageNumber: 1, PageSize: 10 });
    expect(first.AuditEvents.AuditEvent.map((e) => e.RequestId)).toEqual(newest.slice(0, 10));

    // The ListAuditEvents just answered is recorded too: it is now the newest.
    const third = await events({ PageNumber: '3', PageSize: '10' });
    expect(third).toMatchObject({ TotalCount: 26, PageNumber: 3, PageSize: 10 });
    expect(third.AuditEvents.AuditEvent.map((e) => e.RequestId)).toEqual(newest.slice(19, 25));

    const beyond = await events({ PageNumber: '9', PageSize: '100' });
    expect(beyond).toMatchObject({ TotalCount: 27, PageNumber: 9, PageSize: 100 });
    expect(beyond.AuditEvents.AuditEvent).toEqual([]);
  });

  it.each([
    ['PageSize', '0'],
    ['PageSize', '101'],
    ['PageNumber', '0'],
    ['PageSize', 'ten'],
  ])('when %s is %s, it answers 400 InvalidParameter naming it', async (name, value) => {
    expectError(await call(ADMIN, 'ListAuditEvents', { [name]: value }), 400, 'InvalidParameter', name);
  });

  it('answers XML with one AuditEvent element per event', async () => {
    await call(ADMIN, 'ListKeys');
    await call(ADMIN, 'ListKeys');
    const result = await t.call(signedRpcRequest(ADMIN, 'ListAuditEvents', {}, { format: 'XML' }));
    expect(result.status).toBe(200);
    const body = parseXml(result.raw).KMS;
    expect(body.TotalCount).toBe('2');
    expect(body.AuditEvents.AuditEvent).toHaveLength(2);
    expect(body.AuditEvents.AuditEvent[0]).toMatchObject({ Action: 'ListKeys', Result: 'OK', AccessKeyVerified: 'true', HttpStatus: '200' });
  });

  it('shows what a request claimed with the characters XML cannot carry replaced, so a Format=XML listing still answers', async () => {
    // A signed request may name any Action: it is refused, and recorded as it came.
    for (const name of ['No\u0001Such\u001fAction', 'Vertical\u000bTab', 'Nul\u0000']) {
      expect((await call(ADMIN, name)).status).toBe(404);
    }
    const result = await t.call(signedRpcRequest(ADMIN, 'ListAuditEvents', {}, { format: 'XML' }));
    expect(result.status).toBe(200);
    const actions = parseXml(result.raw).KMS.AuditEvents.AuditEvent.map((e: { Action: string }) => e.Action);
    expect(actions).toEqual(['Nul\uFFFD', 'Vertical\uFFFDTab', 'No\uFFFDSuch\uFFFDAction']);
    const json = (await events()).AuditEvents.AuditEvent.map((e) => e.Action);
    expect(json).toEqual(['ListAuditEvents', 'Nul\uFFFD', 'Vertical\uFFFDTab', 'No\uFFFDSuch\uFFFDAction']);
  });

  it('refuses a caller whose policy does not allow kms:ListAuditEvents (403 Forbidden.NoPermission), and allows one whose policy names it alone', async () => {
    expectError(await call(CONSUMER, 'ListAuditEvents'), 403, 'Forbidden.NoPermission', 'kms:ListAuditEvents');
    expectError(await call(PROVIDER, 'ListAuditEvents'), 403, 'Forbidden.NoPermission');
    const auditor = await accessKey('testAuditor01', [{ Effect: 'Allow', Action: 'kms:ListAuditEvents', Resource: '*' }]);
    expect((await call(auditor, 'ListAuditEvents')).status).toBe(200);
  });

  it('without a trail (the cloud functions), it answers 400 UnsupportedOperation saying where the audit log is', async () => {
    const cloud = await createTestService();
    const result = await cloud.call(signedRpcRequest(ADMIN, 'ListAuditEvents', {}));
    expectError(
      result,
      400,
      'UnsupportedOperation',
      /does not keep audit records it can serve; read the audit log where the platform collects function output/,
    );
    // The policy is checked first: a caller who may not list them is told so, not about the deployment.
    expectError(await cloud.call(signedRpcRequest(CONSUMER, 'ListAuditEvents', {})), 403, 'Forbidden.NoPermission');
  });

  it('when the trail cannot be gathered (a gateway primary that does not answer), it answers 503 ServiceUnavailableTemporary', async () => {
    t.service.auditTrail = { newestFirst: () => Promise.reject(new Error('the gateway primary did not answer')) };
    expectError(await call(ADMIN, 'ListAuditEvents'), 503, 'ServiceUnavailableTemporary', /recent audit records could not be gathered/);
  });

  it('keeps only what the audit log wrote: a request whose line could not be written (503) is not in the trail', async () => {
    let failing = false;
    const log: AuditLog = {
      write: async () => {
        if (failing) throw new Error('disk full');
      },
      ready: async () => undefined,
      close: async () => undefined,
    };
    const own = new RecentAuditRecords();
    const service = await createTestService({ recentAudit: own, audit: log });
    const ok = await service.call(signedRpcRequest(ADMIN, 'ListKeys', {}));
    failing = true;
    expect((await service.call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(503);
    expect(own.snapshot().map((r) => r.requestId)).toEqual([ok.body.RequestId]);
  });

  it('with KMS_AUDIT_LOG=none, the records are kept all the same (serviceFromEnvironment with a ring)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-audit-events-'));
    dirs.push(dir);
    const own = new RecentAuditRecords();
    const service = await serviceFromEnvironment(
      { KMS_DATA_DIR: dir, KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'silent', KMS_REGION: REGION, KMS_ACCOUNT_ID: ACCOUNT_ID },
      { recentAudit: own },
    );
    await service.accessKeys.create({ ...toRecord(ADMIN), policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } });
    const dispatch = createDispatcher(service, OPERATIONS);
    const first = JSON.parse((await dispatch(signedRpcRequest(ADMIN, 'ListKeys', {}))).body);
    const answer = JSON.parse((await dispatch(signedRpcRequest(ADMIN, 'ListAuditEvents', {}))).body);
    expect(answer.AuditEvents.AuditEvent.map((e: AuditRecord & { RequestId: string }) => e.RequestId)).toEqual([first.RequestId]);
  });
});

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function toRecord(c: Credentials) {
  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, status: 'Enabled' as const, createdAt: new Date().toISOString() };
}

/** A new access key with these policy statements. */
async function accessKey(accessKeyId: string, Statement: Array<{ Effect: 'Allow' | 'Deny'; Action: string; Resource: string }>): Promise<Credentials> {
  const credentials = { accessKeyId, accessKeySecret: `${accessKeyId}-secret-0123456789` };
  await t.service.accessKeys.create({ ...toRecord(credentials), policy: { Version: '1', Statement } });
  return credentials;
}
