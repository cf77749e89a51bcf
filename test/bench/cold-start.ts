import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { applySeed } from '../../lib/seed.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { startDynalite } from '../helpers/dynalite.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../helpers/function-bundle.js';
import { REPO_ROOT } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { startSecretsManagerStandIn } from './support/secrets-manager-http.js';
import { BENCH_RESULTS, type Calls, type ColdStartResults, machineFacts, type Spread, writeBenchmarkTables } from './support/tables.js';

/**
 * `npm run bench:cold-start`: cold starts of a function on the AWS backend's real code, against
 * local stand-ins (DynamoDB: dynalite; Secrets Manager, which cannot run here: a small HTTP fake
 * answering GetSecretValue), with the file store as the baseline in the same run. Each of
 * COLD_START_RUNS fresh processes per store (alternating) loads the bundle (esbuild as
 * serverless.yml builds a function), builds the service from the environment as a function's init
 * does (for dynamodb: KMS_ROOT_KEY_SOURCE names the root-key secret), then serves GenerateDataKey
 * by alias twice. It counts every HTTP call the process makes, and the rounds they form (calls
 * started together count once); test/unit/cold-start-rounds.test.ts pins the rounds.
 *
 * The stand-ins answer in well under a millisecond: on AWS each round costs a network round trip
 * (a few milliseconds inside a region), which is why the rounds matter more than these times.
 * Writes bench/cold-start.json and the table in docs/benchmarks.md.
 */
const RUNS = Number(process.env.COLD_START_RUNS ?? 10);
const TABLE = 'kms-bench-cold-start';
const ROOT_KEY_SECRET = 'kms/bench/root-key';

// Under the repository, as Lambda's runtime finds the SDK for the bundle's `import()`s too (it
// searches NODE_PATH for ES modules; plain Node does not): a bundle in /tmp would find it for
// `require` only.
const cache = join(REPO_ROOT, 'node_modules', '.cache');
await mkdir(cache, { recursive: true });
const dir = await mkdtemp(join(cache, 'kms-cold-start-'));
const dynalite = await startDynalite();
const secrets = await startSecretsManagerStandIn({ [ROOT_KEY_SECRET]: Buffer.alloc(32, 5).toString('base64') });
try {
  const entry = join(dir, 'cold-start-entry.cjs');
  await build({ ...FUNCTION_BUNDLE_OPTIONS, entryPoints: [join(REPO_ROOT, 'test/bench/support/cold-start-entry.ts')], outfile: entry });

  const common = { KMS_LOG_LEVEL: 'silent', KMS_AUDIT_LOG: 'none' };
  const aws = {
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
  };
  const stores: Record<string, Record<string, string>> = {
    'file (baseline)': { ...common, KMS_DATA_DIR: join(dir, 'file') },
    dynamodb: { ...common, ...aws, KMS_KEY_STORE: 'dynamodb', KMS_STATE_TABLE: TABLE, KMS_ROOT_KEY_SOURCE: `aws-secrets-manager:${ROOT_KEY_SECRET}` },
  };
  // Seeded through the same composition the processes open.
  Object.assign(process.env, aws);
  await createStateTable(dynalite.client(), TABLE, { timeToLive: false });
  for (const env of Object.values(stores)) await applySeed(TEST_SEED, await serviceFromEnvironment(env));

  const runs = new Map<string, ChildResult[]>(Object.keys(stores).map((name) => [name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const [name, env] of Object.entries(stores)) runs.get(name)!.push(await coldStart(entry, env));
  }

  const results: ColdStartResults = {
    machine: machineFacts(),
    date: new Date().toISOString(),
    runs: RUNS,
    stores: [...runs].map(([store, rs]) => ({
      store,
      importMs: spread(rs.map((r) => r.importMs)),
      initMs: spread(rs.map((r) => r.initMs)),
      firstRequestMs: spread(rs.map((r) => r.requests[0]!.ms)),
      secondRequestMs: spread(rs.map((r) => r.requests[1]!.ms)),
      initCalls: same(
        store,
        'init',
        rs.map((r) => r.init),
      ),
      firstCalls: same(
        store,
        'first request',
        rs.map((r) => callsOf(r.requests[0]!)),
      ),
      secondCalls: same(
        store,
        'second request',
        rs.map((r) => callsOf(r.requests[1]!)),
      ),
    })),
  };
  await writeFile(join(REPO_ROOT, BENCH_RESULTS.coldStart.file), `${JSON.stringify(results, null, 2)}\n`);
  await writeBenchmarkTables();
  for (const s of results.stores) {
    console.log(
      `${s.store}: import ${s.importMs.median.toFixed(1)} ms, init ${s.initMs.median.toFixed(1)} ms (${s.initCalls.calls} calls in ${s.initCalls.rounds} rounds), first request ${s.firstRequestMs.median.toFixed(1)} ms (${s.firstCalls.calls} calls in ${s.firstCalls.rounds} rounds), second ${s.secondRequestMs.median.toFixed(1)} ms (${s.secondCalls.calls} in ${s.secondCalls.rounds})`,
    );
  }
  console.log(`Secrets Manager GetSecretValue calls: ${[...secrets.reads.values()].reduce((a, b) => a + b, 0)}`);
  console.log(`written to ${BENCH_RESULTS.coldStart.file} and docs/benchmarks.md`);
} finally {
  await secrets.stop();
  await dynalite.stop();
  await rm(dir, { recursive: true, force: true });
}

interface ChildResult {
  importMs: number;
  initMs: number;
  init: Calls;
  requests: Array<{ ms: number; status: number } & Calls>;
}

function callsOf(r: Calls): Calls {
  return { calls: r.calls, rounds: r.rounds };
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Number(n.toFixed(1));
  return { median: round(sorted[Math.floor(sorted.length / 2)]!), min: round(sorted[0]!), max: round(sorted.at(-1)!) };
}

/**
 * The calls of a phase, which must be the same in every run, and the most rounds they formed. The
 * rounds may differ: a call that waits for a module to load (the Secrets Manager client, imported
 * when the root key is read) can start after a call begun beside it has ended.
 */
function same(store: string, phase: string, all: Calls[]): Calls {
  const first = all[0]!;
  if (all.some((c) => c.calls !== first.calls)) throw new Error(`${store}, ${phase}: the number of network calls differs between runs: ${JSON.stringify(all)}`);
  const rounds = all.map((c) => c.rounds);
  return { calls: first.calls, rounds: Math.max(...rounds), fewestRounds: Math.min(...rounds) };
}

/** One fresh process: the bundle loaded, the service built, GenerateDataKey by alias served twice (each signed anew). */
function coldStart(entry: string, env: Record<string, string>): Promise<ChildResult> {
  const requests = [0, 1].map(() => {
    const r = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
    return { ...r, body: r.body.toString('base64') };
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test/bench/support/cold-start-aws-child.cjs'), entry], {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(REPO_ROOT, 'node_modules'), ...env, COLD_REQUESTS: JSON.stringify(requests) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      const result = line ? (JSON.parse(line) as ChildResult & { error?: string }) : undefined;
      if (!result || result.error) return reject(new Error(`a cold start failed: ${result?.error ?? out.slice(0, 500)}`));
      if (result.requests.some((r) => r.status !== 200)) return reject(new Error(`a cold start answered ${result.requests.map((r) => r.status).join(', ')}`));
      resolve(result);
    });
  });
}
