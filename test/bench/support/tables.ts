import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeDocSection } from '../../helpers/doc-sections.js';
import { REPO_ROOT } from '../../helpers/gateway-process.js';

/**
 * The tables of docs/benchmarks.md, rendered from what each benchmark writes to bench/*.json. The
 * benchmarks call {@link writeBenchmarkTables} when they finish; test/unit/docs.test.ts checks
 * that the committed tables are what the committed JSON renders to, so no figure is typed by hand.
 */
export const BENCHMARKS_DOC = join(REPO_ROOT, 'docs/benchmarks.md');

/** Where each benchmark keeps its last run, and the command that makes it. */
export const BENCH_RESULTS = {
  throughput: { file: 'bench/results.json', command: 'npm run bench' },
  profile: { file: 'bench/profile.json', command: 'npm run bench:profile' },
  soak: { file: 'bench/soak.json', command: 'npm run soak' },
  bigFile: { file: 'bench/big-file.json', command: 'npm run bench:big-file' },
  coldStart: { file: 'bench/cold-start.json', command: 'npm run bench:cold-start' },
} as const;
export type BenchName = keyof typeof BENCH_RESULTS;

export interface ThroughputResults {
  machine?: { cpus: number; model: string; memoryGiB: number; node: string };
  date?: string;
  inProcess?: { wrapBaselinePerSecond: number; stackPerSecond: Record<string, number> };
  gateway?: Array<{
    processes: number;
    connections: number;
    barePerSecond: number;
    gatewayPerSecond: number;
    ratio: number;
    p50Ms: number;
    p99Ms: number;
    p999Ms: number;
    cpuMicrosPerRequest: number;
    primaryCpuMicrosPerRequest: number;
    workerCpuMicrosPerRequest: number;
  }>;
  memory?: Record<string, { requests: number; rssBeforeMb: number; rssAfterMb: number }>;
  scaling?: { at64Connections: number; projectedFromCpuPerRequest: number };
  coldStart?: Array<{ function: string; zippedKiB: number; importMs: number; initMs: number; firstStatus: unknown }>;
  listings?: { keys: number; aliases: number; fillSeconds: number; listKeys: { p50: number; p99: number }; listAliases: { p50: number; p99: number } };
  /** (8) Sign and GenerateMac through the stack in process, each against its raw node:crypto call on one core. */
  signing?: Array<{ operation: string; keySpec: string; baseline: string; baselinePerSecond: number; stackPerSecond: number }>;
  /** (9) The gateway against the minimal server (test/bench/support/minimal-server.mjs), the same Action and protocol, the same process count. */
  essential?: Array<{
    protocol: 'Alibaba RPC' | 'AWS SigV4';
    action: string;
    processes: number;
    connections: number;
    minimalPerSecond: number;
    /** The minimal server with its nonces group-committed to an fdatasync'ed journal (GenerateDataKey over RPC). */
    journaledPerSecond?: number;
    gatewayPerSecond: number;
    /** gateway / minimal. */
    ratio: number;
    /** The gateway's latency. */
    p50Ms: number;
    p99Ms: number;
    minimalP99Ms: number;
    /** CPU of every thread of every process of each server over its runs, per request served. */
    minimalCpuMicrosPerRequest: number;
    gatewayCpuMicrosPerRequest: number;
  }>;
}

export interface ProfileResults {
  date?: string;
  stages?: Array<{ stage: string; loopMicros?: number; httpMicros: number; httpPerSecond: number }>;
  gatewayProfile?: { perSecond: number; requests: number; areas: Array<{ name: string; microsPerRequest: number }> };
  /** (3) How long replay protection holds requests up as it grows: batches of claims through the journal, single claims on the table. */
  replayGrowth?: {
    journal: { nonces: number; batch: number; compactions: number; p50Ms: number; p99Ms: number; maxMs: number };
    table: { nonces: number; rebuilds: number; p50Micros: number; maxMs: number };
  };
  /** (4) CPU per claim of the journal with its lock held for a run of batches, and with a lock per batch. */
  replayLock?: {
    claims: number;
    perMillisecond: number;
    held: { cpuMicrosPerClaim: number; claimsPerSection: number };
    perBatch: { cpuMicrosPerClaim: number; claimsPerSection: number };
  };
}

