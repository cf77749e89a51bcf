import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRUISED, dependencyCruiserConfig, type Layer, LAYERS } from '../../infra/import-layers.js';
import { importCycles, layerOf, upwardImports } from '../helpers/import-graph.js';
import {
  type ImportEdge,
  importsOf,
  packageImportsOf,
  ROOT,
  SOURCE_CONDITION,
  sourceFiles,
  type WorkspacePackage,
  workspacePackages,
  workspaceSourceOf,
} from '../helpers/source-files.js';

const edge = (from: string, to: string, more: Partial<ImportEdge> = {}): ImportEdge => ({ from, to, typeOnly: false, dynamic: false, ...more });

describe('Module: import-graph', () => {
  const layers: Layer[] = [
    { name: 'top', holds: '', paths: ['app/'] },
    { name: 'middle', holds: '', paths: ['lib/'] },
    { name: 'bottom', holds: '', paths: ['lib/util/', 'lib/zod.ts'] },
  ];

  it('a file belongs to the layer of its most specific path; a folder path covers only what is under it', () => {
    expect(['app/a.ts', 'lib/b.ts', 'lib/util/c.ts', 'lib/zod.ts', 'lib/zod.ts.bak', 'libx/d.ts', 'other.ts'].map((f) => layerOf(f, layers))).toEqual([
      0,
      1,
      2,
      2,
      1,
      undefined,
      undefined,
    ]);
  });

  it.each([
    ['a value import', {}],
    ['a type-only import', { typeOnly: true }],
    ['an import()', { dynamic: true }],
  ])('when %s runs up a layer, it is found; down or level, it is not', (_what, more) => {
    const edges = [
      edge('lib/util/c.ts', 'lib/b.ts', more),
      edge('lib/b.ts', 'app/a.ts', more),
      edge('app/a.ts', 'lib/util/c.ts', more),
      edge('lib/b.ts', 'lib/x.ts', more),
    ];
    expect(upwardImports(edges, layers).map((e) => `${e.from} -> ${e.to}`)).toEqual(['lib/util/c.ts -> lib/b.ts', 'lib/b.ts -> app/a.ts']);
  });

  it('finds each cycle once, whatever its length, and a file that imports itself; a diamond is no cycle', () => {
    const edges = [
      edge('a.ts', 'b.ts'),
      edge('b.ts', 'c.ts'),
      edge('c.ts', 'a.ts'),
      edge('c.ts', 'd.ts'),
      edge('d.ts', 'e.ts'),
      edge('e.ts', 'd.ts', { typeOnly: true }),
      edge('f.ts', 'f.ts'),
      edge('g.ts', 'h.ts'),
      edge('g.ts', 'i.ts'),
      edge('h.ts', 'j.ts'),
      edge('i.ts', 'j.ts'),
    ];
    expect(importCycles(edges)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts', 'e.ts'], ['f.ts']]);
    expect(importCycles(edges.slice(6))).toEqual([['f.ts']]);
    expect(importCycles(edges.slice(7))).toEqual([]);
  });
});

describe('The import layers (infra/import-layers.ts)', () => {
  const files = sourceFiles();
  const edges = files.flatMap(importsOf);
  const key = (e: { from: string; to: string }) => `${e.from} -> ${e.to}`;

  it('every shipped file is in a layer, and every import names a file that exists', () => {
    expect(files.filter((f) => layerOf(f, LAYERS) === undefined)).toEqual([]);
    expect(edges.filter((e) => !existsSync(join(ROOT, e.to))).map(key)).toEqual([]);
    expect(files.length).toBeGreaterThan(200);
  });

  it('no import runs up a layer', () => {
    expect([...new Set(upwardImports(edges, LAYERS).map(key))].sort()).toEqual([]);
  });

  it('there is no import cycle', () => {
    expect(importCycles(edges)).toEqual([]);
  });
});

describe('Module: source-files (workspace packages)', () => {
  it('a workspace specifier names the source its exports give under the source condition; an unexported subpath, or another package, names none', () => {
    expect(workspaceSourceOf('@alibaba-kms-compatible/client')).toBe('packages/client/src/index.ts');
    expect(workspaceSourceOf('@alibaba-kms-compatible/client/signing')).toBe('packages/client/src/signing/index.ts');
    expect(workspaceSourceOf('@alibaba-kms-compatible/client/internal/aws-errors')).toBe('packages/client/src/internal/aws-errors.ts');
    expect(workspaceSourceOf('@alibaba-kms-compatible/client/partitions/entry')).toBeUndefined();
    expect(workspaceSourceOf('@alibaba-kms-compatible/clientele')).toBeUndefined();
    expect(workspaceSourceOf('zod/mini')).toBeUndefined();
  });

  it('an import of a workspace package by its name is an edge to that source file, marked with the specifier', () => {
    expect(importsOf('lib/zod.ts')).toContainEqual({
      from: 'lib/zod.ts',
      to: 'packages/client/src/internal/zod.ts',
      typeOnly: false,
      dynamic: false,
      viaPackage: '@alibaba-kms-compatible/client/internal/zod',
    });
  });
});

/** The npm package a specifier names: `@scope/name` or `name`, whatever subpath follows. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

describe('The packages (npm workspaces: the server at the root, the client in packages/client)', () => {
  const server = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as WorkspacePackage['manifest'];
  const client = workspacePackages().find((p) => p.name.includes('client'))!;
  const clientSource = `${client.dir}/src/`;
  const clientFiles = sourceFiles([`${client.dir}/src`]);
  const serverFiles = sourceFiles(['lib', 'functions', 'infra']);
  const optionalPeers = Object.entries(client.manifest.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta.optional)
    .map(([name]) => name);

  it('the client package imports nothing of the server: every path it imports stays inside it, and it names no other package of the workspace', () => {
    expect(clientFiles.length).toBeGreaterThan(15);
    expect(clientFiles.flatMap(importsOf).filter((e) => !e.to.startsWith(clientSource) || e.viaPackage)).toEqual([]);
    const workspaceNames = [server.name, ...workspacePackages().map((p) => p.name)];
    expect(clientFiles.flatMap(packageImportsOf).filter((i) => workspaceNames.includes(packageOf(i.specifier)))).toEqual([]);
  });

  it('the client imports only node built-ins, its dependencies and its peers; an optional peer only where nothing but an import() loads it (an s3:// or oss:// registry)', () => {
    const allowed = new Set([...Object.keys(client.manifest.dependencies ?? {}), ...Object.keys(client.manifest.peerDependencies ?? {})]);
    const imports = clientFiles.flatMap(packageImportsOf).filter((i) => !i.specifier.startsWith('node:'));
    expect(imports.filter((i) => !allowed.has(packageOf(i.specifier)))).toEqual([]);
    expect(optionalPeers.sort()).toEqual(['@aws-sdk/client-s3', 'ali-oss']);
    // What the package's entry points load before any import() runs.
    const entries = exportedSources(client, clientFiles);
    expect(entries).toEqual(expect.arrayContaining([`${clientSource}index.ts`, `${clientSource}signing/index.ts`, `${clientSource}internal/time.ts`]));
    const loaded = new Set<string>();
    const load = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const e of importsOf(file)) if (!e.dynamic && !e.typeOnly) load(e.to);
    };
    entries.forEach(load);
    expect(loaded.has(`${clientSource}partitions/registry/open.ts`)).toBe(true);
    const eager = [...loaded].flatMap(packageImportsOf).filter((i) => !i.dynamic && !i.typeOnly && optionalPeers.includes(packageOf(i.specifier)));
    expect(eager).toEqual([]);
    // Each optional peer is used, by an import() of its own.
    const lazy = imports.filter((i) => i.dynamic).map((i) => packageOf(i.specifier));
    for (const peer of optionalPeers) expect(lazy).toContain(peer);
  });

  it('the server reaches the client only by its package name and the exports it declares, never by a path into it', () => {
    const intoClient = serverFiles.flatMap(importsOf).filter((e) => e.to.startsWith(`${client.dir}/`));
    expect(intoClient.length).toBeGreaterThan(20);
    expect(intoClient.filter((e) => !e.viaPackage)).toEqual([]);
    const named = serverFiles.flatMap(packageImportsOf).filter((i) => packageOf(i.specifier) === client.name);
    expect(named.filter((i) => workspaceSourceOf(i.specifier) === undefined)).toEqual([]);
    expect(server.dependencies?.[client.name]).toBeDefined();
  });

  it("the server's code imports its dependencies (types: @types/* devDependencies), but for the Function Compute deployment tool run from a clone; it installs the client's optional peers, which its provisioner and kms command use", () => {
    const deployTool = 'infra/fc/';
    const imports = serverFiles.flatMap(packageImportsOf).filter((i) => !i.specifier.startsWith('node:') && !i.from.startsWith(deployTool));
    const unmet = imports.filter(
      (i) => !(packageOf(i.specifier) in (server.dependencies ?? {})) && !(i.typeOnly && `@types/${packageOf(i.specifier)}` in (server.devDependencies ?? {})),
    );
    expect(unmet).toEqual([]);
    for (const peer of optionalPeers) expect(server.dependencies?.[peer], peer).toBe(client.manifest.peerDependencies?.[peer]);
    for (const tool of ['typescript', '@types/node']) expect(server.dependencies?.[tool], tool).toBeUndefined();
  });
});

/** The source files a package's exports name (a `*` pattern: every file of `files` it matches). */
function exportedSources(pkg: WorkspacePackage, files: readonly string[]): string[] {
  return Object.values(pkg.manifest.exports).flatMap((value) => {
    const source = typeof value === 'string' ? undefined : value[SOURCE_CONDITION];
    if (!source) return [];
    const [before, after] = posix.join(pkg.dir, source).split('*') as [string, string | undefined];
    return files.filter((f) => (after === undefined ? f === before : f.startsWith(before) && f.endsWith(after)));
  });
}

describe('The dependency-cruiser rules written from the layers (.dependency-cruiser.json, run by npm test)', () => {
  const layers: Layer[] = [
    { name: 'top', holds: 'the top', paths: ['app/'] },
    { name: 'middle', holds: 'the middle', paths: ['lib/', 'lib/wiring.ts'] },
    { name: 'bottom', holds: 'the bottom', paths: ['lib/util/'] },
  ];
  const files: Record<string, string> = {
    'app/a.ts': "import { b } from '../lib/b.js';\nexport const a = b;\n",
    'lib/b.ts': "import { c } from './util/c.js';\nexport const b = c;\n",
    'lib/util/c.ts': "import type { B } from '../types.js';\nexport const c: B = 1;\n",
    'lib/types.ts': 'export type B = number;\n',
    'lib/wiring.ts': "import { c } from './util/c.js';\nexport const w = c;\n",
    'lib/x.ts': "import { y } from './y.js';\nexport const x = y;\n",
    'lib/y.ts': "import { x } from './x.js';\nexport const y = 1 + Number(x);\n",
  };

  it('they find a type-only import up a layer and a cycle (once), and no import down a layer, nor one from a file carved out of a folder into that folder', async () => {
    const { cruise } = await import('dependency-cruiser');
    const dir = mkdtempSync(join(tmpdir(), 'kms-layers-'));
    try {
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(join(dir, posix.dirname(file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      const config = dependencyCruiserConfig(layers) as { forbidden: unknown[]; options: Record<string, unknown> };
      const result = await cruise(['app', 'lib'], {
        baseDir: dir,
        ruleSet: { forbidden: config.forbidden },
        validate: true,
        tsPreCompilationDeps: true,
        doNotFollow: { path: ['node_modules'] },
      } as never);
      const output = result.output as { summary: { violations: Array<{ from: string; to: string; rule: { name: string } }> } };
      const found = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
      expect(found).toEqual(['no-circular: lib/x.ts -> lib/y.ts', 'no-upward-from-bottom: lib/util/c.ts -> lib/types.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the committed configuration reads the shipped folders the way npm test runs it', () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(script['lint:imports']).toBe(`depcruise ${CRUISED.join(' ')} --config .dependency-cruiser.json`);
    expect(script.test).toContain('lint:imports');
  });
});
