import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: the end-to-end suites run the compiled code (`npm start`, `kms`, the package
 * exports run dist/, which runs the client package's dist/), so both are rebuilt first, in the order
 * of `npm run build` (the client, then the server), whenever a source file is newer than the stamp.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const STAMP = join(root, 'dist', '.build-stamp');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|mjs|html|css)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** What `npm run build` compiles, in its order: each workspace package, then the server. */
const BUILDS = ['packages/client/tsconfig.build.json', 'tsconfig.build.json'];

export default function setup(): void {
  const sources = Math.max(
    ...['lib', 'functions', 'infra', 'packages/client/src'].map((d) => newestSource(join(root, d))),
    ...[...BUILDS, 'tsconfig.json'].map((f) => statSync(join(root, f)).mtimeMs),
  );
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= sources) return;
  for (const project of BUILDS)
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: root, stdio: 'inherit' });
  // The console's static files, which the gateway serves from beside its compiled code (as `npm run build` copies them).
  cpSync(join(root, 'infra', 'console'), join(root, 'dist', 'infra', 'console'), { recursive: true });
  execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(STAMP)}, new Date().toISOString())`]);
}