export interface SoakResults {
  machine?: ThroughputResults['machine'];
  date: string;
  requests: number;
  connections: number;
  seconds: number;
  errors: number;
  rssEarlyMb: number;
  rssLateMb: number;
  growth: number;
  noncesHeld: number;
  nonceTableMb: number;
}

export interface BigFileResults {
  machine?: ThroughputResults['machine'];
  date: string;
  sizeMiB: number;
  encrypt: { seconds: number; megabytesPerSecond: number; maxRssMb: number };
  decrypt: { seconds: number; megabytesPerSecond: number; maxRssMb: number };
}

/** `npm run bench:cold-start`: fresh processes per store, each building the service and serving GenerateDataKey by alias twice. */
export interface ColdStartResults {
  machine?: ThroughputResults['machine'];
  date: string;
  /** Fresh processes per store. */
  runs: number;
  stores: Array<{
    store: string;
    /** Milliseconds, each as median, min and max over the runs. */
    importMs: Spread;
    initMs: Spread;
    firstRequestMs: Spread;
    secondRequestMs: Spread;
    /** Network calls and rounds of calls (calls started together count once), the same in every run. */
    initCalls: Calls;
    firstCalls: Calls;
    secondCalls: Calls;
  }>;
}
export interface Spread {
  median: number;
  min: number;
  max: number;
}
export interface Calls {
  calls: number;
  /** The most rounds in a run; `fewestRounds` the fewest, when runs differed. */
  rounds: number;
  fewestRounds?: number;
}

export interface AllResults {
  throughput?: ThroughputResults;
  profile?: ProfileResults;
  soak?: SoakResults;
  bigFile?: BigFileResults;
  coldStart?: ColdStartResults;
}

