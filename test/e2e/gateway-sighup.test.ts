import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayProcess,
  killAllGateways,
  makeTempDir,
  type ReadyGateway,
  REPO_ROOT,
  removeDir,
  runGatewayToExit,
  spawnGateway,
  startGateway,
  untilReady,
  writeSeedFile,
} from '../helpers/gateway-process.js';
import { bytesRead, catchesSignal, childPids, environmentOf, openPaths, pollClosely } from '../helpers/processes.js';
import { httpStatus, sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { waitFor } from '../helpers/store-files.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls.js';

/*
 * SIGHUP, as an operator (certificate renewal) and logrotate (postrotate `kill -HUP`) send it: it
 * never stops the gateway, nor its start (to the gateway or to its whole process group, as
 * `systemctl kill -s HUP` does); a renewed certificate that cannot serve is refused and the previous
 * one kept (one process, and workers, including a worker started while the files are broken);
 * the audit and access log files are reopened at their paths after a rename or a removal.
 */

let root: string;
let seedFile: string;
/** Five server pairs: the first served at start, one more taken after each refused renewal. */
let pairs: TestCertificates[];
beforeAll(async () => {
  root = await makeTempDir('kms-sighup-');
  seedFile = await writeSeedFile(root, TEST_SEED);
  pairs = await Promise.all(['first', 'second', 'third', 'fourth', 'fifth'].map((name) => makeCertificates(root, name)));
}, 60_000);
afterAll(async () => {
  await killAllGateways();
  await removeDir(root);
});

let counter = 0;
const dataDir = () => join(root, `data-${++counter}`);

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

/** What `connections` fresh connections are served (several: with workers, connections are spread round robin). */
async function servedFingerprints(port: number, connections = 6): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < connections; i++) seen.add(await servedFingerprint(port));
  return seen;
}

const fingerprintOf = async (certFile: string) => new X509Certificate(await readFile(certFile)).fingerprint256;

async function metric(gateway: ReadyGateway, name: string): Promise<number> {
  const url = /kms metrics at (http:\/\/\S+)/.exec(gateway.stdout())![1]!;
  const text = await (await fetch(url)).text();
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, 'g')) ?? []).length;

/** The pids that logged a reopening of their log files (each process does on each SIGHUP). */
function reopenedPids(gateway: GatewayProcess): number[] {
  return [...gateway.stdout().matchAll(/"message":"log files reopened","pid":(\d+)/g)].map((m) => Number(m[1]));
}

/** Sends SIGHUP and waits until `processes` more reopenings were logged: every process handled it. */
async function hangUp(gateway: ReadyGateway, processes: number): Promise<void> {
  const before = reopenedPids(gateway).length;
  gateway.child.kill('SIGHUP');
  await waitFor(() => reopenedPids(gateway).length >= before + processes, 15_000, `${processes} processes to handle SIGHUP`);
}

