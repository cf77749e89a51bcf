// The benchmark's fairer baseline: the least a server must do to answer a KMS data-key request
// correctly, in plain node:http and node:crypto, and nothing else.
//
// It does, per request:
//   - Alibaba RPC (GET, signed query): the HMAC-SHA1 signature verified exactly as Alibaba's RPC
//     signature is defined (every parameter but Signature, sorted, RFC 3986-encoded,
//     METHOD&%2F&encoded, key = secret + '&', compared in constant time); Timestamp within
//     ±15 minutes; SignatureNonce claimed once per access key (a replay is a 400);
//   - AWS (POST, JSON, X-Amz-Target TrentService.GenerateDataKey): SigV4 verified from the
//     Authorization header (canonical request over the signed headers and the body's SHA-256, the
//     signing key derived per date and region for service `kms` and cached, constant-time compare);
//     X-Amz-Date within ±15 minutes; a signed amz-sdk-invocation-id + amz-sdk-request attempt
//     claimed once per access key as `amz-sdk <id> <attempt>`;
//   - GenerateDataKey / GenerateDataKeyWithoutPlaintext: randomBytes(32) wrapped with AES-256-GCM
//     under a master key made at start (blob = iv ‖ tag ‖ ciphertext); Decrypt unwraps such a blob.
//   Nonces are claimed in batches, one per event-loop turn. With MINIMAL_WORKERS > 1 (node:cluster,
//   one port) the primary decides every claim, so a replay to another process is refused too. With
//   MINIMAL_JOURNAL, each batch's new nonces are appended to that file and fdatasync'ed before any
//   answer of the batch leaves (group commit: the next batch gathers while one syncs), and the
//   file is read back at start.
//
// It does not: look keys up in a store (one key, any KeyId), check policies, write an audit or
// access log, count metrics, limit rates, accept ACS3 or RPC over POST forms, answer XML, honour
// NumberOfBytes / KeySpec / EncryptionContext, or compact its journal.
//
// Env: MINIMAL_WORKERS (1), MINIMAL_ACCESS_KEY_ID / MINIMAL_ACCESS_KEY_SECRET (the one key it
// accepts), MINIMAL_JOURNAL (optional file). Prints "listening <port>" once every process listens;
// SIGTERM stops it.
import cluster from 'node:cluster';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';

const WORKERS = Number(process.env.MINIMAL_WORKERS ?? 1);
const ACCESS_KEY_ID = process.env.MINIMAL_ACCESS_KEY_ID ?? 'minimalAccessKey';
const SECRET = process.env.MINIMAL_ACCESS_KEY_SECRET ?? 'minimal-secret';
const JOURNAL = process.env.MINIMAL_JOURNAL;
// Shared by every process (a worker gets the primary's), so any process can unwrap any blob.
const MASTER_KEY = Buffer.from(process.env.MINIMAL_MASTER_KEY ?? randomBytes(32).toString('hex'), 'hex');
const KEY_ID = '5a1f3c0e-7d2b-4e8a-9c61-0b4d2e7f8a93';
const KEY_VERSION_ID = 'c2e8b7a4-1f3d-4a6b-8e09-7d5c3b1a2f64';
const AWS_REGION = 'us-east-1';
const KEY_ARN = `arn:aws:kms:${AWS_REGION}:111122223333:key/${KEY_ID}`;
const WINDOW_MS = 15 * 60_000;

// ---- nonces: claimed once per access key ----

// Two generations, swapped every 30 minutes: a nonce is remembered 30–60 minutes, longer than the
// ±15-minute window in which its request is accepted.
let seen = new Set();
let previous = new Set();
let journal;

/** [key, nonce] pairs → whether each was new; the new ones journaled and synced once. */
async function decide(claims) {
  let lines = '';
  const fresh = claims.map(([key, nonce]) => {
    const id = `${key} ${nonce}`;
    if (seen.has(id) || previous.has(id)) return false;
    seen.add(id);
    if (journal !== undefined) lines += `${JSON.stringify(id)}\n`;
    return true;
  });
  if (lines) {
    await journal.write(lines);
    await journal.datasync();
  }
  return fresh;
}

