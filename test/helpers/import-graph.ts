import type { ImportEdge } from './source-files.js';

/** A layer: the files under its paths (a folder ends with `/`); a file belongs to the layer of its most specific path. */
export interface Layer {
  name: string;
  /** What lives there, for the reader of the table. */
  holds: string;
  paths: readonly string[];
}

/** The index of `file`'s layer in `layers` (0 is the top), or undefined when no path covers it. */
export function layerOf(file: string, layers: readonly Layer[]): number | undefined {
  let best: { index: number; length: number } | undefined;
  layers.forEach((layer, index) => {
    for (const path of layer.paths) {
      const covers = path.endsWith('/') ? file.startsWith(path) : file === path;
      if (covers && (!best || path.length > best.length)) best = { index, length: path.length };
    }
  });
  return best?.index;
}

/** The imports that run back up: from a file to one in a layer above its own. */
export function upwardImports(edges: readonly ImportEdge[], layers: readonly Layer[]): ImportEdge[] {
  return edges.filter((edge) => {
    const from = layerOf(edge.from, layers);
    const to = layerOf(edge.to, layers);
    return from !== undefined && to !== undefined && to < from;
  });
}

/**
 * The import cycles: the strongly connected components of more than one file, or of one file that
 * imports itself (Tarjan's algorithm), each sorted, in order of their first file.
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)!.includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