describe.each([1, 2])('a renewed certificate that cannot serve, with KMS_WORKERS=%i', (workers) => {
  const processes = workers === 1 ? 1 : workers + 1;

  it('is refused on SIGHUP: the port stays open with the previous certificate, the reason is logged and counted; a good pair on the next SIGHUP is taken', async () => {
    const certFile = join(root, `live-${workers}-cert.pem`);
    const keyFile = join(root, `live-${workers}-key.pem`);
    await copyFile(pairs[0]!.serverCert, certFile);
    await copyFile(pairs[0]!.serverKey, keyFile);
    const gateway = await startGateway({
      dataDir: dataDir(),
      seedFile,
      env: { KMS_WORKERS: String(workers), KMS_TLS_CERT: certFile, KMS_TLS_KEY: keyFile, KMS_METRICS_PORT: '0' },
    });
    let served = await fingerprintOf(pairs[0]!.serverCert);
    expect(await servedFingerprints(gateway.port)).toEqual(new Set([served]));

    // Each way a renewal goes wrong, then a good renewal (the next pair).
    const cases: Array<{ kind: string; breakFiles: (next: TestCertificates) => Promise<void>; logged: RegExp }> = [
      { kind: 'garbage', breakFiles: async () => writeFile(certFile, 'not a certificate\n'), logged: /KMS_TLS_CERT: \S+ holds no whole PEM certificate/ },
      {
        kind: 'a half-written file',
        breakFiles: async (next) => {
          const pem = await readFile(next.serverCert);
          await copyFile(next.serverKey, keyFile);
          await writeFile(certFile, pem.subarray(0, Math.floor(pem.length / 2)));
        },
        logged: /KMS_TLS_CERT: \S+ holds no whole PEM certificate/,
      },
      {
        kind: 'a certificate for another key',
        breakFiles: async (next) => {
          await copyFile(next.serverCert, certFile);
          await copyFile(pairs[0]!.serverKey, keyFile);
        },
        logged: /KMS_TLS_CERT and KMS_TLS_KEY do not match/,
      },
      { kind: 'a missing file', breakFiles: async () => unlink(keyFile), logged: /KMS_TLS_KEY: cannot read \S+ \(ENOENT\)/ },
    ];
    let failures = 0;
    for (const [i, { kind, breakFiles, logged }] of cases.entries()) {
      const next = pairs[i + 1]!;
      await breakFiles(next);
      await hangUp(gateway, processes);
      failures++;
      expect([kind, count(gateway.stdout(), /TLS certificate not reloaded; the previous one stays in use/)]).toEqual([kind, failures]);
      expect(gateway.stdout()).toMatch(logged);
      expect([kind, gateway.hasExited(), await servedFingerprints(gateway.port)]).toEqual([kind, false, new Set([served])]);

      if (workers > 1) {
        // A worker that dies while the files are broken is replaced by one serving the same pair.
        const victim = reopenedPids(gateway)
          .slice(-processes)
          .find((pid) => pid !== gateway.pid)!;
        process.kill(victim, 'SIGKILL');
        await waitFor(() => count(gateway.stdout(), /"message":"gateway worker started"/) === i + 1, 15_000, 'a replacement worker to serve');
        expect([kind, gateway.hasExited(), await servedFingerprints(gateway.port)]).toEqual([kind, false, new Set([served])]);
        expect(count(gateway.stdout(), /"message":"gateway worker died"/)).toBe(i + 1);
      }
      expect(await metric(gateway, 'kms_tls_reload_failures_total')).toBe(failures);

      await copyFile(next.serverCert, certFile);
      await copyFile(next.serverKey, keyFile);
      await hangUp(gateway, processes);
      served = await fingerprintOf(next.serverCert);
      await waitFor(async () => [...(await servedFingerprints(gateway.port))].join() === served, 10_000, `the pair after ${kind} to be served`);
    }
    // No key material reached the log.
    for (const pair of pairs) expect(gateway.output()).not.toContain((await readFile(pair.serverKey, 'utf8')).split('\n')[1]!);
    expect(gateway.output()).not.toContain('BEGIN');
    expect(await gateway.stop('SIGTERM')).toBe(0);
  }, 120_000);
});

describe('At start, a certificate pair that cannot serve', () => {
  it.each([
    ['a certificate for another key', () => ({ cert: pairs[1]!.serverCert, key: pairs[0]!.serverKey }), /KMS_TLS_CERT and KMS_TLS_KEY do not match/],
    [
      'a key file that holds a certificate',
      () => ({ cert: pairs[0]!.serverCert, key: pairs[0]!.serverCert }),
      /KMS_TLS_KEY: \S+ holds no whole, unencrypted PEM private key/,
    ],
  ])('stops the start with the reason (%s), and no key material', async (_, files, reason) => {
    const { cert, key } = files();
    const run = await runGatewayToExit({ dataDir: dataDir(), env: { KMS_TLS_CERT: cert, KMS_TLS_KEY: key } });
    expect([run.ready, run.code]).toEqual([false, 1]);
    expect(run.stderr).toMatch(reason);
    expect(run.output).not.toContain('BEGIN');
  });
});