/**
 * Calls `run` with everything asked in one event-loop turn, one batch at a time: what is asked
 * while a batch runs (a journal syncing, the primary answering) goes in the next.
 */
function batched(run) {
  let pending = [];
  let running = false;
  const flush = async () => {
    running = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const results = await run(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i]);
    }
    running = false;
  };
  return (item) =>
    new Promise((resolve) => {
      if (pending.length === 0 && !running) setImmediate(flush);
      pending.push({ item, resolve });
    });
}

async function decideHere() {
  setInterval(() => ([previous, seen] = [seen, new Set()]), 2 * WINDOW_MS).unref();
  if (JOURNAL !== undefined) {
    if (existsSync(JOURNAL)) for (const line of readFileSync(JOURNAL, 'utf8').split('\n')) if (line) seen.add(JSON.parse(line));
    journal = await open(JOURNAL, 'a');
  }
  return batched(decide);
}

/** A worker's claims go to the primary, a batch per message. */
function decideInPrimary() {
  const waiting = new Map();
  let next = 0;
  process.on('message', (m) => {
    waiting.get(m.id)(m.results);
    waiting.delete(m.id);
  });
  return batched(
    (claims) =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        process.send({ id, claims });
      }),
  );
}

// ---- the essential work ----

function wrap() {
  const plaintext = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', MASTER_KEY, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { plaintext, blob: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]) };
}

function unwrap(blob) {
  if (blob.length !== 12 + 16 + 32) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', MASTER_KEY, blob.subarray(0, 12));
  decipher.setAuthTag(blob.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function equal(received, expected) {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const withinWindow = (ms) => Number.isFinite(ms) && Math.abs(Date.now() - ms) <= WINDOW_MS;

// ---- Alibaba RPC ----

/** RFC 3986, as Alibaba's signatures define it. */
function percentEncode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseQuery(query) {
  const params = new Map();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const [name, value] = (eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]).map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
    if (params.has(name)) return undefined;
    params.set(name, value);
  }
  return params;
}

function rpcSignature(method, params) {
  const canonical = [...params]
    .filter(([name]) => name !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
  return createHmac('sha1', `${SECRET}&`)
    .update(`${method}&%2F&${percentEncode(canonical)}`)
    .digest('base64');
}

async function serveRpc(req, claim) {
  const fail = (status, Code) => [status, { Code, Message: Code, RequestId: randomUUID() }];
  const q = req.url.indexOf('?');
  let params;
  try {
    params = parseQuery(q < 0 ? '' : req.url.slice(q + 1));
  } catch {
    return fail(400, 'InvalidParameter');
  }
  if (params === undefined) return fail(400, 'InvalidParameter');
  const p = (name) => params.get(name) ?? '';
  if (p('SignatureMethod') !== 'HMAC-SHA1' || p('SignatureVersion') !== '1.0' || !p('SignatureNonce') || !p('Signature'))
    return fail(400, 'IncompleteSignature');
  if (p('AccessKeyId') !== ACCESS_KEY_ID) return fail(404, 'InvalidAccessKeyId.NotFound');
  const timestamp = p('Timestamp');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(timestamp) || !withinWindow(Date.parse(timestamp))) return fail(400, 'IllegalTimestamp');
  if (!equal(p('Signature'), rpcSignature(req.method, params))) return fail(400, 'SignatureDoesNotMatch');
  if (!(await claim([ACCESS_KEY_ID, p('SignatureNonce')]))) return fail(400, 'SignatureNonceUsed');
  const answer = { KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID };
  switch (p('Action')) {
    case 'GenerateDataKey':
    case 'GenerateDataKeyWithoutPlaintext': {
      if (!p('KeyId')) return fail(400, 'MissingKeyId');
      const { plaintext, blob } = wrap();
      if (p('Action') === 'GenerateDataKey') answer.Plaintext = plaintext.toString('base64');
      answer.CiphertextBlob = blob.toString('base64');
      break;
    }
    case 'Decrypt': {
      const plaintext = unwrap(Buffer.from(p('CiphertextBlob'), 'base64'));
      if (plaintext === undefined) return fail(400, 'InvalidCiphertext');
      answer.Plaintext = plaintext.toString('base64');
      break;
    }
    default:
      return fail(400, 'InvalidAction.NotFound');
  }
  answer.RequestId = randomUUID();
  return [200, answer];
}

// ---- AWS SigV4 ----

const signingKeys = new Map();
function signingKey(date, region) {
  const scope = `${date}/${region}`;
  let key = signingKeys.get(scope);
  if (key === undefined) {
    const hmac = (k, data) => createHmac('sha256', k).update(data).digest();
    key = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, date), region), 'kms'), 'aws4_request');
    signingKeys.set(scope, key);
  }
  return key;
}

