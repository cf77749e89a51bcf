import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, REPO_ROOT, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { openFileBackend } from '../../lib/keystore/file/file-backend.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { JournaledNonceStore } from '../../lib/keystore/file/nonce-journal.js';
import { NonceTable } from '../../lib/keystore/nonce-table.js';
import { median, runLoad } from './support/load.js';
import { writeBenchmarkTables } from './support/tables.js';

/**
 * `npm run bench:profile`: where a request's time goes. Not part of `npm test`.
 *
 *   1. what each stage of the request path costs in CPU per request, in a tight in-process loop
 *      (64 in flight) and inside a node:http server under 64 connections: HTTP alone, then with
 *      authentication, then the whole stack (test/bench/support/stage-server.ts);
 *   2. a CPU profile (`node --cpu-prof`) of the gateway as `npm start` runs it, under 64
 *      connections of signed GenerateDataKey: its busy time per request by area and the functions
 *      with the most time of their own. The profile is written to bench/gateway.cpuprofile (open
 *      it in Chrome DevTools or speedscope for a flame graph).
 *   3. how long replay protection holds requests up as it grows: the file store's nonce journal
 *      through its compactions, and the in-memory replay table through its rebuilds.
 *   4. what the journal's cross-process lock costs at the gateway's claim rate: CPU per claim with
 *      its lock held for a run of batches (the default) against a lock per batch (`leaseMs: 0`),
 *      alternated in one process.
 *
 * Prints a table, writes bench/profile.json and rewrites the tables of docs/benchmarks.md from it.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RUN_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const STAGES = ['http', 'authentication', 'stack'] as const;

const results: Record<string, unknown> = { date: new Date().toISOString() };
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('kms-profile-');
});
afterAll(async () => {
  await killAllGateways();
  await removeDir(dir);
  await writeFile(join(REPO_ROOT, 'bench/profile.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeBenchmarkTables();
  console.log(`\n${lines.join('\n')}\n\nwritten to bench/profile.json and docs/benchmarks.md`);
});

const STAGE_SERVER = join(REPO_ROOT, 'test/bench/support/stage-server.ts');

/** Runs the stage server to its end (MODE=loop) or under load until SIGTERM (MODE=http); its last JSON line. */
function stageRun(stage: string, mode: 'loop' | 'http'): Promise<{ cpuMicrosPerRequest: number; perSecond?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', STAGE_SERVER], {
      cwd: REPO_ROOT,
      env: { ...process.env, STAGE: stage, MODE: mode },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let perSecond: number | undefined;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port && perSecond === undefined) {
        perSecond = 0;
        runLoad({ url: `http://127.0.0.1:${port}/`, connections: 64, seconds: RUN_SECONDS }).then(
          (load) => {
            perSecond = load.perSecond;
            child.kill('SIGTERM');
          },
          (err) => {
            child.kill('SIGKILL');
            reject(err);
          },
        );
      }
    });
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (!last.startsWith('{')) return reject(new Error(`stage server (${stage}, ${mode}) exited ${code}: ${out.slice(-300)}`));
      resolve({ ...(JSON.parse(last) as { cpuMicrosPerRequest: number }), ...(perSecond ? { perSecond } : {}) });
    });
  });
}

/** A V8 CPU profile's time per node, by self time, with each node's call frame. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's own time is counted: by the file it is in. */
function areaOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle (waiting for I/O or the load generator)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url === '') {
    if (functionName === '(program)') return 'V8 and native code outside JavaScript';
    // Native calls, by what makes them: socket writes; the journal's and the lock's file calls.
    if (['writev', 'writeUtf8String', 'writeLatin1String', 'writeBuffers'].includes(functionName)) return 'HTTP, sockets and the event loop';
    if (['open', 'close', 'unlink', 'fstat', 'stat', 'readFileUtf8', 'writeBuffer', 'fdatasync', 'futimes', 'openFileHandle'].includes(functionName))
      return 'store, replay journal, files';
    return 'V8 and native code outside JavaScript';
  }
  if (
    /node:(_http|http|net|stream|events|internal\/(streams|stream_base|http|net|timers|process\/task_queues|async_hooks))/.test(url) ||
    url.includes('adapters/node-http') ||
    url.includes('infra/gateway/')
  )
    return 'HTTP, sockets and the event loop';
  if (url.includes('/lib/auth/') || url.includes('/packages/client/dist/signing/') || url.includes('/lib/rpc/params')) return 'authentication and parameters';
  if (url.includes('node:internal/crypto') || url.includes('node:crypto') || url.includes('/lib/crypto/')) return 'cryptography (HMAC, AES-GCM, randomness)';
  if (url.includes('/zod/') || url.includes('/lib/protocol/alibaba/schema')) return 'validation (zod)';
  if (url.includes('@middy') || url.includes('/lib/middleware/')) return 'middleware stack';
  if (url.includes('/lib/audit/') || url.includes('/lib/logger')) return 'audit and access log lines';
  if (url.includes('/lib/keystore/') || url.includes('node:internal/fs') || url.includes('node:fs')) return 'store, replay journal, files';
  if (url.includes('prom-client') || url.includes('/lib/metrics/')) return 'metrics';
  if (url.includes('/lib/operations/') || url.includes('/lib/keyring/') || url.includes('/functions/') || url.includes('/lib/policy/'))
    return 'operation, keyring and policy';
  if (url.includes('/lib/rpc/') || url.includes('/lib/protocol/')) return 'protocol: reading and answering';
  if (url.startsWith('node:')) return 'other Node internals (buffers, strings, utilities)';
  return 'other';
}

