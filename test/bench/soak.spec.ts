import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, REPO_ROOT, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { BENCH_RESULTS, type SoakResults, machineFacts, writeBenchmarkTables } from './support/tables.js';

/**
 * Soak, not part of `npm test`: SOAK_REQUESTS (default 1,000,000) mixed requests — GenerateDataKey,
 * Decrypt of what it returned, Encrypt, DescribeKey, ListKeys; both signing versions — over 64
 * keep-alive connections to one gateway process (`npm start`, file store, audit log on). Asserts
 * no error of any kind and that the gateway's memory does not grow once warm: RSS sampled every
 * second, the last quarter against the first quarter after warm-up (the first 10 %), ±10 %, less
 * what the replay store must hold by design — every nonce of the last 15 minutes, whose table
 * reports its size (kms_nonce_memory_bytes). Prints the throughput and the RSS curve, writes the
 * figures to bench/soak.json and rewrites the tables of docs/benchmarks.md from them.
 *
 *     npm run soak
 *     SOAK_REQUESTS=100000 npm run soak
 */
const TOTAL = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const CONNECTIONS = 64;

describe(`soak: ${TOTAL.toLocaleString('en')} mixed requests over ${CONNECTIONS} connections`, () => {
  let dir: string;
  let gateway: ReadyGateway;
  beforeAll(async () => {
    dir = await makeTempDir('kms-soak-');
    gateway = await startGateway({
      dataDir: join(dir, 'data'),
      seedFile: await writeSeedFile(dir, TEST_SEED),
      env: { KMS_LOG_LEVEL: 'warn', KMS_METRICS_PORT: '0' },
    });
  });
  afterAll(async () => {
    await gateway?.stop().catch(() => undefined);
    await killAllGateways();
    await removeDir(dir);
  });

  it('answers every request without an error, and its memory stays flat', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const errors: string[] = [];
    const counts = new Map<string, number>();
    let sent = 0;
    const blobs: string[] = [];
    const send = (action: string, params: Record<string, string>, v3: boolean) =>
      new Promise<Record<string, any>>((resolve) => {
        const signed = v3 ? signedV3Request(ADMIN, action, params) : signedRpcRequest(ADMIN, action, params);
        const headers = { ...signed.headers } as Record<string, string>;
        const req = request(
          { host: '127.0.0.1', port: gateway.port, method: signed.method, path: signed.rawQuery ? `/?${signed.rawQuery}` : '/', headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode !== 200) errors.push(`${action} ${res.statusCode} ${text.slice(0, 200)}`);
              counts.set(action, (counts.get(action) ?? 0) + 1);
              try {
                resolve(JSON.parse(text) as Record<string, any>);
              } catch {
                resolve({});
              }
            });
          },
        );
        req.on('error', (err) => {
          errors.push(`${action} ${err.message}`);
          resolve({});
        });
        req.end(signed.body);
      });

    const loop = async (worker: number) => {
      for (;;) {
        const n = sent++;
        if (n >= TOTAL) return;
        const pick = n % 20;
        const v3 = (n + worker) % 2 === 0;
        if (pick < 8) {
          const generated = await send('GenerateDataKey', { KeyId: ALIAS }, v3);
          if (typeof generated.CiphertextBlob === 'string' && blobs.length < 1_000) blobs.push(generated.CiphertextBlob);
        } else if (pick < 16) {
          const blob = blobs[n % Math.max(1, blobs.length)];
          if (blob) await send('Decrypt', { CiphertextBlob: blob }, v3);
          else await send('GenerateDataKey', { KeyId: ALIAS }, v3);
        } else if (pick < 18) {
          await send('Encrypt', { KeyId: KEY_ID, Plaintext: Buffer.from(`soak ${n}`).toString('base64') }, v3);
        } else if (pick < 19) {
          await send('DescribeKey', { KeyId: KEY_ID }, v3);
        } else {
          await send('ListKeys', {}, v3);
        }
        if (errors.length > 10) return;
      }
    };

    const metricsUrl = /kms metrics at (http:\/\/\S+)/.exec(gateway.stdout())![1]!;
    const samples: Array<{ atSeconds: number; requests: number; rssMb: number; nonces: number; nonceMb: number }> = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      void (async () => {
        const status = await readFile(`/proc/${gateway.pid}/status`, 'utf8').catch(() => '');
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
        const metrics = await fetch(metricsUrl)
          .then((r) => r.text())
          .catch(() => '');
        const nonces = Number(/^kms_nonces_held (\d+)/m.exec(metrics)?.[1] ?? NaN);
        const nonceMb = Number(/^kms_nonce_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN) / 1024 / 1024;
        samples.push({ atSeconds: (Date.now() - started) / 1000, requests: Math.min(sent, TOTAL), rssMb: rssKb / 1024, nonces, nonceMb });
      })();
    }, 1_000);
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => loop(i)));
    clearInterval(sampler);
    agent.destroy();
    const seconds = (Date.now() - started) / 1000;

    const answered = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `soak: ${answered.toLocaleString('en')} requests in ${seconds.toFixed(1)} s = ${Math.round(answered / seconds).toLocaleString('en')}/s; errors ${errors.length}`,
    );
    console.log(`soak: by Action ${JSON.stringify(Object.fromEntries(counts))}`);
    const step = Math.max(1, Math.floor(samples.length / 12));
    console.log('soak: RSS (MB) and nonces held over time:');
    for (let i = 0; i < samples.length; i += step) {
      const s = samples[i]!;
      console.log(`  t=${s.atSeconds.toFixed(0)}s requests=${s.requests} rss=${s.rssMb.toFixed(1)} MB nonces=${s.nonces} (table ${s.nonceMb.toFixed(1)} MB)`);
    }
    expect(errors.slice(0, 5)).toEqual([]);
    expect(answered).toBe(TOTAL);

    // Warm-up: the first 10 % of the run. Then the RSS less the replay table, which must grow.
    const warm = samples.filter((s) => s.requests >= TOTAL * 0.1 && Number.isFinite(s.nonceMb));
    const quarter = Math.max(1, Math.floor(warm.length / 4));
    const corrected = (s: (typeof warm)[number]) => s.rssMb - s.nonceMb;
    const early = median(warm.slice(0, quarter).map(corrected));
    const late = median(warm.slice(-quarter).map(corrected));
    const last = warm.at(-1)!;
    console.log(
      `soak: RSS less the replay table: ${early.toFixed(1)} MB early, ${late.toFixed(1)} MB late (${(((late - early) / early) * 100).toFixed(1)} %); the table held ${last.nonces.toLocaleString('en')} nonces in ${last.nonceMb.toFixed(1)} MB`,
    );
    const figures: SoakResults = {
      machine: machineFacts(),
      date: new Date().toISOString(),
      requests: answered,
      connections: CONNECTIONS,
      seconds: Number(seconds.toFixed(1)),
      errors: errors.length,
      rssEarlyMb: Number(early.toFixed(1)),
      rssLateMb: Number(late.toFixed(1)),
      growth: Number(((late - early) / early).toFixed(4)),
      noncesHeld: last.nonces,
      nonceTableMb: Number(last.nonceMb.toFixed(1)),
    };
    await writeFile(join(REPO_ROOT, BENCH_RESULTS.soak.file), `${JSON.stringify(figures, null, 2)}\n`);
    await writeBenchmarkTables();
    // Flat means no growth: a heap that settles lower after warm-up is not a leak.
    expect((late - early) / early).toBeLessThanOrEqual(0.1);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
