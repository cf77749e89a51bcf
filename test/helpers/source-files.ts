import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shipped source: what the layers and the configuration schema are about (tests and benchmarks are not). */
export const SOURCE_DIRS = ['lib', 'functions', 'infra', 'packages/client/src'] as const;

/** The condition under which a workspace package's exports name its sources (see tsconfig.json). */
export const SOURCE_CONDITION = '@alibaba-kms-compatible/source';

/** A workspace package: its name, its folder from the root, and its package.json. */
export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: {
    name: string;
    private?: boolean;
    license?: string;
    exports: Record<string, string | Record<string, string>>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    devDependencies?: Record<string, string>;
  };
}

let workspaces: WorkspacePackage[] | undefined;

/** The workspace packages the root's package.json names. */
export function workspacePackages(): WorkspacePackage[] {
  workspaces ??= (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as WorkspacePackage['manifest'];
    return { name: manifest.name, dir, manifest };
  });
  return workspaces;
}

/**
 * The source file a specifier of a workspace package names (`@scope/name`, `@scope/name/sub`), from
 * its package.json exports under the source condition, as the tests and tsc resolve it; undefined
 * for any other specifier, or a subpath the package does not export.
 */
export function workspaceSourceOf(specifier: string, packages: readonly WorkspacePackage[] = workspacePackages()): string | undefined {
  const pkg = packages.find((p) => specifier === p.name || specifier.startsWith(`${p.name}/`));
  if (!pkg) return undefined;
  const subpath = `.${specifier.slice(pkg.name.length)}`;
  for (const [key, value] of Object.entries(pkg.manifest.exports)) {
    const target = typeof value === 'string' ? undefined : value[SOURCE_CONDITION];
    if (!target) continue;
    const star = key.indexOf('*');
    if (star === -1 ? key === subpath : subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1))) {
      const matched = star === -1 ? '' : subpath.slice(star, subpath.length - (key.length - star - 1));
      return posix.join(pkg.dir, target.replace('*', matched));
    }
  }
  return undefined;
}

/** The TypeScript files under `dirs` (declaration files aside), as paths from the root with `/`. */
export function sourceFiles(dirs: readonly string[] = SOURCE_DIRS): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  return found.sort();
}

const parsed = new Map<string, ts.SourceFile>();

/** A file parsed (no type checking: only its syntax is looked at). */
export function parseSource(file: string): ts.SourceFile {
  let source = parsed.get(file);
  if (!source) {
    source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
    parsed.set(file, source);
  }
  return source;
}

/** One module a file loads: `import`, `export … from`, or `import()`; type-only ones too (they still tie the files together). */
export interface ImportEdge {
  from: string;
  /** The file imported, from the root (`.js` specifiers name the `.ts` source). */
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
  /** The package specifier, when the import names a workspace package rather than a path. */
  viaPackage?: string;
}

/**
 * The imports of `file` between source files: relative ones, and those of a workspace package by
 * its name (an edge to the source file its exports name). Other packages are not edges of the graph
 * (see {@link packageImportsOf}).
 */
export function importsOf(file: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const packages = workspacePackages();
  visitImports(file, (specifier, typeOnly, dynamic) => {
    if (specifier.startsWith('.')) {
      const to = relative(ROOT, join(ROOT, dirname(file), specifier))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts')
        .replace(/\.mjs$/, '.mts');
      edges.push({ from: file, to, typeOnly, dynamic });
      return;
    }
    const to = workspaceSourceOf(specifier, packages);
    if (to) edges.push({ from: file, to, typeOnly, dynamic, viaPackage: specifier });
  });
  return edges;
}

/** A package (not a path) a file imports: its specifier as written, and how it is imported. */
export interface PackageImport {
  from: string;
  specifier: string;
  typeOnly: boolean;
  dynamic: boolean;
}

/** The package imports of `file` (`node:` built-ins included): every specifier that is not a path. */
export function packageImportsOf(file: string): PackageImport[] {
  const found: PackageImport[] = [];
  visitImports(file, (specifier, typeOnly, dynamic) => {
    if (!specifier.startsWith('.')) found.push({ from: file, specifier, typeOnly, dynamic });
  });
  return found;
}

function visitImports(file: string, add: (specifier: string, typeOnly: boolean, dynamic: boolean) => void): void {
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, onlyTypes, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier] = node.arguments;
      if (specifier && ts.isStringLiteralLike(specifier)) add(specifier.text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(parseSource(file));
}

/** The texts of a file's string and template literals, and the names it reads as properties (`env.KMS_PORT`); comments aside. */
export function literalTextsOf(file: string): string[] {
  const texts: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) texts.push(node.text);
    else if (ts.isPropertyAccessExpression(node)) texts.push(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(parseSource(file));
  return texts;
}
