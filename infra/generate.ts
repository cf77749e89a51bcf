import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatedFiles } from './generated-files.js';

/** `npm run generate`: writes the files derived from the table of Actions, and says which changed. */
// Run from the repository root (npm run generate).
const root = process.cwd();
for (const { path, content } of await generatedFiles(root)) {
  const current = await readFile(join(root, path), 'utf8').catch(() => undefined);
  if (current === content) continue;
  await writeFile(join(root, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
