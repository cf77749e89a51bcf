import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

/**
 * Relative links between the README and docs/ must resolve: the file exists, and an #anchor names
 * a heading of it, as GitHub renders the heading's id.
 */

export interface MarkdownLink {
  target: string;
  line: number;
}

/** The lines of a Markdown text outside fenced code blocks and HTML comments, with their numbers (from 1). */
function proseLines(markdown: string): Array<{ text: string; line: number }> {
  const lines: Array<{ text: string; line: number }> = [];
  let fence: string | undefined;
  let inComment = false;
  markdown.split('\n').forEach((raw, i) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(raw);
    if (fence !== undefined) {
      if (opening && opening[1]![0] === fence[0] && opening[1]!.length >= fence.length && raw.trim() === opening[1]) fence = undefined;
      return;
    }
    if (opening) {
      fence = opening[1]!;
      return;
    }
    let text = raw;
    if (inComment) {
      const end = text.indexOf('-->');
      if (end === -1) return;
      text = text.slice(end + 3);
      inComment = false;
    }
    text = text.replace(/<!--.*?-->/g, '');
    const start = text.indexOf('<!--');
    if (start !== -1) {
      text = text.slice(0, start);
      inComment = true;
    }
    lines.push({ text, line: i + 1 });
  });
  return lines;
}

/** The text of a heading as rendered: code spans, emphasis and links reduced to their text. */
function headingText(raw: string): string {
  return raw
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+#+\s*$/, '')
    .trim();
}

/** The id GitHub gives a heading (github-slugger): lower case, punctuation and symbols dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  return headingText(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown text defines: its headings' ids (a repeated id gets -1, -2, …) and explicit `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(text);
    if (heading) {
      const slug = githubSlug(heading[1]!);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const explicit of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(explicit[1]!);
  }
  return anchors;
}

/** The inline links and images of a Markdown text, outside code; a link's text may run over lines. */
export function linksOf(markdown: string): MarkdownLink[] {
  const lines = proseLines(markdown).map(({ text, line }) => ({ text: text.replace(/(`+)(?:(?!\1).)*?\1/g, ''), line }));
  const starts: number[] = [];
  let offset = 0;
  for (const { text } of lines) {
    starts.push(offset);
    offset += text.length + 1;
  }
  const joined = lines.map((l) => l.text).join('\n');
  const lineAt = (index: number) => {
    let i = starts.length - 1;
    while (starts[i]! > index) i--;
    return lines[i]!.line;
  };
  return [...joined.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({
    target: match[1]!,
    line: lineAt(match.index! + match[0].lastIndexOf('(')),
  }));
}

/** Whether a link leaves the repository (a URL with a scheme, or protocol-relative). */
const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/**
 * Every relative link of `files` that does not resolve, as "file:line: target (why)", paths shown
 * relative to `root`.
 */
export async function brokenLinks(files: readonly string[], root: string): Promise<string[]> {
  const texts = new Map<string, string>();
  const textOf = async (file: string) => {
    if (!texts.has(file)) texts.set(file, await readFile(file, 'utf8'));
    return texts.get(file)!;
  };
  const problems: string[] = [];
  for (const file of files) {
    for (const { target, line } of linksOf(await textOf(file))) {
      if (isExternal(target)) continue;
      const where = `${relative(root, file)}:${line}: ${target}`;
      const [pathPart, ...rest] = target.split('#');
      const anchor = rest.join('#');
      const linked = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart!));
      if (relative(root, linked).startsWith('..')) {
        problems.push(`${where} (outside the repository)`);
        continue;
      }
      const found = await stat(linked).catch(() => undefined);
      if (!found) {
        problems.push(`${where} (no such file)`);
        continue;
      }
      if (anchor === '') continue;
      if (!found.isFile() || !linked.endsWith('.md')) {
        problems.push(`${where} (an anchor into something that is not a Markdown file)`);
        continue;
      }
      if (!anchorsOf(await textOf(linked)).has(anchor)) problems.push(`${where} (no heading with that anchor in ${relative(root, linked)})`);
    }
  }
  return problems;
}
