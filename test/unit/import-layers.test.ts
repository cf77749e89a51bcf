import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, type Layer, layerOf, upwardImports } from '../helpers/import-graph.js';
import { type ImportEdge, importsOf, ROOT, sourceFiles } from '../helpers/source-files.js';
import { ALLOWED_CYCLES, ALLOWED_UPWARD_IMPORTS, LAYERS } from '../import-layers.config.js';

const edge = (from: string, to: string, more: Partial<ImportEdge> = {}): ImportEdge => ({ from, to, typeOnly: false, dynamic: false, ...more });

describe('Module: import-graph', () => {
  const layers: Layer[] = [
    { name: 'top', holds: '', paths: ['app/'] },
    { name: 'middle', holds: '', paths: ['lib/'] },
    { name: 'bottom', holds: '', paths: ['lib/util/', 'lib/zod.ts'] },
  ];

  it('a file belongs to the layer of its most specific path; a folder path covers only what is under it', () => {
    expect(['app/a.ts', 'lib/b.ts', 'lib/util/c.ts', 'lib/zod.ts', 'lib/zod.ts.bak', 'libx/d.ts', 'other.ts'].map((f) => layerOf(f, layers))).toEqual([0, 1, 2, 2, 1, undefined, undefined]);
  });

  it.each([
    ['a value import', {}],
    ['a type-only import', { typeOnly: true }],
    ['an import()', { dynamic: true }],
  ])('when %s runs up a layer, it is found; down or level, it is not', (_what, more) => {
    const edges = [edge('lib/util/c.ts', 'lib/b.ts', more), edge('lib/b.ts', 'app/a.ts', more), edge('app/a.ts', 'lib/util/c.ts', more), edge('lib/b.ts', 'lib/x.ts', more)];
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

describe('The import layers (test/import-layers.config.ts)', () => {
  const files = sourceFiles();
  const edges = files.flatMap(importsOf);
  const key = (e: { from: string; to: string }) => `${e.from} -> ${e.to}`;

  it('every shipped file is in a layer, and every import names a file that exists', () => {
    expect(files.filter((f) => layerOf(f, LAYERS) === undefined)).toEqual([]);
    expect(edges.filter((e) => !existsSync(join(ROOT, e.to))).map(key)).toEqual([]);
    expect(files.length).toBeGreaterThan(200);
  });

  it('no import runs up a layer, but the listed exceptions; an exception that no longer occurs is taken off the list', () => {
    const upward = [...new Set(upwardImports(edges, LAYERS).map(key))].sort();
    expect(upward).toEqual(ALLOWED_UPWARD_IMPORTS.map(key).sort());
  });

  it('there is no import cycle, but the listed ones; one that is gone is taken off the list', () => {
    expect(importCycles(edges)).toEqual(ALLOWED_CYCLES.map((c) => [...c.files].sort()));
  });
});