describe.each([1, 2])('log rotation, with KMS_WORKERS=%i', (workers) => {
  const processes = workers === 1 ? 1 : workers + 1;

  it('SIGHUP reopens the audit and the access log at their paths after a rename and after a removal; plain HTTP survives it', async () => {
    const dir = await makeTempDir('kms-logs-');
    const audit = join(dir, 'audit.log');
    const access = join(dir, 'access.log');
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: String(workers), KMS_AUDIT_LOG: audit, KMS_ACCESS_LOG: access } });
    expect(gateway.url).toMatch(/^http:/);
    const lines = async (path: string) =>
      (await readFile(path, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestIds: string[] = [];
    const call = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const answer = await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })));
        expect(answer.status).toBe(200);
        requestIds.push(answer.json.RequestId as string);
      }
    };
    // Sorted: with workers, two processes append to each file.
    const idsIn = async (path: string) => (await lines(path)).map((l) => l.requestId as string).sort();
    const settled = (path: string, n: number) => waitFor(async () => (await lines(path).catch(() => [])).length >= n, 10_000, `${n} lines in ${path}`);

    await call(3);
    await settled(audit, 3);
    await settled(access, 3);
    // The access lines went to their file, not to stdout.
    expect(gateway.stdout()).not.toContain('"message":"request"');

    // logrotate without copytruncate: rename, then SIGHUP.
    await rename(audit, `${audit}.1`);
    await rename(access, `${access}.1`);
    await hangUp(gateway, processes);
    await call(2);
    await settled(audit, 2);
    await settled(access, 2);
    expect(await idsIn(`${audit}.1`)).toEqual(requestIds.slice(0, 3).sort());
    expect(await idsIn(`${access}.1`)).toEqual(requestIds.slice(0, 3).sort());
    expect(await idsIn(audit)).toEqual(requestIds.slice(3, 5).sort());
    expect(await idsIn(access)).toEqual(requestIds.slice(3, 5).sort());
    expect((await stat(audit)).mode & 0o777).toBe(0o600);
    expect((await stat(access)).mode & 0o777).toBe(0o600);

    // Removed (logrotate's rotate 0, or an operator), then SIGHUP: created again.
    await unlink(audit);
    await unlink(access);
    await hangUp(gateway, processes);
    await call(1);
    await settled(audit, 1);
    await settled(access, 1);
    expect(await idsIn(audit)).toEqual(requestIds.slice(5));
    expect(await idsIn(access)).toEqual(requestIds.slice(5));

    // Several hangups in a row (the kernel may merge them), then one more: still serving.
    for (let i = 0; i < 3; i++) gateway.child.kill('SIGHUP');
    await hangUp(gateway, processes);
    expect(await httpStatus(gateway.port, '/health/live')).toBe(200);
    expect(gateway.hasExited()).toBe(false);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    await removeDir(dir);
  }, 60_000);

  it('SIGHUP does not stop a plain-HTTP gateway whose logs go to stdout', async () => {
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: String(workers) } });
    await hangUp(gateway, processes);
    await hangUp(gateway, processes);
    expect(gateway.hasExited()).toBe(false);
    expect(await httpStatus(gateway.port, '/health/live')).toBe(200);
    expect((await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});

