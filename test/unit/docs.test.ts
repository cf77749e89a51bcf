import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { BENCHMARKS_DOC, readBenchResults, renderBenchmarkTables } from '../bench/support/tables.js';
import { compareBundleSizes, parseBundleSizes, renderBundleSizes } from '../helpers/bundle-sizes.js';
import { DocSectionError, readDocSection, writeDocSection } from '../helpers/doc-sections.js';
import { makeTempDir, REPO_ROOT, removeDir } from '../helpers/gateway-process.js';
import { anchorsOf, brokenLinks, githubSlug, linksOf } from '../helpers/markdown-links.js';
import { QuickStartMarkerError, quickStartsOf, unmarkedBlocks } from '../helpers/quickstarts.js';

/*
 * The README and docs/: the README stays short and points into docs/, every relative link and
 * anchor between them resolves, the quick starts are all marked (test/e2e/readme-quickstarts.test.ts
 * runs them), and the tables of measured figures are what the measuring scripts wrote.
 */

const README = join(REPO_ROOT, 'README.md');
const DOCS = join(REPO_ROOT, 'docs');
const docFiles = async () => (await readdir(DOCS)).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f));

let scratch: string;
beforeAll(async () => {
  scratch = await makeTempDir('kms-docs-');
});
afterAll(async () => {
  await removeDir(scratch);
});

describe('the README', () => {
  it('is at most 400 lines and links to every file in docs/', async () => {
    const text = await readFile(README, 'utf8');
    expect(text.split('\n').length).toBeLessThanOrEqual(400);
    const linked = new Set(linksOf(text).map((l) => l.target.split('#')[0]));
    for (const file of await docFiles()) expect(linked, `README.md does not link docs/${file.split('/').pop()}`).toContain(`docs/${file.split('/').pop()}`);
  });

  it('marks every code block of its quick starts, so the end-to-end suite runs each', async () => {
    const text = await readFile(README, 'utf8');
    expect(unmarkedBlocks(text, 'Quick starts')).toEqual([]);
    expect(quickStartsOf(text).length).toBeGreaterThanOrEqual(5);
  });
});

describe('docs/cli.md', () => {
  it('documents exactly the exit codes the kms command declares', async () => {
    const text = await readFile(join(DOCS, 'cli.md'), 'utf8');
    const section = text.slice(text.indexOf('## Exit codes'), text.indexOf('\n## ', text.indexOf('## Exit codes') + 1));
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual(Object.values(EXIT));
  });
});

