import { mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditLog, type AuditRecord, auditLine, FileAuditLog } from '../../lib/audit/audit-log.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { registry } from '../../lib/metrics/prometheus.js';
import { rotateDueKeys } from '../../lib/operations/scheduled.js';
import { createService } from '../../lib/service.js';
import { applySeed } from '../../lib/seed.js';
import { OPERATIONS } from '../../functions/actions.js';
import { ACCOUNT_ID, ADMIN, ALIAS, CONSUMER, KEY_ID, keyArnOf, REGION, TEST_SEED } from '../helpers/service.js';
import { signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/** An audit log in memory whose failures the test switches on. */
class MemoryAuditLog implements AuditLog {
  records: AuditRecord[] = [];
  failWrites = false;
  broken = false;
  async write(record: AuditRecord): Promise<void> {
    if (this.failWrites) throw new Error('EIO: the audit disk failed');
    this.records.push(JSON.parse(JSON.stringify(record)) as AuditRecord);
  }
  async ready(): Promise<void> {
    if (this.broken) throw new Error('broken');
  }
  async close(): Promise<void> {}
}

async function audited(audit: AuditLog = new MemoryAuditLog(), now?: () => number) {
  const service = createService({ store: new MemoryKeyStore(), region: REGION, accountId: ACCOUNT_ID, audit, ...(now ? { now } : {}) });
  await applySeed(TEST_SEED, service);
  const dispatch = createDispatcher(service, OPERATIONS);
  const call = async (request: ReturnType<typeof signedRpcRequest>) => {
    const response = await dispatch({ ...request, sourceIp: '203.0.113.9' });
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, any>, raw: response.body };
  };
  return { service, call, audit: audit as MemoryAuditLog };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('Audit log: one line per request', () => {
  it('records who did what to which key version with which context keys, and how it ended — never a value, a key or a secret', async () => {
    const { call, audit } = await audited();
    const generated = await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: '{"tenant":"t-secret-value","order":"o-9"}' }));
    expect(generated.status).toBe(200);
    const [line] = audit.records;
    expect(line).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      type: 'request',
      requestId: generated.body.RequestId,
      accessKeyId: ADMIN.accessKeyId,
      accessKeyVerified: true,
      sourceIp: '203.0.113.9',
      action: 'GenerateDataKey',
      keyArn: keyArnOf(KEY_ID),
      keyVersionId: generated.body.KeyVersionId,
      encryptionContextKeys: ['tenant', 'order'],
      code: 'OK',
      status: 200,
      latencyMs: expect.any(Number),
    });
    const text = JSON.stringify(audit.records);
    for (const secret of [generated.body.Plaintext, generated.body.CiphertextBlob, 't-secret-value', 'o-9', ADMIN.accessKeySecret])
      expect(text).not.toContain(secret);
  });

  it('records refusals with their Code and status: a denied key, a bad signature (the key it claimed, unverified), DryRun', async () => {
    const { call, audit } = await audited();
    const denied = await call(signedRpcRequest(CONSUMER, 'CreateKeyVersion', { KeyId: KEY_ID }));
    const forged = await call(signedV3Request({ ...ADMIN, accessKeySecret: 'not-the-secret-00000000' }, 'Decrypt', { CiphertextBlob: 'AAAA' }));
    const dry = await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, DryRun: 'true' }));
    expect(audit.records.map((r) => [r.code, r.status])).toEqual([
      [denied.body.Code, denied.status],
      ['SignatureDoesNotMatch', forged.status],
      ['DryRunOperationError', 412],
    ]);
    expect(denied.status).toBe(403);
    expect(audit.records[0]).toMatchObject({ accessKeyId: CONSUMER.accessKeyId, action: 'CreateKeyVersion', keyArn: keyArnOf(KEY_ID) });
    expect(audit.records[1]).toMatchObject({ accessKeyId: ADMIN.accessKeyId, accessKeyVerified: false });
    expect(audit.records[2]).toMatchObject({ dryRun: true, keyArn: keyArnOf(KEY_ID) });
    expect(dry.body.Plaintext).toBeUndefined();
  });

  it('writes its members in one order, whatever the protocol: an RPC call, an AWS call (its operation after the Action), a dry run', async () => {
    const now = Date.now();
    const { call, audit } = await audited(new MemoryAuditLog(), () => now);
    const rpc = await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: '{"b":"1","a":"2"}' }));
    const aws = await call(signedAwsRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, KeySpec: 'AES_256', EncryptionContext: { c: '3' } }));
    await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, DryRun: 'true' }));
    const [first, second, third] = audit.records.map(auditLine);
    const time = new Date(now).toISOString();
    const who = { accessKeyId: ADMIN.accessKeyId, accessKeyVerified: true, sourceIp: '203.0.113.9', action: 'GenerateDataKey' };
    const key = { keyArn: keyArnOf(KEY_ID) };
    const ok = { code: 'OK', status: 200, latencyMs: 0, audit: true };
    expect(first).toBe(
      `${JSON.stringify({ time, type: 'request', requestId: rpc.body.RequestId, ...who, ...key, keyVersionId: rpc.body.KeyVersionId, encryptionContextKeys: ['b', 'a'], ...ok })}\n`,
    );
    expect(second).toBe(
      `${JSON.stringify({ time, type: 'request', requestId: audit.records[1]!.requestId, ...who, awsOperation: 'GenerateDataKey', ...key, keyVersionId: audit.records[1]!.keyVersionId, encryptionContextKeys: ['c'], ...ok })}\n`,
    );
    expect(aws.status).toBe(200);
    expect(third).toBe(
      `${JSON.stringify({ time, type: 'request', requestId: audit.records[2]!.requestId, ...who, ...key, dryRun: true, code: 'DryRunOperationError', status: 412, latencyMs: 0, audit: true })}\n`,
    );
  });

  it('names a key made by the request by its own ARN', async () => {
    const { call, audit } = await audited();
    const created = await call(signedRpcRequest(ADMIN, 'CreateKey', {}));
    expect(audit.records[0]).toMatchObject({ action: 'CreateKey', keyArn: created.body.KeyMetadata.Arn, code: 'OK' });
  });
});

