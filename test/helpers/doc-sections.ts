import { readFile, writeFile } from 'node:fs/promises';

/**
 * Generated sections of the docs: a table of measured figures sits between two markers and is
 * written only by the script that measures it, never by hand.
 *
 *     <!-- BEGIN generated:bench-gateway (npm run bench writes this; do not edit) -->
 *     …
 *     <!-- END generated:bench-gateway -->
 */

/** Raised when a file does not hold exactly one well-formed section of that name. */
export class DocSectionError extends Error {
  override readonly name = 'DocSectionError';
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const begin = (name: string) => new RegExp(`^<!-- BEGIN generated:${escapeRegExp(name)} \\((.+?)\\) -->$`, 'gm');
const end = (name: string) => new RegExp(`^<!-- END generated:${escapeRegExp(name)} -->$`, 'gm');

interface Located {
  /** Index of the first character after the BEGIN line's newline. */
  start: number;
  /** Index of the END line's first character. */
  end: number;
  /** What the BEGIN marker says writes the section. */
  writer: string;
}

function locate(text: string, name: string, file: string): Located {
  const begins = [...text.matchAll(begin(name))];
  const ends = [...text.matchAll(end(name))];
  if (begins.length !== 1 || ends.length !== 1) {
    throw new DocSectionError(
      `${file}: expected one "<!-- BEGIN generated:${name} (…) -->" and one "<!-- END generated:${name} -->" line, found ${begins.length} and ${ends.length}`,
    );
  }
  const [opening, closing] = [begins[0]!, ends[0]!];
  if (closing.index! < opening.index!) throw new DocSectionError(`${file}: the END marker of generated:${name} comes before its BEGIN marker`);
  return { start: opening.index! + opening[0].length + 1, end: closing.index!, writer: opening[1]! };
}

/** The body of a generated section (without its markers), as committed. */
export async function readDocSection(file: string, name: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const { start, end: stop } = locate(text, name, file);
  return text.slice(start, stop);
}

/** Replaces the body of a generated section; everything outside its markers is left as it is. */
export async function writeDocSection(file: string, name: string, body: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const { start, end: stop } = locate(text, name, file);
  const normalised = body.endsWith('\n') ? body : `${body}\n`;
  await writeFile(file, text.slice(0, start) + normalised + text.slice(stop));
}