function summarise(profile: CpuProfile, requests: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + micros);
    if (url !== '' || !functionName.startsWith('(')) {
      const name = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
      functions.set(name, (functions.get(name) ?? 0) + micros);
    }
  }
  const perRequest = (m: Map<string, number>, count: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => ({ name, microsPerRequest: Number((micros / requests).toFixed(1)) }));
  return { areas: perRequest(areas, 20), functions: perRequest(functions, 20) };
}

describe('npm run bench:profile', () => {
  it('1: each stage of the request path, in a tight loop and inside node:http', async () => {
    const rows: Array<{ stage: string; loopMicros?: number; httpMicros: number; httpPerSecond: number }> = [];
    say('| stage | CPU µs per request, tight loop (64 in flight) | CPU µs per request, inside node:http (64 connections) | requests/s there |');
    say('| --- | --- | --- | --- |');
    for (const stage of STAGES) {
      const loops: number[] = [];
      const https: Array<{ cpuMicrosPerRequest: number; perSecond?: number }> = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (stage !== 'http') loops.push((await stageRun(stage, 'loop')).cpuMicrosPerRequest);
        https.push(await stageRun(stage, 'http'));
      }
      const row = {
        stage,
        ...(loops.length ? { loopMicros: Number(median(loops).toFixed(1)) } : {}),
        httpMicros: Number(median(https.map((r) => r.cpuMicrosPerRequest)).toFixed(1)),
        httpPerSecond: Math.round(median(https.map((r) => r.perSecond ?? 0))),
      };
      rows.push(row);
      say(`| ${stage} | ${row.loopMicros ?? '–'} | ${row.httpMicros} | ${row.httpPerSecond.toLocaleString('en')} |`);
    }
    results.stages = rows;
  });

  it('2: a CPU profile of the gateway under load', async () => {
    const profiles = join(dir, 'profiles');
    await mkdir(profiles);
    const gateway = await startGateway({
      dataDir: join(dir, 'gateway'),
      seedFile: await writeSeedFile(dir, TEST_SEED),
      env: { KMS_WORKERS: '1', KMS_LOG_LEVEL: 'warn', KMS_AUDIT_LOG: join(dir, 'audit.log') },
      nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const paths = (count: number) => Array.from({ length: count }, () => `/?${signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }).rawQuery}`);
    const warm = await runLoad({ url: gateway.url, connections: 64, paths: paths(20_000), seconds: 1 });
    const load = await runLoad({
      url: gateway.url,
      connections: 64,
      paths: paths(Math.max(60_000, Math.round(3 * warm.perSecond * (RUN_SECONDS + 2)))),
      seconds: RUN_SECONDS + 2,
    });
    expect(load.failures).toBe(0);
    await gateway.stop('SIGTERM');
    const file = (await readdir(profiles)).find((f) => f.endsWith('.cpuprofile'));
    expect(file, 'the gateway wrote no CPU profile').toBeDefined();
    const text = await readFile(join(profiles, file!), 'utf8');
    await writeFile(join(REPO_ROOT, 'bench/gateway.cpuprofile'), text);
    // Every request the process served (warm-up and load) against the whole profile; start-up is a small share.
    const summary = summarise(JSON.parse(text) as CpuProfile, warm.requests + load.requests);
    results.gatewayProfile = { perSecond: Math.round(load.perSecond), requests: warm.requests + load.requests, ...summary };
    say('');
    say(
      `(2) the gateway (npm start, one process) at ${Math.round(load.perSecond).toLocaleString('en')} GenerateDataKey/s, 64 connections: main-thread time per request by area`,
    );
    say('| area | µs per request |');
    say('| --- | --- |');
    for (const { name, microsPerRequest } of summary.areas) say(`| ${name} | ${microsPerRequest} |`);
    say('');
    say('functions with the most time of their own (µs per request):');
    for (const { name, microsPerRequest } of summary.functions) say(`    ${microsPerRequest}  ${name}`);
    say('flame graph: bench/gateway.cpuprofile (Chrome DevTools → Performance → Load profile, or speedscope)');
  });

  it('3: how long replay protection holds requests up as it grows (the journal compacting, the table rebuilding)', async () => {
    // The journal as the file backend opens it: its lock is the store's cross-process one.
    const backend = await openFileBackend(join(dir, 'replay'));
    const journal = backend.nonces as JournaledNonceStore;
    const nonces = Number(process.env.BENCH_REPLAY_NONCES ?? 300_000);
    const batch = 30;
    const expiresAt = Date.now() + 3_600_000;
    const waits: number[] = [];
    let compactions = 0;
    for (let i = 0; i < nonces; i += batch) {
      const started = performance.now();
      const claims: Array<Promise<boolean>> = [];
      for (let k = 0; k < batch; k++) claims.push(journal.claim(ADMIN.accessKeyId, `replay-${i + k}`, expiresAt));
      const compacting = journal.compaction;
      expect(await Promise.all(claims)).not.toContain(false);
      waits.push(performance.now() - started);
      if (journal.compaction !== undefined && journal.compaction !== compacting) compactions++;
    }
    await journal.compaction;

    const table = new NonceTable();
    const tableNonces = Number(process.env.BENCH_TABLE_NONCES ?? 1_000_000);
    const claimWaits = new Float64Array(tableNonces);
    let rebuilds = 0;
    for (let i = 0; i < tableNonces; i++) {
      const bytes = table.bytes;
      const started = performance.now();
      table.claim(ADMIN.accessKeyId, `table-${i}`, expiresAt, Date.now());
      claimWaits[i] = performance.now() - started;
      if (table.bytes > bytes) rebuilds++;
    }
    claimWaits.sort();
    const sorted = [...waits].sort((a, b) => a - b);
    const at = (values: ArrayLike<number>, q: number) => values[Math.min(values.length - 1, Math.floor(values.length * q))]!;
    const replayGrowth = {
      journal: {
        nonces,
        batch,
        compactions,
        p50Ms: Number(at(sorted, 0.5).toFixed(3)),
        p99Ms: Number(at(sorted, 0.99).toFixed(3)),
        maxMs: Number(sorted.at(-1)!.toFixed(1)),
      },
      table: { nonces: tableNonces, rebuilds, p50Micros: Number((at(claimWaits, 0.5) * 1000).toFixed(2)), maxMs: Number(claimWaits.at(-1)!.toFixed(1)) },
    };
    results.replayGrowth = replayGrowth;
    say('');
    say(
      `(3) journal: ${nonces.toLocaleString('en')} nonces in batches of ${batch}, ${compactions} compactions: batch wait p50 ${replayGrowth.journal.p50Ms} ms, p99 ${replayGrowth.journal.p99Ms} ms, longest ${replayGrowth.journal.maxMs} ms`,
    );
    say(
      `(3) table: ${tableNonces.toLocaleString('en')} nonces, ${rebuilds} rebuilds: claim p50 ${replayGrowth.table.p50Micros} µs, longest ${replayGrowth.table.maxMs} ms`,
    );
  });
  it("4: the journal's lock held for a run of batches, against a lock per batch", async () => {
    const claims = Number(process.env.BENCH_LEASE_CLAIMS ?? 20_000);
    // About the gateway's rate on this machine: 10 claims every millisecond, each batch taken while the last one syncs.
    const perTick = 10;
    const expiresAt = Date.now() + 3_600_000;
    const run = async (name: string, leaseMs: number | undefined) => {
      const store = new FileKeyStore(join(dir, name));
      let sections = 0;
      const journal = await JournaledNonceStore.open(
        join(dir, name, 'nonces.journal'),
        Date.now,
        (work) => {
          sections++;
          return store.exclusive('nonces/journal', work);
        },
        leaseMs === undefined ? {} : { leaseMs },
      );
      sections = 0;
      const answers: Array<Promise<boolean>> = [];
      const cpu = process.cpuUsage();
      for (let i = 0; i < claims; ) {
        for (let k = 0; k < perTick && i < claims; k++, i++) answers.push(journal.claim(ADMIN.accessKeyId, `${name}-${i}`, expiresAt));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(await Promise.all(answers)).not.toContain(false);
      const used = process.cpuUsage(cpu);
      return { cpuMicros: (used.user + used.system) / claims, sections };
    };
    const held: Array<Awaited<ReturnType<typeof run>>> = [];
    const perBatch: Array<Awaited<ReturnType<typeof run>>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      perBatch.push(await run(`per-batch-${round}`, 0));
      held.push(await run(`held-${round}`, undefined));
    }
    const summary = (runs: typeof held) => ({
      cpuMicrosPerClaim: Number(median(runs.map((r) => r.cpuMicros)).toFixed(1)),
      claimsPerSection: Number(median(runs.map((r) => claims / r.sections)).toFixed(1)),
    });
    const replayLock = { claims, perMillisecond: perTick, held: summary(held), perBatch: summary(perBatch) };
    results.replayLock = replayLock;
    say('');
    say(
      `(4) journal lock, ${claims.toLocaleString('en')} claims at ${perTick} a millisecond: held for a run of batches ${replayLock.held.cpuMicrosPerClaim} µs CPU a claim (${replayLock.held.claimsPerSection} claims a lock), a lock per batch ${replayLock.perBatch.cpuMicrosPerClaim} µs (${replayLock.perBatch.claimsPerSection}): ${(replayLock.held.cpuMicrosPerClaim / replayLock.perBatch.cpuMicrosPerClaim).toFixed(2)}×`,
    );
  });
});