describe('Audit log: fails closed', () => {
  it('when the line cannot be written, the answer is 503 and carries no data key', async () => {
    const { call, audit } = await audited();
    audit.failWrites = true;
    const answer = await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }));
    expect(answer.status).toBe(503);
    expect(answer.body.Code).toBe('ServiceUnavailableTemporary');
    expect(answer.body.Message).toMatch(/audit log/);
    expect(answer.raw).not.toContain('Plaintext');
  });

  it('while the audit log is known to be broken, a request is refused before it runs', async () => {
    const { service, call, audit } = await audited();
    const before = (await service.keyring.listKeyIds()).length;
    audit.broken = true;
    expect((await call(signedRpcRequest(ADMIN, 'CreateKey', {}))).status).toBe(503);
    expect((await service.keyring.listKeyIds()).length).toBe(before);
    audit.broken = false;
    expect((await call(signedRpcRequest(ADMIN, 'CreateKey', {}))).status).toBe(200);
  });

  it('a file audit log appends JSON lines to a 0600 file; when the file cannot be written, requests are refused until it can', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-audit-'));
    dirs.push(dir);
    const path = join(dir, 'audit.log');
    const log = await FileAuditLog.open(path);
    const { call } = await audited(log);
    expect((await call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }))).status).toBe(200);
    expect((await call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(200);
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.action)).toEqual(['DescribeKey', 'ListKeys']);
    expect(lines.every((l) => l.audit === true)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // The file goes away and its path cannot be opened (here: a directory took its place).
    await log.close();
    await rm(path);
    await mkdir(path);
    expect((await call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(503);
    expect((await call(signedRpcRequest(ADMIN, 'CreateKey', {}))).status).toBe(503);
    await rm(path, { recursive: true });
    expect((await call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(200);
    expect(
      (await readFile(path, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action),
    ).toEqual(['ListKeys']);
    await log.close();
  });

  it('a file audit log on a full disk (the file is /dev/full: every write is ENOSPC) answers 503 without the data key, and no line is half-kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-audit-'));
    dirs.push(dir);
    const path = join(dir, 'audit.log');
    await symlink('/dev/full', path);
    const log = await FileAuditLog.open(path);
    const { call } = await audited(log);
    const answer = await call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }));
    expect(answer.status).toBe(503);
    expect(answer.body.Code).toBe('ServiceUnavailableTemporary');
    expect(answer.raw).not.toContain('Plaintext');
    // Still broken: refused before it runs.
    expect((await call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(503);
    // The disk has room again (a file takes the link's place): served and audited.
    await rm(path);
    expect((await call(signedRpcRequest(ADMIN, 'ListKeys', {}))).status).toBe(200);
    expect(JSON.parse((await readFile(path, 'utf8')).trim()).action).toBe('ListKeys');
    await log.close();
  });
});

describe('Audit log: scheduled jobs', () => {
  it('writes one line per rotated key, with the new version', async () => {
    const clock = { now: Date.now() };
    const { service, audit } = await audited(new MemoryAuditLog(), () => clock.now);
    await service.keyring.updateKey(KEY_ID, (r) => ({
      ...r,
      automaticRotation: 'Enabled',
      rotationInterval: 86_400,
      nextRotationDate: new Date(clock.now + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }));
    clock.now += 2000;
    expect(await rotateDueKeys(service)).toEqual([KEY_ID]);
    const [line] = audit.records;
    expect(line).toMatchObject({ type: 'job', action: 'RotateKey', keyArn: keyArnOf(KEY_ID), code: 'OK' });
    expect((await service.keyring.getKey(KEY_ID))!.primaryKeyVersion).toBe(line!.keyVersionId);
  });
});

describe('Metrics', () => {
  it('counts requests by Action and Code and observes their latency; labels never carry caller text', async () => {
    const { call } = await audited();
    await call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }));
    await call(signedRpcRequest(ADMIN, 'NoSuchAction<script>', {}));
    const text = await registry.metrics();
    expect(text).toMatch(/kms_requests_total\{action="DescribeKey",code="OK"\} \d+/);
    expect(text).toMatch(/kms_request_duration_seconds_count\{action="DescribeKey"\} \d+/);
    expect(text).toMatch(/kms_requests_total\{action="Unknown",code="[A-Za-z.]+"\} \d+/);
    expect(text).not.toContain('<script>');
    expect(text).toMatch(/kms_cache_lookups_total\{cache="access-keys",result="(hit|miss)"\}/);
  });
});
