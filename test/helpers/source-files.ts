import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shipped source: what the layers and the configuration schema are about (tests and benchmarks are not). */
export const SOURCE_DIRS = ['lib', 'functions', 'infra'] as const;

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
}

/** The relative imports of `file` (packages are not edges of the graph). */
export function importsOf(file: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean, dynamic: boolean) => {
    if (!specifier.startsWith('.')) return;
    const to = relative(ROOT, join(ROOT, dirname(file), specifier)).split('\\').join('/').replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
    edges.push({ from: file, to, typeOnly, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes = clause !== undefined && (clause.isTypeOnly || (!clause.name && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)));
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
  return edges;
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
