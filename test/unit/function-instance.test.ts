import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEADLINE_MARGIN_MS, serveOnFunction } from '../../lib/adapters/lazy-service.js';
import { createLogger } from '../../lib/logger.js';
import type { RpcHandler } from '../../lib/middleware/stack.js';
import type { RpcRequest, RpcResponse } from '../../lib/rpc/request.js';
import type { Service } from '../../lib/service.js';

const request = { method: 'POST', path: '/', rawQuery: '', headers: {}, body: Buffer.alloc(0) } as unknown as RpcRequest;
const ok: RpcResponse = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };

function instanceAnswering(handle: RpcHandler, lines: string[] = []) {
  const service = { logger: createLogger({ level: 'warn', write: (line) => lines.push(line) }) } as unknown as Service;
  return async () => ({ service, handle });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('serveOnFunction: what a cloud function answers when the service cannot', () => {
  it('when the answer is ready in time, it is returned as it is', async () => {
    const response = await serveOnFunction(
      instanceAnswering(async () => ok),
      request,
      { remainingMs: 10_000 },
    );
    expect(response).toBe(ok);
  });

  it('when the answer is not ready DEADLINE_MARGIN_MS before the timeout, it answers 503 ServiceUnavailableTemporary and logs an access line', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const pending = serveOnFunction(
      instanceAnswering(() => new Promise<RpcResponse>(() => undefined), lines),
      request,
      { remainingMs: 10_000 },
    );
    await vi.advanceTimersByTimeAsync(10_000 - DEADLINE_MARGIN_MS - 1);
    let settled = false;
    void pending.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const response = await pending;
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ Code: 'ServiceUnavailableTemporary' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: 'request', status: 503, code: 'ServiceUnavailableTemporary' });
  });

  it('when the service cannot be built, it answers 503 and reports why on stderr (no stack trace to the caller)', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const response = await serveOnFunction(async () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432')), request, {});
      expect(response.statusCode).toBe(503);
      expect(response.body).not.toContain('ECONNREFUSED');
      expect(String(stderr.mock.calls[0]?.[0])).toContain('ECONNREFUSED');
    } finally {
      stderr.mockRestore();
    }
  });
});

describe('Access lines are written at every log level but silent', () => {
  it.each(['debug', 'info', 'warn', 'error'] as const)('at %s, access() writes one info line while info() follows the level', (level) => {
    const lines: string[] = [];
    const logger = createLogger({ level, write: (line) => lines.push(line) });
    logger.access('request', { status: 200 });
    logger.info('other');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ level: 'info', message: 'request', status: 200 });
    expect(parsed.some((l) => l.message === 'other')).toBe(level === 'debug' || level === 'info');
  });

  it('at silent, nothing is written', () => {
    const lines: string[] = [];
    createLogger({ level: 'silent', write: (line) => lines.push(line) }).access('request');
    expect(lines).toEqual([]);
  });
});

describe('A Lambda function whose service cannot be built', () => {
  it('answers 503 ServiceUnavailableTemporary in the ALB/API shape, never a thrown error (an ALB 502)', async () => {
    vi.stubEnv('KMS_KEY_STORE', 'postgres');
    vi.stubEnv('KMS_POSTGRES_URL', '');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'kms-dev-decrypt');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'kms-test');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'kms');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const emitted: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      emitted.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      vi.resetModules();
      const { handler } = await import('../../functions/decrypt.js');
      const event = {
        version: '2.0',
        rawPath: '/',
        rawQueryString: 'Action=Decrypt',
        headers: {},
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' } },
      } as unknown as APIGatewayProxyEventV2;
      const result = (await handler(event, { awsRequestId: 'r', getRemainingTimeInMillis: () => 10_000 } as unknown as Context)) as {
        statusCode: number;
        body: string;
      };
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body)).toMatchObject({ Code: 'ServiceUnavailableTemporary' });
      // Counted as a CloudWatch metric (Embedded Metric Format), which the 5xx alarm watches.
      const metric = emitted.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l._aws);
      expect(metric).toMatchObject({
        ServerErrors: 1,
        service: 'kms',
        _aws: { CloudWatchMetrics: [{ Namespace: 'kms-test', Metrics: [{ Name: 'ServerErrors', Unit: 'Count' }] }] },
      });
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});

describe('serveOnFunction: the deadline covers a cold start', () => {
  it('when building the service takes longer than the budget, the answer is a 503 in time, not a platform timeout', async () => {
    vi.useFakeTimers();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const neverBuilt = () => new Promise<never>(() => undefined);
      const pending = serveOnFunction(neverBuilt, request, { remainingMs: 3_000 });
      await vi.advanceTimersByTimeAsync(3_000 - DEADLINE_MARGIN_MS);
      const response = await pending;
      expect(response.statusCode).toBe(503);
    } finally {
      stderr.mockRestore();
    }
  });

  it('when the build eats most of the budget, the request gets only what is left', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const service = { logger: createLogger({ level: 'warn', write: (line) => lines.push(line) }) } as unknown as Service;
    const slowBuild = () =>
      new Promise<{ service: Service; handle: RpcHandler }>((resolve) =>
        setTimeout(() => resolve({ service, handle: () => new Promise<RpcResponse>(() => undefined) }), 1_500),
      );
    let settledAt: number | undefined;
    const pending = serveOnFunction(slowBuild, request, { remainingMs: 2_000 }).then((r) => {
      settledAt = Date.now();
      return r;
    });
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(1_000);
    const response = await pending;
    expect(response.statusCode).toBe(503);
    expect(settledAt! - start).toBe(1_000);
  });
});

describe('A Lambda function that also serves another Action (ActionDefinition.alsoServes)', () => {
  it("when its module loads the other Action's module, whose handlers are built too, the process builds one service, not one per handler", async () => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'kms-dev-encrypt');
    const builds = vi.fn(() => new Promise<Service>(() => undefined));
    try {
      vi.resetModules();
      vi.doMock('../../lib/service-from-env.js', () => ({ serviceFromEnvironment: builds }));
      const encrypt = await import('../../functions/encrypt.js');
      const asymmetricEncrypt = await import('../../functions/asymmetric-encrypt.js');
      expect(encrypt.action.alsoServes).toContain(asymmetricEncrypt.action);
      expect(builds).toHaveBeenCalledTimes(1);
    } finally {
      vi.doUnmock('../../lib/service-from-env.js');
      vi.resetModules();
      vi.unstubAllEnvs();
    }
  });
});