describe('log rotation while a worker starts, with KMS_WORKERS=2', () => {
  it('a worker that had opened the audit log but did not listen yet when SIGHUP came (so was not signalled) reopens it once it listens', async () => {
    const dir = await makeTempDir('kms-logs-');
    const audit = join(dir, 'audit.log');
    const gateway = await startGateway({ dataDir: dataDir(), seedFile, env: { KMS_WORKERS: '2', KMS_AUDIT_LOG: audit } });
    const started = (pid: number) => gateway.stdout().includes(`"message":"gateway worker started","pid":${pid}`);
    const rotated: string[] = [];
    let starting: number | undefined;
    // A replacement worker is stopped between opening the audit log and listening. Stopping it
    // when the primary has not yet heard that it listens can come too late (it listens a few
    // milliseconds after it opens the file): then another try, with another rotation.
    for (let attempt = 1; attempt <= 10 && starting === undefined; attempt++) {
      const workers = childPids(gateway.pid);
      process.kill(workers[0]!, 'SIGKILL');
      let replacement: number | undefined;
      await pollClosely(
        () => {
          replacement = childPids(gateway.pid).find((pid) => !workers.includes(pid));
          return replacement !== undefined;
        },
        15_000,
        'a replacement worker',
      );
      // Until it has run exec the child is a copy of the primary, with the primary's files open (the
      // audit log too) and the primary waiting for that exec: node:cluster's NODE_UNIQUE_ID tells it has run.
      await pollClosely(
        () => environmentOf(replacement!).NODE_UNIQUE_ID !== undefined && openPaths(replacement!).includes(audit),
        15_000,
        'the replacement worker to open the audit log',
      );
      process.kill(replacement!, 'SIGSTOP');
      try {
        rotated.push(`${audit}.${attempt}`);
        await rename(audit, rotated.at(-1)!);
        // The primary and the worker that serves handle it; the stopped one is not signalled unless it listened.
        const before = reopenedPids(gateway).length;
        gateway.child.kill('SIGHUP');
        await waitFor(() => reopenedPids(gateway).length >= before + 2, 15_000, 'the primary and the serving worker to handle SIGHUP');
        if (!started(replacement!)) starting = replacement;
      } finally {
        // Resumed whatever happened: a stopped worker would outlive the gateway.
        process.kill(replacement!, 'SIGCONT');
      }
      await waitFor(() => started(replacement!), 15_000, 'the replacement worker to listen');
    }
    expect(starting, 'a replacement worker stopped before it listened').toBeDefined();
    // Once it listens it catches up: its audit log is the file at the path, as every other process's.
    const auditFiles = () => [gateway.pid, ...childPids(gateway.pid)].map((pid) => openPaths(pid).filter((path) => path === audit || rotated.includes(path)));
    await waitFor(
      () => auditFiles().every((open) => open.length === 1 && open[0] === audit),
      10_000,
      'every process to write to the audit log at its path, none to a rotated one',
    ).catch((err: Error) => expect.fail(`${err.message}: ${JSON.stringify(auditFiles())}`));
    expect(childPids(gateway.pid)).toContain(starting);
    // And the lines: every request (spread over both workers) is in the file at the path.
    const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter(Boolean).length;
    const rotatedBefore = await Promise.all(rotated.map(lines));
    const atPathBefore = await lines(audit).catch(() => 0);
    for (let i = 0; i < 6; i++) expect((await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status).toBe(200);
    await waitFor(async () => (await lines(audit)) >= atPathBefore + 6, 10_000, 'six lines in the audit log');
    expect(await Promise.all(rotated.map(lines))).toEqual(rotatedBefore);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    await removeDir(dir);
  }, 90_000);
});

describe('SIGHUP while the gateway starts', () => {
  /*
   * A signal that arrives before node has run the first line of the entry (node's own start, some
   * tens of milliseconds) takes its default action in any node program: the earliest moment here is
   * the one the entry catches it. The moments are told by what the process has done, not by time:
   * whether it catches the signal, how much it has read (its code, mostly), its workers.
   */
  type Entry = 'npm start' | 'kms serve';
  /** The bytes a gateway started by each entry has read once it is ready (its code, mostly; `kms serve` loads the CLI too). */
  const readWhenReady = new Map<Entry, number>();
  beforeAll(async () => {
    for (const entry of ['npm start', 'kms serve'] as const) {
      const gateway = await startGateway({ dataDir: dataDir(), seedFile, viaCli: entry === 'kms serve' });
      readWhenReady.set(entry, bytesRead(gateway.pid));
      expect(await gateway.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);

  const gone = (gateway: GatewayProcess) => gateway.hasExited();
  /** Resolves at a moment of `gateway`'s start (or once it has exited, which the test then reports). */
  const moments = {
    'as soon as it catches the signal': (g: GatewayProcess) =>
      pollClosely(() => gone(g) || catchesSignal(g.pid, 'SIGHUP'), 15_000, 'the gateway to catch SIGHUP'),
    // The entry catches it before it loads the gateway, not once the gateway's main() runs.
    'half-way through reading its code': async (g: GatewayProcess, halfway: number) => {
      await pollClosely(() => gone(g) || bytesRead(g.pid) >= halfway, 15_000, 'the gateway to read its code');
      expect(gone(g) || catchesSignal(g.pid, 'SIGHUP')).toBe(true);
    },
    // Too early for the worker to catch it: the primary replaces a worker SIGHUP ended.
    'as soon as its first worker process exists': (g: GatewayProcess) => pollClosely(() => gone(g) || childPids(g.pid).length > 0, 15_000, 'a worker process'),
    "half-way through a worker's reading of its code": async (g: GatewayProcess, halfway: number) => {
      let worker: number | undefined;
      await pollClosely(
        () => {
          if (gone(g)) return true;
          worker = childPids(g.pid).find((pid) => bytesRead(pid) >= halfway);
          return worker !== undefined;
        },
        15_000,
        'a worker to read its code',
      );
      expect(gone(g) || catchesSignal(worker!, 'SIGHUP')).toBe(true);
    },
  };
  type Moment = keyof typeof moments;

  it.each<[Entry, number, 'the gateway' | 'its process group', Moment | 'every 50 ms from the moment it catches the signal until it is ready']>([
    ['npm start', 1, 'the gateway', 'as soon as it catches the signal'],
    ['npm start', 1, 'the gateway', 'half-way through reading its code'],
    ['npm start', 1, 'the gateway', 'every 50 ms from the moment it catches the signal until it is ready'],
    ['npm start', 2, 'the gateway', 'every 50 ms from the moment it catches the signal until it is ready'],
    ['npm start', 2, 'its process group', 'half-way through reading its code'],
    ['npm start', 2, 'its process group', 'as soon as its first worker process exists'],
    ['npm start', 2, 'its process group', "half-way through a worker's reading of its code"],
    ['kms serve', 1, 'the gateway', 'half-way through reading its code'],
    ['kms serve', 2, 'its process group', 'as soon as its first worker process exists'],
    ['kms serve', 2, 'its process group', "half-way through a worker's reading of its code"],
  ])('%s, KMS_WORKERS=%i: SIGHUP to %s %s does not stop it; it becomes ready, serves, and handles the SIGHUP then', async (entry, workers, target, moment) => {
    const gateway = spawnGateway({
      dataDir: dataDir(),
      seedFile,
      viaCli: entry === 'kms serve',
      detached: target === 'its process group',
      env: { KMS_WORKERS: String(workers) },
    });
    const hangUpNow = () => {
      if (!gone(gateway)) process.kill(target === 'its process group' ? -gateway.pid : gateway.pid, 'SIGHUP');
    };
    let ready: ReadyGateway;
    if (moment === 'every 50 ms from the moment it catches the signal until it is ready') {
      await moments['as soon as it catches the signal'](gateway);
      const timer = setInterval(hangUpNow, 50);
      hangUpNow();
      ready = await untilReady(gateway).finally(() => clearInterval(timer));
    } else {
      await moments[moment](gateway, readWhenReady.get(entry)! / 2);
      hangUpNow();
      ready = await untilReady(gateway);
    }
    // The SIGHUP it kept while starting was handled once it served: its log files were reopened.
    await waitFor(() => reopenedPids(ready).includes(ready.pid), 10_000, 'the SIGHUP kept while starting to be handled');
    if (workers > 1) expect(ready.stdout()).toContain(`serving from ${workers} worker processes`);
    for (let i = 0; i < 2 * workers; i++)
      expect((await sendRaw(ready.port, toRecorded(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID })))).status).toBe(200);
    expect(ready.stdout()).not.toContain('"message":"gateway worker died"');
    expect(await ready.stop('SIGTERM')).toBe(0);
  });

  // bin/kms.mjs keeps SIGHUP from its first line, for `kms serve`: every other command gives it back.
  it.each(['while it loads (the signal was kept, then delivered as the command starts)', 'once the command runs'])(
    'another kms command (keys list, waiting for an endpoint that never answers) is ended by SIGHUP %s, as in a terminal that hangs up',
    async (when) => {
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('KMS_')) env[name] = value;
      Object.assign(env, {
        KMS_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        ALIBABA_CLOUD_ACCESS_KEY_ID: ADMIN.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: ADMIN.accessKeySecret,
      });
      const child = spawn(process.execPath, ['bin/kms.mjs', 'keys', 'list'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
      const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
      try {
        await pollClosely(() => child.exitCode !== null || catchesSignal(child.pid!, 'SIGHUP'), 15_000, 'kms to catch SIGHUP');
        if (when === 'once the command runs')
          await pollClosely(() => child.exitCode !== null || !catchesSignal(child.pid!, 'SIGHUP'), 15_000, 'kms to give SIGHUP back');
        child.kill('SIGHUP');
        expect(await exit).toEqual([null, 'SIGHUP']);
      } finally {
        child.kill('SIGKILL');
        silent.close();
      }
    },
  );
});