/** The machine a benchmark runs on, as its results record it. */
export function machineFacts(): NonNullable<ThroughputResults['machine']> {
  return { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** The targets set for the service, checked against the last runs. */
export const TARGETS = {
  /** (9) gateway / minimal server, the same Action, protocol and process count, 64 connections. */
  ratioToMinimal: 0.8,
  /** (9) the gateway's p99 at 64 connections. */
  p99Ms: 10,
  /** (9) Decrypt's and GenerateDataKeyWithoutPlaintext's ratio, relative to GenerateDataKey's. */
  actionRatioSpread: 0.1,
  scaling: 1.7,
  stackToWrap: 0.5,
  bundleKiB: 250,
  initMs: 50,
  listingP50Ms: 20,
  rssGrowth: 0.1,
} as const;

const int = (n: number) => Math.round(n).toLocaleString('en');
const fixed = (n: number, digits: number) => n.toFixed(digits);
const range = (values: number[], digits = 0) => {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? fixed(low, digits) : `${fixed(low, digits)}–${fixed(high, digits)}`;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const yes = (met: boolean) => (met ? 'met' : '**not met**');

function runLine(source: string, date?: string, machine?: ThroughputResults['machine']): string {
  const on = machine ? ` on ${machine.cpus} CPUs (${machine.model}), ${machine.memoryGiB} GiB, Node ${machine.node.replace(/^v/, '')}` : '';
  return `The last run${date ? ` (${date.slice(0, 10)})` : ''}${on}, from \`${source}\`:`;
}

const notRun = (bench: BenchName) => `No run recorded yet: \`${BENCH_RESULTS[bench].command}\` writes \`${BENCH_RESULTS[bench].file}\` and this table.`;

function gatewayTable(r: ThroughputResults): string {
  if (!r.gateway?.length) return notRun('throughput');
  const rows = r.gateway.map(
    (g) =>
      `| ${g.processes === 1 ? '1' : `${g.processes} (\`KMS_WORKERS=${g.processes}\`)`} | ${g.connections} | ${int(g.barePerSecond)} | ${int(g.gatewayPerSecond)} | ${fixed(g.ratio, 2)} | ${g.p50Ms} / ${g.p99Ms} / ${g.p999Ms} | ${int(g.cpuMicrosPerRequest)} |`,
  );
  return [
    runLine(BENCH_RESULTS.throughput.file, r.date, r.machine),
    '',
    '| processes | connections | bare `node:http` /s | gateway `GenerateDataKey` /s | ratio | gateway p50 / p99 / p99.9 ms | gateway CPU µs per request |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function essentialTable(r: ThroughputResults): string {
  if (!r.essential?.length) return notRun('throughput');
  const connections = [...new Set(r.essential.map((e) => e.connections))].join(', ');
  return [
    runLine(BENCH_RESULTS.throughput.file, r.date, r.machine),
    '',
    `| protocol | Action | processes | minimal server /s | minimal, nonces journaled /s | gateway /s | ratio | gateway p50 / p99 ms | CPU µs per request, minimal / gateway |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.essential.map(
      (e) =>
        `| ${e.protocol} | \`${e.action}\` | ${e.processes} | ${int(e.minimalPerSecond)} | ${e.journaledPerSecond === undefined ? '–' : int(e.journaledPerSecond)} | ${int(e.gatewayPerSecond)} | ${fixed(e.ratio, 2)} | ${e.p50Ms} / ${e.p99Ms} | ${int(e.minimalCpuMicrosPerRequest)} / ${int(e.gatewayCpuMicrosPerRequest)} |`,
    ),
    '',
    `${connections} connections; the minimal server with as many processes as the gateway.`,
  ].join('\n');
}

function alsoMeasuredTable(r: ThroughputResults): string {
  const rows: string[] = [];
  if (r.inProcess) {
    const wrap = r.inProcess.wrapBaselinePerSecond;
    rows.push(`| (1) baseline: \`randomBytes\` + AES-256-GCM wrap of a 32-byte key, one core | ${int(wrap)} /s |`);
    const stack = Object.entries(r.inProcess.stackPerSecond).map(
      ([action, perSecond]) => `\`${action}\` ${int(perSecond)} /s (${fixed(perSecond / wrap, 2)}× (1))`,
    );
    rows.push(`| (2) through the whole stack in process (signature, durable replay claim, policy, audit line), 64 in flight | ${stack.join(', ')} |`);
  }
  const workers = r.gateway?.find((g) => g.processes > 1 && g.connections === 64);
  const one = r.gateway?.find((g) => g.processes === 1 && g.connections === 64);
  if (r.scaling && workers && one) {
    rows.push(
      `| (4) ${workers.processes} processes against one, 64 connections | measured here ${fixed(r.scaling.at64Connections, 2)}× (the load generator shares the cores); projected from CPU per request on ${workers.processes} free cores ${fixed(r.scaling.projectedFromCpuPerRequest, 2)}× (workers ${workers.workerCpuMicrosPerRequest} µs per request, the primary ${workers.primaryCpuMicrosPerRequest} µs, one process ${one.cpuMicrosPerRequest} µs) |`,
    );
  }
  if (r.coldStart?.length) {
    const inits = r.coldStart.map((c) => c.initMs);
    const imports = r.coldStart.map((c) => c.importMs);
    const within = inits.filter((ms) => ms <= TARGETS.initMs).length;
    rows.push(
      `| (5) function bundles (esbuild as \`serverless.yml\`), compressed | ${range(
        r.coldStart.map((c) => c.zippedKiB),
        1,
      )} KiB each, ${r.coldStart.length} functions |`,
    );
    rows.push(
      `| (5) cold start: import + first invocation against a local store | median ${int(median(inits))} ms, ${range(inits)} ms; ${within} of ${inits.length} functions ≤ ${TARGETS.initMs} ms (import ${range(imports)} ms of it) |`,
    );
  }
  if (r.memory) {
    const rss = Object.entries(r.memory).map(
      ([processes, m]) =>
        `${m.rssBeforeMb} → ${m.rssAfterMb} MB with ${processes === '1' ? 'one process' : `${processes} processes`} (${int(m.requests)} requests)`,
    );
    rows.push(`| (6) gateway RSS before → after the runs of (4) | ${rss.join('; ')} |`);
  }
  if (r.listings) {
    const l = r.listings;
    rows.push(
      `| (7) ${int(l.keys)} keys and ${int(l.aliases)} aliases in the file store, a page of 100 in the middle | \`ListKeys\` p50 ${fixed(l.listKeys.p50, 1)} ms, \`ListAliases\` p50 ${fixed(l.listAliases.p50, 1)} ms |`,
    );
  }
  if (r.signing?.length) {
    const entries = r.signing.map(
      (e) =>
        `\`${e.operation}\` ${e.keySpec} ${int(e.stackPerSecond)} /s against \`${e.baseline}\` ${int(e.baselinePerSecond)} /s (${fixed(e.stackPerSecond / e.baselinePerSecond, 2)}×)`,
    );
    rows.push(
      `| (8) asymmetric and HMAC keys through the whole stack in process (AWS protocol), 64 in flight, against the raw call on one core | ${entries.join('; ')} |`,
    );
  }
  if (rows.length === 0) return notRun('throughput');
  return ['| also measured | figure |', '| --- | --- |', ...rows].join('\n');
}

/** The targets of the gateway against the minimal server, (9); each says so when there is no run. */
function essentialTargets(r: ThroughputResults): string[] {
  const min = TARGETS.ratioToMinimal;
  const e = r.essential ?? [];
  const processes = (x: { processes: number }) => (x.processes === 1 ? 'one process' : `${x.processes} processes`);
  const ratios = (found: typeof e) => found.map((x) => `${fixed(x.ratio, 2)}× (${processes(x)})`).join(', ');
  /** [target, measured, status]; what was not measured says so. */
  const row = (target: string, found: typeof e, measured: () => string, met: () => boolean) =>
    `| ${target} | ${!e.length ? 'no run recorded yet' : found.length ? measured() : 'not measured'} | ${found.length ? yes(met()) : '–'} |`;
  const rpc = (action: string) => e.filter((x) => x.protocol === 'Alibaba RPC' && x.action === action);
  const [one, many] = [rpc('GenerateDataKey').filter((x) => x.processes === 1), rpc('GenerateDataKey').filter((x) => x.processes > 1)];
  const others = [...rpc('Decrypt'), ...rpc('GenerateDataKeyWithoutPlaintext')].flatMap((x) => {
    const gdk = rpc('GenerateDataKey').find((y) => y.processes === x.processes);
    return gdk ? [{ x, gdk, off: x.ratio / gdk.ratio - 1 }] : [];
  });
  const aws = e.filter((x) => x.protocol === 'AWS SigV4');
  return [
    row(
      `gateway ≥ ${min}× the minimal server, \`GenerateDataKey\` over RPC, one process, 64 connections`,
      one,
      () => ratios(one),
      () => one.every((x) => x.ratio >= min),
    ),
    row(
      `the same with one process per core, against as many minimal processes`,
      many,
      () => ratios(many),
      () => many.every((x) => x.ratio >= min),
    ),
    row(
      `gateway p99 ≤ ${TARGETS.p99Ms} ms at 64 connections (every Action and protocol of (9))`,
      e,
      () => `${range(e.map((x) => x.p99Ms))} ms`,
      () => e.every((x) => x.p99Ms <= TARGETS.p99Ms),
    ),
    row(
      `\`Decrypt\` and \`GenerateDataKeyWithoutPlaintext\` ratios within ${TARGETS.actionRatioSpread * 100} % of \`GenerateDataKey\`'s`,
      others.map((o) => o.x),
      () =>
        others
          .map(
            ({ x, gdk, off }) =>
              `\`${x.action}\` ${fixed(x.ratio, 2)}× against ${fixed(gdk.ratio, 2)}× (${off >= 0 ? '+' : ''}${fixed(off * 100, 0)} %, ${processes(x)})`,
          )
          .join('; '),
      () => others.every((o) => Math.abs(o.off) <= TARGETS.actionRatioSpread),
    ),
    row(
      `AWS protocol (SigV4, \`GenerateDataKey\`) ≥ ${min}× a minimal SigV4 server`,
      aws,
      () => ratios(aws),
      () => aws.every((x) => x.ratio >= min),
    ),
  ];
}

function targetsTable(all: AllResults): string {
  const r = all.throughput ?? {};
  const rows = essentialTargets(r);
  if (r.scaling) {
    const { at64Connections: measured, projectedFromCpuPerRequest: projected } = r.scaling;
    const status = measured >= TARGETS.scaling ? 'met' : projected >= TARGETS.scaling ? '**not measurable here**; met by projection' : '**not met**';
    rows.push(
      `| one process per core scales ≥ ${TARGETS.scaling}× | ${fixed(measured, 2)}× measured; ${fixed(projected, 2)}× projected from CPU per request | ${status} |`,
    );
  }
  if (r.inProcess) {
    const ratios = Object.values(r.inProcess.stackPerSecond).map((perSecond) => perSecond / r.inProcess!.wrapBaselinePerSecond);
    rows.push(
      `| in-process stack ≥ ${TARGETS.stackToWrap}× the wrap baseline | ${range(ratios, 2)}× | ${yes(ratios.every((x) => x >= TARGETS.stackToWrap))} |`,
    );
  }
  if (r.coldStart?.length) {
    const largest = Math.max(...r.coldStart.map((c) => c.zippedKiB));
    const inits = r.coldStart.map((c) => c.initMs);
    const within = inits.filter((ms) => ms <= TARGETS.initMs).length;
    const status = `size ${yes(largest <= TARGETS.bundleKiB)}; init ${within === inits.length ? 'met' : `**met by ${within} of ${inits.length}**`}`;
    rows.push(
      `| every bundle ≤ ${TARGETS.bundleKiB} KiB compressed, init ≤ ${TARGETS.initMs} ms | ≤ ${fixed(largest, 1)} KiB; median ${int(median(inits))} ms, ${within} of ${inits.length} ≤ ${TARGETS.initMs} ms | ${status} |`,
    );
  }
  if (r.listings) {
    const l = r.listings;
    const met = l.listKeys.p50 <= TARGETS.listingP50Ms && l.listAliases.p50 <= TARGETS.listingP50Ms;
    rows.push(
      `| \`ListKeys\` / \`ListAliases\` p50 ≤ ${TARGETS.listingP50Ms} ms with ${int(l.keys)} each | ${fixed(l.listKeys.p50, 1)} ms / ${fixed(l.listAliases.p50, 1)} ms | ${yes(met)} |`,
    );
  }
  const soak = all.soak;
  rows.push(
    soak
      ? `| RSS flat (±${TARGETS.rssGrowth * 100} %) over ${int(soak.requests)} requests, less the replay table | ${soak.growth >= 0 ? '+' : ''}${fixed(soak.growth * 100, 1)} % | ${yes(Math.abs(soak.growth) <= TARGETS.rssGrowth || soak.growth < 0)} (\`npm run soak\`) |`
      : `| RSS flat (±${TARGETS.rssGrowth * 100} %) over 1,000,000 requests, less the replay table | no run recorded in \`${BENCH_RESULTS.soak.file}\` | – |`,
  );
  return [
    `Targets against the last runs (\`${BENCH_RESULTS.throughput.file}\`, \`${BENCH_RESULTS.soak.file}\`):`,
    '',
    '| target | measured | status |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function profileStagesTable(p: ProfileResults): string {
  if (!p.stages?.length) return notRun('profile');
  const label: Record<string, string> = {
    http: 'HTTP alone (a fixed answer)',
    authentication: 'HTTP + authentication (parameters, signature, replay claim)',
    stack: 'HTTP + the whole stack',
  };
  return [
    runLine(BENCH_RESULTS.profile.file, p.date),
    '',
    '| stage | CPU µs per request, tight loop (64 in flight) | CPU µs per request, inside `node:http` (64 connections) | requests/s there |',
    '| --- | --- | --- | --- |',
    ...p.stages.map(
      (s) =>
        `| ${label[s.stage] ?? s.stage} | ${s.loopMicros === undefined ? '–' : fixed(s.loopMicros, 1)} | ${fixed(s.httpMicros, 1)} | ${int(s.httpPerSecond)} |`,
    ),
  ].join('\n');
}

function profileAreasTable(p: ProfileResults): string {
  const g = p.gatewayProfile;
  if (!g?.areas.length) return notRun('profile');
  return [
    `| the gateway's main thread at ${int(g.perSecond)} \`GenerateDataKey\`/s, 64 connections (${int(g.requests)} requests) | µs per request |`,
    '| --- | --- |',
    ...g.areas.map((a) => `| ${a.name} | ${fixed(a.microsPerRequest, 1)} |`),
  ].join('\n');
}

function profileReplayTable(p: ProfileResults): string {
  const g = p.replayGrowth;
  if (!g) return notRun('profile');
  const { journal: j, table: t } = g;
  return [
    '| replay protection growing, in process | typical wait | longest wait | longest / typical |',
    '| --- | --- | --- | --- |',
    `| the file store's journal, ${int(j.nonces)} nonces claimed in batches of ${j.batch} (its lock, append and \`fdatasync\`; ${j.compactions} compactions on the way): a batch's wait, p50 (p99) | ${fixed(j.p50Ms, 2)} ms (${fixed(j.p99Ms, 2)} ms) | ${fixed(j.maxMs, 1)} ms | ${int(j.maxMs / j.p50Ms)}× |`,
    `| the replay table in memory, ${int(t.nonces)} nonces claimed one by one (${t.rebuilds} rebuilds on the way): a claim's wait, p50 | ${fixed(t.p50Micros, 2)} µs | ${fixed(t.maxMs, 1)} ms | ${int((t.maxMs * 1000) / t.p50Micros)}× |`,
    ...replayLockRows(p.replayLock),
  ].join('\n');
}

function replayLockRows(l: ProfileResults['replayLock']): string[] {
  if (!l) return [];
  return [
    '',
    `| the journal's lock, ${int(l.claims)} claims at ${l.perMillisecond} a millisecond, in process | CPU a claim | claims a lock | × a lock per batch |`,
    '| --- | --- | --- | --- |',
    `| held for a run of batches (up to 100 ms; the default) | ${fixed(l.held.cpuMicrosPerClaim, 1)} µs | ${fixed(l.held.claimsPerSection, 1)} | ${fixed(l.held.cpuMicrosPerClaim / l.perBatch.cpuMicrosPerClaim, 2)}× |`,
    `| taken for every batch (\`leaseMs: 0\`, as before) | ${fixed(l.perBatch.cpuMicrosPerClaim, 1)} µs | ${fixed(l.perBatch.claimsPerSection, 1)} | 1× |`,
  ];
}

function soakTable(s?: SoakResults): string {
  if (!s) return notRun('soak');
  return [
    runLine(BENCH_RESULTS.soak.file, s.date, s.machine),
    '',
    '| requests | time | errors | RSS less the replay table, early → late | the replay table at the end |',
    '| --- | --- | --- | --- | --- |',
    `| ${int(s.requests)} over ${s.connections} connections | ${fixed(s.seconds, 0)} s (${int(s.requests / s.seconds)}/s) | ${s.errors} | ${fixed(s.rssEarlyMb, 0)} → ${fixed(s.rssLateMb, 0)} MB (${s.growth >= 0 ? '+' : ''}${fixed(s.growth * 100, 1)} %) | ${int(s.noncesHeld)} nonces in ${fixed(s.nonceTableMb, 0)} MB |`,
  ].join('\n');
}

function bigFileTable(b?: BigFileResults): string {
  if (!b) return notRun('bigFile');
  const row = (what: string, x: BigFileResults['encrypt']) =>
    `| \`kms ${what}\` | ${fixed(x.seconds, 1)} s | ${int(x.megabytesPerSecond)} MB/s | ${int(x.maxRssMb)} MB |`;
  return [
    runLine(BENCH_RESULTS.bigFile.file, b.date, b.machine),
    '',
    `| ${b.sizeMiB.toLocaleString('en')} MiB through a local gateway | time | throughput | peak RSS |`,
    '| --- | --- | --- | --- |',
    row('encrypt-file', b.encrypt),
    row('decrypt-file', b.decrypt),
  ].join('\n');
}

function coldStartTable(c?: ColdStartResults): string {
  if (!c) return notRun('coldStart');
  const ms = (x: Spread) => `${fixed(x.median, 0)} (${range([x.min, x.max])})`;
  const calls = (x: Calls) => {
    if (x.calls === 0) return '0';
    const rounds = x.fewestRounds !== undefined && x.fewestRounds !== x.rounds ? `${x.fewestRounds}–${x.rounds}` : `${x.rounds}`;
    return `${x.calls} in ${rounds} round${rounds === '1' ? '' : 's'}`;
  };
  return [
    `${runLine(BENCH_RESULTS.coldStart.file, c.date, c.machine)} ${c.runs} fresh processes per store, median (min–max) ms.`,
    '',
    '| store | import | init (service built) | first `GenerateDataKey` by alias | second | network calls: init / first / second |',
    '| --- | --- | --- | --- | --- | --- |',
    ...c.stores.map(
      (s) =>
        `| ${s.store} | ${ms(s.importMs)} | ${ms(s.initMs)} | ${ms(s.firstRequestMs)} | ${ms(s.secondRequestMs)} | ${calls(s.initCalls)} / ${calls(s.firstCalls)} / ${calls(s.secondCalls)} |`,
    ),
  ].join('\n');
}

/** Every generated section of docs/benchmarks.md, by name, rendered from the results given. */
export function renderBenchmarkTables(all: AllResults): Record<string, string> {
  const r = all.throughput ?? {};
  const p = all.profile ?? {};
  return {
    'bench-gateway': gatewayTable(r),
    'bench-essential': essentialTable(r),
    'bench-also-measured': alsoMeasuredTable(r),
    'bench-profile-stages': profileStagesTable(p),
    'bench-profile-areas': profileAreasTable(p),
    'bench-profile-replay': profileReplayTable(p),
    'bench-targets': targetsTable(all),
    'bench-soak': soakTable(all.soak),
    'bench-big-file': bigFileTable(all.bigFile),
    'bench-cold-start': coldStartTable(all.coldStart),
  };
}

/** The results each benchmark last wrote (missing files: not run yet). */
export async function readBenchResults(root = REPO_ROOT): Promise<AllResults> {
  const read = async (bench: BenchName) => {
    try {
      return JSON.parse(await readFile(join(root, BENCH_RESULTS[bench].file), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return {
    throughput: await read('throughput'),
    profile: await read('profile'),
    soak: await read('soak'),
    bigFile: await read('bigFile'),
    coldStart: await read('coldStart'),
  };
}

/** Rewrites every generated table of docs/benchmarks.md from bench/*.json (a benchmark calls this once its JSON is written). */
export async function writeBenchmarkTables(): Promise<void> {
  for (const [name, body] of Object.entries(renderBenchmarkTables(await readBenchResults()))) await writeDocSection(BENCHMARKS_DOC, name, body);
}
