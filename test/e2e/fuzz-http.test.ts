import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { fuzzRuns } from '../helpers/fuzz.js';

/*
 * Raw HTTP at the real gateway (`npm start`), property-based with fixed seeds: whatever bytes a
 * client sends — odd methods, paths, headers, bodies, broken request lines, signed requests with
 * one byte changed — the answer is never a 5xx, never a success for what was changed after
 * signing, never a data key in a failed answer, and the process keeps serving.
 * `npm run fuzz` runs it (with the parameter fuzzing) at FUZZ_SCALE times the cases.
 */

const { runs, planned } = fuzzRuns();

let root: string;
let gateway: ReadyGateway;
beforeAll(async () => {
  root = await makeTempDir('kms-fuzz-http-');
  gateway = await startGateway({
    dataDir: join(root, 'data'),
    seedFile: await writeSeedFile(root, TEST_SEED),
    env: { KMS_AUDIT_LOG: 'none', KMS_LOG_LEVEL: 'error' },
  });
});
afterAll(async () => {
  console.log(`fuzz-http: ${planned()} cases against one gateway process, which kept serving`);
  await killAllGateways();
  await removeDir(root);
});

interface Answer {
  status: number;
  text: string;
}

/**
 * Writes the bytes on a fresh connection and reads until the server closes it (a complete request
 * says `Connection: close`). With `halfClose`, the client also ends its side at once (for bytes
 * that are not a complete request: the server then knows no more is coming).
 */
function exchange(bytes: Buffer, halfClose = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(gateway.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer (the server refused the rest of a broken request) is fine.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : 0, text });
    });
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

function serialize(method: string, target: string, headers: Array<[string, string]>, body: Buffer): Buffer {
  const head = [
    `${method} ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...headers.map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${body.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function expectSafe(answer: Answer, mayCloseSilently = false): void {
  // 0: the server closed without a word (bytes it could not parse as a request at all).
  expect((mayCloseSilently && answer.status === 0) || (answer.status >= 200 && answer.status < 500), `${answer.status} ${answer.text.slice(0, 300)}`).toBe(
    true,
  );
  if (answer.status !== 200) expect(answer.text).not.toMatch(/"Plaintext"|<Plaintext>/);
  expect(answer.text).not.toMatch(/\bat [\w.<>]+ \(|node:internal|Error: /);
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const headerValue = fc.oneof(
  fc.string({ maxLength: 64 }).map((s) => s.replace(/[\r\n\0]/g, '')),
  fc.constantFrom('ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00', 'application/json', 'application/x-www-form-urlencoded', '2016-01-20', ''),
);
const headerName = fc.oneof(
  token,
  fc.constantFrom(
    'authorization',
    'content-type',
    'x-acs-action',
    'x-acs-version',
    'x-acs-date',
    'x-acs-signature-nonce',
    'x-acs-content-sha256',
    'transfer-encoding',
  ),
);
const target = fc.oneof(
  fc.constantFrom(
    '/',
    '/health/live',
    '/health/ready',
    '/metrics',
    '/?Action=GenerateDataKey',
    '*',
    '//',
    '/%zz',
    '/?%',
    '/?Action=DescribeKey&Action=ListKeys',
  ),
  fc.string({ maxLength: 80 }).map((s) => `/?${encodeURIComponent(s).replace(/%3D/g, '=').replace(/%26/g, '&')}`),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => `/${s.replace(/[\s\0]/g, '')}`),
);

describe('Property: raw HTTP never faults the gateway', () => {
  it('when a request has any method, target, headers and body, the answer is below 500 and shows no stack', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'), token),
        target,
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 512 }),
        async (method, path, headers, body) => {
          expectSafe(
            await exchange(
              serialize(
                method,
                path,
                headers.filter(([k]) => k.toLowerCase() !== 'transfer-encoding'),
                Buffer.from(body),
              ),
            ),
          );
        },
      ),
      runs(0x4e770001, 300),
    );
  });

  it('when the bytes are not HTTP at all (or a request line and headers broken anywhere), the gateway answers 4xx or closes, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), async (bytes) => {
        expectSafe(await exchange(Buffer.from(bytes), true), true);
      }),
      runs(0x4e770002, 200),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(80), fc.integer({ min: 0, max: 255 }), async (at, byte) => {
        const valid = serialize('GET', '/health/live', [['x-test', 'value']], Buffer.alloc(0));
        const broken = Buffer.from(valid);
        broken[Math.min(at, broken.length - 1)] = byte;
        expectSafe(await exchange(broken, true), true);
      }),
      runs(0x4e770003, 200),
    );
    expect((await exchange(serialize('GET', '/health/live', [], Buffer.alloc(0)))).status).toBe(200);
  });

  it('when a signed request has one byte of a signed part changed, it is never served: 4xx, and no data key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (v3, position, delta) => {
        const request = v3 ? signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }) : signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
        const query = Buffer.from(request.rawQuery, 'latin1');
        const headers = Object.entries(request.headers).filter(([k]) => k !== 'host' && k !== 'content-length') as Array<[string, string]>;
        // What is signed: the whole query (both versions), and for V3 the x-acs-* headers too.
        const signedHeaderIndexes = headers.map(([k], i) => (k.startsWith('x-acs-') ? i : -1)).filter((i) => i >= 0);
        const inHeaders = v3 && signedHeaderIndexes.length > 0 && position % 2 === 1;
        if (inHeaders) {
          const index = signedHeaderIndexes[position % signedHeaderIndexes.length]!;
          const value = Buffer.from(headers[index]![1], 'latin1');
          const at = position % value.length;
          value[at] = (value[at]! + delta) % 256;
          // A changed byte that HTTP cannot carry in a header is not this property's concern.
          if (value.includes(10) || value.includes(13) || value.includes(0)) return;
          headers[index] = [headers[index]![0], value.toString('latin1')];
        } else {
          const at = position % query.length;
          query[at] = (query[at]! + delta) % 256;
          if (query.includes(32) || query.includes(35) || query.some((b) => b < 33 || b > 126)) return;
        }
        const answer = await exchange(serialize(request.method, `/?${query.toString('latin1')}`, headers, request.body));
        expectSafe(answer);
        expect(answer.status, answer.text.slice(0, 200)).not.toBe(200);
      }),
      runs(0x4e770004, 300),
    );
  });

  it('after all of it, the gateway still serves a signed request', async () => {
    const answer = await exchange(
      (() => {
        const request = signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID });
        return serialize('GET', `/?${request.rawQuery}`, [], Buffer.alloc(0));
      })(),
    );
    expect(answer.status).toBe(200);
  });
});