function amzDateMs(value) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

const headerValue = (req, name) => String(req.headers[name] ?? '').trim();

async function serveAws(req, body, claim) {
  const fail = (status, type) => [status, { __type: type, message: type }];
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/kms\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
    req.headers.authorization ?? '',
  );
  if (!auth) return fail(400, 'IncompleteSignatureException');
  const [, accessKeyId, date, region, signedHeaderList, signature] = auth;
  const signed = signedHeaderList.split(';');
  if (!['host', 'x-amz-date', 'x-amz-target'].every((h) => signed.includes(h))) return fail(400, 'IncompleteSignatureException');
  if (accessKeyId !== ACCESS_KEY_ID) return fail(400, 'UnrecognizedClientException');
  if (region !== AWS_REGION) return fail(400, 'InvalidSignatureException');
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (amzDate.slice(0, 8) !== date || !withinWindow(amzDateMs(amzDate))) return fail(400, 'InvalidSignatureException');
  if (req.url !== '/') return fail(400, 'InvalidSignatureException');
  const canonical = [
    req.method,
    '/',
    '',
    ...[...signed].sort().map((h) => `${h}:${headerValue(req, h).replace(/[ \t]+/g, ' ')}`),
    '',
    signed.join(';'),
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${date}/${region}/kms/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
  if (!equal(signature, createHmac('sha256', signingKey(date, region)).update(stringToSign).digest('hex'))) return fail(400, 'InvalidSignatureException');
  if (signed.includes('amz-sdk-invocation-id') && signed.includes('amz-sdk-request')) {
    const attempt = /(?:^|;)\s*attempt=(\d{1,9})\s*(?:;|$)/.exec(req.headers['amz-sdk-request'] ?? '')?.[1];
    if (attempt === undefined) return fail(400, 'IncompleteSignatureException');
    const nonce = `amz-sdk ${headerValue(req, 'amz-sdk-invocation-id')} ${attempt}`;
    if (!(await claim([accessKeyId, nonce]))) return fail(400, 'InvalidSignatureException');
  }
  if (req.headers['x-amz-target'] !== 'TrentService.GenerateDataKey') return fail(400, 'UnknownOperationException');
  let input;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return fail(400, 'SerializationException');
  }
  if (typeof input?.KeyId !== 'string' || input.KeyId === '') return fail(400, 'ValidationException');
  const { plaintext, blob } = wrap();
  return [200, { KeyId: KEY_ARN, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob.toString('base64') }];
}

// ---- HTTP ----

function serve(claim, onListening) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const aws = req.method === 'POST' && req.headers['x-amz-target'] !== undefined;
      const [status, answer] = aws ? await serveAws(req, Buffer.concat(chunks), claim) : await serveRpc(req, claim);
      const text = JSON.stringify(answer);
      const headers = { 'content-type': aws ? 'application/x-amz-json-1.1' : 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) };
      if (aws) headers['x-amzn-requestid'] = randomUUID();
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1', () => onListening(server.address().port));
  process.on('SIGTERM', () => process.exit(0));
}

if (WORKERS <= 1) serve(await decideHere(), (port) => console.log(`listening ${port}`));
else if (cluster.isPrimary) {
  const claim = await decideHere();
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === WORKERS) console.log(`listening ${address.port}`);
  });
  cluster.on('message', async (worker, m) => worker.send({ id: m.id, results: await Promise.all(m.claims.map(claim)) }));
  for (let i = 0; i < WORKERS; i++) cluster.fork({ MINIMAL_MASTER_KEY: MASTER_KEY.toString('hex') });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else serve(decideInPrimary(), () => undefined);
