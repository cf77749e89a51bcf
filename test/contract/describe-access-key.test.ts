import { beforeEach, describe, expect, it } from 'vitest';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { ACCOUNT_ID, ADMIN, CONSUMER, createTestService, PROVIDER, REGION, SCOPED, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError, parseXml } from './support.js';

/*
 * DescribeAccessKey: an access key's id, status, creation date and policy, never its secret, for a
 * web console.
 */

let t: TestService;
beforeEach(async () => {
  t = await createTestService({ recentAudit: new RecentAuditRecords() });
});

const call = (credentials: Credentials, action: string, params: Record<string, string> = {}) => t.call(signedRpcRequest(credentials, action, params));
const events = async () => {
  const result = await call(ADMIN, 'ListAuditEvents');
  expect(result.status, result.raw).toBe(200);
  return result.body as { AuditEvents: { AuditEvent: Record<string, any>[] } };
};

describe('DescribeAccessKey', () => {
  it("defaults to the caller's own access key: id, status, creation date and policy (a JSON string), never the secret", async () => {
    const result = await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', {}));
    expect(result.status, result.raw).toBe(200);
    expect(Object.keys(result.body).sort()).toEqual(['AccessKey', 'RequestId']);
    expect(Object.keys(result.body.AccessKey).sort()).toEqual(['AccessKeyId', 'CreationDate', 'Policy', 'Status']);
    expect(result.body.AccessKey).toMatchObject({ AccessKeyId: ADMIN.accessKeyId, Status: 'Enabled' });
    expect(result.body.AccessKey.CreationDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(JSON.parse(result.body.AccessKey.Policy)).toEqual({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] });
    expect(result.raw).not.toContain(ADMIN.accessKeySecret);
  });

  it("with the RPC signature, AccessKeyId is the signer's (the signature's own parameter): the caller's key", async () => {
    const result = await call(ADMIN, 'DescribeAccessKey');
    expect(result.status, result.raw).toBe(200);
    expect(result.body.AccessKey.AccessKeyId).toBe(ADMIN.accessKeyId);
    expect(result.raw).not.toContain(ADMIN.accessKeySecret);
  });

  it('describes another access key named by AccessKeyId, and a disabled one as Disabled, with no secret anywhere in JSON or XML', async () => {
    await t.service.accessKeys.setStatus(PROVIDER.accessKeyId, 'Disabled');
    for (const format of ['JSON', 'XML']) {
      const result = await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', { AccessKeyId: PROVIDER.accessKeyId, Format: format }));
      expect(result.status, result.raw).toBe(200);
      const body = format === 'JSON' ? result.body : parseXml(result.raw).KMS;
      expect(body.AccessKey).toMatchObject({ AccessKeyId: PROVIDER.accessKeyId, Status: 'Disabled' });
      expect(JSON.parse(body.AccessKey.Policy).Statement[0].Action).toEqual(['kms:GenerateDataKeyWithoutPlaintext']);
      for (const secret of [PROVIDER.accessKeySecret, ADMIN.accessKeySecret, CONSUMER.accessKeySecret, SCOPED.accessKeySecret]) {
        expect(result.raw).not.toContain(secret);
        expect(JSON.stringify(result.headers)).not.toContain(secret);
      }
      expect(result.raw).not.toMatch(/secret/i);
    }
  });

  it('answers 404 InvalidAccessKeyId.NotFound for an id that names no access key, or a deleted one', async () => {
    expectError(await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', { AccessKeyId: 'LTAInobodyHasThisId01' })), 404, 'InvalidAccessKeyId.NotFound');
    await t.service.accessKeys.delete(SCOPED.accessKeyId);
    expectError(await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', { AccessKeyId: SCOPED.accessKeyId })), 404, 'InvalidAccessKeyId.NotFound');
    expectError(await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', { AccessKeyId: '' })), 400, 'InvalidParameter', 'AccessKeyId');
  });

  it('authorises on acs:kms:<region>:<account>:accesskey/<id>: a key allowed only its own may describe itself, and is refused another, existing or not, alike', async () => {
    const arn = (id: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:accesskey/${id}`;
    const self = await accessKey('testSelfOnly01', [{ Effect: 'Allow', Action: 'kms:DescribeAccessKey', Resource: arn('testSelfOnly01') }]);
    expect((await t.call(signedV3Request(self, 'DescribeAccessKey', {}))).status).toBe(200);
    const other = await t.call(signedV3Request(self, 'DescribeAccessKey', { AccessKeyId: ADMIN.accessKeyId }));
    const missing = await t.call(signedV3Request(self, 'DescribeAccessKey', { AccessKeyId: 'LTAInobodyHasThisId01' }));
    expectError(other, 403, 'Forbidden.NoPermission', 'kms:DescribeAccessKey');
    expectError(missing, 403, 'Forbidden.NoPermission');
    expect(missing.body.Message.replace('LTAInobodyHasThisId01', 'X')).toBe(other.body.Message.replace(ADMIN.accessKeyId, 'X'));
    // Key policies do not reach access keys: kms:* on key ARNs grants nothing here.
    expectError(await call(SCOPED, 'DescribeAccessKey'), 403, 'Forbidden.NoPermission');
    expectError(await t.call(signedV3Request(CONSUMER, 'DescribeAccessKey', { AccessKeyId: ADMIN.accessKeyId })), 403, 'Forbidden.NoPermission');
  });

  it('its audit record names the access key it was authorised on', async () => {
    const result = await t.call(signedV3Request(ADMIN, 'DescribeAccessKey', { AccessKeyId: CONSUMER.accessKeyId }));
    const [event] = (await events()).AuditEvents.AuditEvent;
    expect(event).toMatchObject({
      RequestId: result.body.RequestId,
      Action: 'DescribeAccessKey',
      KeyArn: `acs:kms:${REGION}:${ACCOUNT_ID}:accesskey/${CONSUMER.accessKeyId}`,
    });
  });
});

/** A new access key with these policy statements. */
async function accessKey(accessKeyId: string, Statement: Array<{ Effect: 'Allow' | 'Deny'; Action: string; Resource: string }>): Promise<Credentials> {
  const credentials = { accessKeyId, accessKeySecret: `${accessKeyId}-secret-0123456789` };
  await t.service.accessKeys.create({ ...credentials, status: 'Enabled', createdAt: new Date().toISOString(), policy: { Version: '1', Statement } });
  return credentials;
}
