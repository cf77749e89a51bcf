import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../functions/actions.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../helpers/function-bundle.js';
import { REPO_ROOT } from '../helpers/gateway-process.js';

/**
 * What goes into a cloud function's bundle (esbuild as serverless.yml builds them): every byte is
 * parsed at each cold start, so what a function never uses must stay out. The figures are in
 * `npm run bench` (section 5).
 */
let bundles: Map<string, Metafile['outputs'][string]>;
let code: Map<string, string>;

beforeAll(async () => {
  const entries = (await readdir(join(REPO_ROOT, 'functions'))).filter((f) => f.endsWith('.ts') && f !== 'actions.ts');
  const result = await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    entryPoints: entries.map((f) => join(REPO_ROOT, 'functions', f)),
    outdir: '/bundles',
    write: false,
    metafile: true,
  });
  bundles = new Map(Object.entries(result.metafile.outputs).map(([file, output]) => [basename(file, '.js'), output]));
  code = new Map(result.outputFiles.map((file) => [basename(file.path, '.js'), file.text]));
}, 60_000);

const packagesIn = (output: Metafile['outputs'][string]) =>
  new Set(
    Object.keys(output.inputs)
      .filter((input) => input.includes('node_modules/'))
      .map((input) =>
        input
          .slice(input.lastIndexOf('node_modules/') + 'node_modules/'.length)
          .split('/')
          .slice(0, 2)
          .join('/'),
      ),
  );

describe('Function bundles', () => {
  it('when every function is bundled, none carries the Prometheus client (only the gateway is scraped)', () => {
    expect(bundles.size).toBeGreaterThan(30);
    for (const [name, output] of bundles) {
      const packages = [...packagesIn(output)];
      expect(
        packages.filter((p) => p.startsWith('prom-client') || p.startsWith('@opentelemetry')),
        name,
      ).toEqual([]);
    }
  });

  it("when every function is bundled, none carries zod's chained API, only zod/mini's functions", () => {
    for (const [name, output] of bundles) {
      const zodFiles = Object.keys(output.inputs).filter((input) => input.includes('node_modules/zod/'));
      expect(
        zodFiles.some((f) => f.includes('/mini/')),
        name,
      ).toBe(true);
      expect(
        zodFiles.filter((f) => f.includes('/classic/')),
        name,
      ).toEqual([]);
    }
  });

  it('when an Action is bundled, it carries its own file and no other Action but those it also serves (its AWS bindings are its own, not a table of all); only the dispatcher carries every Action', () => {
    const fileOf = (name: string) => basename(ACTIONS.find((route) => route.action === name)!.file, '.ts');
    const alsoServed = new Map(ACTIONS.map((route) => [basename(route.file, '.ts'), (route.operation.alsoServes ?? []).map((other) => fileOf(other.name))]));
    expect(alsoServed.get('encrypt')).toEqual(['asymmetric-encrypt']);
    for (const [name, output] of bundles) {
      const actions = Object.keys(output.inputs)
        .filter((input) => /(^|\/)functions\/[\w-]+\.ts$/.test(input))
        .map((input) => basename(input, '.ts'));
      if (name === 'dispatch') expect(actions.length, name).toBeGreaterThan(30);
      else expect(actions.sort(), name).toEqual([name, ...(alsoServed.get(name) ?? [])].sort());
    }
    // AWS operations no Action is named after: only the functions that serve them know them.
    const servedBy = { GetKeyRotationStatus: ['describe-key'], EnableKeyRotation: ['update-rotation-policy'], DisableKeyRotation: ['update-rotation-policy'] };
    for (const [target, functions] of Object.entries(servedBy)) {
      const knowing = [...code].filter(([, text]) => text.includes(`"${target}"`)).map(([name]) => name);
      expect(knowing.sort(), target).toEqual([...functions, 'dispatch'].sort());
    }
  });

  it('when a scheduled job is bundled, it carries no wire protocol and no signature scheme: it answers no requests', () => {
    // The signing is the client package's (its compiled dist/, as esbuild resolves the workspace).
    const requestHandling = /lib\/(protocol|middleware)\/|lib\/auth\/(rpc-signature|v3-signature|sigv4)|packages\/client\/dist\/signing\//;
    expect(Object.keys(bundles.get('decrypt')!.inputs).filter((input) => requestHandling.test(input))).toEqual(
      expect.arrayContaining(['packages/client/dist/signing/v3.js', 'packages/client/dist/signing/rpc.js']),
    );
    for (const name of ['rotate-keys', 'delete-expired-keys']) {
      const inputs = Object.keys(bundles.get(name)!.inputs);
      expect(
        inputs.filter((input) => requestHandling.test(input)),
        name,
      ).toEqual([]);
    }
  });

  it('when a function is bundled, it carries of the client package only what it imports (the partition modules only in the provisioner, the file format in none)', () => {
    for (const [name, output] of bundles) {
      const client = Object.keys(output.inputs).filter((input) => input.includes('packages/client/'));
      expect(
        client.filter((input) => input.includes('/file-envelope/') || input.includes('/partition-keys.')),
        name,
      ).toEqual([]);
      if (name !== 'provision-partition-keys')
        expect(
          client.filter((input) => input.includes('/partitions/') || input.endsWith('/kms-client.js')),
          name,
        ).toEqual([]);
    }
  });

  it('when no sink is installed (a function), counting is a no-op; once one is, the facade forwards to it', async () => {
    const { metrics, installMetrics } = await import('../../lib/metrics/metrics.js');
    expect(() => metrics.request('Decrypt', 'OK', 0.001)).not.toThrow();
    const seen: string[] = [];
    installMetrics({ request: (action, code) => seen.push(`${action} ${code}`), throttled() {}, storeError() {}, cacheLookup() {}, auditFailure() {} });
    try {
      metrics.request('Decrypt', 'OK', 0.001);
      expect(seen).toEqual(['Decrypt OK']);
    } finally {
      installMetrics({ request() {}, throttled() {}, storeError() {}, cacheLookup() {}, auditFailure() {} });
    }
  });
});
