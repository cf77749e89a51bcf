import FCClient from '@alicloud/fc2';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS, EVENT_TRIGGERED, SCHEDULED } from '../../functions/actions.js';
import { cronFromRate, deployToFunctionCompute, FC_DEFAULTS, type FcDeployOptions, type FcFunctionSource } from '../../infra/fc/deploy.js';
import { BUNDLE_ENTRY, bundleFunction, crc32 } from '../../infra/fc/package.js';
import type { FcHttpResult } from '../../lib/adapters/alibaba-fc/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Call {
  method: string;
  path: string;
  body: any;
  authorization: string | undefined;
}

interface Trigger {
  triggerName: string;
  triggerType: string;
  triggerConfig: unknown;
}

/**
 * A stand-in for the FC API (2016-08-15) on 127.0.0.1: records every call and keeps services,
 * functions and triggers, answering as FC does — 404 with an ErrorCode for what is absent, 409 for
 * what already exists, the resource as JSON otherwise.
 */
class FakeFunctionCompute {
  readonly calls: Call[] = [];
  readonly services = new Map<string, { config: any; functions: Map<string, { config: any; triggers: Map<string, Trigger> }> }>();
  /** Answers the next GET of these paths with 404 although they exist (a concurrent run's creation). */
  readonly staleGets = new Set<string>();
  /** Answers every call to these paths with this status and ErrorCode. */
  readonly failures = new Map<string, { status: number; code: string }>();
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  client(): FCClient {
    return new FCClient('1234567890123456', {
      accessKeyID: 'test-id',
      accessKeySecret: 'test-secret',
      region: 'cn-hangzhou',
      endpoint: this.url,
      timeout: 5_000,
    });
  }

  created(kind: 'services' | 'functions' | 'triggers') {
    return this.calls.filter((c) => c.method === 'POST' && new RegExp(`/${kind}$`).test(c.path));
  }

  updates() {
    return this.calls.filter((c) => c.method === 'PUT');
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').replace(/\?.*$/, '');
    const call: Call = { method: req.method!, path, body: text ? JSON.parse(text) : undefined, authorization: req.headers.authorization };
    this.calls.push(call);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': `req-${this.calls.length}` });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: string) => send(status, { ErrorCode: code, ErrorMessage: `${code}: ${path}` });
    const failure = this.failures.get(path);
    if (failure) return fail(failure.status, failure.code);
    if (call.method === 'GET' && this.staleGets.delete(path))
      return fail(404, /triggers/.test(path) ? 'TriggerNotFound' : /functions/.test(path) ? 'FunctionNotFound' : 'ServiceNotFound');

    const m = /^\/2016-08-15\/services(?:\/([^/]+)(?:\/functions(?:\/([^/]+)(?:\/triggers(?:\/([^/]+))?)?)?)?)?$/.exec(path);
    if (!m) return fail(404, 'PathNotFound');
    const [, serviceName, functionName, triggerName] = m;
    const hasFunctionsSegment = path.includes('/functions');
    const hasTriggersSegment = path.includes('/triggers');
    const body = call.body ?? {};

    if (!serviceName) {
      if (call.method !== 'POST') return fail(405, 'MethodNotAllowed');
      if (this.services.has(body.serviceName)) return fail(409, 'ServiceAlreadyExists');
      this.services.set(body.serviceName, { config: body, functions: new Map() });
      return send(200, { ...body, serviceId: `svc-${body.serviceName}` });
    }
    const service = this.services.get(serviceName);
    if (!service) return fail(404, 'ServiceNotFound');
    if (!hasFunctionsSegment) {
      if (call.method === 'PUT') service.config = { ...service.config, ...body };
      return send(200, { serviceName, ...service.config });
    }
    if (!functionName) {
      if (call.method !== 'POST') return fail(405, 'MethodNotAllowed');
      if (service.functions.has(body.functionName)) return fail(409, 'FunctionAlreadyExists');
      service.functions.set(body.functionName, { config: body, triggers: new Map() });
      return send(200, { ...body, code: undefined, codeChecksum: '1' });
    }
    const fn = service.functions.get(functionName);
    if (!fn) return fail(404, 'FunctionNotFound');
    if (!hasTriggersSegment) {
      if (call.method === 'PUT') fn.config = { ...fn.config, ...body };
      return send(200, { functionName, ...fn.config, code: undefined });
    }
    const urlInternet = `https://${functionName.toLowerCase()}-${serviceName}.cn-hangzhou.fcapp.run`;
    if (!triggerName) {
      if (call.method !== 'POST') return fail(405, 'MethodNotAllowed');
      if (fn.triggers.has(body.triggerName)) return fail(409, 'TriggerAlreadyExists');
      fn.triggers.set(body.triggerName, body);
      return send(200, { ...body, urlInternet });
    }
    const trigger = fn.triggers.get(triggerName);
    if (!trigger) return fail(404, 'TriggerNotFound');
    if (call.method === 'PUT') Object.assign(trigger, body);
    return send(200, { ...trigger, urlInternet });
  }
}

