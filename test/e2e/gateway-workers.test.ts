import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, removeDir, runGatewayToExit, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, KEY_ID, OTHER_KEY_ID, TEST_SEED } from '../helpers/service.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { waitFor } from '../helpers/store-files.js';

/*
 * KMS_WORKERS: the gateway served by several processes on one port (node:cluster), with one
 * replay record, one seeding, one set of scheduled jobs and one drain.
 */

let root: string;
let seedFile: string;
beforeAll(async () => {
  root = await makeTempDir('kms-workers-');
  seedFile = await writeSeedFile(root, TEST_SEED);
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

/** One signed request over `agent`'s keep-alive connection; the JSON answer. */
function sendOn(agent: Agent, port: number, request: RpcRequest): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const path = request.rawQuery ? `${request.path}?${request.rawQuery}` : request.path;
    const req = httpRequest(
      { host: '127.0.0.1', port, method: request.method, path, headers: { ...request.headers, 'content-length': String(request.body.length) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any> }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

let counter = 0;
const dataDir = () => join(root, `data-${++counter}`);

/** The pids of `pid`'s child processes. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(safeRead(`/proc/${pid}/status`));
function safeRead(path: string): string {
  try {
    return execFileSync('cat', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

describe('KMS_WORKERS', () => {
  it('a change acknowledged through one worker is what every worker answers next, however long their caches would trust the old value (many rounds, no pause)', async () => {
    // A cache trusted for 10 minutes: only the change marker can explain fresh answers.
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2', KMS_CACHE_TTL_MS: '600000' } });
    // Keep-alive connections opened at once (the primary hands them to the workers round robin):
    // the next request goes straight to its worker, as fast as a client can follow an answer.
    const connections = Array.from({ length: 6 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const call = (agent: Agent, action: string, params: Record<string, string>) => sendOn(agent, gateway.port, signedRpcRequest(ADMIN, action, params));
      const [writer, ...readers] = connections as [Agent, ...Agent[]];
      const everywhere = (action: string, params: Record<string, string>) => Promise.all(readers.map((agent) => call(agent, action, params)));
      const codes = (answers: Array<{ status: number; json: Record<string, any> }>) => answers.map((a) => (a.status === 200 ? 'OK' : a.json.Code));
      const states = (answers: Array<{ json: Record<string, any> }>) => answers.map((a) => a.json.KeyMetadata?.KeyState);
      const all = (value: unknown) => Array(readers.length).fill(value);
      await Promise.all(connections.map((agent) => call(agent, 'DescribeKey', { KeyId: KEY_ID })));
      for (let round = 0; round < 8; round++) {
        expect((await call(writer, 'DisableKey', { KeyId: KEY_ID })).status).toBe(200);
        expect(codes(await everywhere('GenerateDataKey', { KeyId: KEY_ID }))).toEqual(all('Rejected.Disabled'));
        expect((await call(writer, 'EnableKey', { KeyId: KEY_ID })).status).toBe(200);
        expect(codes(await everywhere('GenerateDataKey', { KeyId: KEY_ID }))).toEqual(all('OK'));
        expect((await call(writer, 'ScheduleKeyDeletion', { KeyId: KEY_ID, PendingWindowInDays: '7' })).status).toBe(200);
        expect(states(await everywhere('DescribeKey', { KeyId: KEY_ID }))).toEqual(all('PendingDeletion'));
        expect((await call(writer, 'CancelKeyDeletion', { KeyId: KEY_ID })).status).toBe(200);
        expect(states(await everywhere('DescribeKey', { KeyId: KEY_ID }))).toEqual(all('Enabled'));
        // Aliases too: rebound through one worker, followed by all.
        const target = round % 2 ? KEY_ID : OTHER_KEY_ID;
        expect((await call(writer, 'UpdateAlias', { AliasName: ALIAS, KeyId: target })).status).toBe(200);
        expect((await everywhere('GenerateDataKey', { KeyId: ALIAS })).map((a) => a.json.KeyId)).toEqual(all(target));
      }
    } finally {
      for (const agent of connections) agent.destroy();
      expect(await gateway.stop('SIGTERM')).toBe(0);
    }
  });

  it('serves one port from N worker processes, and a signed request is accepted once across all of them, however often and wherever it is replayed', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '3' } });
    try {
      expect(gateway.stdout()).toContain('serving from 3 worker processes');
      expect(childPids(gateway.pid)).toHaveLength(3);

      // 40 requests, each sent 6 times at once on fresh connections (spread over the workers round robin).
      const requests = Array.from({ length: 40 }, (_, i) =>
        toRecorded(i % 2 ? signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }) : signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })),
      );
      const answers = await Promise.all(requests.map((req) => Promise.all(Array.from({ length: 6 }, () => sendRaw(gateway.port, req)))));
      for (const copies of answers) {
        const statuses = copies.map((a) => a.status).sort();
        expect(statuses).toEqual([200, 400, 400, 400, 400, 400]);
        for (const refused of copies.filter((a) => a.status === 400)) expect(refused.json.Code).toBe('SignatureNonceUsed');
      }
      // Later, one by one, still refused.
      for (const req of requests.slice(0, 10)) expect((await sendRaw(gateway.port, req)).json.Code).toBe('SignatureNonceUsed');
      // Every worker wrote its audit lines to the one stdout, none cut into another's (the last may still be in the pipe).
      const auditLinesNow = () =>
        gateway
          .stdout()
          .split('\n')
          .filter((line) => line.includes('"audit":true'));
      await waitFor(() => auditLinesNow().length >= 40 * 6 + 10, 5_000, 'every audit line to arrive').catch(() => undefined);
      const auditLines = auditLinesNow();
      expect(auditLines.length).toBe(40 * 6 + 10);
      for (const line of auditLines) expect(() => JSON.parse(line), line).not.toThrow();
    } finally {
      await gateway.stop('SIGTERM');
    }
  });

  it('ListAuditEvents through any worker answers the requests every worker served, newest first, failed ones with their Result', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2', KMS_AUDIT_LOG: 'none' } });
    try {
      expect(childPids(gateway.pid)).toHaveLength(2);
      // Each on a connection of its own: the primary hands connections to the workers round robin.
      const sent: string[] = [];
      for (let i = 0; i < 30; i++) {
        const request = i % 3 === 2 ? signedV3Request(ADMIN, 'DescribeKey', { KeyId: KEY_ID }) : signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID });
        const answer = await sendRaw(gateway.port, toRecorded(request));
        expect(answer.status).toBe(200);
        sent.push(answer.json.RequestId as string);
      }
      const tampered = toRecorded(signedRpcRequest(ADMIN, 'ListKeys', {}, { afterSigning: (p) => (p.Signature = `x${p.Signature}`) }));
      const refused = await sendRaw(gateway.port, tampered);
      expect(refused.json.Code).toBe('SignatureDoesNotMatch');

      // Asked over fresh connections too (so through both workers), each answer holds every request.
      for (let i = 0; i < 4; i++) {
        const answer = await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'ListAuditEvents', { PageSize: '100' })));
        expect(answer.status, answer.text).toBe(200);
        const events = answer.json.AuditEvents.AuditEvent as Array<Record<string, any>>;
        const requestIds = events.map((e) => e.RequestId as string);
        // The earlier ListAuditEvents are in it too. (Records of one millisecond on two workers may come either way round.)
        const ours = requestIds.filter((id) => sent.includes(id) || id === refused.json.RequestId);
        expect(ours.sort()).toEqual([refused.json.RequestId, ...sent].sort());
        expect(answer.json.TotalCount).toBe(31 + i);
        expect(events.find((e) => e.RequestId === refused.json.RequestId)).toMatchObject({
          Result: 'SignatureDoesNotMatch',
          HttpStatus: 400,
          AccessKeyId: ADMIN.accessKeyId,
          AccessKeyVerified: false,
        });
        const times = events.map((e) => e.Time as string);
        expect([...times].sort().reverse()).toEqual(times);
      }
    } finally {
      await gateway.stop('SIGTERM');
    }
  });

  it('replaces a worker that dies; SIGTERM to the primary drains every worker and exits 0, leaving no process behind', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2' } });
    const [victim, other] = childPids(gateway.pid);
    process.kill(victim!, 'SIGKILL');
    await waitFor(async () => childPids(gateway.pid).filter((pid) => pid !== victim).length === 2, 10_000, 'a replacement worker');
    const workers = childPids(gateway.pid);
    expect(workers).toContain(other);
    await waitFor(() => gateway.output().includes('gateway worker died'), 5_000, 'the primary to log the death');
    // Both still serve: enough fresh connections to reach each.
    for (let i = 0; i < 6; i++) {
      const answer = await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })));
      expect(answer.status).toBe(200);
    }
    expect(await gateway.stop('SIGTERM')).toBe(0);
    for (const pid of workers) expect(alive(pid), `worker ${pid}`).toBe(false);
  });

  it('when the primary is killed outright (SIGKILL), its workers exit too instead of serving on unsupervised', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2' } });
    const workers = childPids(gateway.pid);
    expect(workers).toHaveLength(2);
    await gateway.stop('SIGKILL').catch(() => undefined);
    await waitFor(async () => workers.every((pid) => !alive(pid)), 10_000, 'the workers to exit');
  });

  it("seeds once and sums the workers' metrics on the primary's metrics listener", async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2', KMS_METRICS_PORT: '0' } });
    try {
      const url = /kms metrics at (http:\/\/\S+)/.exec(gateway.stdout())![1]!;
      for (let i = 0; i < 10; i++)
        expect((await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status).toBe(200);
      const text = await (await fetch(url)).text();
      expect(text).toMatch(/^kms_requests_total\{action="DescribeKey",code="OK"\} 10$/m);
      // Both workers answered some of them (round robin over fresh connections).
      expect(Number(/^kms_nonces_held (\d+)/m.exec(text)?.[1])).toBe(10);
    } finally {
      await gateway.stop('SIGTERM');
    }
  });

  it("holds an access key's rate limit across workers: the primary keeps the buckets", async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2', KMS_RATE_LIMITS: '{"default": {"crypto": 3}}' } });
    try {
      // Fresh connections, so both workers take some; buckets per worker would admit 6.
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })))),
      );
      const admitted = answers.filter((a) => a.status === 200).length;
      expect(admitted).toBeGreaterThanOrEqual(3);
      expect(admitted).toBeLessThanOrEqual(4);
      for (const refused of answers.filter((a) => a.status !== 200)) {
        expect(refused.status).toBe(429);
        expect(refused.json.Code).toBe('Rejected.Throttling');
        expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      }
    } finally {
      await gateway.stop('SIGTERM');
    }
  });

  it('KMS_WORKERS=auto, and unset (the default), serve from one worker per core; 1 from the main process alone', async () => {
    for (const workers of ['auto', '']) {
      const auto = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: workers } });
      try {
        expect(childPids(auto.pid)).toHaveLength(availableParallelism() > 1 ? availableParallelism() : 0);
      } finally {
        await auto.stop('SIGTERM');
      }
    }
    const single = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '1' } });
    try {
      expect(childPids(single.pid)).toHaveLength(0);
      expect((await sendRaw(single.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status).toBe(200);
    } finally {
      await single.stop('SIGTERM');
    }
  });

  it('refuses a KMS_WORKERS that is not a number of processes, naming it', async () => {
    for (const value of ['0', 'two', '65', '-1', 'AUTO']) {
      const result = await runGatewayToExit({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: value } });
      expect(result.ready).toBe(false);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('KMS_WORKERS');
    }
  });
});
