// `npm run bench:profile`: what one stage of the request path costs, in CPU per request, in a
// tight in-process loop and inside a node:http server under load (run with `node --import tsx`).
// STAGE names how far a request goes: `http` (a fixed answer), `authentication` (parameters,
// signature, replay claim), `stack` (the whole middleware stack and operation). Every request is
// GenerateDataKey, signed here in advance with its own nonce (what arrives over HTTP is read and
// set aside, so each level does the same work whatever the load generator sends). Store: in
// memory, no audit log (the stack's own cost, without I/O).
//
// MODE=loop: runs LOOP_REQUESTS with 64 in flight and prints {"cpuMicrosPerRequest"}.
// MODE=http: prints "listening <port>", serves until SIGTERM, then prints {"cpuMicrosPerRequest",
// "requests"} (CPU counted from the WARMUP-th request on).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATIONS } from '../../../functions/actions.js';
import { applySeed } from '../../../lib/seed.js';
import { fromNodeRequest, writeNodeResponse } from '../../../lib/adapters/node-http.js';
import { authenticate } from '../../../lib/auth/authenticate.js';
import { alibabaClaim } from '../../../lib/protocol/alibaba/codec.js';
import { createDispatcher } from '../../../lib/middleware/dispatch.js';
import { rpcParams } from '../../../lib/rpc/params.js';
import type { RpcRequest, RpcResponse } from '../../../lib/rpc/request.js';
import { serviceFromEnvironment } from '../../../lib/service-from-env.js';
import { ADMIN, ALIAS, TEST_SEED } from '../../helpers/service.js';
import { signedRpcRequest } from '../../helpers/sign.js';

const stage = process.env.STAGE ?? 'stack';
const WARMUP = 2_000;

const dir = mkdtempSync(join(tmpdir(), 'kms-stage-'));
const service = await serviceFromEnvironment({ KMS_DATA_DIR: dir, KMS_NONCE_STORE: 'memory', KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'silent' });
await applySeed(TEST_SEED, service);
const dispatch = createDispatcher(service, OPERATIONS);

const signed = () => signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });

const FIXED: RpcResponse = {
  statusCode: 200,
  headers: { 'content-type': 'application/json;charset=utf-8' },
  body: JSON.stringify({ RequestId: randomUUID(), KeyId: ALIAS, CiphertextBlob: 'A'.repeat(160) }),
};
const deps = { accessKeys: service.accessKeys, nonces: service.nonces, now: Date.now };

async function serve(request: RpcRequest): Promise<RpcResponse> {
  if (stage === 'http') return FIXED;
  if (stage === 'authentication') {
    await authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps);
    return FIXED;
  }
  const response = await dispatch(request);
  if (response.statusCode !== 200) throw new Error(`stage-server: ${response.statusCode} ${response.body}`);
  return response;
}

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

if (process.env.MODE === 'loop') {
  const count = Number(process.env.LOOP_REQUESTS ?? 30_000);
  const requests = Array.from({ length: count + WARMUP }, signed);
  let next = 0;
  const run = (until: number) =>
    Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < until) await serve(requests[next++]!);
      }),
    );
  await run(WARMUP);
  const started = process.cpuUsage();
  await run(requests.length);
  console.log(JSON.stringify({ cpuMicrosPerRequest: cpuMicros(started) / count }));
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// What arrives is read and set aside; a request signed here is served in its place (never one twice).
const requests = stage === 'http' ? [] : Array.from({ length: Number(process.env.HTTP_REQUESTS ?? 200_000) }, signed);
let served = 0;
let started: NodeJS.CpuUsage | undefined;
const server = createServer(async (req, res) => {
  await fromNodeRequest(req);
  if (served === WARMUP) started = process.cpuUsage();
  const response = await serve(requests[served++]!);
  writeNodeResponse(res, response);
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  const counted = served - WARMUP;
  console.log(JSON.stringify({ cpuMicrosPerRequest: started && counted > 0 ? cpuMicros(started) / counted : null, requests: served }));
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
