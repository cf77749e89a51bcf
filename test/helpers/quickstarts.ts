/**
 * The README's quick starts, as test/e2e/readme-quickstarts.test.ts runs them. Each is a fenced
 * code block right after a marker that says how to run it:
 *
 *     <!-- quickstart: serve -->                        a shell block that starts the gateway and keeps it running
 *     <!-- quickstart: shell; expect=TEXT -->           a shell block, run to its end; its output must hold TEXT
 *     <!-- quickstart: file=NAME; run=COMMAND; expect=TEXT -->
 *                                                       saved as NAME in the clone, then COMMAND run there
 */

export interface QuickStart {
  kind: 'serve' | 'shell' | 'file';
  /** The file the README says to save the block as (kind `file`). */
  file?: string;
  /** The command the README says to run (kind `file`). */
  run?: string;
  /** What the output must contain. */
  expect?: string;
  /** The block's code, exactly as in the README. */
  code: string;
  /** The README line of the marker (from 1). */
  line: number;
  /** The heading the quick start is under. */
  heading: string;
}

/** A marker the README cannot be run from: what is wrong and where. */
export class QuickStartMarkerError extends Error {
  override readonly name = 'QuickStartMarkerError';
}

const MARKER = /^<!-- quickstart:\s*(.*?)\s*-->$/;
const FENCE = /^(`{3,})\s*([\w-]*)\s*$/;

function parseMarker(body: string, line: number): Omit<QuickStart, 'code' | 'line' | 'heading'> {
  const [kind, ...fields] = body.split(';').map((part) => part.trim());
  const attributes = new Map<string, string>();
  for (const field of fields) {
    const at = field.indexOf('=');
    if (at < 1) throw new QuickStartMarkerError(`README line ${line}: "${field}" is not name=value`);
    const name = field.slice(0, at).trim();
    if (!['file', 'run', 'expect'].includes(name) || attributes.has(name))
      throw new QuickStartMarkerError(`README line ${line}: unknown or repeated field "${name}"`);
    attributes.set(name, field.slice(at + 1).trim());
  }
  if (kind === 'serve' && attributes.size === 0) return { kind };
  if (kind === 'shell' && [...attributes.keys()].every((k) => k === 'expect'))
    return { kind, ...(attributes.has('expect') ? { expect: attributes.get('expect')! } : {}) };
  if (kind?.startsWith('file=')) {
    attributes.set('file', kind.slice('file='.length).trim());
    const file = attributes.get('file')!;
    const run = attributes.get('run');
    if (!/^[\w.-]+$/.test(file) || !run) throw new QuickStartMarkerError(`README line ${line}: a file quick start needs a plain file name and run=COMMAND`);
    return { kind: 'file', file, run, ...(attributes.has('expect') ? { expect: attributes.get('expect')! } : {}) };
  }
  throw new QuickStartMarkerError(`README line ${line}: "${body}" is not serve, shell[; expect=…] or file=NAME; run=…[; expect=…]`);
}

/** Every marked quick start of a README, in order. A marker not followed at once by a fenced block is an error. */
export function quickStartsOf(markdown: string): QuickStart[] {
  const lines = markdown.split('\n');
  const found: QuickStart[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const title = /^#{1,6}\s+(.*)$/.exec(text);
    if (title) heading = title[1]!;
    const marker = MARKER.exec(text.trim());
    if (!marker) continue;
    const spec = parseMarker(marker[1]!, i + 1);
    const open = FENCE.exec(lines[i + 1] ?? '');
    if (!open) throw new QuickStartMarkerError(`README line ${i + 1}: a quickstart marker must be followed at once by a fenced code block`);
    const close = lines.findIndex((l, j) => j > i + 1 && l.trim() === open[1]);
    if (close === -1) throw new QuickStartMarkerError(`README line ${i + 2}: the code block is never closed`);
    found.push({ ...spec, code: `${lines.slice(i + 2, close).join('\n')}\n`, line: i + 1, heading });
    i = close;
  }
  return found;
}

/**
 * The fenced blocks of a section (a `## ` heading and what follows up to the next one) that no
 * marker precedes, by line: a quick start added without one would never be run.
 */
export function unmarkedBlocks(markdown: string, section: string): number[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${section}`);
  if (start === -1) throw new QuickStartMarkerError(`the README has no "## ${section}" section`);
  const unmarked: number[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    if (!MARKER.test((lines[i - 1] ?? '').trim())) unmarked.push(i + 1);
    const close = lines.findIndex((l, j) => j > i && l.trim() === open[1]);
    i = close === -1 ? lines.length : close;
  }
  return unmarked;
}
