// `npm run bench:profile`: what one stage of the request path costs, in CPU per request, in a
// tight in-process loop and inside a node:http server under load. STAGE names how far a request
// goes: `http` (a fixed answer), `authentication` (parameters, signature, replay claim), `stack`
// (the whole middleware stack and operation). Every request is GenerateDataKey, signed here in
// advance with its own nonce (what arrives over HTTP is read and set aside, so each level does the
// same work whatever the load generator sends). Store: in memory, no audit log (the stack's own
// cost, without I/O).
//
// MODE=loop: runs LOOP_REQUESTS with 64 in flight and prints {"cpuMicrosPerRequest"}.
// MODE=http: prints "listening <port>", serves until SIGTERM, then prints {"cpuMicrosPerRequest",
// "requests"} (CPU counted from the WARMUP-th request on).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (path) => import(new URL(`../../../dist/${path}`, import.meta.url).href);
const [{ OPERATIONS }, { applySeed }, { createDispatcher }, { fromNodeRequest, writeNodeResponse }, { serviceFromEnvironment }, { rpcParams }, { authenticate }, { rpcSignature, rpcStringToSign }, { percentEncode }] =
  await Promise.all([
    dist('functions/actions.js'),
    dist('infra/gateway/seed.js'),
    dist('lib/middleware/dispatch.js'),
    dist('lib/adapters/node-http.js'),
    dist('lib/service-from-env.js'),
    dist('lib/rpc/params.js'),
    dist('lib/auth/authenticate.js'),
    dist('lib/auth/rpc-signature.js'),
    dist('lib/rpc/percent-encode.js'),
  ]);

const { seed, accessKeyId, accessKeySecret, keyId } = JSON.parse(process.env.STAGE_SEED);
const stage = process.env.STAGE ?? 'stack';
const WARMUP = 2_000;

const dir = mkdtempSync(join(tmpdir(), 'kms-stage-'));
const service = await serviceFromEnvironment({ KMS_DATA_DIR: dir, KMS_NONCE_STORE: 'memory', KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'silent' });
await applySeed(seed, service);
const dispatch = createDispatcher(service, OPERATIONS);

function signed() {
  const params = {
    Action: 'GenerateDataKey',
    Format: 'JSON',
    Version: '2016-01-20',
    AccessKeyId: accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    KeyId: keyId,
  };
  params.Signature = rpcSignature(accessKeySecret, rpcStringToSign('GET', Object.entries(params)));
  const headers = Object.assign(Object.create(null), { host: '127.0.0.1' });
  return { method: 'GET', path: '/', rawQuery: Object.entries(params).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'), headers, body: Buffer.alloc(0) };
}

const FIXED = { statusCode: 200, headers: { 'content-type': 'application/json;charset=utf-8' }, body: Buffer.from(JSON.stringify({ RequestId: randomUUID(), KeyId: keyId, CiphertextBlob: 'A'.repeat(160) })) };
const deps = { accessKeys: service.accessKeys, nonces: service.nonces, now: Date.now };

async function serve(request) {
  if (stage === 'http') return FIXED;
  if (stage === 'authentication') {
    await authenticate(request, rpcParams(request), deps);
    return FIXED;
  }
  const response = await dispatch(request);
  if (response.statusCode !== 200) throw new Error(`stage-server: ${response.statusCode} ${response.body}`);
  return response;
}

const cpuMicros = (since) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

if (process.env.MODE === 'loop') {
  const count = Number(process.env.LOOP_REQUESTS ?? 30_000);
  const requests = Array.from({ length: count + WARMUP }, signed);
  let next = 0;
  const run = (until) => Promise.all(Array.from({ length: 64 }, async () => { while (next < until) await serve(requests[next++]); }));
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
let started;
const server = createServer(async (req, res) => {
  await fromNodeRequest(req);
  if (served === WARMUP) started = process.cpuUsage();
  const response = await serve(requests[served++]);
  writeNodeResponse(res, response);
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => {
  const counted = served - WARMUP;
  console.log(JSON.stringify({ cpuMicrosPerRequest: started && counted > 0 ? cpuMicros(started) / counted : null, requests: served }));
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