const fakeCode = (source: FcFunctionSource) => ({ zipFile: Buffer.from(`code of ${source.functionName}`).toString('base64') });
const names = ACTIONS.map((route) => route.functionName);

describe('Deployment: Alibaba Function Compute (infra/fc/deploy.ts)', () => {
  let fc: FakeFunctionCompute;
  const deploy = (stage: string, more: Partial<FcDeployOptions> = {}) =>
    deployToFunctionCompute({ client: fc.client(), stage, functions: ACTIONS, codeFor: fakeCode, ...more });

  afterEach(async () => {
    await fc?.stop();
  });

  it('when a stage is deployed for the first time, it creates the service, one function per Action with the table names, and an HTTP trigger each', async () => {
    fc = await new FakeFunctionCompute().start();
    const report = await deploy('dev', { environment: { KMS_REGION: 'cn-hangzhou' } });

    expect(fc.calls.every((c) => c.authorization?.startsWith('FC test-id:'))).toBe(true);
    expect(fc.updates()).toEqual([]);
    expect(fc.created('services').map((c) => c.body.serviceName)).toEqual(['kms-dev']);
    const functions = fc.created('functions');
    expect(functions.map((c) => c.body.functionName)).toEqual(names);
    for (const { body } of functions) {
      expect(body).toMatchObject({
        runtime: 'nodejs20',
        handler: 'index.fcHandler',
        memorySize: FC_DEFAULTS.memorySize,
        timeout: FC_DEFAULTS.timeout,
        code: fakeCode(body),
        environmentVariables: { KMS_KEY_STORE: 'postgres', KMS_LOG_LEVEL: 'info', KMS_REGION: 'cn-hangzhou' },
      });
    }
    const triggers = fc.created('triggers');
    expect(triggers.map((c) => c.path)).toEqual(names.map((n) => `/2016-08-15/services/kms-dev/functions/${n}/triggers`));
    for (const { body } of triggers) {
      expect(body).toEqual({ triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', methods: ['GET', 'POST'] } });
    }
    expect(report.service).toBe('created');
    expect(report.functions).toHaveLength(ACTIONS.length);
    expect(report.functions.every((f) => f.function === 'created' && f.trigger === 'created' && f.url?.endsWith('.fcapp.run'))).toBe(true);
  });

  it('when the same stage is deployed again, every resource is updated and nothing is created', async () => {
    fc = await new FakeFunctionCompute().start();
    await deploy('dev');
    const firstRun = fc.calls.length;
    const report = await deploy('dev', { environment: { KMS_LOG_LEVEL: 'warn' } });
    const second = fc.calls.slice(firstRun);

    expect(second.filter((c) => c.method === 'POST')).toEqual([]);
    const puts = second.filter((c) => c.method === 'PUT').map((c) => c.path);
    expect(puts).toEqual([
      '/2016-08-15/services/kms-dev',
      ...names.flatMap((n) => [`/2016-08-15/services/kms-dev/functions/${n}`, `/2016-08-15/services/kms-dev/functions/${n}/triggers/http`]),
    ]);
    const triggerUpdate = second.find((c) => c.method === 'PUT' && c.path.endsWith('/triggers/http'))!;
    expect(triggerUpdate.body).toEqual({ triggerConfig: { authType: 'anonymous', methods: ['GET', 'POST'] } });
    expect(fc.services.get('kms-dev')!.functions.get('decrypt')!.config.environmentVariables.KMS_LOG_LEVEL).toBe('warn');
    expect(fc.services.size).toBe(1);
    expect(fc.services.get('kms-dev')!.functions.size).toBe(ACTIONS.length);
    expect(report.service).toBe('updated');
    expect(report.functions.every((f) => f.function === 'updated' && f.trigger === 'updated')).toBe(true);
  });

  it('when another stage is deployed, it creates a second service with its own functions and leaves the first alone', async () => {
    fc = await new FakeFunctionCompute().start();
    await deploy('dev');
    const firstRun = fc.calls.length;
    await deploy('staging');
    const third = fc.calls.slice(firstRun);

    expect(third.filter((c) => c.method === 'PUT')).toEqual([]);
    expect(third.every((c) => c.path.startsWith('/2016-08-15/services/kms-staging') || c.path === '/2016-08-15/services')).toBe(true);
    expect(fc.created('services').map((c) => c.body.serviceName)).toEqual(['kms-dev', 'kms-staging']);
    expect([...fc.services.get('kms-staging')!.functions.keys()]).toEqual(names);
    expect([...fc.services.get('kms-dev')!.functions.keys()]).toEqual(names);
  });

  it('when scheduled jobs are given, each gets a function with the job handler and a timer trigger on the table schedule', async () => {
    fc = await new FakeFunctionCompute().start();
    await deploy('dev', { functions: [], scheduled: SCHEDULED });
    expect(fc.created('functions').map((c) => [c.body.functionName, c.body.handler])).toEqual(SCHEDULED.map((job) => [job.functionName, 'index.handler']));
    expect(fc.created('triggers').map((c) => c.body)).toEqual(
      SCHEDULED.map(() => ({ triggerName: 'schedule', triggerType: 'timer', triggerConfig: { cronExpression: '@every 60m', enable: true } })),
    );
  });

  it('when event-triggered functions are given (the partition-key provisioner), each gets its fcHandler and no trigger of ours, twice without change', async () => {
    fc = await new FakeFunctionCompute().start();
    const first = await deploy('dev', { functions: [], eventTriggered: EVENT_TRIGGERED });
    expect(fc.created('functions').map((c) => [c.body.functionName, c.body.handler])).toEqual(EVENT_TRIGGERED.map((f) => [f.functionName, 'index.fcHandler']));
    expect(fc.created('triggers')).toEqual([]);
    expect(first.functions).toEqual(EVENT_TRIGGERED.map((f) => ({ functionName: f.functionName, function: 'created', triggerType: 'event' })));
    const again = await deploy('dev', { functions: [], eventTriggered: EVENT_TRIGGERED });
    expect(again.functions.map((f) => f.function)).toEqual(EVENT_TRIGGERED.map(() => 'updated'));
  });

  it('when a concurrent run creates a resource between the read and the create, it is updated instead of failing', async () => {
    fc = await new FakeFunctionCompute().start();
    const decrypt = ACTIONS.filter((route) => route.functionName === 'decrypt');
    await deploy('dev', { functions: decrypt });
    fc.staleGets.add('/2016-08-15/services/kms-dev');
    fc.staleGets.add('/2016-08-15/services/kms-dev/functions/decrypt');
    const before = fc.calls.length;
    const report = await deploy('dev', { functions: decrypt });
    expect(report.service).toBe('updated');
    expect(report.functions[0]).toMatchObject({ function: 'updated', trigger: 'updated' });
    expect(
      fc.calls
        .slice(before)
        .filter((c) => c.method === 'POST')
        .map((c) => c.path),
    ).toEqual(['/2016-08-15/services', '/2016-08-15/services/kms-dev/functions']);
    expect(fc.services.get('kms-dev')!.functions.size).toBe(1);
  });

  it('when FC refuses a call for another reason than absence, the deployment stops with FC’s error code', async () => {
    fc = await new FakeFunctionCompute().start();
    fc.failures.set('/2016-08-15/services/kms-dev', { status: 403, code: 'AccessDenied' });
    await expect(deploy('dev')).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(fc.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });

  it('when the stage is not a plain lower-case name, nothing is called', async () => {
    fc = await new FakeFunctionCompute().start();
    await expect(deploy('Dev/../x')).rejects.toThrow(/stage must be/);
    expect(fc.calls).toEqual([]);
  });

  it('when a table schedule is converted, rate(n unit) becomes FC’s @every in minutes and anything else is refused', () => {
    expect(cronFromRate('rate(1 hour)')).toBe('@every 60m');
    expect(cronFromRate('rate(5 minutes)')).toBe('@every 5m');
    expect(cronFromRate('rate(2 days)')).toBe('@every 2880m');
    expect(() => cronFromRate('cron(0 * * * ? *)')).toThrow(/unsupported schedule/);
    expect(() => cronFromRate('rate(0 hours)')).toThrow(/unsupported schedule/);
  });
});

/** The entries of a zip, read from its local headers (enough for the archives zipFiles writes). */
function readZip(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let at = 0;
  while (zip.readUInt32LE(at) === 0x04034b50) {
    const method = zip.readUInt16LE(at + 8);
    const crc = zip.readUInt32LE(at + 14);
    const size = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const extraLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString('utf8');
    const start = at + 30 + nameLength + extraLength;
    const stored = zip.subarray(start, start + size);
    const data = method === 8 ? inflateRawSync(stored) : Buffer.from(stored);
    expect(crc32(data)).toBe(crc);
    expect(data.length).toBe(zip.readUInt32LE(at + 22));
    entries.set(name, data);
    at = start + size;
  }
  expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
  return entries;
}

describe('Packaging: one function bundled with esbuild (infra/fc/package.ts)', () => {
  it('when a function is bundled, the zip holds index.js, a CommonJS bundle whose fcHandler serves a request', async () => {
    const zip = await bundleFunction('functions/decrypt.ts', { root: ROOT });
    const entries = readZip(zip);
    expect([...entries.keys()]).toEqual([BUNDLE_ENTRY]);

    const dir = await mkdtemp(join(tmpdir(), 'kms-fc-bundle-'));
    await writeFile(join(dir, BUNDLE_ENTRY), entries.get(BUNDLE_ENTRY)!);
    const bundle = createRequire(join(dir, 'package.json'))(`./${BUNDLE_ENTRY}`) as { fcHandler: (event: Buffer) => Promise<FcHttpResult>; handler: unknown };
    expect(typeof bundle.handler).toBe('function');
    Object.assign(process.env, { KMS_DATA_DIR: join(dir, 'data'), KMS_LOG_LEVEL: 'silent' });
    const event = {
      version: 'v1',
      rawPath: '/',
      body: '',
      isBase64Encoded: false,
      headers: { Host: 'kms.example' },
      queryParameters: { Action: 'Decrypt', Version: '2016-01-20' },
      requestContext: { http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' } },
    };
    const result = await bundle.fcHandler(Buffer.from(JSON.stringify(event)));
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(JSON.parse(result.body)).toMatchObject({ Code: expect.any(String), RequestId: expect.any(String) });
  });

  it('when the same function is bundled twice, the zips are byte-identical', async () => {
    const [a, b] = await Promise.all([bundleFunction('functions/decrypt.ts', { root: ROOT }), bundleFunction('functions/decrypt.ts', { root: ROOT })]);
    expect(a.equals(b)).toBe(true);
  });
});

describe('Command: deploy:fc (infra/fc/main.ts) requires a shared backend', () => {
  const credentials = {
    ALIBABA_CLOUD_ACCOUNT_ID: '1234567890123456',
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    // Nothing may be called: a closed port fails loudly if it were.
    ALIBABA_CLOUD_FC_ENDPOINT: 'http://127.0.0.1:9',
  };

  async function run(args: string[]) {
    const { main } = await import('../../infra/fc/main.js');
    const errors: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void errors.push(parts.join(' ')));
    try {
      return { code: await main(args, credentials), errors: errors.join('\n') };
    } finally {
      error.mockRestore();
    }
  }

  it.each([
    [[], /--env KMS_POSTGRES_URL=… and --env KMS_ROOT_KEY_SOURCE=…/],
    [['--env', 'KMS_POSTGRES_URL=postgres://kms@rds/kms'], /--env KMS_ROOT_KEY_SOURCE=…/],
    [['--env', 'KMS_POSTGRES_URL=postgres://kms@rds/kms', '--env', 'KMS_ROOT_KEY_SOURCE=file:/mnt/root.key'], /would be per instance/],
  ])('when deployed with %j, it refuses (exit 2) before calling Function Compute', async (args, message) => {
    const { code, errors } = await run(['--stage', 'dev', ...args]);
    expect(code).toBe(2);
    expect(errors).toMatch(message);
  });
});
