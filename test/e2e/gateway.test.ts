import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type KmsClient, sdkError } from '../helpers/clients.js';
import {
  killAllGateways,
  makeTempDir,
  READY_LINE,
  type ReadyGateway,
  removeDir,
  runGatewayToExit,
  spawnGateway,
  startGateway,
  writeSeedFile,
} from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, ALIAS, KEY_ID, KEY_MATERIAL, KEY_VERSION_ID, OTHER_KEY_ID, TEST_SEED } from '../helpers/service.js';
import { type Credentials, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { fileModes, freePort, snapshotFiles, waitFor } from '../helpers/store-files.js';

/*
 * The local gateway as an operator runs it (`npm start`): ready line, KMS_HOST / KMS_PORT,
 * KMS_DATA_DIR, KMS_SEED_FILE, the admin bootstrap, file modes, signals, and crashes.
 * Gateways here run one at a time.
 */

const ADMIN_FILE = 'admin-credentials.json';
const NEW_KEY_ID = '33333333-2222-4333-8444-555555555555';
const CONTEXT = { purpose: 'gateway e2e', 'ü !*': "()'~" };

let root: string;
const clients: KmsClient[] = [];

function client(kind: Parameters<typeof createClient>[0], gateway: { port: number; host?: string }, credentials: Credentials): KmsClient {
  const c = createClient(kind, { port: gateway.port, host: gateway.host }, credentials);
  clients.push(c);
  return c;
}

/** TEST_SEED's first key alone: an Enabled key with fixed material and ALIAS, no access keys. */
const KEY_ONLY_SEED = { keys: [TEST_SEED.keys![0]!] };

beforeAll(async () => {
  root = await makeTempDir();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await killAllGateways();
  await removeDir(root);
});

describe('first start on an empty store', () => {
  let dataDir: string;
  let seedFile: string;
  let first: ReadyGateway;
  let firstOutput = '';
  let credentials: Credentials;
  let credentialsFileBytes: Buffer;
  let blob: { CiphertextBlob: string; Plaintext: string };

  beforeAll(async () => {
    const dir = join(root, 'bootstrap');
    dataDir = join(dir, 'data'); // does not exist yet: the gateway creates it
    await mkdir(dir);
    seedFile = await writeSeedFile(dir, KEY_ONLY_SEED);
    first = await startGateway({ dataDir, seedFile });
  });

  it('prints exactly one ready line with the URL it serves the API at', async () => {
    const lines = first
      .stdout()
      .split('\n')
      .filter((l) => l.includes('ready at'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kms gateway ready at http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(first.url).toBe(`http://127.0.0.1:${first.port}/`);
    expect(first.port).toBeGreaterThan(0);
    // It speaks the API at that URL: an unsigned request is an Alibaba-style error, not a 404 page.
    const response = await fetch(first.url);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(typeof body.Code).toBe('string');
    expect(typeof body.RequestId).toBe('string');
  });

  it('creates an admin access key in admin-credentials.json (0600), names the file and never prints the secret', async () => {
    const path = join(dataDir, ADMIN_FILE);
    const info = await stat(path);
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    credentialsFileBytes = await readFile(path);
    const parsed = JSON.parse(credentialsFileBytes.toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['accessKeyId', 'accessKeySecret']);
    expect(parsed.accessKeyId).toMatch(/^[A-Za-z0-9]{8,64}$/);
    expect(typeof parsed.accessKeySecret).toBe('string');
    expect((parsed.accessKeySecret as string).length).toBeGreaterThanOrEqual(16);
    credentials = { accessKeyId: parsed.accessKeyId as string, accessKeySecret: parsed.accessKeySecret as string };

    expect(first.output()).toContain(path);
    expect(first.output()).not.toContain(credentials.accessKeySecret);
  });

  it('the admin credentials work with the official clients (GenerateDataKey → Decrypt)', async () => {
    const v3 = client('openapi-v3', first, credentials);
    const generated = await v3.generateDataKey({ KeyId: KEY_ID, EncryptionContext: CONTEXT });
    expect(generated.KeyId).toBe(KEY_ID);
    expect(generated.KeyVersionId).toBe(KEY_VERSION_ID);
    const decrypted = await client('pop-core-post', first, credentials).decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: CONTEXT });
    expect(decrypted.Plaintext).toBe(generated.Plaintext);
    blob = { CiphertextBlob: generated.CiphertextBlob!, Plaintext: generated.Plaintext! };

    // The secret is really checked.
    const forged = client('openapi-v3', first, { accessKeyId: credentials.accessKeyId, accessKeySecret: `${credentials.accessKeySecret}0` });
    expect((await sdkError(() => forged.generateDataKey({ KeyId: KEY_ID }))).code).toBe('SignatureDoesNotMatch');
  });

  it('store files are 0600 and store directories 0700', async () => {
    const entries = await fileModes(dataDir);
    const names = entries.map((e) => e.path.slice(dataDir.length));
    // Every namespace was written: the check below covers them all.
    for (const ns of ['/keys/', '/key-versions/', '/version-index/', '/aliases/', '/access-keys/']) {
      expect(names.some((n) => n.startsWith(ns))).toBe(true);
    }
    for (const entry of entries) {
      expect(entry.kind, entry.path).not.toBe('other');
      expect(entry.mode.toString(8), entry.path).toBe(entry.kind === 'dir' ? '700' : '600');
    }
  });

  it('SIGTERM stops it with exit code 0', async () => {
    expect(await first.stop('SIGTERM')).toBe(0);
    firstOutput = first.output();
    expect(firstOutput).not.toContain(credentials.accessKeySecret);
  });

  it('a second start creates no other admin, keeps the file, and everything from the first run still works; SIGINT → 0', async () => {
    const second = await startGateway({ dataDir, seedFile });
    expect(second.output()).not.toContain(ADMIN_FILE);
    expect(second.output()).not.toMatch(/admin/i);
    expect(await readFile(join(dataDir, ADMIN_FILE))).toEqual(credentialsFileBytes);
    expect(await readdir(join(dataDir, 'access-keys'))).toEqual([credentials.accessKeyId]);

    const decrypted = await client('kms20160120', second, credentials).decrypt({ CiphertextBlob: blob.CiphertextBlob, EncryptionContext: CONTEXT });
    expect(decrypted.Plaintext).toBe(blob.Plaintext);
    expect(await second.stop('SIGINT')).toBe(0);
    expect(second.output()).not.toContain(credentials.accessKeySecret);
  });
});

describe('KMS_HOST and KMS_PORT', () => {
  it('binds the given host and port, and only that host', async () => {
    const dir = await makeTempDir();
    try {
      const seedFile = await writeSeedFile(dir, TEST_SEED);
      const port = await freePort('127.0.0.2');
      const gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile, host: '127.0.0.2', port: String(port) });
      expect(gateway.url).toBe(`http://127.0.0.2:${port}/`);
      expect(gateway.port).toBe(port);
      const generated = await client('pop-core-get', { host: '127.0.0.2', port }, ADMIN).generateDataKey({ KeyId: ALIAS });
      expect(generated.KeyId).toBe(KEY_ID);
      // Bound to 127.0.0.2 only: nothing listens on 127.0.0.1 at that port.
      await expect(tryConnect(port, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(await gateway.stop('SIGTERM')).toBe(0);
    } finally {
      await removeDir(dir);
    }
  });

  it('refuses a KMS_PORT that is not a port number, naming the variable', async () => {
    const dir = await makeTempDir();
    try {
      const result = await runGatewayToExit({ dataDir: join(dir, 'data'), port: 'http' });
      expect(result.ready).toBe(false);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('KMS_PORT');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('KMS_SEED_FILE', () => {
  let dir: string;
  let dataDir: string;
  let seedFile: string;
  let acknowledged: { dataKey: { CiphertextBlob: string; Plaintext: string }; encrypted: { CiphertextBlob: string; Plaintext: string } };
  let storeAfterSeed: Record<string, string>;

  beforeAll(async () => {
    dir = join(root, 'seed');
    await mkdir(dir);
    dataDir = join(dir, 'data');
    seedFile = await writeSeedFile(dir, TEST_SEED);
  });

  it('seeds keys, aliases and access keys, and creates no admin when the seed has access keys', async () => {
    const gateway = await startGateway({ dataDir, seedFile });
    expect(existsSync(join(dataDir, ADMIN_FILE))).toBe(false);
    expect(gateway.output()).not.toMatch(/admin/i);
    const admin = client('openapi-v2', gateway, ADMIN);
    const dataKey = await admin.generateDataKey({ KeyId: ALIAS, EncryptionContext: CONTEXT });
    expect(dataKey.KeyVersionId).toBe(KEY_VERSION_ID);
    const encrypted = await admin.encrypt({ KeyId: `alias/other`, Plaintext: 'seeded ✓' });
    expect(encrypted.KeyId).toBe(OTHER_KEY_ID);
    // The Disabled key is seeded Disabled.
    expect((await sdkError(() => admin.generateDataKey({ KeyId: 'alias/disabled' }))).code).toBe('Rejected.Disabled');
    acknowledged = {
      dataKey: { CiphertextBlob: dataKey.CiphertextBlob!, Plaintext: dataKey.Plaintext! },
      encrypted: { CiphertextBlob: encrypted.CiphertextBlob!, Plaintext: 'seeded ✓' },
    };
    expect(await gateway.stop('SIGTERM')).toBe(0);
    storeAfterSeed = await snapshotFiles(dataDir);
  });

  it('is idempotent: a restart with the same seed starts, rewrites nothing, and every earlier blob still decrypts', async () => {
    const gateway = await startGateway({ dataDir, seedFile });
    expect(await snapshotFiles(dataDir)).toEqual(storeAfterSeed);
    const c = client('openapi-v3', gateway, ADMIN);
    const dataKey = await c.decrypt({ CiphertextBlob: acknowledged.dataKey.CiphertextBlob, EncryptionContext: CONTEXT });
    expect(dataKey.Plaintext).toBe(acknowledged.dataKey.Plaintext);
    expect(dataKey.KeyVersionId).toBe(KEY_VERSION_ID);
    expect((await c.decrypt({ CiphertextBlob: acknowledged.encrypted.CiphertextBlob })).Plaintext).toBe(acknowledged.encrypted.Plaintext);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(await snapshotFiles(dataDir)).toEqual(storeAfterSeed);
  });

  const contradictions: Array<{ name: string; seed: () => unknown; mentions: string[] }> = [
    {
      name: 'different material for an existing version',
      seed: () => ({
        keys: [{ ...TEST_SEED.keys![0]!, versions: [{ keyVersionId: KEY_VERSION_ID, material: Buffer.alloc(32, 9).toString('base64') }] }],
      }),
      mentions: [KEY_VERSION_ID, 'material'],
    },
    {
      name: 'an existing version claimed by another key',
      seed: () => ({ keys: [{ keyId: NEW_KEY_ID, versions: [{ keyVersionId: KEY_VERSION_ID, material: KEY_MATERIAL }] }] }),
      mentions: [KEY_VERSION_ID, KEY_ID],
    },
    {
      // The new key comes first: a refused seed must not have created it.
      name: 'an alias bound to another key',
      seed: () => ({ keys: [{ keyId: NEW_KEY_ID, aliases: ['alias/brand-new', ALIAS] }] }),
      mentions: [ALIAS, KEY_ID],
    },
    {
      name: 'another secret for an existing access key',
      seed: () => ({
        keys: [{ keyId: NEW_KEY_ID }],
        accessKeys: [{ ...TEST_SEED.accessKeys![0]!, accessKeySecret: 'a-different-secret-0000' }],
      }),
      mentions: [ADMIN.accessKeyId, 'secret'],
    },
  ];

  it.each(contradictions)('refuses a seed with $name: non-zero exit, the reason on stderr, the store byte for byte unchanged', async ({ seed, mentions }) => {
    const contradicting = await writeSeedFile(dir, seed(), `contradicting-${randomUUID()}.json`);
    const result = await runGatewayToExit({ dataDir, seedFile: contradicting });
    expect(result.ready).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stdout).not.toMatch(READY_LINE);
    expect(result.stderr).toMatch(/refus|already/i);
    for (const text of mentions) expect(result.stderr).toContain(text);
    // Never echoes a secret, the store's or the seed's.
    expect(result.output).not.toContain(ADMIN.accessKeySecret);
    expect(result.output).not.toContain('a-different-secret-0000');
    expect(await snapshotFiles(dataDir)).toEqual(storeAfterSeed);
  });

  it('a start killed between writing a version and its index (the state a crash leaves) is repaired by the next start', async () => {
    // What a SIGKILL between the seed's writes leaves: the version's material, and nothing else of that key.
    await rm(join(dataDir, 'version-index', KEY_VERSION_ID));
    await rm(join(dataDir, 'keys', KEY_ID));
    await rm(join(dataDir, 'aliases', ALIAS.slice('alias/'.length)));
    // The seed marks an alias as its own only after creating it, so that mark is not there either.
    await rm(join(dataDir, 'seeded-aliases', ALIAS.slice('alias/'.length)));
    const gateway = await startGateway({ dataDir, seedFile });
    expect((await readFile(join(dataDir, 'version-index', KEY_VERSION_ID))).length).toBeGreaterThan(0);
    const c = client('pop-core-get', gateway, ADMIN);
    expect((await c.decrypt({ CiphertextBlob: acknowledged.dataKey.CiphertextBlob, EncryptionContext: CONTEXT })).Plaintext).toBe(
      acknowledged.dataKey.Plaintext,
    );
    expect((await c.generateDataKey({ KeyId: ALIAS })).KeyVersionId).toBe(KEY_VERSION_ID);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});

describe('a malformed seed', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = join(root, 'malformed');
    await mkdir(dir);
    dataDir = join(dir, 'data');
  });

  const key = TEST_SEED.keys![0]!;
  const cases: Array<{ name: string; seed: unknown; field: string; absent?: string }> = [
    {
      name: 'material that is not Base64',
      seed: { keys: [{ ...key, versions: [{ keyVersionId: KEY_VERSION_ID, material: 'not base64!' }] }] },
      field: 'keys[0].versions[0].material',
    },
    {
      name: 'material of 16 bytes',
      seed: { keys: [{ ...key, versions: [{ keyVersionId: KEY_VERSION_ID, material: Buffer.alloc(16, 1).toString('base64') }] }] },
      field: 'keys[0].versions[0].material',
    },
    { name: 'an unknown field in a key', seed: { keys: [{ ...key, colour: 'red' }] }, field: 'colour' },
    { name: 'an unknown top-level field', seed: { keys: [key], extra: true }, field: 'extra' },
    { name: 'a key id that is not one', seed: { keys: [{ keyId: 'not a key id' }] }, field: 'keys[0].keyId' },
    { name: 'an invalid state', seed: { keys: [{ ...key, state: 'Gone' }] }, field: 'keys[0].state' },
    {
      name: 'a short access key secret',
      seed: { accessKeys: [{ accessKeyId: 'shortSecret01', accessKeySecret: 'tiny-secret', policy: TEST_SEED.accessKeys![0]!.policy }] },
      field: 'accessKeys[0].accessKeySecret',
      absent: 'tiny-secret',
    },
  ];

  it.each(cases)('with $name is refused with a message naming $field', async ({ seed, field, absent }) => {
    const seedFile = await writeSeedFile(dir, seed, `malformed-${randomUUID()}.json`);
    const result = await runGatewayToExit({ dataDir, seedFile });
    expect(result.ready).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(field);
    expect(result.stderr).toContain(seedFile);
    if (absent) expect(result.output).not.toContain(absent);
    // Nothing was created: no keys, no admin.
    expect(existsSync(dataDir) ? await snapshotFiles(dataDir) : {}).toEqual({});
  });

  it('that is not JSON, or missing, is refused with a clear message', async () => {
    const notJson = join(dir, 'not-json.json');
    await writeFile(notJson, '{"keys": [');
    const a = await runGatewayToExit({ dataDir, seedFile: notJson });
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/not valid JSON/);
    expect(a.stderr).toContain(notJson);

    const missing = join(dir, 'missing.json');
    const b = await runGatewayToExit({ dataDir, seedFile: missing });
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain(missing);
    expect(existsSync(dataDir) ? await snapshotFiles(dataDir) : {}).toEqual({});
  });
});

describe('shutdown', () => {
  it('SIGTERM: stops accepting at once, finishes the request in flight, answers it with Connection: close, then exits 0', async () => {
    const dir = await makeTempDir();
    const sockets: Socket[] = [];
    try {
      const gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });

      // An idle keep-alive connection (one request served) must not hold the shutdown up.
      const idle = await tryConnect(gateway.port);
      sockets.push(idle);
      const first = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
      idle.write(`GET /?${first.rawQuery} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n`);
      const idleResponse = await readHttpResponse(idle);
      expect(idleResponse.status).toBe(200);

      // The slow request: headers and half of a form body.
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: JSON.stringify(CONTEXT) }, { method: 'POST', form: true });
      const body = request.body;
      const slow = await tryConnect(gateway.port);
      sockets.push(slow);
      const continued = readInterimContinue(slow);
      slow.write(
        `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\nx-acs-action: GenerateDataKey\r\n` +
          `expect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      // "100 Continue" says the server has parsed the headers and started the request: the connection is busy, not idle.
      await continued;
      const responded = readHttpResponse(slow);
      slow.write(body.subarray(0, Math.floor(body.length / 2)));
      await new Promise((resolve) => setTimeout(resolve, 50));

      gateway.child.kill('SIGTERM');
      // New connections are refused while the old request is still open.
      await waitFor(
        async () =>
          tryConnect(gateway.port).then(
            (s) => {
              s.destroy();
              return false;
            },
            () => true,
          ),
        5_000,
        'the listener to close',
      );
      expect(gateway.hasExited()).toBe(false);

      slow.write(body.subarray(Math.floor(body.length / 2)));
      const response = await responded;
      const answeredAt = Date.now();
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe('close');
      const json = JSON.parse(response.body) as Record<string, string>;
      expect(json.KeyId).toBe(KEY_ID);
      expect(Buffer.from(json.Plaintext!, 'base64')).toHaveLength(32);

      // Exits 0 promptly, without waiting out the 5 s keep-alive of either connection (neither is closed by us).
      const exit = await gateway.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - answeredAt).toBeLessThan(3_000);

      // The answer really was the finished request: it decrypts elsewhere later.
      const again = await startGateway({ dataDir: join(dir, 'data'), seedFile: join(dir, 'seed.json') });
      const decrypted = await client('openapi-v3', again, ADMIN).decrypt({ CiphertextBlob: json.CiphertextBlob!, EncryptionContext: CONTEXT });
      expect(decrypted.Plaintext).toBe(json.Plaintext);
      expect(await again.stop('SIGINT')).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await removeDir(dir);
    }
  });
  it('a SIGTERM sent the moment the ready line is written (a supervisor that signals as soon as it reads it) still drains and exits 0', async () => {
    const dir = await makeTempDir();
    try {
      // The preload signals the gateway itself from inside the write of its ready line: the
      // earliest a supervisor could. Signal handlers installed after that line would lose the race.
      const preload = join(dir, 'sigterm-on-ready.cjs');
      await writeFile(
        preload,
        `const log = console.log;\nconsole.log = (...args) => { log(...args); if (String(args[0]).startsWith('kms gateway ready at')) process.kill(process.pid, 'SIGTERM'); };\n`,
      );
      const gateway = spawnGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED), nodeOptions: ['--require', preload] });
      expect(await gateway.exited).toEqual({ code: 0, signal: null });
      expect(gateway.stdout()).toContain('kms gateway ready at');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('replay protection across restarts', () => {
  it('a request accepted before a restart is refused with SignatureNonceUsed after it, even after SIGKILL', async () => {
    const dir = await makeTempDir();
    try {
      const seedFile = await writeSeedFile(dir, TEST_SEED);
      const dataDir = join(dir, 'data');
      const captured = toRecorded(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { method: 'POST', form: true }));
      const first = await startGateway({ dataDir, seedFile });
      expect((await sendRaw(first.port, captured)).status).toBe(200);
      first.child.kill('SIGKILL');
      await first.exited;

      const second = await startGateway({ dataDir, seedFile });
      const replay = await sendRaw(second.port, captured);
      expect(replay.status).toBe(400);
      expect(replay.json.Code).toBe('SignatureNonceUsed');
      expect(await second.stop('SIGTERM')).toBe(0);
    } finally {
      await removeDir(dir);
    }
  });
});

describe('crashes', () => {
  it('a gateway SIGKILLed during a burst of requests restarts, and everything it acknowledged still works', async () => {
    const dir = await makeTempDir();
    try {
      const seedFile = await writeSeedFile(dir, TEST_SEED);
      const dataDir = join(dir, 'data');
      const gateway = await startGateway({ dataDir, seedFile });
      const storeBefore = await snapshotFiles(dataDir);

      const acknowledged: Array<{ blob: string; plaintext: string; context?: Record<string, string> }> = [];
      let failure: unknown;
      let killed = false;
      const worker = async (w: number) => {
        for (let i = 0; !killed; i++) {
          const context = { worker: String(w), i: String(i) };
          const dataKey = i % 2 === 0;
          const plaintext = `burst ${w}/${i} ✓ ${randomBytes(8).toString('hex')}`;
          const params: Record<string, string> = dataKey
            ? { KeyId: ALIAS, EncryptionContext: JSON.stringify(context) }
            : { KeyId: KEY_ID, Plaintext: plaintext, EncryptionContext: JSON.stringify(context) };
          const action = dataKey ? 'GenerateDataKey' : 'Encrypt';
          const request = w % 2 === 0 ? signedRpcRequest(ADMIN, action, params, { method: 'POST', form: true }) : signedV3Request(ADMIN, action, params);
          try {
            const response = await sendRaw(gateway.port, toRecorded(request));
            if (response.status !== 200) throw new Error(`unexpected ${response.status} ${response.text}`);
            acknowledged.push({ blob: response.json.CiphertextBlob as string, plaintext: dataKey ? (response.json.Plaintext as string) : plaintext, context });
          } catch (err) {
            // Only requests cut off by the kill may fail (refused or reset on the wire).
            if (!killed) failure = err;
            return;
          }
        }
      };
      const workers = Array.from({ length: 6 }, (_, w) => worker(w));
      await waitFor(() => failure !== undefined || acknowledged.length >= 60, 20_000, '60 acknowledged requests');
      expect(failure).toBeUndefined();
      killed = true;
      gateway.child.kill('SIGKILL');
      await Promise.all(workers);
      expect(await gateway.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(acknowledged.length).toBeGreaterThanOrEqual(60);

      const restarted = await startGateway({ dataDir, seedFile });
      expect(await snapshotFiles(dataDir)).toEqual(storeBefore);
      const c = client('pop-core-post', restarted, ADMIN);
      for (const ack of acknowledged) {
        const decrypted = await c.decrypt({ CiphertextBlob: ack.blob, EncryptionContext: ack.context });
        expect(decrypted.Plaintext).toBe(ack.plaintext);
      }
      expect((await c.generateDataKey({ KeyId: ALIAS })).KeyVersionId).toBe(KEY_VERSION_ID);
      expect(await restarted.stop('SIGTERM')).toBe(0);
    } finally {
      await removeDir(dir);
    }
  });

  it('a gateway SIGKILLed while seeding an empty store restarts with the same seed and serves every seeded key', async () => {
    const dir = await makeTempDir();
    try {
      const keys = Array.from({ length: 30 }, (_, i) => ({
        keyId: randomUUID(),
        aliases: [`alias/crash-${i}`],
        versions: [{ keyVersionId: randomUUID(), material: randomBytes(32).toString('base64') }],
      }));
      const seedFile = await writeSeedFile(dir, { keys, accessKeys: TEST_SEED.accessKeys });
      const dataDir = join(dir, 'data');
      const victim = spawnGateway({ dataDir, seedFile });
      // Kill it part-way: once some versions are on disk.
      await waitFor(async () => victim.hasExited() || (await readdir(join(dataDir, 'key-versions')).catch(() => [])).length >= 4, 20_000, 'seeding to begin');
      victim.child.kill('SIGKILL');
      await victim.exited;

      const restarted = await startGateway({ dataDir, seedFile });
      const c = client('openapi-v3', restarted, ADMIN);
      for (const [i, key] of keys.entries()) {
        const generated = await c.generateDataKey({ KeyId: `alias/crash-${i}` });
        expect(generated.KeyId).toBe(key.keyId);
        expect(generated.KeyVersionId).toBe(key.versions[0]!.keyVersionId);
        expect((await c.decrypt({ CiphertextBlob: generated.CiphertextBlob! })).Plaintext).toBe(generated.Plaintext);
      }
      for (const entry of await fileModes(dataDir)) expect(entry.mode.toString(8), entry.path).toBe(entry.kind === 'dir' ? '700' : '600');
      expect(await restarted.stop('SIGTERM')).toBe(0);
    } finally {
      await removeDir(dir);
    }
  });
});

/** Connects a TCP socket; rejects with the connect error (e.g. ECONNREFUSED). */
function tryConnect(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Waits for the interim `HTTP/1.1 100 Continue` response (and consumes exactly it). */
function readInterimContinue(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      if (!/^HTTP\/1\.1 100 /.test(text) || !text.endsWith('\r\n\r\n')) reject(new Error(`expected only 100 Continue, got: ${text}`));
      else resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Reads one HTTP/1.1 response with a Content-Length body from a raw socket. */
function readHttpResponse(socket: Socket): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      if (buffer.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.off('close', onClose);
      resolve({ status: Number(head[0]!.split(' ')[1]), headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    const onClose = () => reject(new Error(`connection closed before a full response: ${buffer.toString('utf8')}`));
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', onClose);
  });
}