describe('links between the README and docs/', () => {
  it('every relative link and #anchor in README.md and docs/*.md resolves', async () => {
    expect(await brokenLinks([README, ...(await docFiles())], REPO_ROOT)).toEqual([]);
  });

  it('nothing points at the shared folder outside the repository', async () => {
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => /\.(md|ts|mjs|cjs|js|json|ya?ml)$/.test(f));
    // Spelled in pieces, so this file does not name what it looks for.
    const outside = [['..', 'shared'].join('/'), ['', 'work', 'shared'].join('/')];
    const offenders: string[] = [];
    for (const file of [...new Set([...tracked, 'README.md', ...(await readdir(DOCS)).map((f) => `docs/${f}`)])]) {
      const text = await readFile(join(REPO_ROOT, file), 'utf8').catch(() => '');
      if (outside.some((path) => text.includes(path))) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  it('the checker finds a missing file, a missing anchor and an anchor into a non-Markdown file, and ignores code and URLs', async () => {
    const dir = join(scratch, 'links');
    await mkdir(join(dir, 'docs'), { recursive: true });
    await writeFile(join(dir, 'code.ts'), '');
    await writeFile(
      join(dir, 'docs', 'a.md'),
      [
        '# A title',
        "## `npm run bench:profile` (about 2 minutes): where a request's time goes",
        '## Repeated',
        '## Repeated',
        '<a id="explicit"></a>',
        '[ok](#a-title) [ok](#npm-run-benchprofile-about-2-minutes-where-a-requests-time-goes) [ok](#repeated-1) [ok](#explicit)',
        '[ok](b.md#kms--envelope-keys) [ok](../code.ts) [ok](.) [url](https://example.com/x#y) [mail](mailto:a@b)',
        '[missing file](c.md) [missing anchor](b.md#nowhere) [anchor into code](../code.ts#L1) [repeated](#repeated-2) [outside](../../elsewhere.md)',
        '`[in a code span](nowhere.md)` <!-- [in a comment](nowhere.md) -->',
        '```md',
        '[in a fence](nowhere.md)',
        '## Not a heading',
        '```',
        '[not a heading](#not-a-heading)',
        'A [link whose text',
        'runs over lines](#nowhere-either).',
      ].join('\n'),
    );
    await writeFile(join(dir, 'docs', 'b.md'), '# kms — envelope keys\n');
    const problems = await brokenLinks([join(dir, 'docs', 'a.md')], dir);
    expect(problems).toEqual([
      'docs/a.md:8: c.md (no such file)',
      'docs/a.md:8: b.md#nowhere (no heading with that anchor in docs/b.md)',
      'docs/a.md:8: ../code.ts#L1 (an anchor into something that is not a Markdown file)',
      'docs/a.md:8: #repeated-2 (no heading with that anchor in docs/a.md)',
      'docs/a.md:8: ../../elsewhere.md (outside the repository)',
      'docs/a.md:14: #not-a-heading (no heading with that anchor in docs/a.md)',
      'docs/a.md:16: #nowhere-either (no heading with that anchor in docs/a.md)',
    ]);
  });

  it("heading ids are GitHub's: code, punctuation and symbols dropped, case folded, spaces to hyphens", () => {
    expect(githubSlug('Workers: every core')).toBe('workers-every-core');
    expect(githubSlug('The `kms` command')).toBe('the-kms-command');
    expect(githubSlug('Encrypted-file format (version 1)')).toBe('encrypted-file-format-version-1');
    expect(githubSlug('kms — envelope encryption keys, Alibaba Cloud KMS–compatible, self-hosted')).toBe(
      'kms--envelope-encryption-keys-alibaba-cloud-kmscompatible-self-hosted',
    );
    expect(githubSlug('[Linked](x.md) and __under_scored__')).toBe('linked-and-__under_scored__');
    expect([...anchorsOf('# Same\n## Same\n### Same\n')]).toEqual(['same', 'same-1', 'same-2']);
  });
});

describe('quick-start markers', () => {
  const fence = (marker: string, body = 'echo hi') => `## Quick starts\n\n${marker}\n\`\`\`sh\n${body}\n\`\`\`\n`;

  it('are read with their kind, file, command and expected output, and the code exactly as written', () => {
    const [serve, shell, file] = quickStartsOf(
      [
        fence('<!-- quickstart: serve -->', 'npm start'),
        '<!-- quickstart: shell; expect=order 17 -->\n```sh\necho "order 17"\n```',
        '<!-- quickstart: file=q.mjs; run=node q.mjs; expect={"id":17} -->\n```js\nconsole.log(1);\n\n// x\n```',
      ].join('\n'),
    );
    expect(serve).toMatchObject({ kind: 'serve', code: 'npm start\n', heading: 'Quick starts' });
    expect(shell).toMatchObject({ kind: 'shell', expect: 'order 17', code: 'echo "order 17"\n' });
    expect(file).toMatchObject({ kind: 'file', file: 'q.mjs', run: 'node q.mjs', expect: '{"id":17}', code: 'console.log(1);\n\n// x\n' });
  });

  it.each([
    ['no code block right after it', '<!-- quickstart: shell -->\n\n```sh\necho\n```'],
    ['an unknown kind', '<!-- quickstart: python -->\n```sh\necho\n```'],
    ['an unknown field', '<!-- quickstart: shell; expected=x -->\n```sh\necho\n```'],
    ['a field given twice', '<!-- quickstart: shell; expect=a; expect=b -->\n```sh\necho\n```'],
    ['a file without a command', '<!-- quickstart: file=q.mjs -->\n```js\n1\n```'],
    ['a file name with a path', '<!-- quickstart: file=../q.mjs; run=node q.mjs -->\n```js\n1\n```'],
    ['a block never closed', '<!-- quickstart: shell -->\n```sh\necho'],
  ])('refuse %s', (_what, markdown) => {
    expect(() => quickStartsOf(markdown)).toThrow(QuickStartMarkerError);
  });

  it('an unmarked block among the quick starts is named by its line; blocks of other sections do not count', () => {
    const text = `## Two commands\n\n\`\`\`sh\nnpm ci\n\`\`\`\n\n${fence('<!-- quickstart: shell; expect=hi -->')}\n\`\`\`js\nunmarked()\n\`\`\`\n\n## Next\n\n\`\`\`sh\nls\n\`\`\`\n`;
    expect(unmarkedBlocks(text, 'Quick starts')).toEqual([14]);
  });
});

describe('generated sections', () => {
  it('every table of docs/benchmarks.md is what the committed bench/*.json renders to (the benchmarks write both; no figure is typed by hand)', async () => {
    const tables = renderBenchmarkTables(await readBenchResults());
    for (const [name, body] of Object.entries(tables))
      expect(await readDocSection(BENCHMARKS_DOC, name), `docs/benchmarks.md section ${name}`).toBe(`${body}\n`);
  });

  it('a benchmark without results renders a table that says how to make them, never an empty one', () => {
    const tables = renderBenchmarkTables({});
    for (const [name, body] of Object.entries(tables))
      expect(body, name).toMatch(/No run recorded yet: `npm run [\w:-]+` writes `bench\/[\w-]+\.json`|no run recorded in `bench\/soak\.json`/);
  });

  it('are replaced between their markers only, and a file without exactly one pair of markers is refused', async () => {
    const file = join(scratch, 'sections.md');
    const marked = (name: string, body: string) =>
      `<!-- BEGIN generated:${name} (written by a script; do not edit) -->\n${body}<!-- END generated:${name} -->\n`;
    await writeFile(file, `before\n${marked('t', 'old\n')}after\n`);
    await writeDocSection(file, 't', '| new |');
    expect(await readFile(file, 'utf8')).toBe(`before\n${marked('t', '| new |\n')}after\n`);
    expect(await readDocSection(file, 't')).toBe('| new |\n');
    await expect(readDocSection(file, 'other')).rejects.toThrow(DocSectionError);
    await writeFile(file, `${marked('t', 'a\n')}${marked('t', 'b\n')}`);
    await expect(writeDocSection(file, 't', 'x')).rejects.toThrow(DocSectionError);
    await writeFile(file, '<!-- END generated:t -->\n<!-- BEGIN generated:t (x) -->\n');
    await expect(readDocSection(file, 't')).rejects.toThrow(DocSectionError);
  });

  it('the bundle table round-trips, and a function missing, extra, listed twice or more than 10 % off its zip is reported', () => {
    const measured = [
      { functionName: 'encrypt', bytes: 120_000 },
      { functionName: 'dispatch', bytes: 131_000 },
      { functionName: 'provisionPartitionKeys', bytes: 21_000 },
    ];
    const table = renderBundleSizes(measured);
    expect(table).toMatch(/^3 functions, 20\.5–127\.9 KiB zipped/);
    expect(compareBundleSizes(parseBundleSizes(table), measured)).toEqual([]);
    const grown = measured.map((m) => (m.functionName === 'encrypt' ? { ...m, bytes: 140_000 } : m));
    expect(compareBundleSizes(parseBundleSizes(table), grown)).toEqual(['encrypt: the table says 117.2 KiB, the zip is 136.7 KiB']);
    expect(
      compareBundleSizes(
        parseBundleSizes(table),
        measured.map((m) => ({ ...m, bytes: Math.round(m.bytes * 1.09) })),
      ),
    ).toEqual([]);
    expect(compareBundleSizes(parseBundleSizes(table), [...measured, { functionName: 'decrypt', bytes: 120_000 }])).toEqual([
      'decrypt: packaged (117.2 KiB) but not in the table',
    ]);
    expect(compareBundleSizes(parseBundleSizes(table), measured.slice(1))).toEqual(['encrypt: in the table but not packaged']);
    expect(compareBundleSizes([...parseBundleSizes(table), { functionName: 'encrypt', bytes: 120_000 }], measured)).toContain(
      'the table lists a function twice',
    );
  });
});
