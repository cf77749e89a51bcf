import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, REPO_ROOT, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, TEST_SEED } from '../helpers/service.js';
import { BENCH_RESULTS, type BigFileResults, machineFacts, writeBenchmarkTables } from './support/tables.js';

/**
 * Benchmark, not part of `npm test` (it writes 3 GiB to disk): a 1 GiB round trip through the real
 * `kms encrypt-file` / `kms decrypt-file` against a gateway. Prints throughput and each CLI
 * process's peak RSS, and asserts the memory stays bounded (streaming, constant memory) and the
 * decrypted file hashes equal to the original. Writes the figures to bench/big-file.json and
 * rewrites the tables of docs/benchmarks.md from them.
 *
 *     npm run bench:big-file
 *     KMS_BIG_FILE_MIB=4096 npm run bench:big-file   # another size
 */
const SIZE_MIB = Number(process.env.KMS_BIG_FILE_MIB ?? 1024);
const MAX_RSS_MB = 200;
const RSS_PRELOAD = pathToFileURL(join(REPO_ROOT, 'test/helpers/report-max-rss.mjs')).href;

describe(`kms encrypt-file / decrypt-file: ${SIZE_MIB} MiB`, () => {
  let dir: string;
  let gateway: ReadyGateway;

  beforeAll(async () => {
    dir = await makeTempDir('kms-big-');
    gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED), logLevel: 'warn' });
  });

  afterAll(async () => {
    await gateway?.stop().catch(() => undefined);
    await killAllGateways();
    await removeDir(dir);
  });

  /** Runs the CLI with the RSS reporter preloaded; returns the exit code, seconds taken and peak RSS in MB. */
  function timedKms(args: string[]): Promise<{ code: number | null; seconds: number; maxRssMb: number; stderr: string }> {
    const started = process.hrtime.bigint();
    const env = {
      ...process.env,
      KMS_ENDPOINT: gateway.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: ADMIN.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ADMIN.accessKeySecret,
    };
    const child = spawn(process.execPath, ['--import', RSS_PRELOAD, 'bin/kms.mjs', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const kb = Number(/KMS_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? NaN);
        resolve({ code, seconds, maxRssMb: kb / 1024, stderr });
      });
    });
  }

  async function sha256Of(path: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  it('round trip with bounded memory', { timeout: 30 * 60_000 }, async () => {
    const input = join(dir, 'big.bin');
    const hash = createHash('sha256');
    const out = createWriteStream(input);
    // Random data in 1 MiB blocks (a few distinct blocks, shuffled, so it does not compress away).
    const blocks = Array.from({ length: 16 }, () => randomBytes(1024 * 1024));
    for (let i = 0; i < SIZE_MIB; i++) {
      const block = blocks[(i * 7 + (i >> 4)) % blocks.length]!;
      hash.update(block);
      if (!out.write(block)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const inputHash = hash.digest('hex');
    const bytes = SIZE_MIB * 1024 * 1024;

    const encrypted = await timedKms(['encrypt-file', input, join(dir, 'big.kms'), '--key', ALIAS, '--context', 'test=big']);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    const decrypted = await timedKms(['decrypt-file', join(dir, 'big.kms'), join(dir, 'big.out')]);
    expect(decrypted.code, decrypted.stderr).toBe(0);

    const mbps = (seconds: number) => (bytes / 1e6 / seconds).toFixed(0);
    console.log(
      [
        `file size: ${SIZE_MIB} MiB; encrypted: ${(await stat(join(dir, 'big.kms'))).size} bytes`,
        `encrypt-file: ${encrypted.seconds.toFixed(1)} s, ${mbps(encrypted.seconds)} MB/s, peak RSS ${encrypted.maxRssMb.toFixed(0)} MB`,
        `decrypt-file: ${decrypted.seconds.toFixed(1)} s, ${mbps(decrypted.seconds)} MB/s, peak RSS ${decrypted.maxRssMb.toFixed(0)} MB`,
      ].join('\n'),
    );
    // Figures of a round trip that changed a byte are not recorded.
    expect(await sha256Of(join(dir, 'big.out'))).toBe(inputHash);
    const figures = (run: { seconds: number; maxRssMb: number }) => ({
      seconds: Number(run.seconds.toFixed(2)),
      megabytesPerSecond: Math.round(bytes / 1e6 / run.seconds),
      maxRssMb: Math.round(run.maxRssMb),
    });
    const results: BigFileResults = {
      machine: machineFacts(),
      date: new Date().toISOString(),
      sizeMiB: SIZE_MIB,
      encrypt: figures(encrypted),
      decrypt: figures(decrypted),
    };
    await writeFile(join(REPO_ROOT, BENCH_RESULTS.bigFile.file), `${JSON.stringify(results, null, 2)}\n`);
    await writeBenchmarkTables();
    expect(encrypted.maxRssMb).toBeLessThan(MAX_RSS_MB);
    expect(decrypted.maxRssMb).toBeLessThan(MAX_RSS_MB);
  });
});
